import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The layout every backend package keeps (issue 18): each kernel of the Backend contract in a file named after
 * it, `src/kernels/<method>.ts`, and `src/backend.ts` a delegation table: the table of kernels it hands to
 * `delegateKernels` (@siftjs/tensor), each entry the function of the method's name imported from that file. The list of kernels is read from the contract's own source, so a kernel
 * added to the contract is a file missing from every backend until it is written.
 */

const root = join(__dirname, '..', '..');
const CONTRACT = join(root, 'packages', 'tensor', 'src', 'backend', 'backend.ts');

export interface ContractMethod {
  name: string;
  /** The `// ---- section ----` it is declared under; 'identity' before the first. */
  section: string;
  optional: boolean;
}

/** Sections of the contract that are a backend's plumbing rather than kernels: its identity and its storage. */
export const PLUMBING_SECTIONS: ReadonlySet<string> = new Set(['identity', 'storage']);

/** Every method the Backend interface declares, in order, with its section. */
export function contractMethods(source = readFileSync(CONTRACT, 'utf8')): ContractMethod[] {
  const file = ts.createSourceFile(CONTRACT, source, ts.ScriptTarget.Latest, true);
  const backend = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Backend');
  if (!backend) throw new Error(`${CONTRACT}: no interface Backend`);
  const methods: ContractMethod[] = [];
  let section = 'identity';
  for (const member of backend.members) {
    for (const range of ts.getLeadingCommentRanges(source, member.getFullStart()) ?? []) {
      const marker = /^\/\/\s*-{2,}\s*(.+?)\s*-{2,}/.exec(source.slice(range.pos, range.end));
      if (marker) section = marker[1];
    }
    if (ts.isMethodSignature(member) && ts.isIdentifier(member.name)) {
      methods.push({ name: member.name.text, section, optional: member.questionToken !== undefined });
    }
  }
  return methods;
}

/** The contract's kernels: its methods outside the plumbing sections. */
export function contractKernels(source?: string): ContractMethod[] {
  return contractMethods(source).filter((m) => !PLUMBING_SECTIONS.has(m.section));
}

/**
 * The kernels of the contract with no `src/kernels/<method>.ts` in the backend package at `packageDir`; an optional
 * kernel counts only where the backend delegates it (CUDA and WebGPU leave `sampledMatmul` out).
 */
export function missingKernelFiles(packageDir: string, kernels = contractKernels()): string[] {
  const delegated = delegations(packageDir);
  return kernels
    .filter((k) => !k.optional || delegated.has(k.name))
    .map((k) => k.name)
    .filter((name) => !existsSync(join(packageDir, 'src', 'kernels', `${name}.ts`)));
}

/** How src/backend.ts hands one contract method on: the function it calls and the module that function is from. */
export interface Delegation {
  /** 'table': an entry of the kernel table given to `delegateKernels`; 'method': a method of the class. */
  via: 'table' | 'method';
  /** The function called: the entry's value, or the one call a method's body makes (undefined if it is not that). */
  callee: string | undefined;
  /** The module `callee` is imported from. */
  from: string | undefined;
}

/**
 * Every method src/backend.ts delegates, by name: the entries of its kernel table (the object passed, directly or
 * through a `const`, as the last argument of `delegateKernels(...)`, written `{ softmax, ... }` or
 * `{ softmax: fn }`) and the methods of its class that implements Backend.
 */
export function delegations(packageDir: string): Map<string, Delegation> {
  const path = join(packageDir, 'src', 'backend.ts');
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const imported = new Map<string, string>();
  const constants = new Map<string, ts.Expression>();
  for (const s of file.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const bindings = s.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) imported.set(e.name.text, s.moduleSpecifier.text);
    }
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) constants.set(d.name.text, d.initializer);
    }
  }
  const found = new Map<string, Delegation>();
  const entry = (via: Delegation['via'], callee: string | undefined) => ({ via, callee, from: callee === undefined ? undefined : imported.get(callee) });
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'delegateKernels' && node.arguments.length > 0) {
      let table: ts.Expression = node.arguments[node.arguments.length - 1];
      if (ts.isIdentifier(table)) table = constants.get(table.text) ?? table;
      while (ts.isSatisfiesExpression(table) || ts.isAsExpression(table) || ts.isParenthesizedExpression(table)) table = table.expression;
      if (ts.isObjectLiteralExpression(table)) {
        for (const p of table.properties) {
          if (ts.isShorthandPropertyAssignment(p)) found.set(p.name.text, entry('table', p.name.text));
          else if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) found.set(p.name.text, entry('table', ts.isIdentifier(p.initializer) ? p.initializer.text : undefined));
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  const backend = file.statements.find(
    (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && (s.heritageClauses?.some((h) => h.types.some((t) => t.expression.getText() === 'Backend')) ?? false),
  );
  for (const m of backend?.members ?? []) {
    if (!ts.isMethodDeclaration(m) || !ts.isIdentifier(m.name)) continue;
    const body = m.body?.statements ?? [];
    const only = body.length === 1 ? body[0] : undefined;
    const call = only && (ts.isReturnStatement(only) ? only.expression : ts.isExpressionStatement(only) ? only.expression : undefined);
    found.set(m.name.text, entry('method', call && ts.isCallExpression(call) && ts.isIdentifier(call.expression) ? call.expression.text : undefined));
  }
  return found;
}

/**
 * The contract methods (`kernels`, by default every kernel of the contract) that src/backend.ts does not hand to
 * the function of the same name imported from './kernels/<name>.js': an entry of its kernel table, or a class
 * method whose body is one call of that function. Returns one line per offence; an optional method the backend
 * leaves out is not one.
 */
export function delegationFaults(packageDir: string, kernels: readonly ContractMethod[] = contractKernels()): string[] {
  const path = join(packageDir, 'src', 'backend.ts');
  const delegated = delegations(packageDir);
  const faults: string[] = [];
  for (const k of kernels) {
    const d = delegated.get(k.name);
    if (!d) {
      if (!k.optional) faults.push(`${k.name}: neither in the kernel table nor a method in ${path}`);
      continue;
    }
    if (d.callee !== k.name || d.from !== `./kernels/${k.name}.js`) {
      faults.push(`${k.name}: ${d.via === 'table' ? 'its table entry is not' : 'its body is not one call of'} ${k.name} from './kernels/${k.name}.js'`);
    }
  }
  return faults;
}
