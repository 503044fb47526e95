// @siftjs/cli/browser — what a browser page needs of the CLI: fine-tuning with the inputs in memory, free of Node's
// modules at run time (the modules it imports reach node:fs only in functions a page never calls).
export {
  BROWSER_METHODS,
  type BrowserMethod,
  finetuneInMemory,
  type InMemoryCheckpoint,
  type InMemoryFinetune,
  type InMemoryResult,
} from './browser/finetune-in-memory.js';
export type { Predictor } from './browser/predictor.js';
export type { ResultFile } from './browser/result-files.js';
export { DataError } from './data/errors.js';
export type { Evaluation } from './train/evaluate.js';
export { DivergenceError } from './train/finite.js';
export { learningCurves, renderSvg } from './report/plots.js';
