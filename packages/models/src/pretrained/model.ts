import { Module, setGradientCheckpointing } from '@siftjs/nn';
import { saveWeights, saveWeightsAsync, weightsFiles } from '../checkpoint.js';
import { type RawConfig, readConfig } from '../config.js';
import type { CheckpointLayout } from './layout.js';
import type { SafetensorsFile } from '@siftjs/safetensors';
import { type LoadOptions, type LoadReport, loadPretrained, loadPretrainedFile, loadPretrainedFilesAsync } from './load.js';

export interface FromPretrainedOptions extends LoadOptions {
  /** config.json fields to override before the model is built (num_labels, pad_token_id…), as transformers' kwargs. */
  config?: RawConfig;
}

/** A model class fromPretrained can build: its constructor, and how it reads config.json. */
export interface PretrainedClass<M extends PretrainedModel> {
  new (config: M['config']): M;
  /** Parses config.json (`file` names it in errors) into the config the constructor takes. */
  configFromJson(raw: RawConfig, file: string): M['config'];
}

/**
 * The base of every model of the zoo (transformers' PreTrainedModel): loading a checkpoint directory in any of its
 * family's published layouts, and saving one, written once. A subclass says where its names sit in the family's
 * checkpoints (`checkpointLayout`), what it writes to config.json (`modelType`, `architecture`), and how it reads
 * config.json (`static configFromJson`).
 */
export abstract class PretrainedModel<C extends object = object> extends Module {
  constructor(readonly config: C) {
    super();
  }

  /** config.json's model_type. */
  abstract get modelType(): string;
  /** config.json's architectures entry (the transformers class name). */
  abstract get architecture(): string;
  abstract get checkpointLayout(): CheckpointLayout;

  /**
   * Builds the model from `dir/config.json` and loads `dir`'s weights (model.safetensors or a sharded index) in
   * whichever of the family's layouts they are stored (see `loadPretrainedWeights`). A load that fails frees the
   * half-built model before it throws.
   */
  static fromPretrained<M extends PretrainedModel>(this: PretrainedClass<M>, dir: string, opts: FromPretrainedOptions = {}): M {
    const { file, raw } = readConfig(dir);
    const model = new this(this.configFromJson(opts.config ? { ...raw, ...opts.config } : raw, file));
    try {
      model.loadPretrainedWeights(dir, opts);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /**
   * Loads `dir`'s weights into this model: a base checkpoint into a task model or a task checkpoint into a base
   * model, known buffers skipped, legacy LayerNorm names read as today's, tied weights from whichever name is
   * stored. Strict except for a missing new head, and another task's head left unused — both named in one notice
   * (see LoadOptions). Nothing is read from a checkpoint that does not fit.
   */
  loadPretrainedWeights(dir: string, opts: LoadOptions = {}): LoadReport {
    return loadPretrained(this, dir, this.checkpointLayout, this.architecture, opts);
  }

  /**
   * Activation checkpointing in every transformer block (transformers' gradient_checkpointing_enable): a block keeps
   * only its input between forward and backward and is recomputed, dropout mask included, when backward reaches it —
   * activation memory grows with the number of blocks by one hidden state each instead of everything inside them,
   * for about one more forward per step. Gradients are the same bits as without. A cached forward (generation) is
   * never checkpointed.
   */
  gradientCheckpointingEnable(): void {
    if (setGradientCheckpointing(this, true) === 0) {
      throw new TypeError(`${this.architecture} does not support gradient checkpointing (it has no transformer blocks)`);
    }
  }

  gradientCheckpointingDisable(): void {
    setGradientCheckpointing(this, false);
  }

  /** Whether gradient checkpointing is on (transformers' is_gradient_checkpointing). */
  get isGradientCheckpointing(): boolean {
    for (const [, m] of this.namedModules()) if ('gradientCheckpointing' in m && m.gradientCheckpointing === true) return true;
    return false;
  }

  /** `loadPretrainedWeights` from one safetensors file already open (e.g. `SafetensorsFile.fromBytes` in a browser). */
  loadPretrainedWeightsFrom(file: SafetensorsFile, opts: LoadOptions = {}): LoadReport {
    return loadPretrainedFile(this, file, this.checkpointLayout, this.architecture, opts);
  }

  /**
   * `loadPretrainedWeights` from safetensors files already open that read asynchronously (`SafetensorsFile.fromBlob`:
   * a folder the user picked in a browser — model.safetensors, or every shard of its index), one tensor at a time.
   * `where` names the folder in errors.
   */
  loadPretrainedWeightsFromAsync(files: readonly SafetensorsFile[], where: string, opts: LoadOptions = {}): Promise<LoadReport> {
    return loadPretrainedFilesAsync(this, files, this.checkpointLayout, this.architecture, where, opts);
  }

  /** config.json as savePretrained writes it. */
  configJson(): Record<string, unknown> {
    return { model_type: this.modelType, architectures: [this.architecture], ...this.config };
  }

  /** config.json and model.safetensors, atomically; CPU tensors (synchronous reads). */
  savePretrained(dir: string): void {
    saveWeights(this, dir, this.configJson());
  }

  /** `savePretrained` from any backend (WebGPU included): the same files, read with `await toArray()`. */
  savePretrainedAsync(dir: string): Promise<void> {
    return saveWeightsAsync(this, dir, this.configJson());
  }

  /** What `savePretrainedAsync` writes, in memory: config.json's text and model.safetensors' bytes (a browser's download). */
  savePretrainedFiles(): Promise<{ config: string; weights: Uint8Array }> {
    return weightsFiles(this, this.configJson());
  }
}
