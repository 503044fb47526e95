import * as sift from '@siftjs/tensor';
import { medianMs, settle } from '../lib/timing.js';

/**
 * The memory-bound kernels, measured against memory bandwidth: each case moves a known least number of bytes (every
 * input read once, every output written once), so bytes ÷ time is the bandwidth it reaches. `copy` (x.clone()) is the
 * ceiling a streaming kernel can reach in that implementation on this machine. The same cases are written in
 * benchmarks/peers/torch_bandwidth.py: forward+backward cases time both, as the model's step does; `y.backward(dy)`
 * with a prepared dy, so no loss op is timed.
 *   rows × cols float32 activations (the layer norm of issue 22: 4096 × 768); AdamW over as many parameters; the SIFT
 *   step over k = 1% of them (scattered into the weight).
 */
export interface BandwidthConfig {
  rows: number;
  cols: number;
}

export interface BandwidthCase {
  name: string;
  /** Least bytes moved, for rows × cols = n float32 elements (k = ⌈n/100⌉ for the SIFT step). */
  bytes: (n: number) => number;
}

/** The cases, in table order; the torch script has the same names. */
export const BANDWIDTH_CASES: BandwidthCase[] = [
  { name: 'copy', bytes: (n) => 8 * n },
  // x read, y written (weight, bias and the row statistics are a few KiB).
  { name: 'layer norm fwd', bytes: (n) => 8 * n },
  // fwd, then dy and x read, dx written.
  { name: 'layer norm fwd+bwd', bytes: (n) => 20 * n },
  { name: 'RMS norm fwd+bwd', bytes: (n) => 20 * n },
  { name: 'softmax fwd+bwd', bytes: (n) => 20 * n },
  // fwd: x → y; bwd: dy and x read, dx written.
  { name: 'gelu (tanh) fwd+bwd', bytes: (n) => 20 * n },
  // param, grad, m, v read; param, m, v written.
  { name: 'AdamW step', bytes: (n) => 28 * n },
  // indices, base, δ, grad, m, v read; δ, m, v and the weight at the indices written.
  { name: 'SIFT step (k = 1%)', bytes: (n) => 40 * Math.ceil(n / 100) },
];

export const gbPerS = (bytes: number, ms: number) => bytes / (ms * 1e6);

/** GB/s of each case on the current backend, by name. */
export async function siftBandwidth(c: BandwidthConfig): Promise<Record<string, number>> {
  sift.manualSeed(0);
  const n = c.rows * c.cols;
  const out: Record<string, number> = {};
  for (const k of BANDWIDTH_CASES) out[k.name] = gbPerS(k.bytes(n), await time(k.name, c));
  return out;
}

async function time(name: string, c: BandwidthConfig): Promise<number> {
  const shape = [c.rows, c.cols];
  const x = sift.randn(shape);
  const dy = sift.randn(shape);
  const live: sift.Tensor[] = [x, dy];
  const leaf = () => {
    const t = x.detach();
    t.requiresGrad = true;
    live.push(t);
    return t;
  };
  const fwdBwd = (f: (t: sift.Tensor) => sift.Tensor, params: sift.Tensor[] = []) => {
    const xg = leaf();
    return async () => {
      for (const p of [xg, ...params]) {
        p.grad?.dispose();
        p.grad = null;
      }
      const y = f(xg);
      y.backward(dy);
      y.dispose();
      await settle(xg.grad!);
    };
  };
  let run: () => Promise<void>;
  switch (name) {
    case 'copy':
      run = async () => {
        const y = x.clone();
        await settle(y);
        y.dispose();
      };
      break;
    case 'layer norm fwd': {
      const [w, b] = [sift.ones([c.cols]), sift.zeros([c.cols])];
      live.push(w, b);
      run = async () => {
        const y = sift.noGrad(() => sift.layerNorm(x, c.cols, w, b));
        await settle(y);
        y.dispose();
      };
      break;
    }
    case 'layer norm fwd+bwd': {
      const [w, b] = [sift.ones([c.cols], { requiresGrad: true }), sift.zeros([c.cols], { requiresGrad: true })];
      live.push(w, b);
      run = fwdBwd((t) => sift.layerNorm(t, c.cols, w, b), [w, b]);
      break;
    }
    case 'RMS norm fwd+bwd': {
      const w = sift.ones([c.cols], { requiresGrad: true });
      live.push(w);
      run = fwdBwd((t) => sift.rmsNorm(t, w), [w]);
      break;
    }
    case 'softmax fwd+bwd':
      run = fwdBwd((t) => sift.softmax(t, -1));
      break;
    case 'gelu (tanh) fwd+bwd':
      run = fwdBwd((t) => sift.gelu(t, 'tanh'));
      break;
    case 'AdamW step': {
      const [p, g, m, v] = [x.clone(), dy.clone(), sift.zeros(shape), sift.zeros(shape)];
      live.push(p, g, m, v);
      let step = 0;
      run = async () => {
        sift.adamwUpdate(p, g, m, v, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: ++step });
        await settle(p);
      };
      break;
    }
    case 'SIFT step (k = 1%)': {
      const n = c.rows * c.cols;
      const k = Math.ceil(n / 100);
      const param = x.clone();
      const indices = sift.noGrad(() => sift.topkAbs(dy.reshape([n]), k).indices);
      const base = param.reshape([n]).gatherFlat(indices);
      const [delta, grad, m, v] = [sift.zeros([k]), sift.randn([k]), sift.zeros([k]), sift.zeros([k])];
      live.push(param, indices, base, delta, grad, m, v);
      let step = 0;
      run = async () => {
        sift.adamwIncrement({ param, indices, base, delta, grad, m, v }, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: ++step });
        await settle(delta);
      };
      break;
    }
    default:
      throw new Error(`bandwidth: no case '${name}'`);
  }
  const ms = await medianMs(run);
  for (const t of live) {
    t.grad?.dispose();
    t.dispose();
  }
  return ms;
}
