import { type FitOptions, type FitResult, fitLoop } from './loop.js';
import { Progress } from './progress.js';

export { type FitOptions, type FitResult, fitLoop, type StepProgress } from './loop.js';

/** The training loop (loop.ts) with a progress bar on stderr, and a line per step the loss scaler skips, unless `quiet`. */
export function fit(o: FitOptions): Promise<FitResult> {
  const onSkip = o.quiet ? undefined : (message: string) => process.stderr.write(`\n${message}\n`);
  return fitLoop({ progress: (label, total) => new Progress(label, total), onSkip, ...o });
}
