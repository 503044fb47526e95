import { type DType, DTypeError, fmtShape, isFloat, keep, noGrad, ShapeError, Tensor } from '@siftjs/tensor';
import { isParameter, parameter } from './parameter.js';

export interface LoadResult {
  missing: string[];
  unexpected: string[];
}

/**
 * The base of every layer and model, after torch.nn.Module. Parameters (see `parameter`) and child modules are
 * found from the instance's own properties in definition order, so `this.c_attn = new Linear(…)` inside a
 * `GPT2Attention` yields the parameter name `c_attn.weight` — names map one to one onto checkpoints.
 */
export class Module {
  /** Dropout and similar layers behave differently in training; see train() / eval(). */
  training = true;
  private readonly bufferNames = new Set<string>();
  /** Buffers left out of the state dict (still moved by `to`). */
  private readonly transientBufferNames = new Set<string>();

  /** Non-parameter tensors saved with the module (running statistics, fixed masks); persistent ones go in stateDict. */
  registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    (this as unknown as Record<string, unknown>)[name] = keep(t);
    (persistent ? this.bufferNames : this.transientBufferNames).add(name);
    return t;
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) if (value instanceof Module) yield [key, value];
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Every parameter once, under the first name it is reached by (a tied weight is listed once, as torch does). */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [name, p] of this.everyNamedParameter(prefix)) {
      if (seen.has(p)) continue;
      seen.add(p);
      yield [name, p];
    }
  }

  /** Every parameter under every name, tied ones included (what a state dict holds). */
  private *everyNamedParameter(prefix: string): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this)) {
      if (isParameter(value)) yield [prefix + key, value];
    }
    for (const [name, child] of this.namedChildren()) yield* child.everyNamedParameter(`${prefix}${name}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    const self = this as unknown as Record<string, Tensor>;
    for (const name of this.bufferNames) yield [prefix + name, self[name]];
    for (const [name, child] of this.namedChildren()) yield* child.namedBuffers(`${prefix}${name}.`);
  }

  /** The number of parameter elements (trainable only, or all). */
  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /** Parameters (tied ones under each name) and persistent buffers by name — the tensors themselves, as torch. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.everyNamedParameter(''), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's tensors by name. `strict` (default): any missing, unexpected or wrong-shape
   * key is an error listing all of them, and nothing is written. Non-strict: matching keys are copied and the rest
   * reported. Wrong shapes are always an error.
   */
  loadStateDict(sd: Record<string, Tensor>, { strict = true } = {}): LoadResult {
    const own = this.stateDict();
    // Own keys only: `k in sd` would find 'constructor' or 'toString' on Object.prototype.
    const has = (o: object, k: string) => Object.hasOwn(o, k);
    const missing = Object.keys(own).filter((k) => !has(sd, k));
    const unexpected = Object.keys(sd).filter((k) => !has(own, k));
    const wrongShape = Object.keys(own)
      .filter((k) => has(sd, k) && sd[k].shape.join() !== own[k].shape.join())
      .map((k) => `${k}: checkpoint ${fmtShape(sd[k].shape)}, model ${fmtShape(own[k].shape)}`);
    if (wrongShape.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      const parts = [
        missing.length ? `missing keys: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
        wrongShape.length ? `wrong shapes: ${wrongShape.join('; ')}` : '',
      ].filter(Boolean);
      throw new ShapeError(`loadStateDict: ${parts.join('. ')}`);
    }
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) if (has(sd, k)) t.copy_(sd[k]);
    });
    return { missing, unexpected };
  }

  /**
   * Casts every floating parameter and buffer, here and in every descendant, to the float `dtype`, as torch's
   * `module.to(torch.bfloat16)`: int and bool tensors are kept, tied parameters stay tied, a parameter stays a
   * parameter with its requiresGrad. Unlike torch, the tensors are replaced (a tensor's dtype is fixed): each old one
   * is disposed as soon as its copy is made, so the model is never held twice; tensors taken from the model before
   * (an optimizer's parameter list, hooks) must be taken again. A model whose weights are half computes in float32
   * all the same (see Linear, Embedding, LayerNorm).
   */
  to(dtype: DType): this {
    if (!isFloat(dtype)) throw new DTypeError(`Module.to: '${String(dtype)}' is not a float dtype; only floating parameters and buffers are cast`);
    const replaced = new Map<Tensor, Tensor>();
    for (const [, m] of this.namedModules()) {
      const self = m as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(m)) {
        if (!(value instanceof Tensor) || !isFloat(value.dtype) || value.dtype === dtype) continue;
        if (!isParameter(value) && !m.bufferNames.has(key) && !m.transientBufferNames.has(key)) continue;
        let next = replaced.get(value);
        if (!next) {
          const cast = noGrad(() => value.cast(dtype));
          next = isParameter(value) ? parameter(cast, value.requiresGrad) : keep(cast);
          replaced.set(value, next);
          value.dispose();
        }
        self[key] = next;
      }
    }
    return this;
  }

  /** Sets training mode here and in every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (frees its memory). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}

/** Modules in a numbered list: children are named "0", "1", … (Hugging Face's `h.0.attn…`). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly length: number;

  constructor(items: M[]) {
    super();
    items.forEach((m, i) => ((this as unknown as Record<string, M>)[String(i)] = m));
    this.length = items.length;
  }

  at(i: number): M {
    return (this as unknown as Record<string, M>)[String(i)];
  }

  *[Symbol.iterator](): Iterator<M> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
