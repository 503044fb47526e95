import { PretrainedModel } from '@siftjs/models';
import type { Module } from '@siftjs/nn';

/**
 * `--gradient-checkpointing`: every transformer block of the model is recomputed in backward instead of keeping its
 * activations (PretrainedModel.gradientCheckpointingEnable). The trained weights are the same bits; a step costs
 * about one more forward and keeps far fewer bytes. Not a setting of the run: a run may resume with or without it.
 */
export function useGradientCheckpointing(model: Module, on: boolean | undefined): void {
  if (!on) return;
  if (!(model instanceof PretrainedModel)) throw new TypeError('--gradient-checkpointing: the model is not a transformer of the zoo');
  model.gradientCheckpointingEnable();
}

/** What the run's first line says of it: read from the model, so the line says what the model does. */
export function gradientCheckpointingNote(model: Module): string {
  return model instanceof PretrainedModel && model.isGradientCheckpointing ? ', gradient checkpointing on' : '';
}
