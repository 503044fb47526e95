/**
 * '@fast-check/vitest' with every property's numRuns capped at SIFT_NUM_RUNS_MAX: vitest.config.ts aliases the package
 * here only when that variable is set (`npm run gpu:verify` sets it, to fit the parity suite into minutes of GPU
 * time). The properties, their generators and their seeds are unchanged; only how many cases each one draws.
 * Both `test.prop(arbs, params)` (and its modifiers: test.skip.prop…) and a direct `fc.assert(property, params)` are
 * capped.
 */
import * as realFc from 'fast-check';
// The package's own file, by path: the bare name is aliased to this module.
import { it as realIt, test as realTest } from '../../node_modules/@fast-check/vitest/lib/vitest-fast-check.js';

const max = Number(process.env.SIFT_NUM_RUNS_MAX);
if (!Number.isInteger(max) || max < 1) throw new Error(`SIFT_NUM_RUNS_MAX must be a positive integer, got '${process.env.SIFT_NUM_RUNS_MAX}'`);

/** fast-check's default is 100 runs; a property asking for fewer than the cap keeps its own number. */
function capped<P extends { numRuns?: number } | undefined>(params: P): P {
  return { ...params, numRuns: Math.min(params?.numRuns ?? 100, max) } as P;
}

/** The same builder, with `.prop` wrapped at every depth (test.prop, test.skip.prop, test.concurrent.prop…). */
function withCappedProp<T extends object>(builder: T): T {
  return new Proxy(builder, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (key === 'prop' && typeof v === 'function') return (arbs: unknown, params?: { numRuns?: number }) => v.call(target, arbs, capped(params));
      return (typeof v === 'function' || (typeof v === 'object' && v !== null)) && key !== 'prototype' ? withCappedProp(v) : v;
    },
  });
}

export const test: typeof realTest = withCappedProp(realTest);
export const it: typeof realIt = withCappedProp(realIt);
export const fc: typeof realFc = { ...realFc, assert: ((property: never, params?: { numRuns?: number }) => realFc.assert(property, capped(params))) as typeof realFc.assert };
