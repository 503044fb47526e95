import { join } from 'node:path';
import { saveSafetensors, saveSafetensorsAsync } from '@siftjs/safetensors';
import { DenseFineTuner, type FineTuner, type GradScalerState, SIFT, saveState, saveStateAsync } from '@siftjs/sift-optimizer';
import { UsageError } from '../errors.js';
import { beginCheckpointDir, hasCheckpoint, publishCheckpointDir, recoverCheckpointDir } from './checkpoint-dir.js';
import type { Evaluation } from './evaluate.js';
import { assertFiniteFile } from './finite.js';
import { denseState, loadTunerStateFile } from './tuner-state.js';

/** What a checkpoint records besides the tensors: enough to continue the same run, or to finish it. */
export interface CheckpointMeta {
  /** Epochs finished. */
  epoch: number;
  method: string;
  /** The run's settings; resuming with different ones is refused. */
  settings: Record<string, unknown>;
  /** The held-out evaluation after that epoch: the final metrics when a resume has no epoch left to train. */
  evaluation?: Evaluation;
  /** Instruction tuning: the held-out loss before training, measured once by the run's first process. */
  heldOutLossBefore?: number;
  /** The first step's training loss: what the divergence check compares with, across resumes. */
  startLoss?: number;
  /** Seconds of training so far, over every run that led here; the largest peak bytes of those runs. */
  seconds?: number;
  peakBytes?: number;
  /** Dynamic loss scaling (float16 weights): the scaler's state, and the steps it has skipped so far. */
  gradScaler?: GradScalerState;
  skippedSteps?: number;
}

const STATE_FILE = 'state.safetensors';

function cannot(tuner: FineTuner): never {
  throw new Error(`saveCheckpoint: cannot checkpoint method '${tuner.method}'`);
}

/** Checks the state just written into `tmp` before it is published: nothing non-finite becomes a checkpoint. */
function checked(tmp: string, meta: CheckpointMeta): void {
  assertFiniteFile(join(tmp, STATE_FILE), `checkpoint of epoch ${meta.epoch}`);
}

/**
 * Writes the training state into `dir` so that a process killed at any file-system step leaves a complete
 * checkpoint of the newest epoch saved (see checkpoint-dir.ts): a fresh `dir.tmp` is filled and checked for
 * non-finite numbers, the previous checkpoint moved aside, the new one renamed into place, the old one removed.
 * CPU tensors (synchronous reads); `saveCheckpointAsync` saves from any backend.
 */
export function saveCheckpoint(dir: string, tuner: FineTuner, meta: CheckpointMeta): void {
  const tmp = beginCheckpointDir(dir, STATE_FILE);
  const path = join(tmp, STATE_FILE);
  if (tuner instanceof SIFT) saveState(tuner, path);
  else if (tuner instanceof DenseFineTuner) saveSafetensors(path, ...denseState(tuner));
  else cannot(tuner);
  checked(tmp, meta);
  publishCheckpointDir(dir, meta);
}

/** `saveCheckpoint` from any backend (WebGPU included): the same files, the same guarantees. */
export async function saveCheckpointAsync(dir: string, tuner: FineTuner, meta: CheckpointMeta): Promise<void> {
  const tmp = beginCheckpointDir(dir, STATE_FILE);
  const path = join(tmp, STATE_FILE);
  if (tuner instanceof SIFT) await saveStateAsync(tuner, path);
  else if (tuner instanceof DenseFineTuner) await saveSafetensorsAsync(path, ...denseState(tuner));
  else cannot(tuner);
  checked(tmp, meta);
  publishCheckpointDir(dir, meta);
}

/** Whether `dir` (or what a killed save left beside it) holds a complete checkpoint. */
export function checkpointExists(dir: string): boolean {
  return hasCheckpoint(dir, STATE_FILE);
}

/**
 * Puts the newest complete checkpoint in place (finishing a save a kill cut short) and reads it into `tuner`
 * (built over the base model with the same settings); returns its meta, or null when there is none.
 */
export function resumeCheckpoint(dir: string, tuner: FineTuner, settings: Record<string, unknown>): CheckpointMeta | null {
  const meta = recoverCheckpointDir<CheckpointMeta>(dir, STATE_FILE);
  if (!meta) return null;
  const json = join(dir, 'checkpoint.json');
  // Both ways: a setting the checkpoint has and this run leaves at its default (--dtype) differs as much as one
  // this run sets; a setting neither names is the same default.
  const say = (v: unknown) => (v === undefined ? 'the default' : JSON.stringify(v));
  for (const k of new Set([...Object.keys(settings), ...Object.keys(meta.settings ?? {})])) {
    const [was, now] = [meta.settings?.[k], settings[k]];
    if (JSON.stringify(was) !== JSON.stringify(now)) throw new UsageError(`${json}: was made with ${k} = ${say(was)}, this run has ${say(now)}`);
  }
  if (tuner instanceof SIFT || tuner instanceof DenseFineTuner) loadTunerStateFile(tuner, join(dir, STATE_FILE));
  return meta;
}

/** `resumeCheckpoint` that refuses a directory with no checkpoint. */
export function loadCheckpoint(dir: string, tuner: FineTuner, settings: Record<string, unknown>): CheckpointMeta {
  const meta = resumeCheckpoint(dir, tuner, settings);
  if (!meta) throw new UsageError(`${dir}: no checkpoint to resume from`);
  return meta;
}
