import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import ts from 'typescript';
import { copyTree, listTree, resultOf, stateDigest } from './disk-state.js';
import { writeTinyFixture } from './fixture.js';
import { type Outcome, siftInProcess } from './in-process.js';
import { applyTear, type KillPoint, KillSwitch } from './kill-switch.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/*
 * `sift finetune` killed (SIGKILL) at every file-system step of a run — every write, each write torn in half,
 * renames, unlinks, mkdirs — then resumed with `--resume` until it finishes: the result (the delta or weights, the
 * final checkpoint, the metrics, the log) must equal an uninterrupted run's bit for bit, the resume must start
 * after the newest checkpoint that had been written in full, and a finished run leaves no temporary file behind.
 * Then twice in a row: killed at each step of a save, resumed and killed again at each step of the save after
 * resuming, then resumed to the end.
 *
 * The kill is simulated in-process (tests/cli/kill-switch.ts), so that every step can be tried (a run is ~50 ms);
 * one test sends a real SIGKILL to the built `sift` at one step of each kind and checks it leaves the same files.
 * Where a test copies states instead of killing at each step (`onPoint`: the disk a kill there leaves, since a
 * killed process changes nothing after its kill point), the first test checks that equivalence at every step
 * against in-process kills. States that digest the same are resumed once (the resume is a function of the disk).
 */

// Thousands of small directories are copied and removed: on a memory file system where there is one (4× faster
// here than the disk). What a SIGKILL leaves does not depend on it: the page cache is the same either way.
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'siftjs-crash-'));
const runs = join(root, 'runs');
const snaps = join(root, 'snaps');
const modelDir = join(root, 'model');
const data = join(root, 'mails.jsonl');
const ks = new KillSwitch(runs);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repo, 'packages/cli/dist/bin.js');
/** tests/cli/sigkill-preload.ts and the kill switch as plain JavaScript, for a child `node --import`. */
const preload = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'siftjs-preload-'));
  for (const name of ['sigkill-preload', 'kill-switch']) {
    const source = readFileSync(join(repo, 'tests/cli', `${name}.ts`), 'utf8').replace("'./kill-switch.js'", "'./kill-switch.mjs'");
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(dir, `${name}.mjs`), js);
  }
  return join(dir, 'sigkill-preload.mjs');
})();
/** Wall-clock seconds (the fake clock below stands still). */
const seconds = () => Number(process.hrtime.bigint()) / 1e9;
let made = 0;
const fresh = (tag: string) => join(runs, `${tag}-${made++}`);

/** The delta or weights each method's run ends with. */
const RESULT: Record<string, string> = { sift: 'delta.safetensors', full: 'model.safetensors' };

/** 16 mails: 12 train (two steps of 8 per epoch) and 4 held out; two epochs, so a save replaces a checkpoint. */
const args = (out: string, method: string, resume: boolean) => [
  'finetune', '--model', modelDir, '--data', data, '--out', out, '--method', method, '--epochs', '2', '--batch-size', '8',
  '--density', '0.1', '--lr', '0.01', '--held-out', '0.25', '--max-length', '16', ...(resume ? ['--resume'] : []),
];

async function finetune(out: string, method: string, o: { resume?: boolean; killAt?: number; onPoint?: KillSwitch['onPoint'] } = {}): Promise<{ outcome: Outcome; points: KillPoint[] }> {
  ks.reset(o.killAt ?? -1);
  ks.onPoint = o.onPoint ?? null;
  const outcome = await siftInProcess(args(out, method, o.resume ?? false), ks);
  return { outcome, points: [...ks.points] };
}

/**
 * What a user does after a kill: the same command with --resume; when that is refused because no checkpoint had
 * been written in full yet (exit 2, nothing changed), the same command without it.
 */
async function continueRun(out: string, method: string, onPoint?: KillSwitch['onPoint']): Promise<{ outcome: Outcome; points: KillPoint[]; restarted: boolean }> {
  // The check that --out can be written removes the probe directory a kill left behind: nothing else may change.
  const disk = () => `${existsSync(out)} ${stateDigest(out, /^\.sift-probe-\d+\/$/)}`;
  const before = disk();
  const resumed = await finetune(out, method, { resume: true, onPoint });
  const refused = resumed.outcome.end === 'exit' && resumed.outcome.code === 2 && /no checkpoint to resume from/.test(resumed.outcome.stderr);
  if (!refused) return { ...resumed, restarted: false };
  expect(disk(), 'a refused --resume leaves the disk as it was').toBe(before);
  return { ...(await finetune(out, method, { onPoint })), restarted: true };
}

/**
 * The disk a kill at each of a run's points leaves, copied as the run passes them: a snapshot dir per point, for
 * the points `wanted` accepts (given the points so far).
 */
