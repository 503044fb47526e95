import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAvailable } from '@siftjs/backend-webgpu';
import { SafetensorsFile } from '@siftjs/safetensors';
import '@siftjs/backend-cpu';
import { writeTinyFixture } from './fixture.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The `sift` executable on --backend webgpu, against the same runs on --backend cpu. Without a WebGPU adapter the
 * suite skips and says why — except under CI=true, where it runs and fails, so a lost adapter is noticed.
 */
const status = await isAvailable();
const runs = status.available || process.env.CI === 'true';
if (!status.available) console.log(`[cli webgpu] ${process.env.CI === 'true' ? 'no adapter under CI=true: the suite fails' : 'skipped'}: ${status.reason}`);

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'siftjs-cli-webgpu-'));
const modelDir = join(root, 'model');
const data = join(root, 'mails.jsonl');

function sift(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SIFT_THREADS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every float of a safetensors file, by name. */
function values(file: string): Record<string, { shape: number[]; data: number[] }> {
  const f = SafetensorsFile.open(file);
  try {
    return Object.fromEntries(f.keys().map((k) => [k, { shape: f.info(k).shape, data: Array.from(f.readArray(k)) }]));
  } finally {
    f.close();
  }
}

/** Float32 agreement: the two backends sum in different orders, so allow a few ulps of the value and of 1. */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-5 * (1 + Math.abs(b));

beforeAll(() => {
  // A tiny GPT-2 with its own BPE and 16 labelled mails: 12 train (two steps of 8), 4 held out.
  writeTinyFixture(modelDir, data, 16);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.runIf(runs)('sift on --backend webgpu matches --backend cpu', () => {
  const args = (out: string, backend: string, more: string[]) =>
    ['finetune', '--model', modelDir, '--data', data, '--out', out, '--backend', backend, '--batch-size', '8', '--density', '0.1', '--lr', '0.01', '--held-out', '0.25', '--max-length', '16', ...more];
  const finetune = (method: string, backend: string, more: string[] = ['--epochs', '1'], name = `${method}-${backend}`) => {
    const out = join(root, name);
    const r = sift(args(out, backend, ['--method', method, ...more]));
    expect(r.status, r.stderr).toBe(0);
    return { out, metrics: JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) };
  };

  it.each([
    ['sift', 'delta.safetensors'],
    ['full', 'model.safetensors'],
  ])('finetune --method %s completes, writes its files, and its held-out metrics equal the CPU run', (method, file) => {
    const gpu = finetune(method, 'webgpu');
    const cpu = finetune(method, 'cpu');
    for (const f of [file, 'metrics.json', 'log.jsonl', join('checkpoint', 'checkpoint.json'), join('checkpoint', 'state.safetensors')]) {
      expect(existsSync(join(gpu.out, f)), f).toBe(true);
    }
    expect(gpu.metrics.heldOut.examples).toBe(4);
    expect(gpu.metrics.trainable).toBe(cpu.metrics.trainable);
    expect(gpu.metrics.savedBytes).toBe(cpu.metrics.savedBytes);
    expect(close(gpu.metrics.heldOut.loss, cpu.metrics.heldOut.loss), `${gpu.metrics.heldOut.loss} vs ${cpu.metrics.heldOut.loss}`).toBe(true);
    expect(gpu.metrics.heldOut.accuracy).toBe(cpu.metrics.heldOut.accuracy);
    // The training losses step by step, and what was saved: the same tensors, the same values up to float32 rounding.
    const losses = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.loss !== undefined && e.event === undefined).map((e) => e.loss as number);
    const [lg, lc] = [losses(gpu.out), losses(cpu.out)];
    expect(lg).toHaveLength(2);
    lg.forEach((l, i) => expect(close(l, lc[i]), `step ${i + 1}: ${l} vs ${lc[i]}`).toBe(true));
    const [vg, vc] = [values(join(gpu.out, file)), values(join(cpu.out, file))];
    expect(Object.keys(vg).sort()).toEqual(Object.keys(vc).sort());
    for (const [name, { shape, data: d }] of Object.entries(vc)) {
      expect(vg[name].shape, name).toEqual(shape);
      // SIFT picks the same indices (the gradients agree far beyond the gaps at the top-k boundary here).
      if (name.endsWith('.indices')) expect(vg[name].data, name).toEqual(d);
      else expect(d.every((x, i) => Math.abs(x - vg[name].data[i]) <= 1e-4 * (1 + Math.abs(x))), name).toBe(true);
    }
  });

  it('a run stopped after epoch 1 and resumed on webgpu ends where the uninterrupted CPU run does', () => {
    const two = ['--epochs', '2'];
    const stopped = sift(args(join(root, 'resumed'), 'webgpu', [...two, '--stop-after', '1']));
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'resumed', 'checkpoint', 'checkpoint.json'), 'utf8')).epoch).toBe(1);
    const gpu = finetune('sift', 'webgpu', [...two, '--resume'], 'resumed');
    const cpu = finetune('sift', 'cpu', two, 'whole-cpu');
    expect(close(gpu.metrics.heldOut.loss, cpu.metrics.heldOut.loss), `${gpu.metrics.heldOut.loss} vs ${cpu.metrics.heldOut.loss}`).toBe(true);
    expect(gpu.metrics.heldOut.accuracy).toBe(cpu.metrics.heldOut.accuracy);
  });

  it('eval with the delta and greedy generate give the CPU answers', () => {
    const delta = join(root, 'sift-webgpu', 'delta.safetensors');
    const ev = (backend: string) => {
      const r = sift(['eval', '--model', modelDir, '--data', data, '--delta', delta, '--max-length', '16', '--backend', backend]);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const [g, c] = [ev('webgpu'), ev('cpu')];
    expect(g.examples).toBe(16);
    expect(close(g.loss, c.loss), `${g.loss} vs ${c.loss}`).toBe(true);
    expect(g.accuracy).toBe(c.accuracy);
    const gen = (backend: string) => sift(['generate', '--model', modelDir, '--prompt', 'free money', '--max-new-tokens', '4', '--temperature', '0', '--backend', backend]);
    const [gg, gc] = [gen('webgpu'), gen('cpu')];
    expect(gg.status, gg.stderr).toBe(0);
    expect(gg.stdout).toBe(gc.stdout);
  });
});
