import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { type HostTensor, SafetensorsFile, saveSafetensors } from '@siftjs/safetensors';
import { DELTA_FORMAT, loadDelta } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import '@siftjs/backend-cpu';
import { writeTinyFixture } from './fixture.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The `sift` executable on models, deltas and settings that hold or make a NaN or an infinity, and on deltas
 * made from another model or another base: one line naming what and where, exit code 2, nothing written.
 * The poisoned element and the shapes come from the files this test writes.
 */

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'siftjs-cli-nonfinite-'));
const at = (...p: string[]) => join(root, ...p);

function sift(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SIFT_THREADS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Exit code 2 and one line on stderr, the error (no stack trace), after a loading notice if any (a classification
 * head initialised from the seed); a run stopped while training prints its progress before it, the error last.
 */
function refused(r: ReturnType<typeof sift>, { whileTraining = false } = {}): string {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  if (!whileTraining) expect(lines.filter((l) => !l.startsWith('note: ')), r.stderr).toHaveLength(1);
  expect(lines.filter((l) => l.startsWith('sift: ')), r.stderr).toHaveLength(1);
  expect(lines.filter((l) => /^\s+at /.test(l)), r.stderr).toEqual([]);
  return lines.at(-1) as string;
}

/** Copies a safetensors file with `value` at flat position `index` of tensor `name`. */
function poison(from: string, to: string, name: string, index: number, value: number): void {
  const f = SafetensorsFile.open(from);
  const tensors: Record<string, HostTensor> = {};
  try {
    for (const key of f.keys()) {
      const data = f.readArray(key);
      if (key === name) data[index] = value;
      tensors[key] = { dtype: data instanceof Int32Array ? 'int32' : 'float32', shape: f.info(key).shape, data };
    }
    saveSafetensors(to, tensors, { metadata: f.metadata });
  } finally {
    f.close();
  }
}

/** A model directory like `model` (same tokenizer) holding a GPT-2 of width `nEmbd` initialised from `seed`. */
function sibling(dir: string, nEmbd: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) cpSync(at('model', f), join(dir, f));
  manualSeed(seed);
  const lm = new GPT2LMHeadModel(gpt2Config({ vocab_size: 300, n_positions: 32, n_embd: nEmbd, n_layer: 1, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'test'));
  lm.savePretrained(dir);
  lm.dispose();
}

const C_ATTN = 'transformer.h.0.attn.c_attn.weight'; // [16, 48] in the fixture
const train = ['--data', 'mails.jsonl', '--batch-size', '8', '--density', '0.1', '--held-out', '0.25', '--max-length', '16'];

beforeAll(() => {
  writeTinyFixture(at('model'), at('mails.jsonl'), 16);
  // NaN at flat 100 of c_attn [16, 48]: row 2, column 4. +Infinity at flat 35 of wte [300, 16]: row 2, column 3.
  cpSync(at('model'), at('nan-model'), { recursive: true });
  poison(at('model', 'model.safetensors'), at('nan-model', 'model.safetensors'), C_ATTN, 100, NaN);
  cpSync(at('model'), at('inf-model'), { recursive: true });
  poison(at('model', 'model.safetensors'), at('inf-model', 'model.safetensors'), 'transformer.wte.weight', 35, Infinity);
  sibling(at('wide-model'), 32, 0);
  sibling(at('other-model'), 16, 1);
  const r = sift(['finetune', '--model', 'model', ...train, '--epochs', '1', '--lr', '0.01', '--out', 'run']);
  expect(r.status, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('non-finite weights are refused before they are used, naming the weight', () => {
  it('finetune: before training, not "at step 1, lower --lr"', () => {
    const line = refused(sift(['finetune', '--model', 'nan-model', ...train, '--epochs', '1', '--out', 'nan-run']));
    expect(line).toBe(`sift: nan-model: weight '${C_ATTN}' holds NaN at [2, 4]; the weights must be finite`);
    expect(existsSync(at('nan-run', 'checkpoint'))).toBe(false);
  });

  it('eval: an error, not "loss": null', () => {
    const r = sift(['eval', '--model', 'inf-model', '--data', 'mails.jsonl', '--max-length', '16']);
    expect(refused(r)).toBe("sift: inf-model: weight 'transformer.wte.weight' holds Infinity at [2, 3]; the weights must be finite");
    expect(r.stdout).toBe('');
  });

  it('generate: an error, not garbage', () => {
    const r = sift(['generate', '--model', 'nan-model', '--prompt', 'free money', '--max-new-tokens', '3']);
    expect(refused(r)).toContain(`weight '${C_ATTN}' holds NaN at [2, 4]`);
    expect(r.stdout).toBe('');
  });

  it('merge: a base holding a NaN is refused and nothing is written', () => {
    const line = refused(sift(['merge', '--base', 'nan-model', '--delta', 'run/delta.safetensors', '--out', 'merged-nan']));
    expect(line).toContain(`'${C_ATTN}' holds NaN at [2, 4]; the base must be finite`);
    expect(existsSync(at('merged-nan'))).toBe(false);
  });

  it('eval and merge: a delta file holding a NaN increment names the file and the increment', () => {
    poison(at('run', 'delta.safetensors'), at('nan-delta.safetensors'), `${C_ATTN}.delta`, 3, NaN);
    const check = SafetensorsFile.open(at('nan-delta.safetensors'));
    expect(check.metadata.format).toBe(DELTA_FORMAT);
    check.close();
    const want = `nan-delta.safetensors: '${C_ATTN}.delta' holds NaN at [3]; a delta holds finite numbers only`;
    expect(refused(sift(['eval', '--model', 'model', '--data', 'mails.jsonl', '--max-length', '16', '--delta', 'nan-delta.safetensors']))).toContain(want);
    expect(refused(sift(['merge', '--base', 'model', '--delta', 'nan-delta.safetensors', '--out', 'merged-nan-delta']))).toContain(want);
    expect(existsSync(at('merged-nan-delta'))).toBe(false);
  });
});

describe('a diverging learning rate stops the run', () => {
  it('--lr 1e6 stops with the step and the loss, saving no result; --allow-divergence lets it run', () => {
    const line = refused(sift(['finetune', '--model', 'model', ...train, '--epochs', '2', '--lr', '1e6', '--out', 'lr-run']), { whileTraining: true });
    expect(line).toMatch(/^sift: fit: the training loss diverged: \S+ at step \d+ \(sift\) is more than 100× the starting loss \S+; lower --lr, or pass --allow-divergence to go on$/);
    expect(existsSync(at('lr-run', 'delta.safetensors'))).toBe(false);
    const r = sift(['finetune', '--model', 'model', ...train, '--epochs', '2', '--lr', '1e6', '--allow-divergence', '--out', 'lr-allowed']);
    // Allowed to diverge, it either ends with finite numbers (saved) or meets a non-finite one (named, nothing saved).
    if (r.status === 0) {
      expect(Number.isFinite(JSON.parse(readFileSync(at('lr-allowed', 'metrics.json'), 'utf8')).heldOut.loss)).toBe(true);
      expect(Object.keys(loadDelta(at('lr-allowed', 'delta.safetensors')).sparse).length).toBeGreaterThan(0); // finite, or loadDelta throws
    }
    else expect(refused(r, { whileTraining: true })).toMatch(/not finite|is (NaN|-?Infinity)/);
  });
});

describe('a delta made from another model or another base is refused, naming both', () => {
  const delta = 'run/delta.safetensors';
  /** The delta's first sparse tensor (the first one checked) and its shape there and in the wider model's file. */
  function firstMismatch(): { name: string; inDelta: string; inWide: string } {
    const name = Object.keys(loadDelta(at(delta)).sparse)[0];
    const f = SafetensorsFile.open(at('wide-model', 'model.safetensors'));
    try {
      return { name, inDelta: `[${loadDelta(at(delta)).sparse[name].shape.join(', ')}]`, inWide: `[${f.info(name).shape.join(', ')}]` };
    } finally {
      f.close();
    }
  }

  it('merge into a wider model: the shapes, and nothing written', () => {
    const m = firstMismatch();
    expect(m.inDelta).not.toBe(m.inWide);
    const line = refused(sift(['merge', '--base', 'wide-model', '--delta', delta, '--out', 'merged-wide']));
    expect(line).toBe(`sift: merge: run/delta.safetensors: '${m.name}' is ${m.inDelta} in the delta but ${m.inWide} in wide-model; the delta was made from another model`);
    expect(existsSync(at('merged-wide'))).toBe(false);
  });

  it('merge into a model of the same shapes with other weights: the fingerprint, and nothing written', () => {
    const line = refused(sift(['merge', '--base', 'other-model', '--delta', delta, '--out', 'merged-other']));
    expect(line).toMatch(/^sift: merge: run\/delta\.safetensors: was made from another base than other-model \('[^']+' differs there: fingerprint [0-9a-f]{16}, expected [0-9a-f]{16}\)$/);
    expect(existsSync(at('merged-other'))).toBe(false);
  });

  it('eval --delta on a wider model and on other weights', () => {
    const data = ['--data', 'mails.jsonl', '--max-length', '16', '--delta', delta];
    const m = firstMismatch();
    const wide = sift(['eval', '--model', 'wide-model', ...data]);
    expect(refused(wide)).toBe(`sift: --delta run/delta.safetensors: sparse delta: '${m.name}' is ${m.inDelta} in the delta but ${m.inWide} in the model; the delta was made from another model`);
    const other = sift(['eval', '--model', 'other-model', ...data]);
    expect(refused(other)).toMatch(/^sift: --delta run\/delta\.safetensors: sparse delta: '[^']+' differs from the base the delta was made from \(fingerprint [0-9a-f]{16}, expected [0-9a-f]{16}\)$/);
    expect(wide.stdout + other.stdout).toBe('');
  });

  it('the same delta on its own base still evaluates and merges', () => {
    expect(sift(['eval', '--model', 'model', '--data', 'mails.jsonl', '--max-length', '16', '--delta', delta]).status).toBe(0);
    expect(sift(['merge', '--base', 'model', '--delta', delta, '--out', 'merged-ok']).status).toBe(0);
  });
});