function recorder(out: string, into: string, wanted: (index: number, seen: KillPoint[]) => boolean = () => true): KillSwitch['onPoint'] {
  return (index, _point, tear) => {
    if (!wanted(index, ks.points)) return;
    const at = join(into, String(index));
    ks.bypass(() => {
      mkdirSync(at, { recursive: true });
      copyTree(out, at);
      if (tear) applyTear(tear, (p) => join(at, relative(out, p)));
    });
  };
}

interface Reference {
  out: string;
  points: KillPoint[];
  result: Record<string, unknown>;
  listing: string[];
  log: string;
}

/** A run's points with its own directory and temporary-file numbers left out, to compare two runs. */
const steps = (points: KillPoint[], out: string) =>
  points.map((p) => {
    const base = basename(out);
    const words = p.step.split(' ').map((w) => (w === base ? '.' : w.startsWith(`${base}/`) ? w.slice(base.length + 1) : w));
    return `${p.torn ? 'torn ' : ''}${words.join(' ').replace(/tmp-\d+-\d+/g, 'tmp-#')}`;
  });

/**
 * Whether point j of a resumed run is a step of "the save after resuming": not a log line, and not past the end
 * of the first save that puts a checkpoint in place (its rename, and the steps that follow it up to the next log
 * line: the result and the metrics when it is the last epoch's). Without such a save, every step but the log's.
 */
function inFirstSave(points: readonly KillPoint[], j: number): boolean {
  if (isLog(points[j])) return false;
  const published = points.findIndex((p) => / -> \S+\/checkpoint$/.test(p.step));
  if (published < 0 || j <= published) return true;
  return !points.slice(published + 1, j).some(isLog);
}

const isLog = (p: KillPoint) => / \S*log\.jsonl/.test(p.step);

/**
 * Epochs whose checkpoint had been written in full (its checkpoint.json written, after the state) before point
 * `upTo` of a run: what a resume from a kill there must start after, or progress was lost. A write is done once
 * the run is past its last kill point, the torn one.
 */
const savedBefore = (points: readonly KillPoint[], upTo: number) =>
  points.slice(0, upTo).filter((p) => p.torn && /^writeFileSync \S*checkpoint\.tmp\/checkpoint\.json$/.test(p.step)).length;

/** The epoch a resumed run says it resumes after (0: from the start). */
const resumedFrom = (o: Outcome) => Number(/resuming after epoch (\d+)/.exec(o.stderr)?.[1] ?? 0);

/** Why a finished directory is not the reference's: '' when it is. */
function verdict(out: string, method: string, outcome: Outcome, ref: Reference, saved: number): string {
  if (outcome.end !== 'ok') return ended(outcome, out);
  const from = resumedFrom(outcome);
  if (from !== saved) return `resumed after epoch ${from}, though epoch ${saved}'s checkpoint had been written in full`;
  const listing = listTree(out);
  const extra = listing.filter((n) => !ref.listing.includes(n));
  const missing = ref.listing.filter((n) => !listing.includes(n));
  if (missing.length) return `missing ${missing.join(', ')}`;
  if (JSON.stringify(resultOf(out, RESULT[method])) !== JSON.stringify(ref.result)) return 'result differs from the uninterrupted run';
  if (extra.length) return `left behind: ${extra.join(', ')}`;
  // The clock stands still, so the log too must be the uninterrupted run's, byte for byte.
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8');
  if (log !== ref.log) return log.split('\n').some((l) => l && !isJson(l)) ? 'log.jsonl holds a torn line' : 'log.jsonl differs from the uninterrupted run';
  return '';
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** How a run that did not finish ended, its directory written as <out>. */
const ended = (o: Outcome, out: string) =>
  `ended ${o.end} ${o.code}: ${((o.stderr.trim().split('\n').at(-1) ?? '') || String(o.error)).replaceAll(out, '<out>')}`;

/** Prints the counts (and the failures, by reason) for the record. */
function report(head: string, cases: number, failures: string[], t0: number): void {
  const failed = failures.filter(Boolean);
  console.log(
    `${head}, ${cases - failed.length} recovered, ${failed.length} failed, in ${(seconds() - t0).toFixed(1)} s` +
      `${failed.length ? `\n  ${JSON.stringify(tally(failed.map((f) => f.replace(/^.*?: /, ''))))}\n  ${failed.slice(0, 40).join('\n  ')}` : ''}`,
  );
}

/** Tallies of failures by reason. */
function tally(reasons: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of reasons) {
    const key = r.replace(/tmp-\d+-\d+/g, 'tmp-PID-N');
    if (r) t[key] = (t[key] ?? 0) + 1;
  }
  return t;
}

