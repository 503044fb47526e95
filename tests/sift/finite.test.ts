/**
 * The non-finite checks every save and every fit runs (packages/sift-optimizer/src/finite.ts), against values from
 * outside the library: what PyTorch 1.13 (Debian's /usr/bin/python3) reads back from a float64 stored as float16,
 * bfloat16 and float32 — `torch.tensor(x, dtype=torch.float64).to(dtype).double().item()` — and flat positions
 * unravelled by hand in row-major order.
 */
import { describeAt, findNonFinite, firstNonFinite, locateNonFinite, nonFiniteFlags, storedValue } from '@siftjs/sift-optimizer';
import { tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

// [x, as float16, as bfloat16, as float32], printed by PyTorch.
const TORCH: [number, number, number, number][] = [
  [1 / 3, 0.333251953125, 0.333984375, 0.3333333432674408],
  [65504, 65504, 65536, 65504],
  [65519.99, 65504, 65536, 65519.98828125],
  [65520, Infinity, 65536, 65520],
  [70000, Infinity, 70144, 70000],
  [1e-8, 0, 1.0011717677116394e-8, 9.99999993922529e-9],
  [3.3895313892515355e38, Infinity, 3.3895313892515355e38, 3.3895313892515355e38],
  [3.4e38, Infinity, Infinity, 3.3999999521443642e38],
  [-2.5e-5, -2.4974346160888672e-5, -2.5033950805664062e-5, -2.499999936844688e-5],
];

describe('storedValue, firstNonFinite and describeAt (plain numbers)', () => {
  it('storedValue reads back what PyTorch reads back from float16, bfloat16 and float32', () => {
    for (const [x, f16, bf16, f32] of TORCH) {
      expect([storedValue(x, 'F16'), storedValue(x, 'BF16'), storedValue(x, 'F32')], `x = ${x}`).toEqual([f16, bf16, f32]);
    }
  });

  it('firstNonFinite finds the first NaN or ±Infinity, as stored when a type is given; -1 when there is none', () => {
    expect(firstNonFinite([1, 2, 3])).toBe(-1);
    expect(firstNonFinite([])).toBe(-1);
    expect(firstNonFinite([1, NaN, Infinity])).toBe(1);
    expect(firstNonFinite([0, 1, -Infinity, NaN])).toBe(2);
    expect(firstNonFinite(new Float64Array([5, 6, 7, NaN]))).toBe(3);
    // 70000 is finite as itself and in float32 and bfloat16, but overflows float16 (max 65504): index 2 only there.
    const values = [1, 65504, 70000, 3.4e38];
    expect(firstNonFinite(values)).toBe(-1);
    expect(firstNonFinite(values, 'F32')).toBe(-1);
    expect(firstNonFinite(values, 'F16')).toBe(2);
    expect(firstNonFinite(values, 'BF16')).toBe(3);
  });

  it("describeAt says the value and its row-major index ('NaN at [1, 4]'), and what a value became when stored", () => {
    // Flat 9 in a [2, 5] tensor is row 1, column 4.
    const v = new Array(10).fill(0);
    v[9] = NaN;
    expect(describeAt(v, 9, [2, 5])).toBe('NaN at [1, 4]');
    // Flat 23 in [2, 3, 4]: 23 = 1·12 + 2·4 + 3.
    const w = new Array(24).fill(1);
    w[23] = -Infinity;
    expect(describeAt(w, 23, [2, 3, 4])).toBe('-Infinity at [1, 2, 3]');
    expect(describeAt(w, 0, [2, 3, 4])).toBe('1 at [0, 0, 0]');
    expect(describeAt([Infinity], 0, [])).toBe('Infinity at []');
    // A finite value that overflows the stored type names both.
    const x = [1, 2, 70000, 4];
    expect(describeAt(x, 2, [4], 'F16')).toBe('Infinity (70000 stored as F16) at [2]');
    expect(describeAt(x, 2, [2, 2], 'BF16')).toBe('70144 (70000 stored as BF16) at [1, 0]');
    // Stored unchanged (float32 holds 70000 exactly): nothing in brackets.
    expect(describeAt(x, 2, [4], 'F32')).toBe('70000 at [2]');
  });
});

describe.each(backendsUnderTest())('non-finite flags on the device on $name', (backend) => {
  beforeAll(() => backend.start());

  it('one flag per tensor: 0 when every element is finite (however large), NaN for a NaN or ±Infinity', async () => {
    const ts = [
      tensor([1, 2, 3]),
      tensor([1, NaN, 3]),
      tensor([[3e38, 3e38], [3e38, 3e38]]), // sum() would overflow; x·0 cannot
      tensor([0, -Infinity]),
      tensor([5], { dtype: 'int32' }), // an integer tensor cannot hold a NaN
      zeros([0]), // nothing to hold one
      tensor([Infinity]),
    ];
    const flags = nonFiniteFlags(ts);
    expect(flags.shape).toEqual([ts.length]);
    expect(flags.dtype).toBe('float32');
    const got = Array.from(await flags.toArray());
    expect(got.map((f) => (Number.isNaN(f) ? 'NaN' : f))).toEqual([0, 'NaN', 0, 'NaN', 0, 0, 'NaN']);
    flags.dispose();
    const asked = nonFiniteFlags([ts[0]], 'int32');
    expect(asked.dtype).toBe('int32');
    asked.dispose();
    const none = nonFiniteFlags([]);
    expect(none.shape).toEqual([0]);
    none.dispose();
    for (const t of ts) t.dispose();
  });

  it.runIf(backend.half)('flags a NaN or ±Infinity in float16 and bfloat16 weights (a model stored in half precision)', async () => {
    const ts = [tensor([1, NaN], { dtype: 'bfloat16' }), tensor([65504, -65504], { dtype: 'float16' }), tensor([2, -Infinity], { dtype: 'float16' }), tensor([3e38], { dtype: 'bfloat16' })];
    const flags = nonFiniteFlags(ts);
    expect(Array.from(await flags.toArray()).map((f) => (Number.isNaN(f) ? 'NaN' : f))).toEqual(['NaN', 0, 'NaN', 0]);
    flags.dispose();
    for (const t of ts) t.dispose();
  });

  it('findNonFinite names the first tensor holding a NaN or ±Infinity and where; null when all are finite', async () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[1, 2, 3], [4, 5, Infinity]]);
    const c = tensor([NaN]);
    expect(await findNonFinite([])).toBeNull();
    expect(await findNonFinite([['a', a]])).toBeNull();
    expect(await findNonFinite([['a', a], ['b', b], ['c', c]])).toEqual({ name: 'b', where: 'Infinity at [1, 2]' });
    expect(await findNonFinite([['c', c], ['b', b]])).toEqual({ name: 'c', where: 'NaN at [0]' });
    // Flags that say non-finite where the values read back finite (as a stored type's overflow would): no position.
    expect(await locateNonFinite([['a', a], ['b', b]], [NaN, 0])).toEqual({ name: 'a', where: 'a non-finite value' });
    expect(await locateNonFinite([['a', a], ['b', b]], [0, 0])).toBeNull();
    for (const t of [a, b, c]) t.dispose();
  });
});
