import type { Tensor } from '@siftjs/tensor';
import type { Module } from '../module.js';

/**
 * Two parameter groups, as nanoGPT and Hugging Face do it: matrices (≥ 2 dims) decay, biases and norm weights
 * (1 dim) do not.
 */
export function weightDecayGroups(model: Module, weightDecay: number): { params: Tensor[]; weightDecay: number }[] {
  const params = model.parameters().filter((p) => p.requiresGrad);
  return [
    { params: params.filter((p) => p.rank >= 2), weightDecay },
    { params: params.filter((p) => p.rank < 2), weightDecay: 0 },
  ];
}
