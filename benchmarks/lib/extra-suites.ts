/**
 * The long suites `npm run bench` runs only when asked: --finetune (fine-tuning memory on GPT-2 small and
 * BERT-base, several minutes each), --budget (the accuracy-vs-trainable-parameters curve, about a quarter of an
 * hour), --checkpointing (a GPT-2 step's peak bytes with and without gradient checkpointing, a few minutes) and --sparsity (the paper's Figures 3(d) and 4 over model sizes; it pretrains the sizes it does not find,
 * up to an hour or more each). Each runs as its own process, one after another, and writes its own results under
 * benchmarks/results/.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ExtraSuites {
  finetune: boolean;
  budget: boolean;
  siftStep: boolean;
  sparsity: boolean;
  checkpointing: boolean;
}

export function extraSuitesFrom(args: string[]): ExtraSuites {
  return { finetune: args.includes('--finetune'), budget: args.includes('--budget'), siftStep: args.includes('--sift-step'), sparsity: args.includes('--sparsity'), checkpointing: args.includes('--checkpointing') };
}

export function runExtraSuites(which: ExtraSuites, log: (s: string) => void): void {
  const plan: [string, string, string[]][] = [];
  if (which.finetune) {
    plan.push(['fine-tuning memory, GPT-2 small', 'finetune-memory.ts', ['--size', 'small', '--seq', '128', '--batch', '4']]);
    plan.push(['fine-tuning memory, BERT-base', 'finetune-memory.ts', ['--size', 'bert-base', '--seq', '128', '--batch', '4']]);
  }
  if (which.budget) plan.push(['accuracy vs trainable parameters', 'budget-curve.ts', []]);
  if (which.siftStep) plan.push(['a SIFT step beside LoRA, full fine-tuning and a PyTorch SIFT, GPT-2 small', 'sift-step.ts', ['--size', 'small']]);
  if (which.sparsity) plan.push(["gradient sparsity over model sizes (the paper's Figures 3(d) and 4)", 'sparsity-figures.ts', []]);
  if (which.checkpointing) plan.push(['peak bytes of a GPT-2 training step with and without gradient checkpointing', 'gradient-checkpointing.ts', []]);
  for (const [name, script, args] of plan) {
    log(`\nrunning ${name} (benchmarks/suites/${script} ${args.join(' ')}) …`);
    const path = fileURLToPath(new URL(`../suites/${script}`, import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', path, ...args], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bench: ${script} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  }
}
