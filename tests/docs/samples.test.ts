/**
 * Every ```ts block in docs/**\/*.md runs here, so the documentation cannot drift from the code. Each block is
 * written to tests/docs/.samples/<pid>/ (ignored by git), imported, and type-checked; a block that throws or
 * does not type-check fails with its file and line. A block fenced as ```ts skip is type-checked but not run —
 * for the few samples that need files or minutes. ```sh and other blocks are neither. Relative links in the docs
 * must point to files, and headings, that exist.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const docsDir = join(root, 'docs');
const samplesDir = join(root, 'tests', 'docs', '.samples');
/** One folder per process, so two test runs in the same checkout do not delete each other's files. */
const outDir = join(samplesDir, String(process.pid));
/** The line written above each sample, so the file says where it came from. */
const HEADER_LINES = 1;

interface Sample {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  skip: boolean;
  /** Where the sample is written. */
  path: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return markdownFiles(path);
      return name.endsWith('.md') ? [path] : [];
    });
}

/** The TypeScript blocks of one markdown text. Fences follow CommonMark: ``` or ~~~, closed by a run at least as long. */
function extractSamples(markdown: string, file: string): Sample[] {
  const samples: Sample[] = [];
  let open: { fence: string; line: number; info: string; body: string[] } | null = null;
  for (const [i, text] of markdown.split('\n').entries()) {
    if (!open) {
      const m = /^ {0,3}(`{3,}|~{3,})\s*([^`]*)$/.exec(text);
      if (m) open = { fence: m[1], line: i + 1, info: m[2].trim(), body: [] };
      continue;
    }
    const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text);
    if (close && close[1][0] === open.fence[0] && close[1].length >= open.fence.length) {
      const [lang, ...rest] = open.info.split(/\s+/);
      if (lang === 'ts' || lang === 'typescript') {
        const name = `${file.replace(/^docs\//, '').replace(/[^A-Za-z0-9]+/g, '-')}-L${open.line}.ts`;
        samples.push({ file, line: open.line, code: open.body.join('\n'), skip: rest.includes('skip'), path: join(outDir, name) });
      }
      open = null;
      continue;
    }
    open.body.push(text);
  }
  if (open) throw new Error(`${file}:${open.line}: a code fence is never closed`);
  return samples;
}

const samples = markdownFiles(docsDir).flatMap((path) =>
  extractSamples(readFileSync(path, 'utf8'), relative(root, path).split(sep).join('/')),
);
const runnable = samples.filter((s) => !s.skip);

/** Type errors in the samples, each as "docs/FILE.md:LINE: message", with the root tsconfig's options. */
function typeErrors(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.json could not be read');
  const byPath = new Map(samples.map((s) => [ts.sys.resolvePath(s.path), s]));
  const program = ts.createProgram({ rootNames: samples.map((s) => s.path), options: { ...config.options, noEmit: true } });
  return ts.getPreEmitDiagnostics(program).flatMap((d) => {
    const s = d.file && byPath.get(ts.sys.resolvePath(d.file.fileName));
    if (!s || !d.file || d.start === undefined) return [];
    const { line } = d.file.getLineAndCharacterOfPosition(d.start); // 0-based, header included
    return [`${s.file}:${s.line + line + 1 - HEADER_LINES}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Links to files (and headings) that do not exist, as "docs/FILE.md:LINE: target". */
function brokenLinks(): string[] {
  const broken: string[] = [];
  for (const path of markdownFiles(docsDir)) {
    const file = relative(root, path).split(sep).join('/');
    let fenced = false;
    for (const [i, text] of readFileSync(path, 'utf8').split('\n').entries()) {
      if (/^ {0,3}(`{3,}|~{3,})/.test(text)) fenced = !fenced;
      if (fenced) continue;
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [rel, anchor] = target.split('#');
        const to = rel ? join(dirname(path), rel) : path;
        const ok = existsSync(to) && (!anchor || !to.endsWith('.md') || headings(to).has(anchor));
        if (!ok) broken.push(`${file}:${i + 1}: ${target}`);
      }
    }
  }
  return broken;
}

function headings(path: string): Set<string> {
  return new Set(readFileSync(path, 'utf8').split('\n').flatMap((l) => (/^#{1,6} /.test(l) ? [slug(l.replace(/^#+ /, ''))] : [])));
}

describe('documentation', () => {
  beforeAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    for (const s of samples) writeFileSync(s.path, `// ${s.file}:${s.line}, written by tests/docs/samples.test.ts\n${s.code}\n`);
  });
  afterAll(() => {
    if (process.env.SIFT_DOCS_KEEP) return;
    rmSync(outDir, { recursive: true, force: true });
    try {
      rmdirSync(samplesDir); // only when no other run is using it
    } catch {
      // another run's folder is still there
    }
  });

  it('the docs hold runnable samples, and skipped ones are few', () => {
    expect(runnable.length).toBeGreaterThan(20);
    expect(samples.length - runnable.length).toBeLessThanOrEqual(5);
  });

  it('every relative link points to an existing file and heading', () => {
    expect(brokenLinks()).toEqual([]);
  });

  it.each(runnable.map((s) => [`${s.file}:${s.line}`, s] as const))('%s runs', async (_, s) => {
    const logged: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(format(...args)));
    const start = performance.now();
    try {
      await import(pathToFileURL(s.path).href);
    } catch (e) {
      const err = e as Error;
      throw new Error(`${s.file}:${s.line}: the sample throws: ${err.stack ?? err.message}\nits console.log output:\n${logged.join('\n')}`, { cause: e });
    } finally {
      log.mockRestore();
    }
    if (process.env.SIFT_DOCS_VERBOSE) {
      process.stdout.write(`--- ${s.file}:${s.line} (${((performance.now() - start) / 1000).toFixed(2)} s)\n${logged.join('\n')}\n`);
    }
  });

  it('every sample, skipped ones included, type-checks', { timeout: 180_000 }, () => {
    const errors = typeErrors();
    if (errors.length) throw new Error(`type errors in the docs' samples:\n${errors.join('\n')}`);
  });
});
