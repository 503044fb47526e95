import '@siftjs/backend-cpu'; // registers 'cpu': the oracle's gradients are computed there when the backend under test has no float64
import { isParameter, type Module, parameter } from '@siftjs/nn';
import { type DType, noGrad, scope, setBackend, type Tensor, tensor } from '@siftjs/tensor';

/** Reading, writing and converting a model's parameters by name, on any backend. */

/** Replaces every parameter by a copy in `dtype` (tied parameters stay tied). */
export function castParameters(model: Module, dtype: DType): void {
  const copies = new Map<Tensor, Tensor>();
  for (const [, mod] of model.namedModules()) {
    const fields = mod as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      if (!isParameter(value) || value.dtype === dtype) continue;
      let copy = copies.get(value);
      if (!copy) {
        copy = parameter(noGrad(() => value.detach().cast(dtype)));
        copies.set(value, copy);
      }
      fields[key] = copy;
    }
  }
  for (const old of copies.keys()) old.dispose();
}

export type Weights = Record<string, Float64Array>;

/** Every parameter's values, by name (read asynchronously: any backend). */
export async function weightsOf(model: Module): Promise<Weights> {
  const out: Weights = {};
  for (const [name, p] of model.namedParameters()) out[name] = Float64Array.from(await p.toArray());
  return out;
}

export function shapesOf(model: Module): Record<string, number[]> {
  return Object.fromEntries([...model.namedParameters()].map(([name, p]) => [name, [...p.shape]]));
}

/** Writes `w` into the model's parameters (each value rounded once to the parameter's dtype). */
export function setWeights(model: Module, w: Weights): void {
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      const v = w[name];
      if (v) scope(() => p.copy_(tensor(p.dtype === 'float64' ? v : Float32Array.from(v), { shape: [...p.shape], dtype: p.dtype })));
    }
  });
}

/** The exact bits of each value (float32 values widen to float64 exactly, so float64 bits identify them). */
export function bits(values: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float64Array.from(values).buffer));
}

/** Runs `fn` on the CPU backend where the backend under test has no float64 (WebGPU), else where it is. */
export async function onFloat64Backend<T>(hasFloat64: boolean, backendName: string, fn: () => T): Promise<T> {
  if (hasFloat64) return fn();
  await setBackend('cpu');
  try {
    return fn();
  } finally {
    await setBackend(backendName);
  }
}
