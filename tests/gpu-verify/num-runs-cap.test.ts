/**
 * tests/support/fast-check-capped.ts, which vitest.config.ts puts in place of '@fast-check/vitest' when
 * SIFT_NUM_RUNS_MAX is set (gpu:verify trims the parity suite so): a property asking for more runs than the cap gets the
 * cap, one asking for fewer keeps its own, through `test.prop` and through a direct `fc.assert`.
 */
import { afterAll, expect, it as vitestIt } from 'vitest';

const before = process.env.SIFT_NUM_RUNS_MAX;
process.env.SIFT_NUM_RUNS_MAX = '4';
const { fc, test } = await import('../support/fast-check-capped.js');
afterAll(() => {
  if (before === undefined) delete process.env.SIFT_NUM_RUNS_MAX;
  else process.env.SIFT_NUM_RUNS_MAX = before;
});

const calls = { many: 0, few: 0 };
test.prop([fc.integer()], { numRuns: 50 })('a property asking for 50 runs', () => {
  calls.many++;
});
test.prop([fc.integer()], { numRuns: 2 })('a property asking for 2 runs', () => {
  calls.few++;
});

vitestIt('test.prop draws min(numRuns, SIFT_NUM_RUNS_MAX) cases', () => {
  expect(calls).toEqual({ many: 4, few: 2 });
});

vitestIt('fc.assert is capped too, and fast-check’s default of 100 runs counts as asking for 100', () => {
  let n = 0;
  fc.assert(fc.property(fc.integer(), () => void n++), { numRuns: 30 });
  expect(n).toBe(4);
  n = 0;
  fc.assert(fc.property(fc.integer(), () => void n++));
  expect(n).toBe(4);
});
