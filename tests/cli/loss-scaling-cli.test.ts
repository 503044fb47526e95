import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@siftjs/cli';
import { loadSafetensors } from '@siftjs/safetensors';
import '@siftjs/backend-cpu';
import { writeTinyFixture } from './fixture.js';
import { siftInProcess } from './in-process.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * sift finetune --dtype float16: the base weights in float16 train under dynamic loss scaling. A run stopped after
 * an epoch and resumed ends on the uninterrupted run's bits — which needs the scaler's scale, its count of clean steps
 * and the steps it skipped (the schedule does not advance for them) to come back from the checkpoint.
 */

const root = mkdtempSync(join(tmpdir(), 'siftjs-f16-'));
const modelDir = join(root, 'model');
const data = join(root, 'mails.jsonl');
beforeAll(() => writeTinyFixture(modelDir, data, 48));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function bits(dir: string, file: string): Record<string, number[]> {
  const tensors = loadSafetensors(join(dir, file));
  const out = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, Array.from(new Uint32Array(Float32Array.from(t.toArraySync()).buffer))]));
  for (const t of Object.values(tensors)) t.dispose();
  return out;
}

const args = (out: string) => ['finetune', '--model', modelDir, '--data', data, '--out', out, '--epochs', '2', '--batch-size', '8', '--density', '0.1', '--lr', '0.01', '--held-out', '0.25', '--max-length', '16', '--dtype', 'float16'];

describe('sift finetune --dtype float16', () => {
  it('trains under dynamic loss scaling, says so, logs every skipped step, and resumes to the uninterrupted bits', async () => {
    const whole = join(root, 'whole');
    const r = await siftInProcess(args(whole));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^sift finetune: .* trainable parameters, base weights stored as float16, dynamic loss scaling \(float16 weights\)$/m);
    const metrics = JSON.parse(readFileSync(join(whole, 'metrics.json'), 'utf8'));
    const skips = readFileSync(join(whole, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'skip');
    expect(metrics.skippedSteps).toBe(skips.length);
    // Each skip is one line on stderr, and halves the scale.
    expect(r.stderr.match(/^step \d+ skipped: the gradient of '.+' overflowed at loss scale \d+/gm)?.length ?? 0).toBe(skips.length);
    for (const s of skips) expect(s.nextScale).toBe(s.scale / 2);
    const state = JSON.parse(readFileSync(join(whole, 'checkpoint', 'checkpoint.json'), 'utf8'));
    expect(state.gradScaler.scale).toBeGreaterThan(0);
    expect(state.skippedSteps).toBe(skips.length);

    const resumed = join(root, 'resumed');
    await main(['node', 'sift', ...args(resumed), '--stop-after', '1']);
    expect(existsSync(join(resumed, 'metrics.json'))).toBe(false);
    // Resuming without --dtype is another run (float32 weights): refused, naming the setting.
    const other = await siftInProcess([...args(resumed).slice(0, -2), '--resume']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/was made with dtype = "float16", this run has the default/);
    await main(['node', 'sift', ...args(resumed), '--resume']);
    expect(bits(resumed, 'delta.safetensors')).toEqual(bits(whole, 'delta.safetensors'));
    expect(JSON.parse(readFileSync(join(resumed, 'metrics.json'), 'utf8')).skippedSteps).toBe(skips.length);
  });

  it('bfloat16 weights need no loss scaling (float32 range): none is used', async () => {
    const out = join(root, 'bf16');
    const r = await siftInProcess([...args(out).slice(0, -1), 'bfloat16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/loss scaling/);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).skippedSteps).toBeUndefined();
  });
});
