import { fileURLToPath } from 'node:url';
import type { Options } from './options.js';
import type { Gpt2Config } from '../../benchmarks/suites/gpt2.js';

/** The repository root (scripts/gpu-verify/../..). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * One compute path under test: `role` is what a GPU machine proves (cuda, webgpu), `backend` the SIFT_BACKENDS name
 * that runs it, `env` what selects the adapter. In a dry run `standIn` says what took the role's place.
 */
export interface PathPlan {
  role: 'cuda' | 'webgpu';
  backend: string;
  env: Record<string, string>;
  standIn?: string;
}

/** A GPT-2 step's shape: the benchmark suite's own (benchmarks/suites/gpt2.ts). */
export type Gpt2Size = Gpt2Config;

export interface Plan {
  dryRun: boolean;
  scope: 'full' | 'quick';
  numRuns: number;
  /** Timed GPT-2 steps after the first (SIFT selects there). */
  steps: number;
  paths: PathPlan[];
  /** Test files (relative to the root) and an optional name filter, per suite. */
  suites: { name: string; files: string[]; testNamePattern?: string }[];
  matmulSizes: number[];
  gpt2: Gpt2Size;
  /**
   * Wall-clock limits in seconds: `device` (one probe), `benchChild` (one benchmark process), and the suites,
   * benchmark and transformers phases as a whole. On a GPU machine they add up to under 8 minutes.
   */
  limits: { device: number; suites: number; bench: number; benchChild: number; transformers: number };
}

const GOLDEN_MODELS = ['tests/models/gpt2.test.ts', 'tests/models/bert.test.ts', 'tests/models/llama.test.ts'];

export function makePlan(o: Options): Plan {
  const quick = o.scope === 'quick';
  const paths: PathPlan[] = o.dryRun
    ? [
        { role: 'cuda', backend: 'cpu', env: {}, standIn: 'the CPU backend stood in for CUDA' },
        { role: 'webgpu', backend: 'webgpu', env: { SIFT_WEBGPU_ADAPTER: 'swiftshader' }, standIn: "SwiftShader (a CPU Vulkan) stood in for the GPU's Vulkan adapter" },
      ]
    : [
        { role: 'cuda', backend: 'cuda', env: {} },
        // Only Dawn's default path (Vulkan on the GPU): a software fallback would prove nothing here.
        { role: 'webgpu', backend: 'webgpu', env: { SIFT_WEBGPU_ADAPTER: 'default' } },
      ];
  return {
    dryRun: o.dryRun,
    scope: o.scope,
    numRuns: o.numRuns ?? (o.dryRun ? 3 : 10),
    steps: quick ? 1 : o.dryRun ? 2 : 3,
    paths,
    suites: quick
      ? [
          { name: 'parity', files: ['tests/parity/matmul.test.ts'] },
          { name: 'golden models', files: ['tests/models/gpt2.test.ts'], testNamePattern: 'matches PyTorch' },
        ]
      : [
          { name: 'parity', files: ['tests/parity'] },
          // The golden comparisons only: the models' training-run tests take minutes on a software adapter.
          { name: 'golden models', files: GOLDEN_MODELS, testNamePattern: 'PyTorch' },
        ],
    matmulSizes: o.dryRun ? (quick ? [128] : [256, 512]) : [1024, 4096],
    gpt2: o.dryRun
      ? quick
        ? { vocab: 256, n_layer: 1, n_embd: 32, n_head: 2, seq: 16, batch: 2 }
        : { vocab: 2048, n_layer: 2, n_embd: 128, n_head: 4, seq: 64, batch: 4 }
      : // GPT-2 small's shape (124M parameters) on 4 × 128 tokens.
        { vocab: 50257, n_layer: 12, n_embd: 768, n_head: 12, seq: 128, batch: 4 },
    limits: o.dryRun
      ? // SwiftShader's speed swings with the machine's load (a tiny GPT-2 step took 0.3 s, then 28 s on a busy 2-core
        // machine): a dry run's limits only catch a hang.
        { device: 60, suites: quick ? 240 : 900, bench: quick ? 300 : 600, benchChild: quick ? 150 : 200, transformers: quick ? 240 : 300 }
      : // 45 + 180 + 150 + 90 = 465 s, and the phases' own start-up: under 480.
        { device: 45, suites: 180, bench: 150, benchChild: 60, transformers: 90 },
  };
}
