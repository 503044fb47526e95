import { type DType, isFloat, keep, noGrad, type Tensor } from '@siftjs/tensor';

const parameters = new WeakSet<Tensor>();

/** A parameter is a Tensor marked by `parameter()` (torch.nn.Parameter); the type names the intent. */
export type Parameter = Tensor;

/** The dtype floating parameters are made in while `withParameterDtype` runs (null: as created). */
let parameterDtype: DType | null = null;

/**
 * Builds modules with their floating parameters in `dtype` — what transformers' `from_pretrained(dtype=…)` does by
 * setting torch's default dtype while the model is constructed: a 1.1B-parameter model built for bfloat16 weights
 * never holds its float32 initialisation whole, one parameter's at a time at most. Integer parameters and every
 * buffer (rotary frequencies, masks) keep their dtype, as in PyTorch.
 */
export function withParameterDtype<R>(dtype: DType, build: () => R): R {
  if (!isFloat(dtype)) throw new TypeError(`withParameterDtype: ${dtype} is not a floating dtype`);
  const outer = parameterDtype;
  parameterDtype = dtype;
  try {
    return build();
  } finally {
    parameterDtype = outer;
  }
}

/**
 * Marks `t` as a trainable parameter (like torch.nn.Parameter): it requires grad, no memory scope disposes it, and
 * modules list it in `parameters()` / `stateDict()`. Returns `t` itself — or, inside `withParameterDtype`, a
 * floating `t` cast to that dtype (and `t` disposed): use the returned tensor.
 */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  if (parameterDtype && isFloat(t.dtype) && t.dtype !== parameterDtype) {
    const cast = noGrad(() => t.cast(parameterDtype as DType));
    t.dispose();
    t = cast;
  }
  t.requiresGrad = requiresGrad;
  parameters.add(keep(t));
  return t;
}

export function isParameter(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && parameters.has(x as Tensor);
}
