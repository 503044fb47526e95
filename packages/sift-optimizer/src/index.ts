// @siftjs/sift-optimizer — Sparse Increment Fine-Tuning.
export { SIFT, type SIFTOptions } from './sift.js';
export { SparseParam } from './sparse-param.js';
