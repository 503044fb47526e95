/**
 * Child of the benchmark phase, one job in a fresh process (one job's freed memory cannot shape another's peak):
 *   node --conditions=source --import tsx scripts/gpu-verify/bench-child.ts BACKEND matmul '{"sizes":[1024,4096]}'
 *   node --conditions=source --import tsx scripts/gpu-verify/bench-child.ts BACKEND full|sift '{"gpt2":{...},"steps":3}'
 * BACKEND is cpu, cuda or webgpu (its adapter from SIFT_WEBGPU_ADAPTER). Prints one JSON line.
 *
 * matmul: f32 square products, GFLOP/s (benchmarks/suites/matmul.ts). full / sift: a GPT-2-architecture training step
 * (forward, causal-LM loss, backward, optimizer step) on random token ids (benchmarks/suites/gpt2.ts's), tokens/s of the
 * median step after a first step (SIFT selects its components there), the backend's peak bytes above the model's weights
 * during the timed steps, and what the method keeps (gradients + optimizer state, its memoryReport).
 */
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { createFineTuner } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, memoryStats, resetPeakBytes, setBackend, tensor } from '@siftjs/tensor';
import { siftMatmul } from '../../benchmarks/suites/matmul.js';
import { tokenIds } from '../../benchmarks/suites/gpt2.js';
import type { Gpt2Size } from './plan.js';

const [backend, job, json] = process.argv.slice(2);
const cfg = JSON.parse(json ?? '{}') as { sizes?: number[]; gpt2?: Gpt2Size; steps?: number };
if (backend === 'cuda') await import('@siftjs/backend-cuda');
else if (backend === 'webgpu') await import('@siftjs/backend-webgpu');
else await import('@siftjs/backend-cpu');
await setBackend(backend);

/** The paper's choice for decoders, on GPT-2's names: every projection of every block, 1% of each. */
const TARGETS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];

async function step(method: 'full' | 'sift', c: Gpt2Size, steps: number) {
  manualSeed(0);
  const model = new GPT2LMHeadModel(
    gpt2Config({ vocab_size: c.vocab, n_positions: c.seq, n_embd: c.n_embd, n_layer: c.n_layer, n_head: c.n_head, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'benchmark'),
  );
  const weights = memoryStats().bytesInUse;
  const tuner = createFineTuner(model, { method, lr: 1e-4, density: 0.01, targets: TARGETS });
  const times: number[] = [];
  let loss = Number.NaN;
  for (let s = 0; s <= steps; s++) {
    if (s === 1) resetPeakBytes();
    const t0 = performance.now();
    const ids = tensor(tokenIds({ ...c }, s), { shape: [c.batch, c.seq], dtype: 'int32' });
    const out = model.forward(ids, { labels: ids });
    out.loss!.backward();
    tuner.step();
    tuner.zeroGrad();
    loss = await out.loss!.item(); // waits for the step on an asynchronous backend
    for (const t of [ids, out.logits, out.loss!]) t.dispose();
    if (s > 0) times.push(performance.now() - t0);
  }
  const peakAboveWeights = memoryStats().peakBytes - weights;
  const kept = tuner.memoryReport().total;
  const trainable = tuner.trainableCount();
  tuner.dispose();
  model.dispose();
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1];
  return { tokensPerSecond: (c.batch * c.seq) / (ms / 1000), ms, loss, peakAboveWeights, kept, trainable, weights };
}

const info = getBackend().info();
if (job === 'matmul') {
  const gflops: Record<string, number> = {};
  for (const n of cfg.sizes ?? []) gflops[n] = await siftMatmul(n);
  console.log(JSON.stringify({ info, gflops }));
} else if (job === 'full' || job === 'sift') {
  console.log(JSON.stringify({ info, ...(await step(job, cfg.gpt2!, cfg.steps ?? 3)) }));
} else {
  console.error(`bench-child: job matmul|full|sift, got '${job}'`);
  process.exit(2);
}
process.exit(0);
