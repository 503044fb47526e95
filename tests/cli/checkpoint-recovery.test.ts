import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoverCheckpointDir, removeOrphans } from '@siftjs/cli';
import { KillSwitch } from './kill-switch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * Checkpoint recovery on every layout a run can leave, and a few it cannot: each of `dir`, `dir.tmp`, `dir.old`
 * absent, an empty directory, a torn checkpoint.json, a JSON without its state file, a state file without its
 * JSON, or complete at epoch 1, 2 or 3 (8³ = 512 layouts). The rule, from the definition of complete: the
 * complete checkpoint of the highest epoch ends up at `dir` (on a tie the one at `dir`, then `.tmp`, then `.old`),
 * and nothing else is left; with none complete, `.tmp` and `.old` go and `dir` stays as it was. The same must
 * hold when recovery itself is killed at any of its steps and run again.
 */

const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'siftjs-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STATE = 'state.safetensors';
const KINDS = ['absent', 'empty', 'torn-json', 'json-only', 'state-only', 'epoch-1', 'epoch-2', 'epoch-3'] as const;
type Kind = (typeof KINDS)[number];
const PLACES = ['', '.tmp', '.old'] as const;

/** Writes one place in the state `kind`; its state file says which place it is. */
function make(at: string, kind: Kind, place: string): void {
  if (kind === 'absent') return;
  mkdirSync(at, { recursive: true });
  const json = (epoch: number) => `${JSON.stringify({ epoch, method: 'sift', settings: {} })}\n`;
  if (kind === 'torn-json') writeFileSync(join(at, 'checkpoint.json'), json(9).slice(0, 12));
  if (kind === 'json-only') writeFileSync(join(at, 'checkpoint.json'), json(9));
  if (kind === 'state-only' || kind.startsWith('epoch-')) writeFileSync(join(at, STATE), `state of ${place}`);
  if (kind.startsWith('epoch-')) writeFileSync(join(at, 'checkpoint.json'), json(Number(kind.slice(6))));
}

/** What is on disk under `base`: each entry's name and contents. */
function snapshot(base: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(join(base, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[`${r}/`] = '';
        walk(r);
      } else out[r] = readFileSync(join(base, r), 'utf8');
    }
  };
  walk('');
  return out;
}

const layouts: Kind[][] = [];
for (const a of KINDS) for (const b of KINDS) for (const c of KINDS) layouts.push([a, b, c]);

/** The expected epoch and disk after recovery, from the rule above. */
function expected(layout: Kind[], before: Record<string, string>): { epoch: number | null; disk: Record<string, string> } {
  const complete = layout.map((k, i) => ({ i, epoch: k.startsWith('epoch-') ? Number(k.slice(6)) : -1 })).filter((c) => c.epoch > 0);
  if (complete.length === 0) {
    return { epoch: null, disk: Object.fromEntries(Object.entries(before).filter(([n]) => n.startsWith('ckpt/'))) };
  }
  const best = complete.reduce((a, b) => (b.epoch > a.epoch ? b : a));
  const json = readFileSync(join(root, 'case', `ckpt${PLACES[best.i]}`, 'checkpoint.json'), 'utf8');
  return { epoch: best.epoch, disk: { 'ckpt/': '', 'ckpt/checkpoint.json': json, [`ckpt/${STATE}`]: `state of ${PLACES[best.i]}` } };
}

function build(layout: Kind[]): Record<string, string> {
  const base = join(root, 'case');
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base);
  layout.forEach((k, i) => make(join(base, `ckpt${PLACES[i]}`), k, PLACES[i]));
  return snapshot(base);
}

describe('checkpoint recovery', () => {
  const ks = new KillSwitch(join(root, 'case'));
  beforeAll(() => ks.install());
  afterAll(() => ks.uninstall());

  it('puts the newest complete checkpoint in place on each of the 512 layouts, also when killed at any of its steps and run again', () => {
    let kills = 0;
    for (const layout of layouts) {
      const before = build(layout);
      const want = expected(layout, before);
      ks.reset();
      const got = recoverCheckpointDir<{ epoch: number }>(join(root, 'case', 'ckpt'), STATE);
      expect(got?.epoch ?? null, layout.join(' ')).toBe(want.epoch);
      expect(snapshot(join(root, 'case')), layout.join(' ')).toEqual(want.disk);
      const steps = ks.points.length;
      for (let k = 0; k < steps; k++) {
        build(layout);
        ks.reset(k);
        expect(() => recoverCheckpointDir(join(root, 'case', 'ckpt'), STATE)).toThrow(/killed/);
        ks.reset();
        const again = recoverCheckpointDir<{ epoch: number }>(join(root, 'case', 'ckpt'), STATE);
        expect(again?.epoch ?? null, `${layout.join(' ')} killed at ${k}`).toBe(want.epoch);
        expect(snapshot(join(root, 'case')), `${layout.join(' ')} killed at ${k}`).toEqual(want.disk);
        kills++;
      }
    }
    console.log(`[recovery] ${layouts.length} layouts, ${kills} kills during recovery, each recovered`);
  });
});

describe('orphaned temporary files', () => {
  it('those of dead writers and of this process go; a live writer’s and anything else stay', () => {
    const dir = join(root, 'orphans');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number; // exited: its pid names no process now
    const live = process.ppid;
    const names = {
      gone: [`.sift-probe-${dead}`, `delta.safetensors.tmp-${dead}-0`, `delta.safetensors.tmp.tmp-${dead}-3`, `.metrics.json.${dead}.mjuohs00.tmp`, `model.safetensors.tmp-${process.pid}-7`, 'config.json.tmp', 'delta.safetensors.tmp'],
      kept: [`adapter_model.safetensors.tmp-${live}-2`, 'notes.tmp', 'delta.safetensors', 'metrics.json', 'checkpoint'],
    };
    for (const n of [...names.gone, ...names.kept]) if (n !== 'checkpoint' && !n.startsWith('.sift-probe')) writeFileSync(join(dir, n), 'x');
    mkdirSync(join(dir, `.sift-probe-${dead}`));
    expect(removeOrphans(dir).sort()).toEqual([...names.gone].sort());
    expect(readdirSync(dir).sort()).toEqual([...names.kept].sort());
  });
});
