import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** The checkout's benchmark runner, found upward from the working directory. */
function findRunner(from: string): string | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const runner = join(dir, 'benchmarks', 'run.ts');
    if (existsSync(runner)) return runner;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * `sift bench`: runs the repository's benchmark suite (benchmarks/run.ts, the same as `npm run bench`), which
 * measures siftjs beside tfjs, jax-js and PyTorch in one run and writes benchmarks/results/.
 */
export function benchCommand(args: string[]): void {
  const runner = findRunner(process.cwd());
  if (!runner) throw new UsageError('sift bench runs the benchmark suite of a siftjs checkout (benchmarks/run.ts); run it inside one');
  const r = spawnSync(process.execPath, ['--import', 'tsx', runner, ...args], { stdio: 'inherit', cwd: dirname(dirname(runner)) });
  if (r.status !== 0) throw new Error(`benchmarks/run.ts exited with ${r.status ?? r.signal}`);
}
