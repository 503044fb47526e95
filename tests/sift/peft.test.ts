import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertForSequenceClassification, bertConfig, GPT2LMHeadModel, gpt2Config, LlamaForCausalLM, llamaConfig, loadWeights } from '@siftjs/models';
import { SafetensorsFile } from '@siftjs/safetensors';
import type { LoRALinear, Module } from '@siftjs/nn';
import { applyPeftAdapter, exportPeftAdapter, loadDelta, loadPeftLoRA, loadPeftSparseAdapter, PeftError, saveDelta, supertuningSparsity } from '@siftjs/sift-optimizer';
import type { Tensor } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import '@siftjs/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { read } from '../support/read.js';

const golden = fileURLToPath(new URL('../golden/peft/', import.meta.url));
const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sift-peft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const json = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

/** A base model of the golden checkpoints, weights loaded. */
function base(arch: 'llama' | 'bert' | 'gpt2'): Module {
  const dir = join(golden, `${arch}-base`);
  const cfg = json(join(dir, 'config.json'));
  const m = arch === 'llama' ? new LlamaForCausalLM(llamaConfig(cfg, 'llama')) : arch === 'bert' ? new BertForSequenceClassification(bertConfig({ ...cfg, num_labels: 3 }, 'bert')) : new GPT2LMHeadModel(gpt2Config(cfg, 'gpt2'));
  loadWeights(m, dir);
  return m;
}

function params(m: Module): Map<string, Tensor> {
  return new Map(m.namedParameters());
}

describe('PEFT adapters from SIFT deltas (checked by tests/golden/peft.py against PEFT re-implemented in PyTorch)', () => {
  const report = json(join(golden, 'report.json'));

  it.each(['llama-supertuning', 'llama-shira', 'bert-supertuning', 'bert-shira'])(
    '%s: PEFT loads it and its merge equals our merged weights bit for bit (golden report)',
    (name) => {
      expect(report[name].bitwise_equal).toBe(true);
      expect(report[name].max_abs_diff).toBe(0);
      expect(report[name].weights_changed).toBeGreaterThan(0);
    },
  );

  it.each([
    ['llama', 'supertuning'],
    ['llama', 'shira'],
    ['bert', 'supertuning'],
    ['bert', 'shira'],
  ] as const)('%s %s: exporting the committed delta today writes the files peft.py checked, byte for byte', (arch, tuner) => {
    const model = base(arch);
    const out = join(tmp, `${arch}-${tuner}`);
    exportPeftAdapter(model, loadDelta(join(golden, `${arch}-sift.delta.safetensors`)), out, { tuner, baseModelNameOrPath: `${arch}-base`, taskType: arch === 'llama' ? 'CAUSAL_LM' : 'SEQ_CLS' });
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) expect(readFileSync(join(out, f)).equals(readFileSync(join(golden, `${arch}-${tuner}`, f))), f).toBe(true);
    model.dispose();
  });

  it("GPT-2's Conv1D layers are refused, saying why", () => {
    const gpt2 = base('gpt2');
    const delta = { sparse: { 'transformer.h.0.attn.c_attn.weight': { shape: [32, 96], indices: Int32Array.of(3), values: Float32Array.of(0.5) } }, dense: {}, metadata: { density: 0.01, targets: [], dense: [], selection: 'first-batch', fingerprint: '', tensorFingerprints: {} } };
    expect(() => exportPeftAdapter(gpt2, delta, join(tmp, 'gpt2'))).toThrow(/'transformer\.h\.0\.attn\.c_attn' is a Conv1D layer .*torch\.nn\.Linear only/);
    gpt2.dispose();
  });

  test.prop([fc.array(fc.record({ rows: fc.integer({ min: 1, max: 300 }), cols: fc.integer({ min: 1, max: 300 }) }), { minLength: 1, maxLength: 6 }), fc.double({ min: 0.001, max: 0.5, noNaN: true })])(
    "Super-Tuning's sparsity gives every layer at least its k as int(numel · (1 − s)), and exactly k wherever one s can",
    (shapes, density) => {
      const layers = shapes.map(({ rows, cols }) => ({ numel: rows * cols, k: Math.max(1, Math.ceil(density * rows * cols)) }));
      const { sparsity, counts } = supertuningSparsity(layers);
      layers.forEach((l, i) => {
        expect(counts[i]).toBe(Math.trunc(l.numel * (1 - sparsity)));
        expect(counts[i]).toBeGreaterThanOrEqual(l.k);
      });
      const lo = Math.max(...layers.map((l) => l.k / l.numel));
      const hi = Math.min(...layers.map((l) => (l.k + 1) / l.numel));
      if (hi - lo > 1e-9) expect(counts).toEqual(layers.map((l) => l.k));
    },
  );
});

