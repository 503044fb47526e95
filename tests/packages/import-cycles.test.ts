import { join, sep } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type ImportGraph, importCycles, packageSourceGraph, showCycle, specifiersOf } from '../support/import-graph.js';

const root = join(__dirname, '..', '..');

/** Whether `cycle` is a closed walk of `graph`: each step an edge, ending where it began. */
const isClosedWalk = (graph: ImportGraph, cycle: string[]): boolean =>
  cycle.length >= 2 && cycle[0] === cycle.at(-1) && cycle.slice(1).every((to, i) => (graph.get(cycle[i]) ?? []).includes(to));

/**
 * The one knot allowed: the Tensor class and the op library. Tensor's methods call the ops (`x.matmul(y)`), the
 * ops make Tensors, and a gradient rule is written in other ops (sum's gradient expands, expand's sums), as in
 * PyTorch. Every other import is one way.
 */
const TENSOR_SRC = join(root, 'packages', 'tensor', 'src');
const inOpLibrary = (file: string): boolean => file === join(TENSOR_SRC, 'tensor.ts') || file.startsWith(join(TENSOR_SRC, 'ops') + sep);

/** `graph` without the files `drop` names, nor the imports of them. */
const without = (graph: ImportGraph, drop: (file: string) => boolean): ImportGraph =>
  new Map([...graph].filter(([v]) => !drop(v)).map(([v, ws]) => [v, ws.filter((w) => !drop(w))]));

describe('import cycles', () => {
  const graph = packageSourceGraph(join(root, 'packages'));

  it('no file of packages/*/src imports itself back through any chain of imports (type-only and cross-package included) but through the op library', () => {
    expect(graph.size).toBeGreaterThan(100); // the sources were found
    expect(importCycles(without(graph, inOpLibrary)).map((c) => showCycle(root, c))).toEqual([]);
  });

  it('the op library’s own cycles stay inside packages/tensor/src', () => {
    const leaving = importCycles(graph).filter((c) => c.some((f) => !f.startsWith(TENSOR_SRC + sep)));
    expect(leaving.map((c) => showCycle(root, c))).toEqual([]);
  });

  it('every form of import is an edge', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import './c.js';",
      "export { d } from './d.js';",
      "export * from './e.js';",
      "export type { F } from './f.js';",
      "const g = await import('./g.js');",
      "let h: import('./h.js').H;",
      "import { type I } from '@siftjs/tensor';",
    ].join('\n');
    expect(specifiersOf('x.ts', text)).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js', '@siftjs/tensor']);
  });

  it('finds one cycle, a shortest, in each tangle of a hand-made graph; none in the chain beside them', () => {
    const graph: ImportGraph = new Map([
      ['compare', ['report', 'fit']],
      ['report', ['table', 'compare']],
      ['table', ['compare']],
      ['fit', ['log']],
      ['log', []],
      ['self', ['self']],
      ['x', ['y']],
      ['y', ['z']],
      ['z', ['x', 'log']],
    ]);
    const cycles = importCycles(graph);
    // compare, report and table form one tangle; its shortest cycle from compare is the two-file one.
    expect(cycles.map((c) => c.join(' → ')).sort()).toEqual(['compare → report → compare', 'self → self', 'x → y → z → x']);
    for (const c of cycles) expect(isClosedWalk(graph, c), c.join(' → ')).toBe(true);
  });

  /** A random graph on n files: edges from a lower to a higher number (a DAG), plus optional back edges. */
  const graphArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      forward: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 30 }),
      back: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 }),
    }),
  );

  test.prop([graphArb])('a cycle is reported exactly when the graph has one (checked by repeatedly removing files nothing imports)', ({ n, forward, back }) => {
    const edges = [...forward.map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const).filter(([a, b]) => a !== b), ...back.map(([a, b]) => [Math.max(a, b), Math.min(a, b)] as const)];
    const graph: ImportGraph = new Map(Array.from({ length: n }, (_, i) => [String(i), [] as string[]]));
    for (const [a, b] of edges) graph.get(String(a))!.push(String(b));
    // Kahn's algorithm, independent of Tarjan's: a graph is acyclic iff peeling off the files no one imports empties it.
    const importers = new Map([...graph.keys()].map((v) => [v, 0]));
    for (const ws of graph.values()) for (const w of ws) importers.set(w, importers.get(w)! + 1);
    const free = [...graph.keys()].filter((v) => importers.get(v) === 0);
    let peeled = 0;
    while (free.length > 0) {
      const v = free.pop()!;
      peeled++;
      for (const w of graph.get(v)!) if (importers.set(w, importers.get(w)! - 1).get(w) === 0) free.push(w);
    }
    const cycles = importCycles(graph);
    expect(cycles.length > 0).toBe(peeled < n);
    for (const c of cycles) expect(isClosedWalk(graph, c), c.join(' → ')).toBe(true);
  });
});
