import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import type { Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { broadcastPairArb, refArb, refsArb, shapeArb, type ValueOptions, weightsArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype, floatDtypes } from '../support/backends.js';
import { checkForward, checkGradient } from '../support/gradcheck.js';
import { read } from '../support/read.js';

const RUNS = { numRuns: 25 };

interface UnaryCase {
  name: string;
  ours: (x: Tensor) => Tensor;
  ref: (x: ref.Ref) => ref.Ref;
  values?: ValueOptions;
  /** float32 tolerance where the op amplifies rounding (exp of 3, pow…). */
  rtol32?: number;
}

const unaryCases: UnaryCase[] = [
  { name: 'neg', ours: (x) => x.neg(), ref: ref.neg },
  { name: 'exp', ours: (x) => x.exp(), ref: ref.exp },
  { name: 'log', ours: (x) => x.log(), ref: ref.log, values: { min: 0.05, max: 5 } },
  { name: 'sqrt', ours: (x) => x.sqrt(), ref: ref.sqrt, values: { min: 0.05, max: 5 } },
  { name: 'rsqrt', ours: (x) => x.rsqrt(), ref: ref.rsqrt, values: { min: 0.05, max: 5 } },
  { name: 'abs', ours: (x) => x.abs(), ref: ref.abs, values: { awayFrom: [0] } },
  { name: 'sin', ours: (x) => x.sin(), ref: ref.sin },
  { name: 'cos', ours: (x) => x.cos(), ref: ref.cos },
  { name: 'tanh', ours: (x) => x.tanh(), ref: ref.tanh },
  { name: 'sigmoid', ours: (x) => x.sigmoid(), ref: ref.sigmoid },
  { name: 'relu', ours: (x) => x.relu(), ref: ref.relu, values: { awayFrom: [0] } },
  { name: 'erf', ours: (x) => x.erf(), ref: ref.erf },
  { name: 'gelu (erf)', ours: (x) => x.gelu(), ref: ref.geluErf },
  { name: 'gelu (tanh)', ours: (x) => x.gelu('tanh'), ref: ref.geluTanh },
  { name: 'silu', ours: (x) => x.silu(), ref: ref.silu },
  { name: 'square', ours: (x) => x.square(), ref: ref.square },
  { name: 'reciprocal', ours: (x) => x.reciprocal(), ref: ref.reciprocal, values: { awayFrom: [0], gap: 0.2 } },
  { name: 'clamp', ours: (x) => x.clamp(-1, 0.5), ref: (x) => ref.clamp(x, -1, 0.5), values: { awayFrom: [-1, 0.5] } },
  { name: 'clamp (min only)', ours: (x) => x.clamp(0.25), ref: (x) => ref.clamp(x, 0.25, Infinity), values: { awayFrom: [0.25] } },
  { name: 'pow (scalar exponent)', ours: (x) => x.pow(3), ref: (x) => ref.pow(x, ref.ref([], [3])) },
  { name: 'sign', ours: (x) => x.sign(), ref: ref.sign, values: { awayFrom: [0] } },
  { name: 'floor', ours: (x) => x.floor(), ref: (x) => ref.map(x, Math.floor), values: { awayFrom: [-3, -2, -1, 0, 1, 2, 3] } },
];

interface BinaryCase {
  name: string;
  ours: (a: Tensor, b: Tensor) => Tensor;
  ref: (a: ref.Ref, b: ref.Ref) => ref.Ref;
  a?: ValueOptions;
  b?: ValueOptions;
}

const binaryCases: BinaryCase[] = [
  { name: 'add', ours: (a, b) => a.add(b), ref: ref.add },
  { name: 'sub', ours: (a, b) => a.sub(b), ref: ref.sub },
  { name: 'mul', ours: (a, b) => a.mul(b), ref: ref.mul },
  { name: 'div', ours: (a, b) => a.div(b), ref: ref.div, b: { min: 0.5, max: 3 } },
  { name: 'pow', ours: (a, b) => a.pow(b), ref: ref.pow, a: { min: 0.5, max: 2 }, b: { min: -2, max: 2 } },
  // Distinct value sets keep ties (where the gradient is split) out of the finite differences.
  { name: 'maximum', ours: (a, b) => a.maximum(b), ref: ref.maximum, a: { min: -3, max: 3 }, b: { min: -2.9, max: 2.9, awayFrom: [0] } },
  { name: 'minimum', ours: (a, b) => a.minimum(b), ref: ref.minimum, a: { min: -3, max: 3 }, b: { min: -2.9, max: 2.9, awayFrom: [0] } },
];

describe.each(backendsUnderTest())('elementwise ops on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const c of unaryCases) {
    const input = shapeArb().chain((s) => fc.tuple(refArb(s, c.values), weightsArb(s)));
    test.prop([input], RUNS)(`${c.name} matches the float64 reference in float64 and float32`, ([x]) =>
      checkForward(([t]) => c.ours(t), ([r]) => c.ref(r), [x], { dtypes: ['float64', 'float32'], f32: { rtol: c.rtol32 ?? 2e-5 } }),
    );
    test.prop([input], RUNS)(`${c.name} gradient matches finite differences`, ([x, w]) =>
      checkGradient(([t]) => c.ours(t), ([r]) => c.ref(r), [x], w),
    );
  }

  it.each(['none', 'tanh'] as const)('gelu (%s) gradient is 1 and 0 at the far ends (±inf, ±1e30), not NaN', async (approximate) => {
    for (const dtype of floatDtypes()) {
      const grad = await read(() => {
        const x = T.tensor([Infinity, 1e30, 50, -50, -1e30, -Infinity], { dtype, requiresGrad: true });
        x.gelu(approximate).sum().backward();
        return x.grad!;
      });
      expect(grad, dtype).toEqual([1, 1, 1, 0, 0, 0]);
    }
  });

  for (const c of binaryCases) {
    const input = broadcastPairArb().chain(([sa, sb]) => {
      const out = ref.broadcastShapes(sa, sb);
      return fc.tuple(refArb(sa, c.a), refArb(sb, c.b), weightsArb(out));
    });
    test.prop([input], RUNS)(`${c.name} broadcasts like NumPy and matches the reference`, ([a, b]) =>
      checkForward(([x, y]) => c.ours(x, y), ([x, y]) => c.ref(x, y), [a, b], { dtypes: ['float64', 'float32'], f32: { rtol: 1e-4 } }),
    );
    test.prop([input], RUNS)(`${c.name} gradients sum over broadcast dims and match finite differences`, ([a, b, w]) =>
      checkGradient(([x, y]) => c.ours(x, y), ([x, y]) => c.ref(x, y), [a, b], w),
    );
  }

  const cmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
  test.prop([broadcastPairArb().chain(([sa, sb]) => refsArb([sa, sb], { min: -2, max: 2 })), fc.constantFrom(...cmp)], RUNS)(
    'comparisons give bool tensors equal to the reference',
    ([a, b], op) => {
      // Small integers make equality common.
      const ai = ref.ref(a.shape, a.data.map(Math.round));
      const bi = ref.ref(b.shape, b.data.map(Math.round));
      return checkForward(([x, y]) => (x[op](y) as Tensor).cast(floatDtype()), ([x, y]) => ref[op](x, y), [ai, bi]);
    },
  );

  test.prop([broadcastPairArb().chain(([sa, sb]) => refsArb([sa, sb], { min: -1, max: 1 }))], RUNS)(
    'logical and / or / not and isnan follow the truth tables',
    async ([a, b]) => {
      const pos = (r: ref.Ref) => ref.gt(r, ref.ref([], [0]));
      const asF = (t: Tensor) => t.cast(floatDtype());
      await checkForward(([x, y]) => asF(x.gt(0).logicalAnd(y.gt(0))), ([x, y]) => ref.mul(pos(x), pos(y)), [a, b]);
      await checkForward(([x, y]) => asF(x.gt(0).logicalOr(y.gt(0))), ([x, y]) => ref.maximum(pos(x), pos(y)), [a, b]);
      await checkForward(([x]) => asF(x.gt(0).logicalNot()), ([x]) => ref.le(x, ref.ref([], [0])), [a]);
      await checkForward(([x]) => asF(x.log().isnan()), ([x]) => ref.lt(x, ref.ref([], [0])), [a]);
    },
  );

  test.prop(
    [
      shapeArb({ maxRank: 3 }).chain((s) =>
        fc.tuple(refArb(s), refArb(s), refArb(s), weightsArb(s)),
      ),
    ],
    RUNS,
  )('where takes a where cond is true, b elsewhere, and routes each gradient to its side', async ([c, a, b, w]) => {
    const ours = ([x, y, z]: Tensor[]) => T.where(x.gt(0), y, z);
    const reference = ([x, y, z]: ref.Ref[]) => ref.where(ref.gt(x, ref.ref([], [0])), y, z);
    await checkForward(ours, reference, [c, a, b]);
    await checkGradient(ours, reference, [c, a, b], w, { differentiable: [false, true, true] });
  });

  test.prop([shapeArb().chain((s) => fc.tuple(refArb(s), refArb(s), weightsArb(s)))], RUNS)(
    'maskedFill puts the value where the mask is set and passes the gradient elsewhere',
    async ([x, m, w]) => {
      const ours = ([a, mask]: Tensor[]) => a.maskedFill(mask.gt(0), -7);
      const reference = ([a, mask]: ref.Ref[]) => ref.maskedFill(a, ref.gt(mask, ref.ref([], [0])), -7);
      await checkForward(ours, reference, [x, m]);
      await checkGradient(ours, reference, [x, m], w, { differentiable: [true, false] });
    },
  );

  test.prop([shapeArb().chain((s) => refArb(s, { min: -100, max: 100 }))], RUNS)(
    'cast float64 → float32 → int32 → bool follows PyTorch (round to nearest f32, truncate, non-zero)',
    async (x) => {
      // Without float64 the inputs are float32 already: the first cast is the identity there, the others are unchanged.
      const f = floatDtype();
      await checkForward(([t]) => t.cast('float32').cast(f), ([r]) => ref.ref(r.shape, Float64Array.from(Float32Array.from(r.data))), [x]);
      await checkForward(([t]) => t.cast('int32').cast(f), ([r]) => ref.ref(r.shape, r.data.map(Math.trunc)), [x]);
      await checkForward(([t]) => t.cast('int32').cast('bool').cast(f), ([r]) => ref.ref(r.shape, r.data.map((v) => (Math.trunc(v) !== 0 ? 1 : 0))), [x]);
    },
  );
});
