/**
 * The command line of `npm run gpu:verify`. A bad flag is a UsageError: main.ts prints its one line and exits 2.
 *
 *   --dry-run            this machine stands in for the GPU one: the CPU backend for CUDA, SwiftShader for the GPU's
 *                        Vulkan adapter, CPU PyTorch for cuBLAS; results go to a temporary folder unless --out names one
 *   --scope full|quick   quick: one parity file and the GPT-2 golden test, the smallest benchmark sizes (CI's dry run)
 *   --out DIR            where gpu-<device>.{md,json} (dry run: gpu-dryrun-<device>.{md,json}) are written
 *   --num-runs N         fast-check runs per property at most (default 10 on a GPU, 3 in a dry run)
 */
export class UsageError extends Error {}

export interface Options {
  dryRun: boolean;
  scope: 'full' | 'quick';
  out: string | null;
  numRuns: number | null;
}

export const USAGE = 'usage: npm run gpu:verify -- [--dry-run] [--scope full|quick] [--out DIR] [--num-runs N]';

export function parseOptions(argv: string[]): Options {
  const o: Options = { dryRun: false, scope: 'full', out: null, numRuns: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`gpu:verify: ${a} needs a value (${USAGE})`);
      return v;
    };
    if (a === '--dry-run') o.dryRun = true;
    else if (a === '--scope') {
      const v = value();
      if (v !== 'full' && v !== 'quick') throw new UsageError(`gpu:verify: --scope must be full or quick, got '${v}'`);
      o.scope = v;
    } else if (a === '--out') o.out = value();
    else if (a === '--num-runs') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`gpu:verify: --num-runs must be a positive integer, got '${v}'`);
      o.numRuns = n;
    } else throw new UsageError(`gpu:verify: unknown flag '${a}' (${USAGE})`);
  }
  return o;
}
