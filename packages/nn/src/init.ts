import { noGrad, rand, randn, scope, type Tensor } from '@siftjs/tensor';

/** In-place initialisers through the Philox generator (same seed, same weights on every backend), as torch.nn.init. */

/** Whether `withoutInit` is running: the initialisers leave their tensors as they are. */
let skipping = false;

/**
 * Runs `build` with every initialiser here a no-op (transformers' `no_init_weights`, torch's `skip_init`): for a
 * model whose every parameter a checkpoint will overwrite, drawing its initial values — a float32 draw, then the
 * scaling, per parameter — costs time and, for a large embedding table, a transient several times its size. The
 * parameters' contents are unspecified until written.
 */
export function withoutInit<R>(build: () => R): R {
  const outer = skipping;
  skipping = true;
  try {
    return build();
  } finally {
    skipping = outer;
  }
}

export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  if (skipping) return t;
  noGrad(() => scope(() => t.copy_(rand([...t.shape], { dtype: t.dtype, low, high }))));
  return t;
}

export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  if (skipping) return t;
  noGrad(() => scope(() => t.copy_(randn([...t.shape], { dtype: t.dtype, mean, std }))));
  return t;
}

export function constant_(t: Tensor, value: number): Tensor {
  if (skipping) return t;
  noGrad(() => t.fill_(value));
  return t;
}

/** fan_in and fan_out as torch computes them: dims 1 and 0, times the receptive field of the rest. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new RangeError(`fans: need at least 2 dims, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Recommended gains (torch.nn.init.calculate_gain) for the nonlinearities we use. */
export function gain(nonlinearity: 'linear' | 'relu' | 'tanh' | 'leaky_relu' | 'sigmoid', param = 0.01): number {
  switch (nonlinearity) {
    case 'relu':
      return Math.SQRT2;
    case 'tanh':
      return 5 / 3;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    default:
      return 1;
  }
}

export function xavierUniform_(t: Tensor, g = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const bound = g * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

export function xavierNormal_(t: Tensor, g = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  return normal_(t, 0, g * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** The negative slope of a leaky ReLU after this layer (torch's `a`). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: 'relu' | 'leaky_relu' | 'linear' | 'tanh';
}

export function kaimingUniform_(t: Tensor, { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' }: KaimingOptions = {}): Tensor {
  const f = fans(t.shape)[mode];
  const bound = Math.sqrt(3) * (gain(nonlinearity, a) / Math.sqrt(f));
  return uniform_(t, -bound, bound);
}

export function kaimingNormal_(t: Tensor, { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' }: KaimingOptions = {}): Tensor {
  return normal_(t, 0, gain(nonlinearity, a) / Math.sqrt(fans(t.shape)[mode]));
}
