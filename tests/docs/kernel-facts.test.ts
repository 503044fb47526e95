/**
 * What docs/backends.md and docs/core.md say of the kernel list, read from the source: how many unary and binary
 * kernel ops there are, and which gradient rules call a backend kernel themselves instead of other ops. The facts
 * come from the TypeScript of packages/tensor/src (the union types, and the type checker's view of each rule), so
 * the pages cannot drift from the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const tensorSrc = join(root, 'packages', 'tensor', 'src');
const doc = (name: string): string => readFileSync(join(root, 'docs', name), 'utf8');

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
const program = ts.createProgram(files(tensorSrc), { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true });
const checker = program.getTypeChecker();
const sources = program.getSourceFiles().filter((s) => s.fileName.startsWith(tensorSrc));

/** The members of the string-literal union `type NAME = 'a' | 'b' | …` wherever packages/tensor/src declares it. */
function unionMembers(name: string): string[] {
  for (const s of sources) {
    for (const st of s.statements) {
      if (ts.isTypeAliasDeclaration(st) && st.name.text === name && ts.isUnionTypeNode(st.type)) {
        return st.type.types.map((t) => {
          if (!ts.isLiteralTypeNode(t) || !ts.isStringLiteral(t.literal)) throw new Error(`${name} has a member that is not a string literal`);
          return t.literal.text;
        });
      }
    }
  }
  throw new Error(`type ${name} not found in packages/tensor/src`);
}

/** The one number `pattern` captures in `text`; a page that no longer says it fails here, naming the pattern. */
function sayIn(text: string, pattern: RegExp): number {
  const m = text.match(pattern);
  if (!m) throw new Error(`no ${pattern} in the page`);
  return Number(m[1]);
}

/** Storage, not computation: a rule may allocate its gradient's buffer and still be written "in other ops". */
const STORAGE = new Set(['name', 'info', 'init', 'alloc', 'upload', 'read', 'readSync', 'free', 'memoryStats', 'resetPeak']);

const isBackend = (node: ts.Expression): boolean => checker.getTypeAtLocation(node).getSymbol()?.getName() === 'Backend';
const isRecordCall = (n: ts.Node): n is ts.CallExpression => ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'record';
const callsRecord = (fn: ts.Node): boolean => {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (isRecordCall(n)) found = true;
    else ts.forEachChild(n, visit);
  };
  visit(fn);
  return found;
};

/**
 * The backend kernels `body` runs itself: calls on a value of type Backend, and those of the helper functions of
 * the op library it calls that are not ops (a function that records a gradient is an op: its kernels are its own).
 */
function kernelsRun(body: ts.Node, seen = new Set<ts.Node>()): Set<string> {
  const kernels = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      if (ts.isPropertyAccessExpression(callee) && isBackend(callee.expression) && !STORAGE.has(callee.name.text)) kernels.add(callee.name.text);
      const decl = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(callee) ? callee.name : callee)?.declarations?.[0];
      const local = decl && ts.isFunctionDeclaration(decl) && decl.getSourceFile().fileName.startsWith(join(tensorSrc, 'ops'));
      if (local && !seen.has(decl) && !callsRecord(decl)) {
        seen.add(decl);
        for (const k of kernelsRun(decl, seen)) kernels.add(k);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(body);
  return kernels;
}

/** The exported functions of `file` that are, or call, the top-level function `fn`: the public ops it serves. */
function publicOps(file: ts.SourceFile, fn: ts.FunctionDeclaration): string[] {
  const exported = (f: ts.FunctionDeclaration) => f.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
  if (exported(fn)) return [fn.name!.text];
  const name = fn.name!.text;
  return file.statements
    .filter((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && exported(s))
    .filter((s) => {
      let calls = false;
      const visit = (n: ts.Node): void => {
        if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === name) calls = true;
        else ts.forEachChild(n, visit);
      };
      visit(s);
      return calls;
    })
    .map((s) => s.name!.text);
}

/** Public op → the kernels its gradient rule calls itself, for every rule that calls any. */
function rulesCallingKernels(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sources.filter((s) => s.fileName.startsWith(join(tensorSrc, 'ops')))) {
    for (const st of file.statements) {
      if (!ts.isFunctionDeclaration(st) || !st.name) continue;
      const visit = (n: ts.Node): void => {
        if (isRecordCall(n) && n.arguments[3]) {
          const kernels = [...kernelsRun(n.arguments[3])].sort();
          if (kernels.length > 0) for (const op of publicOps(file, st)) found.set(op, kernels);
        }
        ts.forEachChild(n, visit);
      };
      visit(st);
    }
  }
  return found;
}

describe('the pages say what the kernel list is', () => {
  const unary = unionMembers('UnaryOp').length;
  const binary = unionMembers('BinaryOp').length;

  it('docs/backends.md counts the unary and binary kernel ops the Backend takes', () => {
    const page = doc('backends.md');
    expect(sayIn(page, /`unary\(op, x\)` \((\d+) ops\)/), 'unary').toBe(unary);
    expect(sayIn(page, /`binary\(op, a, b\)` \((\d+) ops/), 'binary').toBe(binary);
  });

  it('docs/core.md counts them too', () => {
    const page = doc('core.md');
    expect(sayIn(page, /`unary` ×(\d+)/), 'unary').toBe(unary);
    expect(sayIn(page, /`binary` ×(\d+)/), 'binary').toBe(binary);
  });

  it('docs/core.md lists every gradient rule that calls a kernel itself, with the kernels, and no other', () => {
    const section = doc('core.md').split('## Ops and gradients')[1]?.split('\n## ')[0] ?? '';
    // The table's rows: | `op`, `op` | `kernel`, `kernel` |
    const listed = new Map<string, string[]>();
    for (const row of section.matchAll(/^\| ((?:`\w+`(?:, )?)+) \| ((?:`\w+`(?:, )?)+) \|$/gm)) {
      const names = (cell: string) => [...cell.matchAll(/`(\w+)`/g)].map((m) => m[1]);
      for (const op of names(row[1])) listed.set(op, names(row[2]).sort());
    }
    const inCode = rulesCallingKernels();
    expect(inCode.size).toBeGreaterThan(0); // the scan sees the rules (norm, softmax, … call kernels today)
    expect(Object.fromEntries([...listed].sort())).toEqual(Object.fromEntries([...inCode].sort()));
  });
});
