/** Phase 5: the results as JSON and markdown, and the one summary table printed at the end. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { DeviceFacts } from './device.js';
import type { PhaseResult, Status } from './phase.js';
import type { Plan } from './plan.js';

export interface Report {
  date: string;
  dryRun: boolean;
  scope: Plan['scope'];
  status: Status;
  wallSeconds: number;
  host: { cpu: string; cores: number; node: string };
  device: DeviceFacts;
  /** What stood in for the GPU machine's paths in a dry run (empty on a GPU). */
  standIns: string[];
  plan: Pick<Plan, 'numRuns' | 'matmulSizes' | 'gpt2' | 'limits' | 'suites'>;
  phases: PhaseResult[];
}

export function makeReport(plan: Plan, device: DeviceFacts, phases: PhaseResult[], wallSeconds: number): Report {
  const standIns = [...new Set(phases.flatMap((p) => p.checks.flatMap((c) => (c.standIn ? [c.standIn] : []))))];
  const status: Status = phases.some((p) => p.status === 'fail') ? 'fail' : phases.some((p) => p.status === 'timeout') ? 'timeout' : 'pass';
  return {
    date: new Date().toISOString(),
    dryRun: plan.dryRun,
    scope: plan.scope,
    status,
    wallSeconds,
    host: { cpu: os.cpus()[0]?.model ?? 'cpu', cores: os.cpus().length, node: process.version },
    device,
    standIns,
    plan: { numRuns: plan.numRuns, matmulSizes: plan.matmulSizes, gpt2: plan.gpt2, limits: plan.limits, suites: plan.suites },
    phases,
  };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One row per check, phases in order: the table printed and written. */
export function summaryTable(r: Report): string {
  const rows = r.phases.flatMap((p) => p.checks.map((c) => `| ${p.phase} | ${cell(c.name)} | ${c.status} | ${cell(c.detail)} | ${cell(c.standIn ?? '')} |`));
  return ['| phase | check | status | result | stood in (dry run) |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export function markdown(r: Report): string {
  const phases = r.phases.map((p) => `| ${p.phase} | ${p.status} | ${p.seconds.toFixed(0)} |`);
  return [
    `# GPU verification: ${r.dryRun ? 'DRY RUN (no GPU)' : r.device.gpu} (${r.date.slice(0, 10)})`,
    '',
    r.dryRun
      ? `**A dry run: no GPU was used.** Stood in: ${r.standIns.join('; ')}. These figures show that the script runs end to end, not the speed or correctness of CUDA or a GPU's Vulkan.`
      : `GPU: ${r.device.gpu}; WebGPU adapter: ${r.device.webgpuAdapter ?? 'none'}.`,
    '',
    `Host: ${r.host.cpu}, ${r.host.cores} cores, Node ${r.host.node}. Scope ${r.scope}; fast-check runs per property ≤ ${r.plan.numRuns}; matmul ${r.plan.matmulSizes.map((n) => `${n}³`).join(', ')}; GPT-2 ${r.plan.gpt2.n_layer} layer(s) × ${r.plan.gpt2.n_embd}, vocab ${r.plan.gpt2.vocab}, ${r.plan.gpt2.batch} × ${r.plan.gpt2.seq} tokens. Overall: **${r.status}**, ${r.wallSeconds.toFixed(0)} s wall time.`,
    `Regenerate: \`npm run gpu:verify${r.dryRun ? ' -- --dry-run' : ''}\` (docs/gpu-verify.md).`,
    '',
    '| phase | status | seconds |',
    '| --- | --- | --- |',
    ...phases,
    '',
    summaryTable(r),
    '',
  ].join('\n');
}

/** Writes <dir>/gpu-<slug>.{json,md}, each atomically (a crash mid-write keeps the previous file whole). */
export function writeReport(dir: string, r: Report): string[] {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `gpu-${r.device.slug}`);
  const files: [string, string][] = [
    [`${base}.json`, `${JSON.stringify(r, null, 2)}\n`],
    [`${base}.md`, markdown(r)],
  ];
  for (const [path, text] of files) {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }
  return files.map(([p]) => p);
}
