/**
 * PEFT adapter directories written by hand in the layout PEFT's source defines (adapter_config.json with peft_type;
 * adapter_model.safetensors keyed `base_model.model.<module>.<tensor>`: supertuning_values/_indices (flat),
 * shira_weight/shira_indices ([2, n]: rows; cols), lora_A/lora_B, modules_to_save whole) for a small model of Linear
 * layers. What they hold is read as PEFT reads it — duplicates summed (scatter_add), Supra's alpha/r·B·A added
 * everywhere, LoRA scaled by alpha/r (alpha/√r with rsLoRA, rank_pattern/alpha_pattern per module) — computed here in
 * float64; and each adapter PEFT would refuse, or we cannot read, is a PeftError naming the file and the defect.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostTensor, SafetensorsFile, saveSafetensors } from '@siftjs/safetensors';
import { LayerNorm, Linear, Module } from '@siftjs/nn';
import { applyPeftAdapter, exportPeftAdapter, isPeftAdapterDir, loadPeftLoRA, loadPeftSparseAdapter, PeftError, type SparseDelta } from '@siftjs/sift-optimizer';
import { manualSeed, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { values } from '../support/read.js';

class Block extends Module {
  q_proj = new Linear(4, 3);
  v_proj = new Linear(4, 3, { bias: false });
  norm = new LayerNorm(3);
}
class Toy extends Module {
  layer = new Block();
  head = new Linear(3, 2);
}

const P = 'base_model.model.';
const f32 = (shape: number[], data: number[]): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from(data) });
const i32 = (shape: number[], data: number[]): HostTensor => ({ dtype: 'int32', shape, data: Int32Array.from(data) });

const root = mkdtempSync(join(tmpdir(), 'sift-peft-defects-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** An adapter directory: the config as given (a string is written as is), the tensors under PEFT's prefix. */
function adapter(config: Record<string, unknown> | string | null, tensors: Record<string, HostTensor> | null): string {
  const dir = join(root, `a${n++}`);
  mkdirSync(dir);
  if (config !== null) writeFileSync(join(dir, 'adapter_config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (tensors) saveSafetensors(join(dir, 'adapter_model.safetensors'), Object.fromEntries(Object.entries(tensors).map(([k, v]) => [P + k, v])));
  return dir;
}

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (e) {
    expect(e).toBeInstanceOf(PeftError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

// SHiRA, r = 1 on q_proj [3, 4]: r·(in + out) = 7 entries; (2, 3) twice, so PEFT sums them.
const SHIRA_ROWS = [0, 2, 1, 2, 0, 1, 0];
const SHIRA_COLS = [1, 3, 0, 3, 0, 2, 3];
const SHIRA_VALS = [0.5, 1, -2, 0.25, 3, -0.125, 0.75];
const shira = () => ({
  'layer.q_proj.shira_weight': f32([7], SHIRA_VALS),
  'layer.q_proj.shira_indices': i32([2, 7], [...SHIRA_ROWS, ...SHIRA_COLS]),
});

describe.each(backendsUnderTest())('PEFT adapters written by hand on $name', (backend) => {
  let model: Toy;
  beforeAll(async () => {
    await backend.start();
    manualSeed(1);
    model = new Toy();
  });
  afterAll(() => model.dispose());

  it('isPeftAdapterDir: a directory holding adapter_config.json', () => {
    expect(isPeftAdapterDir(adapter({ peft_type: 'SHIRA' }, null))).toBe(true);
    expect(isPeftAdapterDir(adapter(null, null))).toBe(false);
    expect(isPeftAdapterDir(join(root, 'nowhere'))).toBe(false);
    const file = join(root, 'plain-file');
    writeFileSync(file, '{}');
    expect(isPeftAdapterDir(file)).toBe(false);
  });

  it('SHiRA: (row, col) pairs become flat row·in + col, sorted, duplicates summed; modules_to_save become dense', () => {
    const dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'head.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]) });
    const d = loadPeftSparseAdapter(model, dir);
    const want = new Map<number, number>();
    SHIRA_ROWS.forEach((r, j) => want.set(r * 4 + SHIRA_COLS[j], Math.fround((want.get(r * 4 + SHIRA_COLS[j]) ?? 0) + SHIRA_VALS[j])));
    const sorted = [...want.keys()].sort((a, b) => a - b);
    expect(Object.keys(d.sparse)).toEqual(['layer.q_proj.weight']);
    expect(d.sparse['layer.q_proj.weight'].shape).toEqual([3, 4]);
    expect(Array.from(d.sparse['layer.q_proj.weight'].indices)).toEqual(sorted);
    expect(Array.from(d.sparse['layer.q_proj.weight'].values)).toEqual(sorted.map((i) => want.get(i)));
    expect(d.dense).toEqual({ 'head.weight': { shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) } });
    expect(d.metadata).toMatchObject({ targets: ['layer.q_proj.weight'], dense: ['head.weight'], selection: 'peft:shira', fingerprint: '', tensorFingerprints: {} });
    expect(d.metadata.density).toBeNaN();
  });

  it('Super-Tuning: flat indices sorted; Supra adds alpha/r·B·A at every position (r from the config, alpha default 2r)', () => {
    // sparsity 0.75 sizes a [3, 4] layer to int(12 · 0.25) = 3 values.
    const st = { 'layer.q_proj.supertuning_values': f32([3], [0.5, -1, 2]), 'layer.q_proj.supertuning_indices': i32([3], [9, 2, 5]) };
    const d = loadPeftSparseAdapter(model, adapter({ peft_type: 'SUPERTUNING', sparsity: 0.75 }, st));
    expect(Array.from(d.sparse['layer.q_proj.weight'].indices)).toEqual([2, 5, 9]);
    expect(Array.from(d.sparse['layer.q_proj.weight'].values)).toEqual([-1, 2, 0.5]);
    expect(d.metadata.selection).toBe('peft:supertuning');
    const A = [0.5, -1, 2, 0.25];
    const B = [1, -0.5, 3];
    for (const [cfg, scale] of [[{ r: 1, lora_alpha: 3 }, 3], [{ r: 1 }, 2]] as const) {
      const supra = loadPeftSparseAdapter(model, adapter({ peft_type: 'SUPERTUNING', sparsity: 0.75, ...cfg }, { ...st, 'layer.q_proj.supertuning_lora_A.weight': f32([1, 4], A), 'layer.q_proj.supertuning_lora_B.weight': f32([3, 1], B) }));
      const e = supra.sparse['layer.q_proj.weight'];
      expect(Array.from(e.indices)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      const want = Array.from({ length: 12 }, (_, i) => Math.fround(scale * B[Math.floor(i / 4)] * A[i % 4]));
      [[9, 0.5], [2, -1], [5, 2]].forEach(([i, v]) => (want[i] = Math.fround(want[i] + v)));
      expect(Array.from(e.values)).toEqual(want);
    }
  });

  it('the default sparsity is 0.99 and the default SHiRA r is 32', () => {
    // int(12 · 0.01) = 0 values expected: one value is refused with the default named.
    expect(refusal(() => loadPeftSparseAdapter(model, adapter({ peft_type: 'SUPERTUNING' }, { 'layer.q_proj.supertuning_values': f32([1], [1]), 'layer.q_proj.supertuning_indices': i32([1], [0]) })))).toMatch(
      /1 values, but sparsity 0\.99 sizes this layer to int\(12 · \(1 − 0\.99\)\) = 0$/,
    );
    expect(refusal(() => loadPeftSparseAdapter(model, adapter({ peft_type: 'SHIRA' }, shira())))).toMatch(/7 values, but r = 32 sizes this layer to r · \(in \+ out\) = 224$/);
  });

  it('adapter_config.json missing, not JSON, without peft_type; no safetensors weights (a pickle named as such)', () => {
    let dir = adapter(null, shira());
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${join(dir, 'adapter_config.json')}: not found`);
    dir = adapter('{"peft_type": ', shira());
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toMatch(new RegExp(`^${join(dir, 'adapter_config.json')}: invalid JSON \\(.+\\)$`));
    for (const cfg of [{ r: 1 }, '3', 'null', '{"peft_type": 4}']) {
      dir = adapter(cfg, shira());
      expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${join(dir, 'adapter_config.json')}: has no 'peft_type' (PEFT requires it)`);
    }
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, null);
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${join(dir, 'adapter_model.safetensors')}: not found`);
    writeFileSync(join(dir, 'adapter_model.bin'), 'pickle');
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${join(dir, 'adapter_model.safetensors')}: not found (adapter_model.bin is a pickle; only safetensors adapters are read)`);
  });

  it('sparse adapters: another tuner, a module the model lacks or that is no Linear, counts and indices PEFT would refuse', () => {
    const file = (dir: string) => join(dir, 'adapter_model.safetensors');
    let dir = adapter({ peft_type: 'LORA' }, shira());
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${join(dir, 'adapter_config.json')}: peft_type 'LORA' is not a sparse tuner (SUPERTUNING or SHIRA)`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { 'layer.k_proj.shira_weight': f32([7], SHIRA_VALS) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: the model has no module 'layer.k_proj'`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { 'layer.norm.shira_weight': f32([7], SHIRA_VALS) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe("'layer.norm' is a LayerNorm, not a Linear layer: PEFT's Super-Tuning and SHiRA tuners adapt torch.nn.Linear only");
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { 'layer.q_proj.shira_weight': f32([7], SHIRA_VALS) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: missing '${P}layer.q_proj.shira_indices'`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'layer.q_proj.shira_indices': i32([7, 2], [...SHIRA_ROWS, ...SHIRA_COLS]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj': shira_indices is [7, 2], expected [2, 7]`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'layer.q_proj.shira_indices': i32([14], [...SHIRA_ROWS, ...SHIRA_COLS]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toMatch(/shira_indices is \[14\], expected \[2, 7\]$/);
    // Each dimension on its own: three rows, or one column more than values.
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'layer.q_proj.shira_indices': i32([3, 7], [...SHIRA_ROWS, ...SHIRA_COLS, ...SHIRA_COLS]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toMatch(/shira_indices is \[3, 7\], expected \[2, 7\]$/);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'layer.q_proj.shira_indices': i32([2, 8], [...SHIRA_ROWS, 0, ...SHIRA_COLS, 0]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toMatch(/shira_indices is \[2, 8\], expected \[2, 7\]$/);
    for (const [row, col] of [[3, 0], [-1, 0], [0, 4], [0, -1]]) {
      dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'layer.q_proj.shira_indices': i32([2, 7], [row, ...SHIRA_ROWS.slice(1), col, ...SHIRA_COLS.slice(1)]) });
      expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj': index (${row}, ${col}) is outside a [3, 4] weight`);
    }
    const st = (vals: number[], idx: number[], cfg: Record<string, unknown> = {}) =>
      adapter({ peft_type: 'SUPERTUNING', sparsity: 0.75, ...cfg }, { 'layer.q_proj.supertuning_values': f32([vals.length], vals), 'layer.q_proj.supertuning_indices': i32([idx.length], idx) });
    dir = st([1, 2], [0, 1]);
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj': 2 values, but sparsity 0.75 sizes this layer to int(12 · (1 − 0.75)) = 3`);
    dir = st([1, 2, 3], [0, 1]);
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj': 2 indices for 3 values`);
    for (const bad of [12, -1]) {
      dir = st([1, 2, 3], [0, bad, 1]);
      expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj': index ${bad} is outside a [3, 4] weight`);
    }
    dir = st([1, 2, 3], [0, 11, 1], { save_precomputed_indices: false });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toMatch(/'layer\.q_proj': the adapter was saved without its indices \(save_precomputed_indices false\)/);
    dir = adapter({ peft_type: 'SUPERTUNING', sparsity: 0.75, r: 2 }, {
      'layer.q_proj.supertuning_values': f32([3], [1, 2, 3]),
      'layer.q_proj.supertuning_indices': i32([3], [0, 1, 2]),
      'layer.q_proj.supertuning_lora_A.weight': f32([1, 4], [1, 1, 1, 1]),
      'layer.q_proj.supertuning_lora_B.weight': f32([3, 1], [1, 1, 1]),
    });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj' LoRA part is A [1,4] / B [3,1], expected [2, 4] / [3, 2]`);
    // Each of A's and B's dimensions on its own (r = 1: A [1, 4], B [3, 1]).
    for (const [aShape, bShape] of [[[2, 4], [3, 1]], [[1, 5], [3, 1]], [[1, 4], [2, 1]], [[1, 4], [3, 2]]]) {
      const n = (s: number[]) => s[0] * s[1];
      dir = adapter({ peft_type: 'SUPERTUNING', sparsity: 0.75, r: 1 }, {
        'layer.q_proj.supertuning_values': f32([3], [1, 2, 3]),
        'layer.q_proj.supertuning_indices': i32([3], [0, 1, 2]),
        'layer.q_proj.supertuning_lora_A.weight': f32(aShape, new Array(n(aShape)).fill(1)),
        'layer.q_proj.supertuning_lora_B.weight': f32(bShape, new Array(n(bShape)).fill(1)),
      });
      expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'layer.q_proj' LoRA part is A [${aShape}] / B [${bShape}], expected [1, 4] / [3, 1]`);
    }
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { 'head.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: holds no 'shira_weight' tensor`);
    dir = adapter({ peft_type: 'SUPERTUNING', sparsity: 0.75 }, { 'head.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: holds no 'supertuning_values' tensor`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'tail.weight': f32([2], [1, 2]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: '${P}tail.weight' matches no parameter of the model`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'head.weight': f32([3, 2], [1, 2, 3, 4, 5, 6]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'head.weight' is [3, 2] but the model's is [2, 3]`);
    dir = adapter({ peft_type: 'SHIRA', r: 1 }, { ...shira(), 'head.weight': f32([6], [1, 2, 3, 4, 5, 6]) });
    expect(refusal(() => loadPeftSparseAdapter(model, dir))).toBe(`${file(dir)}: 'head.weight' is [6] but the model's is [2, 3]`);
  });

  it('LoRA: variants that change the math are refused, naming the field; layers and shapes must fit', () => {
    const lora = (cfg: Record<string, unknown>, t: Record<string, HostTensor> = { 'layer.q_proj.lora_A.weight': f32([2, 4], new Array(8).fill(0.5)), 'layer.q_proj.lora_B.weight': f32([3, 2], new Array(6).fill(1)) }) =>
      adapter({ peft_type: 'LORA', r: 2, ...cfg }, t);
    const cfgFile = (dir: string) => join(dir, 'adapter_config.json');
    let dir = adapter({ peft_type: 'SHIRA' }, shira());
    expect(refusal(() => loadPeftLoRA(model, dir))).toBe(`${cfgFile(dir)}: peft_type 'SHIRA' is not LORA`);
    for (const [cfg, text] of [
      [{ use_dora: true }, 'use_dora — DoRA rescales the merged weight by a magnitude vector'],
      [{ lora_bias: true }, 'lora_bias — lora_B carries a bias'],
      [{ bias: 'all' }, "bias 'all' — biases were trained"],
      [{ bias: 'lora_only' }, "bias 'lora_only' — biases were trained"],
      [{ target_parameters: ['layer.q_proj.weight'] }, 'target_parameters — parameters, not modules, were adapted'],
      [{ layer_replication: [[0, 1]] }, 'layer_replication — layers are duplicated'],
    ] as const) {
      dir = lora(cfg);
      expect(refusal(() => loadPeftLoRA(model, dir))).toBe(`${cfgFile(dir)}: ${text}; not supported`);
    }
    dir = lora({}, { 'layer.k_proj.lora_A.weight': f32([2, 4], new Array(8).fill(0)), 'layer.k_proj.lora_B.weight': f32([3, 2], new Array(6).fill(0)) });
    expect(refusal(() => loadPeftLoRA(model, dir))).toBe(`${join(dir, 'adapter_model.safetensors')}: the model has no layer 'layer.k_proj'`);
    dir = lora({}, { 'layer.q_proj.lora_A.weight': f32([2, 3], new Array(6).fill(0)), 'layer.q_proj.lora_B.weight': f32([3, 2], new Array(6).fill(0)) });
    expect(refusal(() => loadPeftLoRA(model, dir))).toBe(`${join(dir, 'adapter_model.safetensors')}: 'layer.q_proj' is A [2,3] / B [3,2]; the layer (in 4, out 3) at rank 2 needs [2, 4] / [3, 2]`);
    dir = lora({}, { 'head.weight': f32([2, 3], [1, 2, 3, 4, 5, 6]) });
    expect(refusal(() => loadPeftLoRA(model, dir))).toBe(`${join(dir, 'adapter_model.safetensors')}: holds no lora_A/lora_B weights`);
    dir = lora({}, { 'layer.q_proj.lora_A.weight': f32([2, 4], new Array(8).fill(0)) });
    expect(refusal(() => loadPeftLoRA(model, dir))).toBe(`${join(dir, 'adapter_model.safetensors')}: missing '${P}layer.q_proj.lora_B.weight'`);
  });

  it('LoRA scaling: alpha/r, alpha/√r with rsLoRA, rank_pattern and alpha_pattern by module-name suffix; the output is W·x + b + s·B·A·x', async () => {
    const A = (r: number) => Array.from({ length: r * 4 }, (_, i) => ((i % 5) - 2) / 4);
    const B = (r: number) => Array.from({ length: 3 * r }, (_, i) => ((i % 3) - 1) / 2);
    const cases: [Record<string, unknown>, number, number][] = [
      [{ r: 2, lora_alpha: 6 }, 2, 3],
      [{ r: 4, lora_alpha: 6, use_rslora: true }, 4, 3],
      [{ r: 8, lora_alpha: 16, rank_pattern: { q_proj: 2 }, alpha_pattern: { 'layer\\.q_proj': 1 } }, 2, 0.5],
      [{ r: 2, lora_alpha: 16, rank_pattern: { v_proj: 4, 'x.q_proj': 8 } }, 2, 8],
      [{}, 8, 1],
    ];
    for (const [cfg, r, scaling] of cases) {
      manualSeed(2);
      const m = new Toy();
      const x = [0.5, -1, 2, 0.25];
      const wq = await values(m.layer.q_proj.weight);
      const bq = await values(m.layer.q_proj.bias!);
      const dir = adapter({ peft_type: 'LORA', ...cfg }, { 'layer.q_proj.lora_A.weight': f32([r, 4], A(r)), 'layer.q_proj.lora_B.weight': f32([3, r], B(r)), 'head.bias': f32([2], [7, -7]) });
      const wrapped = loadPeftLoRA(m, dir);
      expect([...wrapped.keys()], JSON.stringify(cfg)).toEqual(['layer.q_proj']);
      expect(wrapped.get('layer.q_proj')!.scaling).toBeCloseTo(scaling, 12);
      expect(m.layer.q_proj).toBe(wrapped.get('layer.q_proj'));
      const y = await values(m.layer.q_proj.forward(tensor([x])));
      const ax = Array.from({ length: r }, (_, q) => x.reduce((s, xj, j) => s + A(r)[q * 4 + j] * xj, 0));
      const want = Array.from({ length: 3 }, (_, i) => x.reduce((s, xj, j) => s + wq[i * 4 + j] * xj, bq[i]) + scaling * ax.reduce((s, a, q) => s + B(r)[i * r + q] * a, 0));
      y.forEach((v, i) => expect(v, JSON.stringify(cfg)).toBeCloseTo(want[i], 5));
      expect(await values(m.head.bias!)).toEqual([7, -7]);
      m.dispose();
    }
  });

  /** A delta on the Toy's q_proj and v_proj ([3, 4] each), with a head. */
  const toyDelta = (q: [number, number][], v: [number, number][], denseNames: string[] = ['head']): SparseDelta => ({
    sparse: {
      'layer.v_proj.weight': { shape: [3, 4], indices: Int32Array.from(v, (x) => x[0]), values: Float32Array.from(v, (x) => x[1]) },
      'layer.q_proj.weight': { shape: [3, 4], indices: Int32Array.from(q, (x) => x[0]), values: Float32Array.from(q, (x) => x[1]) },
    },
    dense: { 'head.weight': { shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) } },
    metadata: { density: 0.25, targets: ['q_proj', 'v_proj'], dense: denseNames, selection: 'first-batch', fingerprint: '', tensorFingerprints: {} },
  });

  function written(dir: string): { cfg: Record<string, unknown>; text: string; tensors: Record<string, { shape: number[]; values: number[] }> } {
    const text = readFileSync(join(dir, 'adapter_config.json'), 'utf8');
    const f = SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
    const tensors: Record<string, { shape: number[]; values: number[] }> = {};
    for (const k of f.keys()) tensors[k] = { shape: f.info(k).shape, values: Array.from(f.readArray(k)) };
    f.close();
    return { cfg: JSON.parse(text), text, tensors };
  }

  it('exports Super-Tuning: one sparsity sizing each layer as int(numel·(1 − s)), zero increments at the first free positions, keys sorted', () => {
    const dir = join(root, 'export-st');
    // k = 3 on q_proj and 2 on v_proj: no single s gives both exactly (int(12u) = 3 and = 2), so v_proj is padded to 3.
    const report = exportPeftAdapter(model, toyDelta([[9, 0.5], [2, -1], [5, 2]], [[0, 4], [3, 5]]), dir, { baseModelNameOrPath: '/base', taskType: 'CAUSAL_LM' });
    const { cfg, text, tensors } = written(dir);
    const s = cfg.sparsity as number;
    expect(report).toEqual({ tuner: 'supertuning', sparsity: s, layers: [{ module: 'layer.q_proj', k: 3, stored: 3 }, { module: 'layer.v_proj', k: 2, stored: 3 }], exact: false });
    expect(Math.trunc(12 * (1 - s))).toBe(3);
    expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort());
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toBe(`${JSON.stringify(cfg, null, 2)}\n`);
    expect(cfg).toMatchObject({ peft_type: 'SUPERTUNING', task_type: 'CAUSAL_LM', base_model_name_or_path: '/base', inference_mode: true, target_modules: ['layer.q_proj', 'layer.v_proj'], modules_to_save: ['head'], select_top: true, r: null, save_precomputed_indices: true });
    expect(tensors[`${P}layer.q_proj.supertuning_indices`]).toEqual({ shape: [3], values: [9, 2, 5] });
    expect(tensors[`${P}layer.q_proj.supertuning_values`]).toEqual({ shape: [3], values: [0.5, -1, 2] });
    // v_proj: its 2 increments at 0 and 3, one zero at the first free position, 1; sorted by index.
    expect(tensors[`${P}layer.v_proj.supertuning_indices`]).toEqual({ shape: [3], values: [0, 1, 3] });
    expect(tensors[`${P}layer.v_proj.supertuning_values`]).toEqual({ shape: [3], values: [4, 0, 5] });
    expect(tensors[`${P}head.weight`]).toEqual({ shape: [2, 3], values: [1, 2, 3, 4, 5, 6] });
    // Without options: no task, no base, the head's modules from its tensor names.
    const plain = join(root, 'nested', 'export-st2'); // a directory that does not exist yet, two levels deep
    expect(exportPeftAdapter(model, toyDelta([[1, 1], [2, 2], [3, 3]], [[4, 4], [5, 5], [6, 6]], []), plain).exact).toBe(true);
    expect(written(plain).cfg).toMatchObject({ task_type: null, base_model_name_or_path: null, modules_to_save: ['head'] });
  });

  it('exports SHiRA: r = max ⌈k/(in + out)⌉, (row, col) = (⌊i/in⌋, i mod in), padded with zeros; refuses a layer r·(in + out) overflows', () => {
    const dir = join(root, 'export-shira');
    const q: [number, number][] = [[9, 0.5], [2, -1], [11, 1], [7, -2], [6, 0.25]]; // k = 5 ≤ in + out = 7: r = 1
    const report = exportPeftAdapter(model, toyDelta(q, [[3, 5]]), dir, { tuner: 'shira' });
    expect(report).toEqual({ tuner: 'shira', r: 1, exact: false, layers: [{ module: 'layer.q_proj', k: 5, stored: 7 }, { module: 'layer.v_proj', k: 1, stored: 7 }] });
    const { cfg, tensors } = written(dir);
    expect(cfg).toMatchObject({ peft_type: 'SHIRA', r: 1, mask_type: 'random', fan_in_fan_out: false, target_modules: ['layer.q_proj', 'layer.v_proj'] });
    const idx = tensors[`${P}layer.q_proj.shira_indices`];
    const val = tensors[`${P}layer.q_proj.shira_weight`];
    expect(idx.shape).toEqual([2, 7]);
    expect(val.shape).toEqual([7]);
    const got = new Map<number, number>();
    for (let j = 0; j < 7; j++) got.set(idx.values[j] * 4 + idx.values[7 + j], val.values[j]);
    expect(got.size).toBe(7);
    // The two zeros go to the first free positions, 0 and 1.
    expect([...got.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 6, 7, 9, 11]);
    for (const [i, v] of q) expect(got.get(i)).toBe(v);
    for (const [i, v] of got) if (!q.some(([qi]) => qi === i)) expect(v).toBe(0);
    // And PEFT's layout reads back as the delta (our reader sums and sorts the same entries).
    expect(Array.from(loadPeftSparseAdapter(model, dir).sparse['layer.q_proj.weight'].indices)).toEqual(Array.from({ length: 12 }, (_, i) => i).filter((i) => got.has(i)));
    const full: [number, number][] = Array.from({ length: 12 }, (_, i) => [i, 1]);
    expect(() => exportPeftAdapter(model, toyDelta(full, [[0, 1]]), join(root, 'export-shira2'), { tuner: 'shira' })).toThrow(
      new PeftError("SHiRA cannot hold 'layer.q_proj': r = 2 (needed by the layer with the most increments per row and column) gives 14 entries, more than its 12 weights; export as supertuning instead"),
    );
  });

  it('export refuses a delta without sparse tensors, or one whose shapes are not the model\'s Linear layers', () => {
    const empty: SparseDelta = { ...toyDelta([], []), sparse: {} };
    expect(() => exportPeftAdapter(model, empty, join(root, 'e1'))).toThrow(new PeftError('the delta has no sparse tensor to export'));
    const wrong = toyDelta([[0, 1]], [[0, 1]]);
    wrong.sparse['layer.q_proj.weight'].shape = [4, 3];
    expect(() => exportPeftAdapter(model, wrong, join(root, 'e2'))).toThrow(new PeftError("'layer.q_proj.weight' is [4, 3] in the delta but the model's Linear is [3, 4]"));
    wrong.sparse['layer.q_proj.weight'].shape = [12];
    expect(() => exportPeftAdapter(model, wrong, join(root, 'e3'))).toThrow("'layer.q_proj.weight' is [12] in the delta");
    // Each dimension on its own.
    for (const shape of [[2, 4], [3, 5], [3, 4, 1]]) {
      wrong.sparse['layer.q_proj.weight'].shape = shape;
      expect(() => exportPeftAdapter(model, wrong, join(root, 'e3b')), JSON.stringify(shape)).toThrow(`'layer.q_proj.weight' is [${shape.join(', ')}] in the delta`);
    }
    const bias: SparseDelta = { ...empty, sparse: { 'layer.q_proj.bias': { shape: [3], indices: Int32Array.of(0), values: Float32Array.of(1) } } };
    expect(() => exportPeftAdapter(model, bias, join(root, 'e4'))).toThrow(
      new PeftError("'layer.q_proj.bias' is not a layer's weight: PEFT's sparse tuners adapt the weights of torch.nn.Linear layers only"),
    );
    const none: SparseDelta = { ...empty, sparse: { 'layer.k_proj.weight': { shape: [3, 4], indices: Int32Array.of(0), values: Float32Array.of(1) } } };
    expect(() => exportPeftAdapter(model, none, join(root, 'e5'))).toThrow(new PeftError("the model has no module 'layer.k_proj'"));
  });

  it('applyPeftAdapter dispatches on peft_type and refuses one it does not know', async () => {
    manualSeed(3);
    const m = new Toy();
    const w0 = await values(m.layer.q_proj.weight);
    expect(await applyPeftAdapter(m, adapter({ peft_type: 'SHIRA', r: 1 }, shira()))).toEqual({ type: 'SHIRA' });
    const w1 = await values(m.layer.q_proj.weight);
    const d = loadPeftSparseAdapter(m, adapter({ peft_type: 'SHIRA', r: 1 }, shira())).sparse['layer.q_proj.weight'];
    const want = w0.slice();
    d.indices.forEach((i, j) => (want[i] = Math.fround(want[i] + d.values[j])));
    expect(w1).toEqual(want);
    expect(await applyPeftAdapter(m, adapter({ peft_type: 'LORA', r: 2 }, { 'layer.v_proj.lora_A.weight': f32([2, 4], new Array(8).fill(0)), 'layer.v_proj.lora_B.weight': f32([3, 2], new Array(6).fill(0)) }))).toEqual({ type: 'LORA' });
    expect(m.layer.v_proj.constructor.name).toBe('LoRALinear');
    const dir = adapter({ peft_type: 'IA3' }, shira());
    await expect(applyPeftAdapter(m, dir)).rejects.toThrow(new PeftError(`${join(dir, 'adapter_config.json')}: peft_type 'IA3' is not supported (SUPERTUNING, SHIRA, LORA)`));
    m.dispose();
  });
});
