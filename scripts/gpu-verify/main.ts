/**
 * `npm run gpu:verify` — the GPU proof in one command (docs/gpu-verify.md). On a machine with an NVIDIA GPU, in under
 * 8 minutes: 1. the device (driver, CUDA, Dawn's Vulkan adapter, Python); 2. the parity suite and the GPT-2 / BERT /
 * LLaMA golden tests on the CUDA backend and on WebGPU; 3. benchmarks beside their peers (matmul vs torch.matmul,
 * a GPT-2 training step full and SIFT, SIFT's memory vs full fine-tuning); 4. goldens written by transformers and our
 * PEFT export merged by peft; 5. benchmarks/results/gpu-<device>.{md,json} and a summary table.
 * `--dry-run` runs the same on a machine without a GPU, saying at every check what stood in.
 * Exit: 0 when no phase failed, 1 when one did (or a path is missing on a GPU machine), 2 for a bad flag.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchChecks } from './bench.js';
import { type DeviceFacts, deviceChecks } from './device.js';
import { type Options, parseOptions, UsageError } from './options.js';
import { type PhaseResult, timedPhase } from './phase.js';
import { makePlan, ROOT } from './plan.js';
import { findPython } from './python.js';
import { makeReport, summaryTable, writeReport } from './report.js';
import { suiteChecks } from './suites.js';
import { transformersChecks } from './transformers.js';

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}

const t0 = performance.now();
const log = (s: string) => process.stdout.write(`${s}\n`);
const plan = makePlan(options);
log(`gpu:verify${plan.dryRun ? ' --dry-run (no GPU: stand-ins are named at every check)' : ''}, scope ${plan.scope}`);

const python = await findPython();
// The CUDA backend looks for NVRTC and cuBLAS in PyTorch's nvidia-* wheels under the PYTHONPATH roots too
// (packages/backend-cuda/src/libraries.ts): name this Python's site folders, wherever its image put them.
if (python?.sites.length) process.env.PYTHONPATH = [process.env.PYTHONPATH, ...python.sites].filter(Boolean).join(':');
const facts: DeviceFacts = { slug: 'unknown', gpu: null, missing: {}, webgpuAdapter: null };
const phases: PhaseResult[] = [];
const phase = async (p: Promise<PhaseResult>) => {
  const r = await p;
  phases.push(r);
  log(`[${r.phase}] ${r.status} in ${r.seconds.toFixed(0)} s`);
  for (const c of r.checks) log(`  ${c.status.padEnd(7)} ${c.name}: ${c.detail}${c.standIn ? ` [stood in: ${c.standIn}]` : ''}`);
};

await phase(timedPhase('device', () => deviceChecks(plan, python, facts)));
// A GPU machine without one of its paths: said in one line now, and the run ends failed; the other path still runs.
if (!plan.dryRun) for (const [path, why] of Object.entries(facts.missing)) log(`gpu:verify: the ${path} path is missing: ${why}`);
await phase(timedPhase('suites', () => suiteChecks(plan, facts.missing)));
await phase(timedPhase('benchmarks', () => benchChecks(plan, python, facts.missing)));
await phase(timedPhase('transformers', () => transformersChecks(plan, python, facts.missing)));

const report = makeReport(plan, facts, phases, (performance.now() - t0) / 1000);
// Dry-run results never land where GPU results are kept, unless --out asks.
const dir = options.out ? resolve(options.out) : plan.dryRun ? mkdtempSync(join(tmpdir(), 'gpu-verify-')) : join(ROOT, 'benchmarks', 'results');
const files = writeReport(dir, report);
log('');
log(summaryTable(report));
log('');
log(`gpu:verify: ${report.status} in ${report.wallSeconds.toFixed(0)} s${plan.dryRun ? ' (dry run)' : ''}; wrote ${files.join(', ')}`);
const missing = Object.entries(facts.missing);
if (!plan.dryRun && missing.length) log(`gpu:verify: failed: ${missing.map(([p, why]) => `${p} missing (${why})`).join('; ')}`);
process.exit(report.status === 'pass' ? 0 : 1);
