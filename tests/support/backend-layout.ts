import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The layout every backend package keeps (issue 18): each kernel of the Backend contract in a file named after
 * it, `src/kernels/<method>.ts`, and `src/backend.ts` a delegation table whose kernel methods each forward to the
 * function of the same name in that file. The list of kernels is read from the contract's own source, so a kernel
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
 * kernel counts only where the backend's class declares it (CUDA and WebGPU leave `sampledMatmul` out).
 */
export function missingKernelFiles(packageDir: string, kernels = contractKernels()): string[] {
  const backend = readFileSync(join(packageDir, 'src', 'backend.ts'), 'utf8');
  return kernels
    .filter((k) => !k.optional || new RegExp(`^\\s+${k.name}\\(`, 'm').test(backend))
    .map((k) => k.name)
    .filter((name) => !existsSync(join(packageDir, 'src', 'kernels', `${name}.ts`)));
}

/**
 * The kernel methods of the class in `src/backend.ts` that are not a delegation to their own file: each must be
 * one statement calling (or returning the call of) the function `name` imported from './kernels/<name>.js'.
 * Returns one line per offence; an optional kernel the backend leaves out is not one.
 */
export function delegationFaults(packageDir: string, kernels = contractKernels()): string[] {
  const path = join(packageDir, 'src', 'backend.ts');
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const imported = new Map<string, string>();
  for (const s of file.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    const bindings = s.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) imported.set(e.name.text, s.moduleSpecifier.text);
  }
  const classes = file.statements.filter((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s));
  const backend = classes.find((c) => c.heritageClauses?.some((h) => h.types.some((t) => t.expression.getText() === 'Backend')));
  if (!backend) return [`${path}: no class implements Backend`];
  const faults: string[] = [];
  for (const k of kernels) {
    const method = backend.members.find((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText() === k.name);
    if (!method) {
      if (!k.optional) faults.push(`${k.name}: no method in ${path}`);
      continue;
    }
    const body = method.body?.statements ?? [];
    const only = body.length === 1 ? body[0] : undefined;
    const call = only && (ts.isReturnStatement(only) ? only.expression : ts.isExpressionStatement(only) ? only.expression : undefined);
    const callee = call && ts.isCallExpression(call) && ts.isIdentifier(call.expression) ? call.expression.text : undefined;
    if (callee !== k.name || imported.get(callee) !== `./kernels/${k.name}.js`) {
      faults.push(`${k.name}: its body is not one call of ${k.name} from './kernels/${k.name}.js'`);
    }
  }
  return faults;
}
