import type { Ref } from './core.js';

/** ∂f/∂x for every element of every input, by central differences (f(x + h) − f(x − h)) / 2h. */
export function numericGrad(f: (inputs: Ref[]) => number, inputs: Ref[], h = 1e-6): Ref[] {
  const work = inputs.map((r) => ({ shape: [...r.shape], data: r.data.slice() }));
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
