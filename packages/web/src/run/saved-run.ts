import type { BrowserMethod, Evaluation, InMemoryCheckpoint } from '@siftjs/cli/browser';
import type { RngState } from '@siftjs/tensor';
import type { RunStore } from './store.js';

/*
 * A run kept in the browser's storage so that a reload, or a tab closed and opened again, goes on from the last
 * saved step with nothing lost. Three kinds of file: run.json (what the run is and where it stands), data.jsonl
 * (the examples it trains on: a user's file is gone after a reload) and state-STEP.safetensors (the tuner's state,
 * in the format of `sift finetune`'s checkpoint). A save writes the new state file, then run.json naming it, then
 * removes the older state files: at every moment run.json names a state file that is complete.
 */

export interface RunSettings {
  method: BrowserMethod;
  density: number;
  lr: number;
  epochs: number;
  batchSize: number;
  maxLength: number;
  seed: number;
  loraRank?: number;
  /** Steps between saves (each epoch's end is saved too). */
  saveEvery: number;
}

export interface SavedRun {
  version: 1;
  /** When the last save happened (ISO 8601). */
  savedAt: string;
  /** The model: the bundled one by name, or a folder recognised again by its fingerprint (config and weight headers). */
  model: { source: 'bundled' | 'folder'; name: string; fingerprint: string };
  data: { name: string; rows: number; excluded: number };
  settings: RunSettings;
  step: number;
  totalSteps: number;
  stateFile: string;
  rng: RngState;
  startLoss?: number;
  /** Every step's loss and every epoch's evaluation so far, to draw and list again. */
  losses: number[];
  evaluations: (Evaluation & { epoch: number })[];
  /** Training seconds and tokens so far, over every session of the run. */
  seconds: number;
  tokens: number;
}

const RUN = 'run.json';
const DATA = 'data.jsonl';
const stateName = (step: number) => `state-${String(step).padStart(9, '0')}.safetensors`;

/** The saved run, or null when there is none (or its files are not all there). */
export async function readSavedRun(store: RunStore): Promise<SavedRun | null> {
  const blob = await store.read(RUN);
  if (!blob) return null;
  let run: SavedRun;
  try {
    run = JSON.parse(await blob.text());
  } catch {
    return null;
  }
  if (run.version !== 1 || !(await store.read(run.stateFile)) || !(await store.read(DATA))) return null;
  return run;
}

export async function savedData(store: RunStore): Promise<string> {
  const blob = await store.read(DATA);
  if (!blob) throw new Error(`the saved run's ${DATA} is missing from the browser's storage`);
  return blob.text();
}

export async function savedState(store: RunStore, run: SavedRun): Promise<Uint8Array> {
  const blob = await store.read(run.stateFile);
  if (!blob) throw new Error(`the saved run's ${run.stateFile} is missing from the browser's storage`);
  return new Uint8Array(await blob.arrayBuffer());
}

/** Starts a new run's files: the previous run's are removed, the data written. */
export async function beginRun(store: RunStore, dataText: string): Promise<void> {
  await discardRun(store);
  await store.write(DATA, dataText);
}

/** Saves a checkpoint into the run: its state file, then run.json naming it, then the older state files removed. */
export async function saveCheckpoint(store: RunStore, run: Omit<SavedRun, 'stateFile' | 'step' | 'rng' | 'startLoss' | 'savedAt'>, c: InMemoryCheckpoint): Promise<SavedRun> {
  const stateFile = stateName(c.step);
  await store.write(stateFile, c.state);
  const saved: SavedRun = { ...run, savedAt: new Date().toISOString(), step: c.step, stateFile, rng: c.rng, ...(c.startLoss === undefined ? {} : { startLoss: c.startLoss }) };
  await store.write(RUN, JSON.stringify(saved));
  for (const name of await store.names()) if (name.startsWith('state-') && name !== stateFile) await store.remove(name);
  return saved;
}

/** Removes every file of the saved run, run.json first (so a removal cut short never looks like a run). */
export async function discardRun(store: RunStore): Promise<void> {
  await store.remove(RUN);
  for (const name of await store.names()) await store.remove(name);
}
