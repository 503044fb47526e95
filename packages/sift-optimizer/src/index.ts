// @siftjs/sift-optimizer — Sparse Increment Fine-Tuning.
export { SIFT, type SIFTOptions, type SIFTStateDict } from './sift.js';
export { SIFTError } from './errors.js';
export { SparseIncrement } from './sparse-increment.js';
export { type IncrementState } from './increment-state.js';
export { type GroupOptions, type ParamGroup } from './param-groups.js';
export { type Selection, type Selector, createSelector, describeSelection, parseSelection, topkIndices } from './selection.js';
export { Reselection } from './reselection.js';
export { matchesAny } from './targets.js';
export { type SparseDelta, type SparseEntry, type DenseEntry, type DeltaMetadata, extractDelta } from './delta.js';
export { DELTA_FORMAT, deltaBytes, loadDelta, saveDelta, type SaveDeltaOptions } from './delta-file.js';
export { type AppliedDelta, type ApplyOptions, applyDelta, DeltaError, removeDelta } from './apply.js';
export { describeAt, findNonFinite, firstNonFinite, locateNonFinite, NonFiniteError, nonFiniteFlags, type StoredFloat, storedValue } from './finite.js';
export { mergeInto, mergeIntoAsync, type MergeOptions } from './merge.js';
export { loadState, loadStateFrom, saveState, saveStateAsync, STATE_FORMAT, stateBytes } from './state-file.js';
export { type MemoryReport } from './memory.js';
export { type FineTuner, type NamedTensors, type StepTensors } from './fine-tuner.js';
export { GradScaler, type GradScalerOptions, type GradScalerState, type SkippedStep } from './grad-scaler.js';
export {
  bitFit,
  createFineTuner,
  DenseFineTuner,
  fullFineTune,
  headOnly,
  lora,
  type LoRAMethodOptions,
  loraParamsPerRank,
  loraRankForBudget,
  METHODS,
  type MethodName,
  type MethodOptions,
  randomSparse,
  type TrainOptions,
} from './baselines.js';
export { analyzeGradients, type AnalyzeOptions, type GradientShare, meanShares } from './analyze.js';
export { SelectionStability, type StabilityPoint } from './selection-stability.js';
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  isPeftAdapterDir,
  PEFT_PREFIX,
  PEFT_TUNERS,
  PeftError,
  type PeftTuner,
} from './peft-format.js';
export { exportPeftAdapter, peftAdapterFiles, type PeftExportOptions, type PeftExportReport, supertuningSparsity } from './peft-export.js';
export { applyPeftAdapter, loadPeftLoRA, loadPeftSparseAdapter } from './peft-import.js';
