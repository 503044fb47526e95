import type { Ref } from './core.js';

/**
 * ∂f/∂x for every element of every input, by central differences (f(x + h) − f(x − h)) / 2h. f is called on
 * private copies of the inputs (one element nudged at a time), so the caller's data is never mutated.
 */
export function numericGrad(f: (inputs: Ref[]) => number, inputs: Ref[], h = 1e-6): Ref[] {
  if (!(h > 0)) throw new Error(`numericGrad: step ${h} must be positive`);
  const work: Ref[] = inputs.map((r) => ({ shape: [...r.shape], data: r.data.slice() }));
  return work.map((x) => {
    const g = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i];
      x.data[i] = v + h;
      const up = f(work);
      x.data[i] = v - h;
      const down = f(work);
      x.data[i] = v;
      g[i] = (up - down) / (2 * h);
    }
    return { shape: [...x.shape], data: g };
  });
}
