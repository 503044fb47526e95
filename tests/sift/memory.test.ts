import { Linear, Module } from '@siftjs/nn';
import { SIFT, type SIFTOptions } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, memoryStats, resetPeakBytes, scope, type Tensor, tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

/** One 512×512 target and a one-row batch: SIFT's buffers are nearly all the memory a step uses. */
class Wide extends Module {
  a = new Linear(512, 512, { bias: false });
  forward(x: Tensor): Tensor {
    return this.a.forward(x);
  }
}

const N = 512 * 512;

function pass(net: Wide, t: number): void {
  scope(() => {
    const x = tensor(Float32Array.from({ length: 512 }, (_, i) => Math.sin(0.37 * i + t)), { shape: [1, 512] });
    net.forward(x).square().sum().backward();
  });
}

interface Phase {
  what: string;
  /** Bytes SIFT held before the phase, as the backend measured them (bytes in use less the model's). */
  heldBefore: number;
  /** The most bytes beyond the model's the backend saw during the phase (its activations included: a few KiB). */
  measuredPeak: number;
  /** What memoryReport() said before the phase: total (held) and total + peakTransient (the phase's most). */
  reportedHeld: number;
  reportedPeak: number;
}

/** Record of every phase measured (printed once per backend: the closing note quotes them). */
const phases: Phase[] = [];

/**
 * Measures one phase — `passes` backward passes, then step() and zeroGrad() — from one peak reset: the backend's peak
 * against memoryReport() taken just before. `base` is the bytes in use before SIFT existed (the model and the rest).
 */
function measure(what: string, net: Wide, sift: SIFT, base: number, passes: number, t0: number): Phase {
  const report = sift.memoryReport();
  const heldBefore = memoryStats().bytesInUse - base;
  resetPeakBytes();
  for (let p = 0; p < passes; p++) pass(net, t0 + p);
  sift.step();
  sift.zeroGrad();
  const measuredPeak = memoryStats().peakBytes - base;
  const phase = { what, heldBefore, measuredPeak, reportedHeld: report.total, reportedPeak: report.total + report.peakTransient };
  phases.push(phase);
  return phase;
}

describe.each(backendsUnderTest())('SIFT memory report against the measured peak on $name', (backend) => {
  beforeAll(() => backend.start());

  /**
   * `bound`: the first step on the sampled path (a backend with sampledMatmul, the CPU: G[idx] computed alone, no dense
   * gradient exists), where the product's rows are not known yet and the report gives the workspace bound of a full
   * chunk: only an upper bound. Without sampledMatmul (WebGPU, cpu-primitives) the step takes the dense path.
   */
  const run = (label: string, opts: Omit<SIFTOptions, 'targets' | 'density'> & { density?: number }, schedule: { what: string; passes: number; bound?: boolean; exact?: boolean }[]) =>
    it(`${label}: total + peakTransient is within 10% of the backend's peak of every phase (backward and step)`, () => {
      if (!resetPeakBytes()) throw new Error(`${backend.name} cannot measure a phase's peak (resetPeakBytes): the report cannot be checked`);
      manualSeed(15);
      const net = new Wide();
      const base = memoryStats().bytesInUse;
      const sift = new SIFT(net, { targets: ['a'], density: 0.01, ...opts });
      let t = 0;
      for (const { what, passes, bound, exact } of schedule) {
        const ph = measure(`${label}, ${what}`, net, sift, base, passes, t);
        t += passes;
        const where = `${ph.what}: measured ${ph.measuredPeak} B, reported ${ph.reportedPeak} B`;
        // exact: a phase whose peak is SIFT's own buffers alone, at sizes no allocator rounds (powers of two)
        if (exact) expect(ph.reportedPeak, where).toBe(ph.measuredPeak);
        else if (bound && getBackend().sampledMatmul) expect(ph.measuredPeak, where).toBeLessThanOrEqual(ph.reportedPeak);
        // Within 10% of the measured peak, or of the target's dense gradient (4N bytes) where the peak is smaller:
        // on the sampled path the phase holds a few k-sized buffers, which the CPU heap rounds up to its blocks.
        else expect(Math.abs(ph.reportedPeak - ph.measuredPeak), where).toBeLessThanOrEqual(0.1 * Math.max(ph.measuredPeak, 4 * N));
        // The resident part alone: what the report calls total is what the backend holds for SIFT between steps.
        expect(Math.abs(ph.reportedHeld - ph.heldBefore), `${ph.what}: held ${ph.heldBefore} B, reported total ${ph.reportedHeld} B`).toBeLessThanOrEqual(
          0.1 * Math.max(ph.heldBefore, 4 * N),
        );
      }
      expect(net.a.weight.grad, 'no dense gradient of the target outlives its hook').toBeNull();
      sift.dispose();
      net.dispose();
    });

  run('first-batch selection', {}, [
    { what: 'the choosing pass', passes: 1 },
    { what: 'a training step', passes: 1, bound: true },
    { what: 'another training step', passes: 1 },
  ]);
  run('{ accumulate: 3 }', { selection: { accumulate: 3 } }, [
    { what: 'first pass', passes: 1 },
    { what: 'middle pass', passes: 1 },
    { what: 'choosing pass', passes: 1 },
  ]);
  run('{ fisher: 2 }', { selection: { fisher: 2 } }, [
    { what: 'first pass', passes: 1 },
    { what: 'choosing pass', passes: 1 },
  ]);
  run('re-selection', { reselect: { every: 2, fraction: 0.25 } }, [
    { what: 'choosing pass', passes: 1 },
    { what: 'a training step', passes: 1, bound: true },
    { what: 'nominating, two passes, and the swap', passes: 2 },
  ]);
  // At high density the k-sized buffers rival the dense gradient: the step's own transients (the swap's gathers and
  // concatenations, the selection's top-k values) decide the peak.
  run('first-batch selection at density 0.5', { density: 0.5 }, [
    { what: 'the choosing pass', passes: 1 },
    { what: 'a training step', passes: 1, bound: true },
    { what: 'another training step', passes: 1 },
  ]);
  run('{ accumulate: 3 } at density 0.5', { density: 0.5, selection: { accumulate: 3 } }, [
    { what: 'first pass', passes: 1 },
    { what: 'middle pass', passes: 1 },
    { what: 'choosing pass', passes: 1 },
  ]);
  run('{ fisher: 2 } at density 0.5', { density: 0.5, selection: { fisher: 2 } }, [
    { what: 'first pass', passes: 1 },
    { what: 'choosing pass', passes: 1 },
  ]);
  // Half the components swapped: k, r and k − r are powers of two, so no buffer is rounded up by the CPU heap's size
  // classes (which would add up to 12% here, beyond what any backend-independent report can say).
  run('re-selection at density 0.5', { density: 0.5, reselect: { every: 2, fraction: 0.5 } }, [
    { what: 'choosing pass', passes: 1 },
    { what: 'a training step', passes: 1, bound: true },
    { what: 'nominating, two passes, and the swap', passes: 2, exact: true },
  ]);
  // Clipping widens each gradient to the backend's widest float to sum its squares.
  run('clipped, at density 0.5', { density: 0.5, maxGradNorm: 1e-3 }, [
    { what: 'the choosing pass', passes: 1 },
    { what: 'a training step', passes: 1, bound: true },
    { what: 'another training step', passes: 1 },
  ]);

  afterAll(() => {
    for (const p of phases.splice(0)) {
      console.log(`[${backend.name}] ${p.what}: held ${p.heldBefore} B (report ${p.reportedHeld}), peak ${p.measuredPeak} B (report ${p.reportedPeak})`);
    }
  });
});
