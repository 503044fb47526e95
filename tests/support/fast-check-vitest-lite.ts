import * as fc from 'fast-check';
import { test as vitestTest } from 'vitest';

/**
 * `npm run mutate` only (vitest.mutate.config.ts aliases '@fast-check/vitest' here): the `test.prop` of
 * @fast-check/vitest — one vitest test that asserts the property, named with its seed — without the cost of importing
 * that package, which builds every chain of vitest's test modifiers (2 s each time a test file is imported, and
 * Stryker imports the test files again for every mutant). The tests under tests/sift use `test.prop` alone and no
 * beforeEach/afterEach hooks, which @fast-check/vitest would re-run around every generated case.
 */
type Prop = (...values: never[]) => unknown;

function prop(arbitraries: fc.Arbitrary<unknown>[] | Record<string, fc.Arbitrary<unknown>>, params?: fc.Parameters<unknown>) {
  return (name: string, body: Prop, timeout?: number) => {
    // The seed is in the name, as @fast-check/vitest has it; vitest.mutate.setup.ts fixes it (fc.configureGlobal), so
    // the names Stryker records in its first run are the names of every later run.
    const seed = params?.seed ?? fc.readConfigureGlobal().seed ?? (Date.now() ^ (Math.random() * 4294967296));
    // As fast-check reads a property's result: false fails it, anything else (an expect that did not throw) passes.
    const run = async (values: unknown[]): Promise<boolean | void> => ((await (body as (...v: unknown[]) => unknown)(...values)) === false ? false : undefined);
    const property = Array.isArray(arbitraries)
      ? fc.asyncProperty(...(arbitraries as [fc.Arbitrary<unknown>]), (...values: unknown[]) => run(values))
      : fc.asyncProperty(fc.record(arbitraries), (value) => run([value]));
    vitestTest(`${name} (with seed=${seed})`, () => fc.assert(property as fc.IAsyncProperty<unknown>, { ...params, seed }), timeout);
  };
}

export const test = Object.assign((...args: Parameters<typeof vitestTest>) => vitestTest(...args), { prop });
export const it = test;
export { fc };