describe.each(backendsUnderTest())('PEFT adapters read into our models on $name (written by tests/golden/peft.py in PEFT layout, merged by its PEFT merge)', (backend) => {
  beforeAll(() => backend.start());

  const expectMerged = async (m: Module, name: string, tol: number, weights = params(m)) => {
    const f = SafetensorsFile.open(join(golden, 'from-peft', name, 'merged.safetensors'));
    const keys = f.keys();
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(weights.get(k), k).toBeDefined();
    const got = await read(() => keys.map((k) => weights.get(k)!));
    keys.forEach((k, j) => {
      const b = f.readArray(k);
      let d = 0;
      for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(got[j][i] - b[i]));
      expect(d, k).toBeLessThanOrEqual(tol);
    });
    f.close();
  };

  it.each([
    ['llama-supertuning', 'llama', 0],
    ['llama-shira', 'llama', 0],
    ['bert-shira', 'bert', 0],
    ['llama-supra', 'llama', 1e-6],
  ] as const)('%s through applyPeftAdapter: the weights PEFT merges', async (name, arch, tol) => {
    const m = base(arch);
    await applyPeftAdapter(m, join(golden, 'from-peft', name));
    await expectMerged(m, name, tol);
    m.dispose();
  });

  it.each([
    ['llama-lora', 'llama'],
    ['gpt2-lora', 'gpt2'],
  ] as const)('%s into our LoRA layers: rank/alpha patterns, rsLoRA and fan_in_fan_out as PEFT applies them', async (name, arch) => {
    const m = base(arch);
    const layers = loadPeftLoRA(m, join(golden, 'from-peft', name));
    const byWeight = new Map<string, Tensor>();
    for (const [path, l] of layers as Map<string, LoRALinear>) {
      l.merge();
      byWeight.set(`${path}.weight`, l.base_layer.weight);
    }
    await expectMerged(m, name, 2e-6, byWeight);
    if (name === 'llama-lora') {
      expect(layers.get('model.layers.0.self_attn.q_proj')!.lora_A.weight.shape[0]).toBe(2); // rank_pattern
      expect(layers.get('model.layers.0.self_attn.o_proj')!.scaling).toBeCloseTo(3 / 4, 12); // alpha_pattern
    } else expect(layers.get('transformer.h.0.attn.c_attn')!.scaling).toBeCloseTo(5 / Math.sqrt(3), 12); // rsLoRA
    m.dispose();
  });

  it("an adapter PEFT would refuse is refused here with PEFT's reason", () => {
    const m = base('llama');
    const dir = join(golden, 'llama-supertuning');
    // A model whose q_proj is bigger than the adapter's base: PEFT sizes the values from it, so they cannot load.
    const cfg = json(join(golden, 'llama-base', 'config.json'));
    const wide = new LlamaForCausalLM(llamaConfig({ ...cfg, intermediate_size: 64 }, 'llama'));
    expect(() => loadPeftSparseAdapter(wide, dir)).toThrow(PeftError);
    expect(() => loadPeftSparseAdapter(wide, dir)).toThrow(/values, but sparsity 0\.949 sizes this layer to int\(2048 · \(1 − 0\.949\)\)/);
    expect(() => loadPeftLoRA(m, dir)).toThrow(/peft_type 'SUPERTUNING' is not LORA/);
    for (const x of [m, wide]) x.dispose();
  });
});

describe('sift export --format peft', () => {
  const sift = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, SIFT_THREADS: '1' } });

  it('writes the adapter the API writes; refuses GPT-2 in one line, exit code 2', () => {
    const out = join(tmp, 'cli-llama');
    const r = sift(['export', '--format', 'peft', '--model', join(golden, 'llama-base'), '--delta', join(golden, 'llama-sift.delta.safetensors'), '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tuner: 'supertuning', sparsity: 0.949, exact: false });
    expect(readFileSync(join(out, 'adapter_model.safetensors')).equals(readFileSync(join(golden, 'llama-supertuning', 'adapter_model.safetensors')))).toBe(true);
    const cfg = json(join(out, 'adapter_config.json'));
    expect(cfg.base_model_name_or_path).toBe(join(golden, 'llama-base'));

    const gd = join(tmp, 'gpt2.delta.safetensors');
    saveDelta(gd, { sparse: { 'transformer.h.1.mlp.c_fc.weight': { shape: [32, 128], indices: Int32Array.of(5, 9), values: Float32Array.of(0.1, -0.2) } }, dense: {}, metadata: { density: 0.01, targets: ['c_fc'], dense: [], selection: 'first-batch', fingerprint: '', tensorFingerprints: {} } });
    const g = sift(['export', '--format', 'peft', '--model', join(golden, 'gpt2-base'), '--delta', gd, '--out', join(tmp, 'cli-gpt2')]);
    expect(g.status).toBe(2);
    expect(g.stderr.trim().split('\n')).toHaveLength(1);
    expect(g.stderr).toContain("'transformer.h.1.mlp.c_fc' is a Conv1D layer");
  });
});
