/**
 * Phase 3: benchmarks, each figure beside its peer from the same run. One process per measurement, one after another
 * (two at once would time each other), each within the phase's remaining time:
 * - f32 matmul on each path beside torch.matmul (cuBLAS on CUDA; CPU PyTorch as a labelled stand-in where torch has
 *   no GPU);
 * - a GPT-2 training step, full fine-tuning and SIFT, on each path: tokens/s, and SIFT's peak memory and kept bytes
 *   beside full fine-tuning's.
 */
import { fileURLToPath } from 'node:url';
import { lastJson, runChild, tsArgs, whyFailed } from './child.js';
import type { Check } from './phase.js';
import { type PathPlan, type Plan, ROOT } from './plan.js';
import type { PythonInfo } from './python.js';

interface MatmulOut {
  gflops: Record<string, number>;
  device?: string;
  cuda?: boolean;
  threads?: number;
  torch?: string;
}
interface StepOut {
  tokensPerSecond: number;
  ms: number;
  loss: number;
  peakAboveWeights: number;
  kept: number;
  trainable: number;
}

const mib = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

export async function benchChecks(plan: Plan, python: PythonInfo | null, missing: Partial<Record<'cuda' | 'webgpu', string>>): Promise<Check[]> {
  const deadline = performance.now() + plan.limits.bench * 1000;
  const limit = () => Math.max(1, Math.min(plan.limits.benchChild, (deadline - performance.now()) / 1000));
  const checks: Check[] = [];
  const ours = async <T>(path: PathPlan, job: string, cfg: object): Promise<T | string> => {
    const r = await runChild(process.execPath, tsArgs('scripts/gpu-verify/bench-child.ts', path.backend, job, JSON.stringify(cfg)), { cwd: ROOT, env: path.env, timeoutS: limit() });
    return lastJson<T>(r.stdout) ?? whyFailed(r, `${job} on ${path.backend}`);
  };

  // The peer first: its figure is the one each path is compared with.
  let peer: MatmulOut | string = 'no python3 with torch';
  if (python) {
    const r = await runChild(python.python, [fileURLToPath(new URL('torch_matmul.py', import.meta.url)), JSON.stringify({ sizes: plan.matmulSizes })], { timeoutS: limit() });
    peer = lastJson<MatmulOut>(r.stdout) ?? whyFailed(r, 'torch_matmul.py');
  }
  const peerName = typeof peer === 'string' ? 'PyTorch' : peer.cuda ? `PyTorch ${peer.torch} cuBLAS (${peer.device})` : `PyTorch ${peer.torch} on the CPU, ${peer.threads} thread(s)`;
  const peerStandIn = typeof peer !== 'string' && !peer.cuda ? 'CPU PyTorch stood in for cuBLAS' : undefined;
  checks.push(
    typeof peer === 'string'
      ? { name: 'matmul f32 peer (torch.matmul)', status: plan.dryRun ? 'skipped' : 'fail', detail: peer }
      : { name: 'matmul f32 peer (torch.matmul)', status: !plan.dryRun && !peer.cuda ? 'fail' : 'pass', detail: `${peerName}: ${plan.matmulSizes.map((n) => `${n}³ ${fmt(peer.gflops[n])} GFLOP/s`).join(', ')}`, standIn: peerStandIn, data: peer },
  );

  for (const path of plan.paths) {
    const why = missing[path.role];
    if (why) {
      checks.push({ name: `benchmarks on ${path.role}`, status: 'skipped', detail: `${path.role} is missing: ${why}` });
      continue;
    }
    const mm = await ours<MatmulOut>(path, 'matmul', { sizes: plan.matmulSizes });
    if (typeof mm === 'string') checks.push({ name: `matmul f32 on ${path.role}`, status: mm.includes('limit') ? 'timeout' : 'fail', detail: mm, standIn: path.standIn });
    else {
      const vs = (n: number) => (typeof peer === 'string' ? '' : ` (${(mm.gflops[n] / peer.gflops[n]).toFixed(2)}× ${peerName})`);
      checks.push({ name: `matmul f32 on ${path.role}`, status: 'pass', detail: plan.matmulSizes.map((n) => `${n}³ ${fmt(mm.gflops[n])} GFLOP/s${vs(n)}`).join(', '), standIn: path.standIn, data: { ours: mm.gflops, peer: typeof peer === 'string' ? null : peer.gflops } });
    }
    const full = await ours<StepOut>(path, 'full', { gpt2: plan.gpt2, steps: plan.steps });
    const sift = await ours<StepOut>(path, 'sift', { gpt2: plan.gpt2, steps: plan.steps });
    for (const [method, r] of [['full fine-tuning', full], ['SIFT (1% of every block projection)', sift]] as const) {
      checks.push(
        typeof r === 'string'
          ? { name: `GPT-2 step, ${method}, on ${path.role}`, status: r.includes('limit') ? 'timeout' : 'fail', detail: r, standIn: path.standIn }
          : { name: `GPT-2 step, ${method}, on ${path.role}`, status: Number.isFinite(r.loss) ? 'pass' : 'fail', detail: `${fmt(r.tokensPerSecond)} tokens/s (${r.ms.toFixed(0)} ms a step, loss ${r.loss.toFixed(3)})`, standIn: path.standIn, data: r },
      );
    }
    if (typeof full !== 'string' && typeof sift !== 'string') {
      // SIFT's claim: what training keeps, and the step's peak, are a fraction of full fine-tuning's.
      const lower = sift.kept < full.kept && sift.peakAboveWeights < full.peakAboveWeights;
      checks.push({
        name: `SIFT memory vs full fine-tuning on ${path.role}`,
        status: lower ? 'pass' : 'fail',
        detail: `kept ${mib(sift.kept)} vs ${mib(full.kept)} (${(sift.kept / full.kept).toFixed(3)}×), peak above weights ${mib(sift.peakAboveWeights)} vs ${mib(full.peakAboveWeights)} (${(sift.peakAboveWeights / full.peakAboveWeights).toFixed(3)}×)`,
        standIn: path.standIn,
        data: { sift: { kept: sift.kept, peakAboveWeights: sift.peakAboveWeights, trainable: sift.trainable }, full: { kept: full.kept, peakAboveWeights: full.peakAboveWeights, trainable: full.trainable } },
      });
    }
  }
  return checks;
}
