import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Every entry under `dir`, relative, sorted (directories end in '/'). */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel))) {
      const r = rel ? `${rel}/${e}` : e;
      if (lstatSync(join(dir, r)).isDirectory()) {
        out.push(`${r}/`);
        walk(r);
      } else out.push(r);
    }
  };
  if (existsSync(dir)) walk('');
  return out.sort();
}

/** The writer's id in a temporary name: `x.tmp-PID-N` (safetensors), `.x.PID.STAMP.tmp` (writeFileAtomic). */
const TEMP_ID = /\.tmp-(\d+-\d+)|\.(\d+\.[0-9a-z]+)\.tmp$/g;

/**
 * A digest of what is on disk under `dir`: names and contents. Temporary names carry the writer's pid and a
 * counter or time stamp; they are numbered afresh in order, so two states that differ only in those (which no
 * reader of the directory looks at beyond their pattern) digest the same. Names `ignore` matches are left out.
 */
export function stateDigest(dir: string, ignore?: RegExp): string {
  const h = createHash('sha256');
  const names = listTree(dir).filter((n) => !ignore?.test(n));
  const counters = [...new Set(names.flatMap((n) => [...n.matchAll(TEMP_ID)].map((m) => m[1] ?? m[2])))].sort();
  for (const name of names) {
    const shown = name.replace(TEMP_ID, (_, a: string | undefined, b: string | undefined) => `.tmp-#${counters.indexOf(a ?? b ?? '')}`);
    h.update(`${shown}\0`);
    if (!name.endsWith('/')) h.update(/metrics\.json/.test(name) ? metricsContent(join(dir, name)) : readFileSync(join(dir, name))).update('\0');
  }
  return h.digest('hex');
}

/**
 * metrics.json (or its temporary file) without the peak memory, which differs from run to run in one process (a
 * killed run's tensors are reclaimed by the garbage collector whenever it runs), and with the result's file name
 * rather than its path; a torn one as just that.
 */
function metricsContent(file: string): string {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8'));
    delete m.peakBytes;
    if (typeof m.saved === 'string') m.saved = basename(m.saved); // the path of the run's own directory
    return JSON.stringify(m);
  } catch {
    return '(torn)';
  }
}

/** Copies a directory tree (the disk state a kill left) to `to`. */
export function copyTree(from: string, to: string): void {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Metrics fields that measure the process that wrote them (time, peak memory), not the fine-tune. */
const MEASURED = ['seconds', 'peakBytes'];

/**
 * What a fine-tune produced, to compare with an uninterrupted run: the result file and the final checkpoint's
 * state bit for bit, its JSON and metrics.json without what measures the process.
 */
export function resultOf(dir: string, resultFile: string): Record<string, unknown> {
  const metrics = existsSync(join(dir, 'metrics.json')) ? JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) : null;
  if (metrics) {
    for (const k of MEASURED) delete metrics[k];
    if (typeof metrics.saved === 'string') metrics.saved = basename(metrics.saved); // the run's own directory
    if (metrics.memory) delete metrics.memory.peakTransientGradient; // measured during backward in this process
  }
  const file = (f: string) => (existsSync(join(dir, f)) ? sha(join(dir, f)) : null);
  const checkpoint = existsSync(join(dir, 'checkpoint/checkpoint.json')) ? JSON.parse(readFileSync(join(dir, 'checkpoint/checkpoint.json'), 'utf8')) : null;
  if (checkpoint) for (const k of MEASURED) delete checkpoint[k];
  return { result: file(resultFile), checkpoint, checkpointState: file('checkpoint/state.safetensors'), metrics };
}
