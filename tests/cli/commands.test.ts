import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, COMPARE_DEFAULTS, loadTaskModel, main } from '@siftjs/cli';
import { loadSafetensors } from '@siftjs/safetensors';
import { applyDelta, loadDelta } from '@siftjs/sift-optimizer';
import '@siftjs/backend-cpu';
import { writeTinyFixture } from './fixture.js';
import { siftInProcess } from './in-process.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'siftjs-cli-'));
const modelDir = join(root, 'model');
const data = join(root, 'mails.jsonl');

/** Runs the built `sift` executable, as a user would. */
function sift(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SIFT_THREADS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The bits of every float of a model's state, by name. */
function bits(dir: string, file: string): Record<string, number[]> {
  const tensors = loadSafetensors(join(dir, file));
  const out = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, Array.from(new Uint32Array(Float32Array.from(t.toArraySync()).buffer))]));
  for (const t of Object.values(tensors)) t.dispose();
  return out;
}

beforeAll(() => {
  // A tiny GPT-2 with its own BPE, written as a Hugging Face directory, and a small two-class dataset.
  writeTinyFixture(modelDir, data, 48);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sift: bad input is one clear line and exit code 2, with nothing written', () => {
  it.each([
    [['finetune', '--model', 'model', '--data', 'missing.jsonl', '--out', 'o'], 'missing.jsonl: file not found'],
    [['finetune', '--model', 'model', '--data', 'mails.jsonl', '--label-field', 'category', '--out', 'o'], "has no field 'category'"],
    [['finetune', '--model', 'nowhere', '--data', 'mails.jsonl', '--out', 'o'], 'nowhere: model directory not found'],
    [['finetune', '--model', '.', '--data', 'mails.jsonl', '--out', 'o'], 'config.json: not found'],
    [['finetune', '--model', 'model', '--data', 'mails.jsonl', '--backend', 'tpu', '--out', 'o'], "unknown --backend 'tpu'"],
    [['finetune', '--model', 'model', '--data', 'mails.jsonl', '--method', 'magic', '--out', 'o'], "unknown --method 'magic'"],
    [['finetune', '--model', 'model', '--data', 'mails.jsonl', '--epochs', 'two', '--out', 'o'], "--epochs must be an integer"],
    [['finetune', '--model', 'model', '--data', 'mails.jsonl', '--dtype', 'fp8', '--out', 'o'], "unknown --dtype 'fp8' (one of float32, float16, bfloat16)"],
  ])('sift %j', (args, message) => {
    const r = sift(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(root, 'o'))).toBe(false);
  });

  it('an empty dataset', () => {
    writeFileSync(join(root, 'empty.jsonl'), '');
    const r = sift(['finetune', '--model', 'model', '--data', 'empty.jsonl', '--out', 'o']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/empty\.jsonl: .*empty/);
  });
});

