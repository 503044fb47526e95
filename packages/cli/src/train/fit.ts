import { type FitOptions, type FitResult, fitLoop } from './loop.js';
import { Progress } from './progress.js';

export { type FitOptions, type FitResult, fitLoop, type StepProgress } from './loop.js';

/** The training loop (loop.ts) with a progress bar on stderr unless `quiet`. */
export function fit(o: FitOptions): Promise<FitResult> {
  return fitLoop({ progress: (label, total) => new Progress(label, total), ...o });
}
