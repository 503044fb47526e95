import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** File → the files it imports (type-only imports and `export … from` included: a cycle of types is a cycle). */
export type ImportGraph = Map<string, string[]>;

/** Every module specifier a TypeScript file names: import/export declarations, `import()` and `import('x').T`. */
export function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFilesUnder(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** A relative specifier as the file it names: `./x.js` is `./x.ts` in the sources, `./dir` its index. */
function resolveRelative(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts'), base];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

/**
 * The import graph of `packages/<name>/src` for every workspace package under `packagesDir`. A relative import
 * is an edge to its file; `@siftjs/<name>` an edge to that package's `src/index.ts` (the "source" condition), so
 * a cycle through two packages shows too. Other packages (node:, npm) are leaves and left out.
 */
export function packageSourceGraph(packagesDir: string): ImportGraph {
  const entries = new Map<string, string>();
  for (const dir of readdirSync(packagesDir)) {
    const pkgJson = join(packagesDir, dir, 'package.json');
    if (!existsSync(pkgJson)) continue;
    const { name } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { name: string };
    entries.set(name, join(packagesDir, dir, 'src', 'index.ts'));
  }
  const graph: ImportGraph = new Map();
  for (const entry of entries.values()) {
    for (const file of tsFilesUnder(dirname(entry))) {
      const targets = specifiersOf(file, readFileSync(file, 'utf8')).flatMap((spec) => {
        const target = spec.startsWith('.') ? resolveRelative(file, spec) : entries.get(spec.split('/').slice(0, 2).join('/'));
        return target ? [target] : [];
      });
      graph.set(file, [...new Set(targets)]);
    }
  }
  return graph;
}

/**
 * Every import cycle, one per strongly connected component (Tarjan's algorithm), each as a path that returns to
 * its first file: `[a, b, a]`. A file that imports itself is a cycle of one.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return components.map((c) => cycleWithin(graph, new Set(c)));
}

/** A shortest path from the component's first file (by name) back to itself, inside the component. */
function cycleWithin(graph: ImportGraph, component: Set<string>): string[] {
  const start = [...component].sort()[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = cameFrom.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(w)) {
        cameFrom.set(w, v);
        queue.push(w);
      }
    }
  }
  throw new Error(`no cycle through ${start} inside its component`); // unreachable for a strongly connected set
}

/** A cycle as one line of paths relative to `root`. */
export const showCycle = (root: string, cycle: string[]): string => cycle.map((f) => relative(root, f)).join(' → ');
