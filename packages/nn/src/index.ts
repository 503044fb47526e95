// @siftjs/nn — modules, layers, init, losses, optimizers and schedules with PyTorch's semantics.
export { Module, ModuleList, type LoadResult } from './module.js';
export { GradientCheckpointingLayer, setGradientCheckpointing } from './checkpointing.js';
export { isParameter, type Parameter, parameter } from './parameter.js';
export * as init from './init.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Embedding } from './layers/embedding.js';
export { LayerNorm, RMSNorm, type LayerNormOptions } from './layers/norm.js';
export { Dropout } from './layers/dropout.js';
export { MultiHeadAttention, type MultiHeadAttentionOptions } from './layers/attention.js';
export { GeluMLP, SwiGLU } from './layers/mlp.js';
export {
  appendToCache,
  type AttentionCache,
  causalMask,
  KVCache,
  MASKED,
  mergeHeads,
  paddingMask,
  repeatKV,
  RotaryEmbedding,
  scaledDotProductAttention,
  splitHeads,
} from './attention.js';
export { applyLoRA, type ApplyLoRAOptions, type LinearLike, LoRALinear, type LoRAOptions } from './layers/lora.js';
export { crossEntropy, mseLoss, type CrossEntropyOptions } from './loss.js';
export { Optimizer, type OptimizerState, type OptimizerStateDict, type ParamGroup } from './optim/optimizer.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { clipGradNorm_ } from './optim/clip.js';
export { type HasLearningRates, LRScheduler, linearWarmupCosineDecay, linearWarmupLinearDecay, type LRLambda } from './optim/schedule.js';
export { weightDecayGroups } from './optim/groups.js';
