import { runBackward } from './autograd/engine.js';
import { Node, type GradHook, type PostAccumulateGradHook } from './autograd/node.js';
import type { Backend, View } from './backend/backend.js';
import { findBackend } from './backend/registry.js';
import { type DType, type TypedArray, isFloat, isHalf } from './dtype.js';
import { halfBitsToFloat32Array } from './half.js';
import { isGradEnabled } from './autograd/grad-mode.js';
import { AutogradError, DisposedError, DTypeError, ShapeError, fmtShape } from './errors.js';
import { countLeak, countTensor } from './memory/accounting.js';
import { track } from './memory/scope.js';
import type { StorageRef } from './memory/storage.js';
import * as ops from './ops/all.js';
import { broadcastShapes, contiguousStrides, isContiguous, sizeOf } from './shape.js';

type Operand = Tensor | number;

let nextId = 1;

/** Reclaims the storage of a tensor that was garbage-collected without dispose(), and counts it as a leak. */
const leakCatcher = new FinalizationRegistry<StorageRef>((ref) => {
  countLeak();
  countTensor(ref.backend.name, -1);
  ref.release();
});

export interface Removable {
  remove(): void;
}

/**
 * An n-dimensional view (shape, strides, offset) of a refcounted storage on one backend. Views share storage;
 * ops dispatch synchronously and reading back is asynchronous (`await t.toArray()`).
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** In elements, into the storage. */
  readonly offset: number;
  readonly dtype: DType;
  /** Accumulated gradient of a leaf (or of a tensor that called `retainGrad`). */
  grad: Tensor | null = null;
  private ref: StorageRef | null;
  private _requiresGrad = false;
  private fn: Node | null = null;
  private leafNode: Node | null = null;
  private hooks: GradHook[] = [];

  /** @internal Use the creation functions (`tensor`, `zeros`, …). */
  constructor(ref: StorageRef, shape: readonly number[], strides?: readonly number[], offset = 0, tracked = true) {
    this.ref = ref;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.dtype = ref.dtype;
    countTensor(ref.backend.name, 1);
    leakCatcher.register(this, ref, this);
    if (tracked) track(this);
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get backend(): Backend {
    return this.storage().backend;
  }
  get isDisposed(): boolean {
    return this.ref === null;
  }
  get isLeaf(): boolean {
    return this.fn === null;
  }
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(on: boolean) {
    if (on && !isFloat(this.dtype)) {
      throw new DTypeError(`requiresGrad: only float tensors can require grad (this one is ${this.dtype})`);
    }
    if (!this.isLeaf && !on) {
      throw new AutogradError('requiresGrad = false on a non-leaf tensor: use detach() instead');
    }
    this._requiresGrad = on;
  }
  /** The node that produced this tensor, or null for leaves. */
  get gradFn(): Node | null {
    return this.fn;
  }

  /** @internal */
  storage(): StorageRef {
    if (!this.ref) throw new DisposedError(`tensor #${this.id} of shape ${fmtShape(this.shape)} was used after dispose()`);
    return this.ref;
  }

  /** @internal The strided view kernels receive. */
  raw(): View {
    const ref = this.storage();
    return { storage: ref.data, dtype: this.dtype, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** @internal A view of this storage with other geometry. */
  restride(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    return new Tensor(this.storage().retain(), shape, strides, offset);
  }

  /** @internal Another handle on the same view, owned by the caller and outside every scope (saved tensors). */
  share(): Tensor {
    return new Tensor(this.storage().retain(), this.shape, this.strides, this.offset, false);
  }

  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** Contiguous from element 0 over its whole storage: a fused kernel may update the storage in place. */
  coversStorage(): boolean {
    return this.offset === 0 && this.storage().size === this.size && this.isContiguous();
  }

  /** Covers its storage and no other handle shares it. */
  ownsStorage(): boolean {
    return this.coversStorage() && this.storage().refCount === 1;
  }

  /** Releases this handle's storage (freed when no other view holds it), its gradient and its graph. */
  dispose(): void {
    if (!this.ref) return;
    leakCatcher.unregister(this);
    countTensor(this.ref.backend.name, -1);
    this.ref.release();
    this.ref = null;
    this.grad?.dispose();
    this.grad = null;
    this.fn?.release();
    this.fn = null;
    this.leafNode?.release();
    this.leafNode = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---------------------------------------------------------------- reading

  /**
   * The elements in row-major order, as a new typed array. A float16 or bfloat16 tensor reads as a Float32Array of
   * its exact values (what `t.tolist()` gives a PyTorch user); `toBits()` gives its stored 16-bit patterns.
   */
  async toArray(): Promise<TypedArray> {
    const raw = await this.readStored();
    return isHalf(this.dtype) ? halfBitsToFloat32Array(raw as Uint16Array, this.dtype) : raw;
  }

  /** `toArray` without waiting, where the backend can (the CPU). */
  toArraySync(): TypedArray {
    const raw = this.readStoredSync();
    return isHalf(this.dtype) ? halfBitsToFloat32Array(raw as Uint16Array, this.dtype) : raw;
  }

  /** The 16-bit patterns of a float16 or bfloat16 tensor, in row-major order (like `t.view(torch.int16)`). */
  async toBits(): Promise<Uint16Array> {
    this.requireHalf('toBits');
    return (await this.readStored()) as Uint16Array;
  }

  /** `toBits` without waiting, where the backend can (the CPU). */
  toBitsSync(): Uint16Array {
    this.requireHalf('toBitsSync');
    return this.readStoredSync() as Uint16Array;
  }

  /** The elements as the backend stores them (half dtypes as bit patterns). */
  private async readStored(): Promise<TypedArray> {
    const c = this.isContiguous() && this.offset === 0 && this.storage().size === this.size ? null : this.contiguousNoGrad();
    const src = c ?? this;
    try {
      return await src.backend.read(src.storage().data, this.dtype, this.size);
    } finally {
      c?.dispose();
    }
  }

  private readStoredSync(): TypedArray {
    const b = this.backend;
    if (!b.readSync) throw new Error(`toArraySync: backend '${b.name}' reads asynchronously; use await toArray()`);
    const c = this.isContiguous() && this.offset === 0 && this.storage().size === this.size ? null : this.contiguousNoGrad();
    const src = c ?? this;
    try {
      return b.readSync(src.storage().data, this.dtype, this.size);
    } finally {
      c?.dispose();
    }
  }

  private requireHalf(op: string): void {
    if (!isHalf(this.dtype)) throw new DTypeError(`${op}: only float16 and bfloat16 tensors have 16-bit patterns (this one is ${this.dtype})`);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item: the tensor has ${this.size} elements, shape ${fmtShape(this.shape)}`);
    return (await this.toArray())[0];
  }

  itemSync(): number {
    if (this.size !== 1) throw new Error(`itemSync: the tensor has ${this.size} elements, shape ${fmtShape(this.shape)}`);
    return this.toArraySync()[0];
  }

  /** A copy on another started backend (`await setBackend(name)` first); outside the graph. */
  async to(backendName: string): Promise<Tensor> {
    const target = findBackend(backendName);
    const data = await this.readStored();
    return ops.fromStorage(target, target.upload(this.dtype, data), this.dtype, this.shape);
  }

  /** Nested arrays in the tensor's shape. */
  async toNested(): Promise<unknown> {
    return nest(Array.from(await this.toArray()), this.shape);
  }

  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  private contiguousNoGrad(): Tensor {
    const ref = this.storage();
    const out = ref.backend.copy(this.raw());
    return ops.fromStorage(ref.backend, out, this.dtype, this.shape, false);
  }

  // ---------------------------------------------------------------- autograd

  backward(gradient?: Tensor): void {
    runBackward(this, gradient);
  }

  /** @internal The node gradients flow into: the op that made this tensor, or this leaf's accumulator. */
  gradNode(): Node {
    if (this.fn) return this.fn;
    if (!this._requiresGrad) throw new AutogradError('gradNode: tensor does not require grad');
    this.leafNode ??= new Node('AccumulateGrad', [], [], [], null, [], this);
    return this.leafNode;
  }

  /** @internal */
  attachGradFn(node: Node): void {
    this.fn = node;
    this._requiresGrad = true;
  }

  /** @internal The gradient hooks of a leaf. */
  leafHooks(): readonly GradHook[] {
    return this.hooks;
  }

  /** Keeps the gradient of this non-leaf tensor in `.grad` after backward. */
  retainGrad(): this {
    if (this.fn) this.fn.retained = this;
    return this;
  }

  /**
   * `hook(grad)` runs when this tensor's gradient is complete, before it is accumulated or passed on. It may
   * return a replacement, nothing (keep), or `null` to drop the gradient — nothing is accumulated and its memory
   * is freed at once.
   */
  registerHook(hook: GradHook): Removable {
    if (!this._requiresGrad) throw new AutogradError('registerHook: the tensor does not require grad');
    const list = this.fn ? this.fn.preHooks : this.hooks;
    list.push(hook);
    return { remove: () => removeFrom(list, hook) };
  }

  /** `hook(leaf)` runs after this leaf's `.grad` has been accumulated. */
  registerPostAccumulateGradHook(hook: PostAccumulateGradHook): Removable {
    if (!this.isLeaf || !this._requiresGrad) {
      throw new AutogradError('registerPostAccumulateGradHook: only leaves that require grad accumulate a gradient');
    }
    const list = this.gradNode().postHooks;
    list.push(hook);
    return { remove: () => removeFrom(list, hook) };
  }

  /** A new handle on the same storage, outside the graph. */
  detach(): Tensor {
    return this.restride(this.shape, this.strides, this.offset);
  }

  /**
   * Writes `src` (broadcast to this shape, cast to this dtype) into this tensor's elements in place — how
   * optimizers update parameters. Not recorded: on a tensor that requires grad, only inside noGrad().
   */
  copy_(src: Tensor | number): this {
    if (this._requiresGrad && isGradEnabled()) {
      throw new AutogradError('copy_: in-place write to a tensor that requires grad; wrap the update in noGrad()');
    }
    const s = typeof src === 'number' ? ops.full([], src, { dtype: this.dtype }) : src;
    try {
      const b = ops.backendOf('copy_', this, s);
      broadcastShapes('copy_', this.shape, s.shape); // throws, naming both shapes
      if (s.rank > this.rank || s.shape.some((d, i) => d !== 1 && d !== this.shape[this.rank - s.rank + i])) {
        throw new ShapeError(`copy_: cannot write a tensor of shape ${fmtShape(s.shape)} into one of shape ${fmtShape(this.shape)}`);
      }
      b.copyInto(this.raw(), ops.expandedView(s, this.shape));
    } finally {
      if (s !== src) s.dispose();
    }
    return this;
  }

  /** Fills this tensor in place with `value` (see copy_). */
  fill_(value: number): this {
    return this.copy_(value);
  }

  /** Sets requiresGrad in place and returns this (like torch's requires_grad_()). */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  // ---------------------------------------------------------------- ops as methods
  clone(): Tensor { return ops.clone(this); }
  contiguous(): Tensor { return ops.contiguous(this); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
  onesLike(): Tensor { return ops.onesLike(this); }
  zerosLike(): Tensor { return ops.zerosLike(this); }

  reshape(...shape: number[] | [readonly number[]]): Tensor { return ops.reshape(this, flatArgs(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return ops.view(this, flatArgs(shape)); }
  permute(...dims: number[] | [readonly number[]]): Tensor { return ops.permute(this, flatArgs(dims)); }
  transpose(dim0 = -2, dim1 = -1): Tensor { return ops.transpose(this, dim0, dim1); }
  get T(): Tensor { return ops.transpose(this, -2, -1); }
  narrow(dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  slice(dim: number, start: number, end?: number, step = 1): Tensor { return ops.slice(this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return ops.select(this, dim, index); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return ops.expand(this, flatArgs(shape)); }
  broadcastTo(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  squeeze(dim?: number): Tensor { return ops.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }

  add(b: Operand): Tensor { return ops.add(this, b); }
  sub(b: Operand): Tensor { return ops.sub(this, b); }
  mul(b: Operand): Tensor { return ops.mul(this, b); }
  div(b: Operand): Tensor { return ops.div(this, b); }
  pow(b: Operand): Tensor { return ops.pow(this, b); }
  maximum(b: Operand): Tensor { return ops.maximum(this, b); }
  minimum(b: Operand): Tensor { return ops.minimum(this, b); }
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }

  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor { return ops.relu(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return ops.gelu(this, approximate); }
  silu(): Tensor { return ops.silu(this); }
  erf(): Tensor { return ops.erf(this); }
  square(): Tensor { return ops.square(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  floor(): Tensor { return ops.floor(this); }

  eq(b: Operand): Tensor { return ops.eq(this, b); }
  ne(b: Operand): Tensor { return ops.ne(this, b); }
  lt(b: Operand): Tensor { return ops.lt(this, b); }
  le(b: Operand): Tensor { return ops.le(this, b); }
  gt(b: Operand): Tensor { return ops.gt(this, b); }
  ge(b: Operand): Tensor { return ops.ge(this, b); }
  logicalAnd(b: Tensor): Tensor { return ops.logicalAnd(this, b); }
  logicalOr(b: Tensor): Tensor { return ops.logicalOr(this, b); }
  logicalNot(): Tensor { return ops.logicalNot(this); }
  isnan(): Tensor { return ops.isnan(this); }
  /** `where(cond, this, other)`, like torch's `x.where(cond, y)`. */
  where(cond: Tensor, other: Operand): Tensor { return ops.where(cond, this, other); }
  maskedFill(mask: Tensor, value: number): Tensor { return ops.maskedFill(this, mask, value); }

  sum(axes?: number | readonly number[], keepdim = false): Tensor { return ops.sum(this, axes, keepdim); }
  mean(axes?: number | readonly number[], keepdim = false): Tensor { return ops.mean(this, axes, keepdim); }
  max(axes?: number | readonly number[], keepdim = false): Tensor { return ops.max(this, axes, keepdim); }
  min(axes?: number | readonly number[], keepdim = false): Tensor { return ops.min(this, axes, keepdim); }
  argmax(axis?: number, keepdim = false): Tensor { return ops.argmax(this, axis, keepdim); }
  argmin(axis?: number, keepdim = false): Tensor { return ops.argmin(this, axis, keepdim); }
  var(axes?: number | readonly number[], opts: { correction?: number; keepdim?: boolean } = {}): Tensor { return ops.variance(this, axes, opts); }

  matmul(b: Tensor): Tensor { return ops.matmul(this, b); }
  softmax(axis = -1): Tensor { return ops.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis); }
  tril(k = 0): Tensor { return ops.tril(this, k); }
  triu(k = 0): Tensor { return ops.triu(this, k); }
  split(sizes: number | readonly number[], dim = 0): Tensor[] { return ops.split(this, sizes, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return ops.chunk(this, chunks, dim); }
  gatherFlat(indices: Tensor): Tensor { return ops.gatherFlat(this, indices); }
  dropout(p: number, training = true): Tensor { return ops.dropout(this, p, training); }
}

function flatArgs(args: number[] | [readonly number[]]): readonly number[] {
  return Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

function nest(flat: number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const step = sizeOf(rest);
  return Array.from({ length: n }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
}