async function reference(method: string): Promise<Reference> {
  const out = fresh(`${method}-ref`);
  const { outcome, points } = await finetune(out, method);
  expect(outcome.end, outcome.stderr).toBe('ok');
  return { out, points, result: resultOf(out, RESULT[method]), listing: listTree(out), log: readFileSync(join(out, 'log.jsonl'), 'utf8') };
}

beforeAll(() => {
  writeTinyFixture(modelDir, data, 16);
  mkdirSync(runs); // every run's --out has the same parent: the steps of checking --out are the same in each
  ks.install();
  // A clock that stands still: the log's times and the measured seconds are the same in every run, so two runs
  // (or a run and a copy) that wrote the same things digest the same.
  vi.useFakeTimers({ toFake: ['Date', 'performance'], now: Date.UTC(2026, 0, 1) });
});
afterAll(() => {
  rmSync(dirname(preload), { recursive: true, force: true });
  vi.useRealTimers();
  ks.uninstall();
  rmSync(root, { recursive: true, force: true });
});

describe('sift finetune after a SIGKILL at every file-system step', () => {
  it('sift: killed once at each step, then resumed: the uninterrupted result, no temp file left', async () => {
    const t0 = seconds();
    const method = 'sift';
    const ref = await reference(method);
    // The states a kill at each point leaves, as one more uninterrupted run passes them: each must be the state a
    // real kill there leaves, which is what lets the other tests copy states instead of killing at each.
    const recorded = join(snaps, `${method}-once`);
    const rec = fresh(`${method}-rec`);
    const again = await finetune(rec, method, { onPoint: recorder(rec, recorded) });
    expect(steps(again.points, rec)).toEqual(steps(ref.points, ref.out));
    const failures: string[] = [];
    const copiesDiffer: string[] = [];
    let restarts = 0;
    for (let i = 0; i < ref.points.length; i++) {
      const out = fresh(`${method}-k${i}`);
      const killed = await finetune(out, method, { killAt: i });
      expect(killed.outcome.end, `kill at ${i}: ${ref.points[i].step}`).toBe('killed');
      if (stateDigest(out) !== stateDigest(join(recorded, String(i)))) copiesDiffer.push(`${i} ${ref.points[i].torn ? 'torn ' : ''}${ref.points[i].step}`);
      const resumed = await continueRun(out, method);
      restarts += Number(resumed.restarted);
      const why = verdict(out, method, resumed.outcome, ref, savedBefore(ref.points, i));
      failures.push(why ? `${i} ${ref.points[i].torn ? 'torn ' : ''}${ref.points[i].step}: ${why}` : '');
      ks.bypass(() => rmSync(out, { recursive: true, force: true }));
    }
    report(`[crash ${method}] one kill: ${ref.points.length} kill points (${ref.points.filter((p) => p.torn).length} torn writes; ${restarts} before any checkpoint, started over)`, ref.points.length, failures, t0);
    expect(copiesDiffer, 'a copied state differs from the one a real kill left').toEqual([]);
    expect(failures.filter(Boolean)).toEqual([]);
  }, 900_000);

  it('a real SIGKILL of the built `sift` leaves what the in-process kill leaves (the first step of each kind)', async () => {
    // The enumeration above is in-process; this checks the simulation against the real thing, at one point of each
    // kind of step (and the renames that publish the second checkpoint), the kill sent by the process to itself.
    const t0 = seconds();
    const ref = await reference('sift');
    const chosen = new Map<string, number>();
    ref.points.forEach((p, i) => {
      const kind = `${p.torn ? 'torn ' : ''}${p.step.split(' ')[0]}`;
      if (!chosen.has(kind) || / -> \S+\/checkpoint(\.old)?$/.test(p.step)) chosen.set(/ -> /.test(p.step) ? p.step : kind, i);
    });
    const differ: string[] = [];
    for (const i of [...new Set(chosen.values())].sort((a, b) => a - b)) {
      const simulated = fresh(`sim-${i}`);
      expect((await finetune(simulated, 'sift', { killAt: i })).outcome.end).toBe('killed');
      const real = fresh(`real-${i}`);
      const r = spawnSync(process.execPath, ['--import', preload, bin, ...args(real, 'sift', false)], {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, SIFT_THREADS: '1', SIFT_KILL_ROOT: runs, SIFT_KILL_AT: String(i) },
      });
      expect(r.signal, `${i} ${ref.points[i].step}: ${r.stderr}`).toBe('SIGKILL');
      if (stateDigest(real) !== stateDigest(simulated)) {
        differ.push(`${i} ${ref.points[i].torn ? 'torn ' : ''}${ref.points[i].step}`);
      }
    }
    console.log(`[crash sift] real SIGKILL at ${new Set(chosen.values()).size} points: ${differ.length} differ from the in-process kill, in ${(seconds() - t0).toFixed(1)} s`);
    expect(differ).toEqual([]);
  }, 600_000);

  it('full: killed once at each step (states copied), then resumed: the uninterrupted checkpoint, no temp file left', async () => {
    // Full fine-tuning saves every weight and its moments, and its result is config.json + model.safetensors.
    const t0 = seconds();
    const method = 'full';
    const ref = await reference(method);
    const recorded = join(snaps, `${method}-once`);
    const rec = fresh(`${method}-rec`);
    await finetune(rec, method, { onPoint: recorder(rec, recorded) });
    const failures: string[] = [];
    let restarts = 0;
    for (let i = 0; i < ref.points.length; i++) {
      const out = fresh(`${method}-k${i}`);
      ks.bypass(() => copyTree(join(recorded, String(i)), out));
      const resumed = await continueRun(out, method);
      restarts += Number(resumed.restarted);
      const why = verdict(out, method, resumed.outcome, ref, savedBefore(ref.points, i));
      failures.push(why ? `${i} ${ref.points[i].torn ? 'torn ' : ''}${ref.points[i].step}: ${why}` : '');
      ks.bypass(() => rmSync(out, { recursive: true, force: true }));
    }
    report(`[crash ${method}] one kill: ${ref.points.length} kill points (${ref.points.filter((p) => p.torn).length} torn writes; ${restarts} before any checkpoint, started over)`, ref.points.length, failures, t0);
    expect(failures.filter(Boolean)).toEqual([]);
  }, 900_000);

  it('sift: killed during a save, then during the save after resuming, then resumed: the uninterrupted result', async () => {
    const t0 = seconds();
    const method = 'sift';
    const ref = await reference(method);
    const recorded = join(snaps, 'twice-first');
    const rec = fresh('twice-rec');
    await finetune(rec, method, { onPoint: recorder(rec, recorded) });
    const finals = new Map<string, string>();
    let pairs = 0;
    let resumedRuns = 0;
    const failures: string[] = [];
    const firstKills = ref.points.map((p, i) => (isLog(p) ? -1 : i)).filter((i) => i >= 0);
    for (const i of firstKills) {
      // The first resume, passing every point of its first save (the steps before it included): a copy at each.
      const out = fresh(`twice-${i}`);
      ks.bypass(() => copyTree(join(recorded, String(i)), out));
      const second = join(snaps, `twice-${i}`);
      const census = await continueRun(out, method, recorder(out, second, (j, seen) => inFirstSave(seen, j)));
      const first = savedBefore(ref.points, i);
      if (census.outcome.end !== 'ok' || resumedFrom(census.outcome) !== first) {
        failures.push(`${i} ${ref.points[i].step}: first resume ${census.outcome.end === 'ok' ? `after epoch ${resumedFrom(census.outcome)}, not ${first}` : ended(census.outcome, out)}`);
        ks.bypass(() => rmSync(out, { recursive: true, force: true }));
        continue;
      }
      const pts = census.points;
      for (let j = 0; j < pts.length; j++) {
        if (!inFirstSave(pts, j)) continue;
        pairs++;
        const state = join(second, String(j));
        const saved = first + savedBefore(pts, j);
        const digest = `${stateDigest(state)} ${saved}`;
        let why = finals.get(digest);
        if (why === undefined) {
          const last = fresh(`twice-${i}-${j}`);
          ks.bypass(() => copyTree(state, last));
          const finished = await continueRun(last, method);
          resumedRuns++;
          why = verdict(last, method, finished.outcome, ref, saved);
          finals.set(digest, why);
          ks.bypass(() => rmSync(last, { recursive: true, force: true }));
        }
        if (why) failures.push(`${i} ${ref.points[i].step} + ${j} ${pts[j].torn ? 'torn ' : ''}${pts[j].step}: ${why}`);
      }
      ks.bypass(() => {
        rmSync(out, { recursive: true, force: true });
        rmSync(second, { recursive: true, force: true });
      });
    }
    console.log(
      `[crash sift] two kills: ${firstKills.length} first kills during saves × the steps of the save after resuming = ${pairs} pairs ` +
        `(${finals.size} distinct disk states resumed, ${resumedRuns} runs), ${failures.length} failed, in ${(seconds() - t0).toFixed(1)} s` +
        `${failures.length ? `\n  ${JSON.stringify(tally(failures.map((f) => f.replace(/^.*?: /, ''))))}\n  ${failures.slice(0, 40).join('\n  ')}` : ''}`,
    );
    expect(failures).toEqual([]);
  }, 1_800_000);
});
