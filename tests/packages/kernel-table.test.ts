import { type BackendStorage, type DType, delegateKernels } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';

/** packages/tensor/src/backend/kernel-table.ts: what every backend's src/backend.ts builds its kernel methods with. */
describe('delegateKernels', () => {
  class State {
    calls: unknown[][] = [];
  }
  const fill = (s: State, dtype: DType, size: number, value: number): BackendStorage => {
    s.calls.push(['fill', dtype, size, value]);
    return { size };
  };
  const free = (s: State, storage: BackendStorage): void => void s.calls.push(['free', storage]);

  class Fake {
    private readonly state = new State();
    get calls() {
      return this.state.calls;
    }
    static {
      delegateKernels(Fake, (b) => b.state, { fill, free });
    }
  }
  const methods = (b: Fake) => b as Fake & { fill: (...a: unknown[]) => unknown; free: (...a: unknown[]) => unknown };

  it("each method calls its kernel on the instance's own state with the method's arguments, and returns its result", () => {
    const a = methods(new Fake());
    const b = methods(new Fake());
    const out = a.fill('int32', 3, 7);
    a.free(out);
    b.fill('float32', 1, 0);
    expect(out).toEqual({ size: 3 });
    expect(a.calls).toEqual([['fill', 'int32', 3, 7], ['free', out]]);
    expect(b.calls).toEqual([['fill', 'float32', 1, 0]]);
  });

  it('the methods sit on the prototype as a class’s own would: named, not enumerable, found by `in`', () => {
    const d = Object.getOwnPropertyDescriptor(Fake.prototype, 'fill');
    expect(d?.enumerable).toBe(false);
    expect((d?.value as { name: string }).name).toBe('fill');
    expect('free' in new Fake()).toBe(true);
    expect(Object.keys(new Fake())).toEqual(['state']);
  });
});