describe('sift finetune, resume, eval and merge', () => {
  const args = (out: string, epochs: number) => ['finetune', '--model', modelDir, '--data', data, '--out', out, '--epochs', String(epochs), '--batch-size', '8', '--density', '0.1', '--lr', '0.01', '--held-out', '0.25', '--max-length', '16'];

  it('two runs with the same seed are bitwise identical; the checkpoint records the epochs done', async () => {
    const whole = join(root, 'whole');
    const again = join(root, 'again');
    await main(['node', 'sift', ...args(whole, 2)]);
    await main(['node', 'sift', ...args(again, 2)]);
    const metrics = JSON.parse(readFileSync(join(whole, 'metrics.json'), 'utf8'));
    expect(metrics.method).toBe('sift');
    expect(metrics.heldOut.examples).toBe(12);
    expect(JSON.parse(readFileSync(join(whole, 'checkpoint', 'checkpoint.json'), 'utf8')).epoch).toBe(2);
    expect(bits(whole, 'delta.safetensors')).toEqual(bits(again, 'delta.safetensors'));
  });

  it.each(['sift', 'full', 'lora'])('%s: a run stopped after epoch 1 and resumed ends bitwise where the uninterrupted run does', async (method) => {
    const whole = join(root, `whole-${method}`);
    const resumed = join(root, `resumed-${method}`);
    const m = ['--method', method];
    await main(['node', 'sift', ...args(whole, 2), ...m]);
    await main(['node', 'sift', ...args(resumed, 2), ...m, '--stop-after', '1']);
    expect(JSON.parse(readFileSync(join(resumed, 'checkpoint', 'checkpoint.json'), 'utf8')).epoch).toBe(1);
    expect(existsSync(join(resumed, 'metrics.json'))).toBe(false);
    // Without --resume an existing checkpoint is not overwritten.
    expect(sift([...args(resumed, 2), ...m]).status).toBe(2);
    await main(['node', 'sift', ...args(resumed, 2), ...m, '--resume']);
    const file = { sift: 'delta.safetensors', full: 'model.safetensors', lora: 'adapter_model.safetensors' }[method] as string;
    expect(bits(resumed, file)).toEqual(bits(whole, file));
    // Resuming with other settings is refused, naming the setting.
    const r = sift([...args(resumed, 2), ...m, '--lr', '0.5', '--resume']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('lr');
  });

  it.each(['sift', 'lora'])('%s with --gradient-checkpointing trains to the same bits as without', async (method) => {
    const plain = join(root, `plain-${method}`);
    const ckpt = join(root, `ckpt-${method}`);
    await main(['node', 'sift', ...args(plain, 1), '--method', method]);
    const r = await siftInProcess([...args(ckpt, 1), '--method', method, '--gradient-checkpointing']);
    expect(r.code, r.stderr).toBe(0);
    // The run's opening line reads the model: it says so only when the blocks were switched over.
    expect(r.stderr).toMatch(/^sift finetune: .* trainable parameters, gradient checkpointing on$/m);
    const file = method === 'sift' ? 'delta.safetensors' : 'adapter_model.safetensors';
    expect(bits(ckpt, file)).toEqual(bits(plain, file));
    const [a, b] = [plain, ckpt].map((d) => JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8')).heldOut);
    expect(b).toEqual(a);
  });

  it.each(['sift', 'lora'])('%s with --dtype bfloat16 (causal LM): base weights stored in bfloat16, training and eval land where float32 does', async (method) => {
    const lm = (out: string) => [...args(out, 1), '--task', 'causal-lm', '--method', method];
    const plain = join(root, `f32-${method}`);
    const half = join(root, `bf16-${method}`);
    await main(['node', 'sift', ...lm(plain)]);
    const r = await siftInProcess([...lm(half), '--dtype', 'bfloat16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^sift finetune: .* trainable parameters, base weights stored as bfloat16$/m);
    const ev = (extra: string[]) => siftInProcess(['eval', '--model', modelDir, '--data', data, '--task', 'causal-lm', '--max-length', '16', ...extra]);
    const [e32, e16] = [await ev([]), await ev(['--dtype', 'bfloat16'])];
    expect([e32.code, e16.code]).toEqual([0, 0]);
    const [base32, base16] = [e32, e16].map((e) => JSON.parse(e.stdout.trim().split('\n').at(-1)!).loss as number);
    const [tuned32, tuned16] = [plain, half].map((d) => JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8')).heldOut.loss as number);
    // weights rounded to bf16 (2^-9 relative, in float32 arithmetic) move the loss a little (7e-6 relative when
    // written), not to nothing; activations computed in bf16 would move it by ~1e-3
    expect(base16).not.toBe(base32);
    expect(Math.abs(base16 - base32)).toBeLessThan(2e-4 * base32);
    expect(Math.abs(tuned16 - tuned32)).toBeLessThan(2e-4 * tuned32);
    expect(tuned16).toBeLessThan(base16);
  });

  it('--dtype bfloat16 builds the task model with its base weights in bfloat16 and its fresh head in float32', () => {
    const tm = loadTaskModel(modelDir, 'classification', 2, { dtype: 'bfloat16' });
    const dtypes = Object.fromEntries([...tm.model.namedParameters()].map(([n, p]) => [n, p.dtype]));
    expect(dtypes['score.weight']).toBe('float32');
    expect(Object.entries(dtypes).filter(([n]) => n !== 'score.weight').every(([, d]) => d === 'bfloat16')).toBe(true);
    tm.model.dispose();
  });

  it('eval applies the delta; merge writes a checkpoint whose weights equal base + delta', async () => {
    const run = join(root, 'whole');
    const r = sift(['eval', '--model', modelDir, '--data', data, '--delta', join(run, 'delta.safetensors'), '--max-length', '16']);
    expect(r.status, r.stderr).toBe(0);
    const ev = JSON.parse(r.stdout);
    expect(ev.examples).toBe(48);
    const merged = join(root, 'merged');
    expect(sift(['merge', '--base', modelDir, '--delta', join(run, 'delta.safetensors'), '--out', merged]).status).toBe(0);
    const expected = loadTaskModel(modelDir, 'classification', 2);
    await applyDelta(expected.model, loadDelta(join(run, 'delta.safetensors')));
    const fromMerge = loadTaskModel(merged, 'classification', 2);
    const a = expected.model.stateDict();
    const b = fromMerge.model.stateDict();
    for (const name of Object.keys(a).filter((n) => n.startsWith('transformer.'))) {
      expect(Array.from(b[name].toArraySync()), name).toEqual(Array.from(a[name].toArraySync()));
    }
    expect(Array.from(b['score.weight'].toArraySync())).toEqual(Array.from(a['score.weight'].toArraySync()));
    expected.model.dispose();
    fromMerge.model.dispose();
    // Merging into an existing directory is refused.
    expect(sift(['merge', '--base', modelDir, '--delta', join(run, 'delta.safetensors'), '--out', merged]).status).toBe(2);
  });

  it('analyze prints the share table for pretrained and random init and writes the SVG', () => {
    const out = join(root, 'analysis');
    const r = sift(['analyze', '--model', modelDir, '--data', data, '--out', out, '--batches', '2', '--batch-size', '8', '--max-length', '16', '--fractions', '0.01,0.1,1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/100%\s+100\.0%\s+100\.0%/);
    expect(readFileSync(join(out, 'gradient-concentration.svg'), 'utf8')).toMatch(/^<svg/);
  });
});

describe('the comparison behind npm start', () => {
  it('runs every method, reports equal LoRA parameters and writes the HTML report', async () => {
    const out = join(root, 'compare');
    const results = await compare({ ...COMPARE_DEFAULTS, model: modelDir, out, data, epochs: 1, batchSize: 8, maxLength: 16, trainPerClass: 16, heldOutPerClass: 8, density: 0.1, quiet: true });
    expect(results.map((r) => r.method)).toEqual(COMPARE_DEFAULTS.methods);
    const by = Object.fromEntries(results.map((r) => [r.method, r]));
    expect(by.sift.trainable).toBe(by.random.trainable);
    expect(by.full.trainable).toBeGreaterThan(10 * by.sift.trainable);
    expect(by.head.trainable).toBe(16 * 2);
    for (const r of results) expect(r.accuracy).toBeGreaterThanOrEqual(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('SIFT');
  });
});
