import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Where a checkpoint lives on disk, and how it is replaced so that a process killed at any file-system step
 * leaves a complete checkpoint of the newest epoch it had finished saving.
 *
 * A checkpoint is a directory holding the state file and `checkpoint.json`; the JSON is written last, so a
 * directory is complete when its JSON parses and the state file is there. It can be in three places: `dir` (in
 * place), `dir.tmp` (being written, or written and not yet renamed) and `dir.old` (the previous one, moved aside
 * while its successor is renamed in). A save fills `dir.tmp`, moves `dir` to `dir.old`, renames `dir.tmp` to
 * `dir`, then removes `dir.old`. Recovery looks at all three, keeps the complete one of the highest epoch and
 * puts it in place, never removing a complete checkpoint before a newer complete one is in place. A directory is
 * removed `checkpoint.json` first, so one half removed never looks complete.
 */

export const CHECKPOINT_JSON = 'checkpoint.json';

/** What recovery needs of a checkpoint's JSON. */
export interface Completed {
  epoch: number;
}

const places = (dir: string) => ({ dir, tmp: `${dir}.tmp`, old: `${dir}.old` });

/** The JSON of a complete checkpoint directory at `at` (its JSON parses, names an epoch, the state file is there), else null. */
export function readComplete<M extends Completed>(at: string, stateFile: string): M | null {
  let meta: M;
  try {
    meta = JSON.parse(readFileSync(join(at, CHECKPOINT_JSON), 'utf8'));
  } catch {
    return null; // absent, torn, or not a directory
  }
  if (typeof meta !== 'object' || meta === null || !Number.isInteger(meta.epoch) || !existsSync(join(at, stateFile))) return null;
  return meta;
}

/** Removes a checkpoint directory, its JSON first: a removal cut short leaves a directory that is not complete. */
export function removeCheckpointDir(at: string): void {
  if (!existsSync(at)) return;
  if (existsSync(join(at, CHECKPOINT_JSON))) unlinkSync(join(at, CHECKPOINT_JSON));
  removeTree(at);
}

function removeTree(at: string): void {
  if (lstatSync(at).isDirectory()) {
    for (const entry of readdirSync(at)) removeTree(join(at, entry));
    rmdirSync(at);
  } else unlinkSync(at);
}

/**
 * Puts the best complete checkpoint (highest epoch; `dir` on a tie) in place at `dir` and removes the others;
 * returns its JSON, or null when none of the three places holds a complete one (incomplete leftovers removed).
 * Every step keeps a complete checkpoint of the best epoch on disk, so recovery killed half-way recovers again.
 */
export function recoverCheckpointDir<M extends Completed>(dir: string, stateFile: string): M | null {
  const p = places(dir);
  const found = (['dir', 'tmp', 'old'] as const).map((k) => ({ at: p[k], kind: k, meta: readComplete<M>(p[k], stateFile) }));
  const best = found.filter((f) => f.meta).sort((a, b) => (b.meta as M).epoch - (a.meta as M).epoch)[0];
  if (!best) {
    // Nothing complete: `dir` is left as it is (something else made it), the leftovers of a save are removed.
    removeCheckpointDir(p.tmp);
    removeCheckpointDir(p.old);
    return null;
  }
  if (best.kind === 'tmp') {
    // Written in full, killed before or during its publication: finish it.
    removeCheckpointDir(p.old); // older than .tmp, or incomplete
    if (existsSync(p.dir)) renameSync(p.dir, p.old);
    renameSync(p.tmp, p.dir);
  } else if (best.kind === 'old') {
    // Killed after moving the previous one aside and before its successor was complete.
    removeCheckpointDir(p.tmp);
    removeCheckpointDir(p.dir); // incomplete (a complete one would not lose to .old)
    renameSync(p.old, p.dir);
  }
  removeCheckpointDir(p.tmp);
  removeCheckpointDir(p.old);
  return best.meta;
}

/** Whether a complete checkpoint is in any of its three places. */
export function hasCheckpoint(dir: string, stateFile: string): boolean {
  const p = places(dir);
  return [p.dir, p.tmp, p.old].some((at) => readComplete(at, stateFile) !== null);
}

/**
 * Starts a new checkpoint: recovery first (so the previous checkpoint is in place and nothing else is), then a
 * fresh `dir.tmp`, returned, for the caller to write the state into.
 */
export function beginCheckpointDir(dir: string, stateFile: string): string {
  recoverCheckpointDir(dir, stateFile);
  const { tmp } = places(dir);
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

/** Adds the JSON to the filled `dir.tmp`, moves the previous checkpoint aside, renames the new one in, removes the old. */
export function publishCheckpointDir(dir: string, meta: Completed): void {
  const p = places(dir);
  writeFileSync(join(p.tmp, CHECKPOINT_JSON), `${JSON.stringify(meta, null, 2)}\n`);
  // From here `dir.tmp` is complete and newer than `dir`: each step below keeps one complete copy of it.
  if (existsSync(p.dir)) renameSync(p.dir, p.old);
  renameSync(p.tmp, p.dir);
  removeCheckpointDir(p.old);
}
