/**
 * SIFT's memoryReport() between passes and steps, against the backend's own count of bytes in use (memoryStats, the
 * allocator's accounting, not the report's formulas): what the report calls `total` is exactly what SIFT holds, at
 * every point of a run — choosing over passes, trained, with a re-selection's nominees pending, after a swap (per-
 * component step counts), in float32 and float64 — and each field is its definition (MemoryReport's documentation)
 * for the k and n of the run: values 2·w·k (base and δ), indices 4·k, gradients w·k, moments 2·w·k (+ w·k step
 * counts once re-selected), selection buffers w·n per dense sum and (4 + w)·r for r nominees. The report's bytes by
 * dtype equal the growth of memoryStats().bytesByDtype, the tensor layer's tally of live storage.
 *
 * k = n/2 here, so every k-sized buffer is large: a wrong count of any of them is far outside the allocator's
 * rounding (the CPU heap's blocks), which this test allows for on backends other than the CPU.
 */
import { Linear, Module } from '@siftjs/nn';
import { type MemoryReport, SIFT, type SIFTOptions } from '@siftjs/sift-optimizer';
import { manualSeed, memoryStats, scope, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { castParameters } from './weights.js';

const SIDE = 256;
const N = SIDE * SIDE;
const K = N / 2;

class Square extends Module {
  a = new Linear(SIDE, SIDE, { bias: false });
}

function pass(net: Square, t: number): void {
  scope(() => {
    const x = tensor(Float64Array.from({ length: SIDE }, (_, i) => Math.sin(0.37 * i + t)), { shape: [1, SIDE], dtype: net.a.weight.dtype });
    net.a.forward(x).square().sum().backward();
  });
}

describe.each(backendsUnderTest())('SIFT memoryReport: resident bytes as the backend counts them, on $name', (backend) => {
  beforeAll(() => backend.start());

  const exact = () => backend.name.startsWith('cpu');

  /** A run of `schedule` (passes per step); checks the report against the bytes in use after every pass and step. */
  function run(opts: Omit<SIFTOptions, 'targets' | 'density'>, dtype: 'float32' | 'float64', schedule: number[], fields: (after: string, r: MemoryReport) => void) {
    manualSeed(3);
    const net = new Square();
    if (dtype === 'float64') castParameters(net, 'float64');
    const base = memoryStats().bytesInUse;
    const baseByDtype = memoryStats().bytesByDtype;
    const sift = new SIFT(net, { targets: ['a'], density: 0.5, ...opts });
    const check = (after: string) => {
      const r = sift.memoryReport();
      const held = memoryStats().bytesInUse - base;
      if (exact()) expect(r.total, `${after}: held ${held} B`).toBe(held);
      else expect(Math.abs(r.total - held), `${after}: held ${held} B, reported ${r.total}`).toBeLessThanOrEqual(0.01 * held + 4096);
      expect(r.total).toBe(r.values + r.indices + r.gradients + r.optimizerState + r.selectionBuffers);
      // By dtype, against the tensor layer's own tally of live storage (elements × element size, no rounding).
      const now = memoryStats().bytesByDtype;
      const grown = Object.fromEntries(
        (Object.keys({ ...now, ...baseByDtype }) as (keyof typeof now)[]).map((d) => [d, (now[d] ?? 0) - (baseByDtype[d] ?? 0)] as const).filter(([, b]) => b !== 0),
      );
      expect(r.byDtype, `${after}: by dtype`).toEqual(grown);
      expect(r.peakTransientGradient, 'the dense gradient of the target').toBe(N * (dtype === 'float64' ? 8 : 4));
      fields(after, r);
    };
    check('construction');
    let t = 0;
    schedule.forEach((passes, step) => {
      for (let p = 0; p < passes; p++) {
        pass(net, t++);
        check(`step ${step}, pass ${p + 1}`);
      }
      sift.step();
      check(`step ${step}`);
      sift.zeroGrad();
      check(`step ${step}, zeroGrad`);
    });
    sift.dispose();
    // Disposing SIFT frees everything it held: the bytes in use are the model's again.
    if (exact()) expect(memoryStats().bytesInUse - base, 'after dispose').toBe(0);
    net.dispose();
  }

  for (const dtype of backend.float64 ? (['float32', 'float64'] as const) : (['float32'] as const)) {
    const w = dtype === 'float64' ? 8 : 4;
    const kept = { gradients: w * K, optimizerState: 2 * w * K };
    const chosen = { ...kept, values: 2 * w * K, indices: 4 * K };
    const none = { ...kept, values: 0, indices: 0 };

    it(`first-batch (${dtype}): nothing but k-sized state before the choice; base, δ and indices after`, () => {
      run({}, dtype, [1, 1], (after, r) => {
        expect(r, after).toMatchObject(after === 'construction' ? { ...none, selectionBuffers: 0 } : { ...chosen, selectionBuffers: 0 });
      });
    });

    it(`{ fisher: 3 } (${dtype}): ΣG and Σg² (w·n each) from the first pass until the choice`, () => {
      run({ selection: { fisher: 3 } }, dtype, [2, 1, 1], (after, r) => {
        const choosing = ['step 0, pass 1', 'step 0, pass 2', 'step 0', 'step 0, zeroGrad'].includes(after);
        const done = !choosing && after !== 'construction';
        expect(r, after).toMatchObject({ ...(done ? chosen : none), selectionBuffers: choosing ? 2 * w * N : 0 });
      });
    });

    it(`{ accumulate: 2 } (${dtype}): ΣG alone (w·n) while choosing`, () => {
      run({ selection: { accumulate: 2 } }, dtype, [1, 1, 1], (after, r) => {
        const choosing = ['step 0, pass 1', 'step 0', 'step 0, zeroGrad'].includes(after);
        expect(r.selectionBuffers, after).toBe(choosing ? w * N : 0);
      });
    });

    it(`re-selection (${dtype}): r nominees (4 + w bytes each) while due, then per-component step counts (w·k)`, () => {
      // every 1 step, fraction 0.25: r = round(0.25·k) nominated in the pass after each step, swapped at the next step.
      const r = Math.round(0.25 * K);
      run({ reselect: { every: 1, fraction: 0.25 } }, dtype, [1, 2, 1], (after, rep) => {
        if (after === 'construction') return;
        const nominated = ['step 1, pass 1', 'step 1, pass 2', 'step 2, pass 1'].includes(after);
        expect(rep.selectionBuffers, after).toBe(nominated ? (4 + w) * r : 0);
        const swapped = ['step 1', 'step 1, zeroGrad'].includes(after) || after.startsWith('step 2');
        expect(rep.optimizerState, after).toBe(2 * w * K + (swapped ? w * K : 0));
      });
    });
  }
});
