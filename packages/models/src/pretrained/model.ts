import { init, Module, setGradientCheckpointing } from '@siftjs/nn';
import { type DType, withDefaultDtype } from '@siftjs/tensor';
import { saveWeights, saveWeightsAsync, weightsFiles } from '../checkpoint.js';
import { type RawConfig, readConfig } from '../config.js';
import type { CheckpointLayout } from './layout.js';
import type { SafetensorsFile } from '@siftjs/safetensors';
import { coversEveryParameter, type LoadOptions, type LoadReport, loadPretrained, loadPretrainedFile, loadPretrainedFilesAsync } from './load.js';

export interface FromPretrainedOptions extends LoadOptions {
  /** config.json fields to override before the model is built (num_labels, pad_token_id…), as transformers' kwargs. */
  config?: RawConfig;
  /**
   * The float dtype of the model's parameters and buffers (transformers' `torch_dtype`): the model is built in it
   * (never in float32 first) and the checkpoint read into it — a BF16 checkpoint into bfloat16 keeps its bits. Default:
   * the default float dtype (float32). Activations stay float32 whatever the weights are stored in.
   */
  dtype?: DType;
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
   * half-built model before it throws. When the checkpoint holds every parameter, the model is built without drawing
   * initial values the load would overwrite (transformers' fast init): nothing is drawn from the generator, and no
   * float32 draw of a large table is made beside a half-precision model. A new head the checkpoint lacks makes it
   * build the model again, initialised, as before.
   */
  static fromPretrained<M extends PretrainedModel>(this: PretrainedClass<M>, dir: string, opts: FromPretrainedOptions = {}): M {
    const { file, raw } = readConfig(dir);
    const config = this.configFromJson(opts.config ? { ...raw, ...opts.config } : raw, file);
    const build = () => (opts.dtype ? buildIn(opts.dtype, () => new this(config)) : new this(config));
    let model = init.withoutInit(build);
    let covered = false;
    try {
      covered = coversEveryParameter(model, dir, model.checkpointLayout, opts);
    } finally {
      if (!covered) model.dispose();
    }
    if (!covered) model = build();
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

/**
 * A model built with `dtype` as the default float dtype, so its parameters are made in it, then cast with `to` for
 * any tensor made in float32 on purpose: what `fromPretrained({ dtype })` and the CLI's `--dtype` build.
 */
export function buildIn<M extends Module>(dtype: DType, build: () => M): M {
  const model = withDefaultDtype(dtype, build);
  try {
    return model.to(dtype);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
