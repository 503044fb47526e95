import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAvailable as cudaAvailable } from '@siftjs/backend-cuda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBadInputFixtures } from './bad-input-fixtures.js';
import { runSift, type SiftRun } from './run-sift.js';

/**
 * Bad input, as a careless user or an adversary gives it, to every command of the built `sift`: each case must end
 * with exit code 2 and exactly one line on stderr that names the offending input — no stack trace, and no hang (a
 * case still running at the deadline is killed and fails). The fixtures (broken models, data, deltas, FIFOs) are
 * in bad-input-fixtures.ts. Cases run side by side in their own processes; most fail before any model loads.
 */

interface Case {
  /** The command line after `sift`. */
  args: string[];
  /** What the one line must contain: the flag, file or config field at fault. */
  names: string | RegExp;
  stdin?: 'endless';
  env?: Record<string, string>;
}

const DEADLINE_MS = 30_000;
const F = ['finetune', '--model', 'model', '--data', 'mails.jsonl', '--out', 'o', '--max-length', '16'];
const E = ['eval', '--model', 'model', '--data', 'mails.jsonl', '--max-length', '16'];
const G = ['generate', '--model', 'model', '--prompt', 'free money', '--max-new-tokens', '4'];
const M = ['merge', '--base', 'model', '--delta', 'delta.safetensors', '--out', 'merged'];
const A = ['analyze', '--model', 'model', '--data', 'mails.jsonl', '--out', 'an', '--batches', '1', '--max-length', '16'];
const P = ['pretrain', '--out', 'pt', '--vocab-size', '300', '--layers', '1', '--width', '16', '--heads', '2', '--context', '16', '--steps', '1'];
const C = ['compare', '--model', 'model', '--out', 'cmp', '--epochs', '1', '--max-length', '16'];

/** `base` with each `--flag value` pair replaced (or added). */
function set(base: string[], ...pairs: string[]): string[] {
  const out = [...base];
  for (let i = 0; i < pairs.length; i += 2) {
    const at = out.indexOf(pairs[i]);
    if (at >= 0) out[at + 1] = pairs[i + 1];
    else out.push(pairs[i], pairs[i + 1]);
  }
  return out;
}

/** The output directories the command lines name: each case gets its own, so no case sees another's leftovers. */
const OUTS = new Set(['o', 'merged', 'an', 'pt', 'cmp']);

const cudaHere = cudaAvailable().available;

const CASES: Case[] = [
  // finetune: flags out of range or of the wrong type
  { args: set(F, '--density', '0'), names: '--density' },
  { args: set(F, '--density', '2'), names: '--density' },
  { args: set(F, '--density', '-0.5'), names: '--density' },
  { args: set(F, '--density', 'lots'), names: '--density' },
  { args: set(F, '--lr', '-1'), names: '--lr' },
  { args: set(F, '--lr', '0'), names: '--lr' },
  { args: set(F, '--lr', 'Infinity'), names: '--lr' },
  { args: set(F, '--epochs', '0'), names: '--epochs' },
  { args: set(F, '--epochs', '1.5'), names: '--epochs' },
  { args: set(F, '--batch-size', '0'), names: '--batch-size' },
  { args: set(F, '--held-out', '0'), names: '--held-out' },
  { args: set(F, '--held-out', '1'), names: '--held-out' },
  { args: set(F, '--max-length', '0'), names: '--max-length' },
  { args: set(F, '--seed', '-1'), names: '--seed' },
  { args: set(F, '--method', 'lora', '--lora-rank', '0'), names: '--lora-rank' },
  { args: set(F, '--method', 'magic'), names: 'magic' },
  { args: set(F, '--task', 'translation'), names: 'translation' },
  { args: set(F, '--backend', 'tpu'), names: 'tpu' },
  { args: set(F, '--dtype', 'fp8'), names: "--dtype 'fp8'" },
  { args: set(E, '--dtype', 'half'), names: "--dtype 'half'" },
  { args: set(G, '--dtype', 'float64'), names: "--dtype 'float64'" },
  { args: set(F, '--stop-after', '0'), names: '--stop-after' },
  { args: set(F, '--text-field', 'body'), names: 'body' },
  { args: set(F, '--data', 'long.jsonl', '--max-length', '64'), names: '--max-length' },
  { args: [...F, '--resume'], names: /o-\d+\/checkpoint/ },
  // --gradient-checkpointing is a switch: a value given to it is refused, naming it
  { args: [...F, '--gradient-checkpointing=yes'], names: '--gradient-checkpointing' },
  // finetune: data files
  { args: set(F, '--data', 'missing.jsonl'), names: 'missing.jsonl' },
  { args: set(F, '--data', 'datadir.jsonl'), names: 'datadir.jsonl' },
  { args: set(F, '--data', 'fifo.jsonl'), names: 'fifo.jsonl' },
  { args: set(F, '--data', 'zero.jsonl'), names: 'zero.jsonl' },
  { args: set(F, '--data', 'stdin.jsonl'), names: 'stdin.jsonl', stdin: 'endless' },
  { args: set(F, '--data', 'huge.jsonl'), names: 'huge.jsonl' },
  { args: set(F, '--data', 'notes.txt'), names: 'notes.txt' },
  { args: set(F, '--data', 'malformed.jsonl'), names: 'malformed.jsonl' },
  { args: set(F, '--data', 'ragged.csv'), names: 'ragged.csv' },
  { args: set(F, '--data', 'onelabel.jsonl'), names: 'onelabel.jsonl' },
  { args: set(F, '--data', 'empty.jsonl'), names: 'empty.jsonl' },
  // finetune: model directories
  { args: set(F, '--model', 'nowhere'), names: 'nowhere' },
  { args: set(F, '--model', 'afile'), names: 'afile' },
  { args: set(F, '--model', 'm-nhead0'), names: 'n_head' },
  { args: set(F, '--model', 'm-act'), names: 'activation_function' },
  { args: set(F, '--model', 'm-div'), names: 'n_head' },
  { args: set(F, '--model', 'm-type'), names: 'gpt5' },
  { args: set(F, '--model', 'm-vocab'), names: 'm-vocab' },
  { args: set(F, '--model', 'm-cfgjson'), names: 'm-cfgjson/config.json' },
  { args: set(F, '--model', 'm-cfgdir'), names: 'm-cfgdir/config.json' },
  { args: set(F, '--model', 'm-cfgfifo'), names: 'm-cfgfifo/config.json' },
  { args: set(F, '--model', 'm-tokfifo'), names: 'm-tokfifo/tokenizer.json' },
  { args: set(F, '--model', 'm-noweights'), names: 'm-noweights' },
  { args: set(F, '--model', 'm-garbage'), names: 'm-garbage/model.safetensors' },
  // finetune: where it writes
  { args: set(F, '--out', '/proc/x'), names: '/proc/x' },
  { args: set(F, '--out', 'afile'), names: 'afile' },
  { args: set(F, '--out', 'afile/sub'), names: 'afile' },
  { args: set(F, '--out', '/proc'), names: '/proc' },
  { args: set(F, '--out', 'loop/x'), names: 'loop/x' },
  { args: set(F, '--model', 'm-shardfifo'), names: 'fifo.safetensors' },

  // eval
  { args: set(E, '--task', 'foo'), names: 'foo' },
  { args: set(E, '--batch-size', '0'), names: '--batch-size' },
  { args: set(E, '--data', 'missing.jsonl'), names: 'missing.jsonl' },
  { args: set(E, '--model', 'm-act'), names: 'activation_function' },
  { args: set(E, '--delta', 'missing.safetensors'), names: 'missing.safetensors' },
  { args: set(E, '--delta', 'deltadir.safetensors'), names: 'deltadir.safetensors' },
  { args: set(E, '--delta', 'fifo.safetensors'), names: 'fifo.safetensors' },
  { args: set(E, '--delta', 'other-delta.safetensors'), names: 'other-delta.safetensors' },
  { args: set(E, '--delta', 'unknown-delta.safetensors'), names: 'unknown-delta.safetensors' },
  { args: set(E, '--delta', 'wrongbase-delta.safetensors'), names: 'wrongbase-delta.safetensors' },
  { args: set(E, '--delta', 'i8-delta.safetensors'), names: 'i8-delta.safetensors' },
  { args: set(E, '--delta', 'garbage.safetensors'), names: 'garbage.safetensors' },
  { args: set(E, '--delta', 'model/model.safetensors'), names: 'model/model.safetensors' },

  // generate
  { args: set(G, '--prompt', ''), names: '--prompt' },
  { args: set(G, '--max-new-tokens', '0'), names: '--max-new-tokens' },
  { args: set(G, '--max-new-tokens', '100000'), names: '--max-new-tokens' },
  { args: set(G, '--temperature', '-1'), names: '--temperature' },
  { args: set(G, '--top-k', '0'), names: '--top-k' },
  { args: set(G, '--delta', 'missing.safetensors'), names: 'missing.safetensors' },
  { args: set(G, '--delta', 'other-delta.safetensors'), names: 'other-delta.safetensors' },
  { args: set(G, '--model', 'm-bert'), names: 'm-bert' },
  { args: set(G, '--model', 'm-nhead0'), names: 'n_head' },

  // merge
  { args: set(M, '--base', 'nowhere'), names: 'nowhere' },
  { args: set(M, '--base', 'afile'), names: 'afile' },
  { args: set(M, '--base', 'm-noweights'), names: 'm-noweights' },
  { args: set(M, '--delta', 'missing.safetensors'), names: 'missing.safetensors' },
  { args: set(M, '--delta', 'deltadir.safetensors'), names: 'deltadir.safetensors' },
  { args: set(M, '--delta', 'unknown-delta.safetensors'), names: 'transformer.h.7.attn.c_attn.weight' },
  { args: set(M, '--delta', 'i8-delta.safetensors'), names: 'i8-delta.safetensors' },
  { args: set(M, '--scale', 'big'), names: '--scale' },
  { args: set(M, '--scale', 'Infinity'), names: '--scale' },
  { args: set(M, '--out', '/proc/x'), names: '/proc/x' },
  { args: set(M, '--out', 'model'), names: 'model' },
  { args: set(M, '--out', 'afile/sub'), names: 'afile' },

  // analyze
  { args: set(A, '--task', 'foo'), names: 'foo' },
  { args: set(A, '--fractions', '2'), names: '--fractions' },
  { args: set(A, '--fractions', '0'), names: '--fractions' },
  { args: set(A, '--fractions', 'a,b'), names: '--fractions' },
  { args: set(A, '--batches', '0'), names: '--batches' },
  { args: set(A, '--out', '/proc/x'), names: '/proc/x' },
  { args: set(A, '--out', 'afile'), names: 'afile' },
  { args: set(A, '--model', 'm-cfgfifo'), names: 'm-cfgfifo/config.json' },

  // pretrain
  { args: set(P, '--heads', '0'), names: '--heads' },
  { args: set(P, '--width', '10', '--heads', '4'), names: '--width' },
  { args: set(P, '--vocab-size', '100'), names: '--vocab-size' },
  { args: set(P, '--context', '0'), names: '--context' },
  { args: set(P, '--steps', '0'), names: '--steps' },
  { args: set(P, '--lr', '-1'), names: '--lr' },
  { args: set(P, '--width', '65536', '--heads', '1', '--layers', '64'), names: '--width' },
  { args: set(P, '--out', '/proc/x'), names: '/proc/x' },
  { args: set(P, '--out', 'afile'), names: 'afile' },
  { args: [...P, '--gradient-checkpointing=1'], names: '--gradient-checkpointing' },

  // bench (cwd is a temporary directory, outside any checkout)
  { args: ['bench', '--quick'], names: 'benchmarks/run.ts' },
  { args: ['bench', '--out', '../elsewhere'], names: '--out' },
  { args: ['bench', '--repeat', '3'], names: '--repeat' },

  // compare
  { args: set(C, '--methods', 'sift,magic'), names: 'magic' },
  { args: set(C, '--density', '0'), names: '--density' },
  { args: set(C, '--epochs', '0'), names: '--epochs' },
  { args: set(C, '--targets', ''), names: '--targets' },
  { args: set(C, '--train-per-class', '0'), names: '--train-per-class' },
  { args: set(C, '--model', 'nowhere'), names: 'nowhere' },
  { args: set(C, '--max-length', '96'), names: '--max-length' },
  { args: set(C, '--out', '/proc/x'), names: '/proc/x' },
  { args: [...C, '--gradient-checkpointing=on'], names: '--gradient-checkpointing' },

  // the program itself, and the backends
  { args: ['frobnicate'], names: 'frobnicate' },
  { args: ['finetune', '--data', 'mails.jsonl', '--out', 'o'], names: '--model' },
  { args: ['eval', '--modle', 'model', '--data', 'mails.jsonl'], names: '--modle' },
  { args: ['eval', '--data', 'mails.jsonl', '--model'], names: '--model' },
  // commands that do not train have no --gradient-checkpointing
  { args: [...E, '--gradient-checkpointing'], names: '--gradient-checkpointing' },
  { args: [...G, '--gradient-checkpointing'], names: '--gradient-checkpointing' },
  { args: set(F, '--backend', 'webgpu'), names: 'SIFT_WEBGPU_ADAPTER', env: { SIFT_WEBGPU_ADAPTER: 'metal' } },
  { args: E, names: 'SIFT_BLAS=/nonexistent/libcblas.so', env: { SIFT_BLAS: '/nonexistent/libcblas.so' } },
  { args: E, names: 'SIFT_THREADS', env: { SIFT_THREADS: 'two' } },
  ...(cudaHere ? [] : [{ args: set(F, '--backend', 'cuda'), names: /cuda.*libcuda/ }]),
];

const STACK_LINE = /^\s+at .+[(:]|node:internal/m;

/** How each case ended, for the summary (the counts the closing note gives before and after). */
const outcomes = new Map<string, SiftRun>();
let root = '';

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'siftjs-bad-input-'));
  writeBadInputFixtures(root);
}, 120_000);

afterAll(() => {
  const runs = [...outcomes.entries()];
  const count = (f: (r: SiftRun) => boolean) => runs.filter(([, r]) => f(r)).length;
  const summary = {
    cases: runs.length,
    hung: count((r) => r.hung),
    stackTrace: count((r) => STACK_LINE.test(r.stderr)),
    wrongExitCode: count((r) => !r.hung && r.code !== 2),
    notOneLine: count((r) => r.stderr.trim().split('\n').length !== 1),
    slowestMs: Math.round(Math.max(0, ...runs.map(([, r]) => r.ms))),
  };
  console.log(`[bad input] ${JSON.stringify(summary)}`);
  if (process.env.SIFT_BAD_INPUT_REPORT) {
    const detail = runs.map(([name, r]) => ({ name, code: r.code, hung: r.hung, ms: Math.round(r.ms), stderr: r.stderr.split('\n').slice(0, 3).join('\n') }));
    writeFileSync(process.env.SIFT_BAD_INPUT_REPORT, `${JSON.stringify({ summary, detail }, null, 2)}\n`);
  }
  rmSync(root, { recursive: true, force: true });
});

describe('sift: every bad input is one line naming it, exit code 2, no stack trace, no hang', () => {
  it('covers at least 60 bad inputs across every command', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    const commands = new Set(CASES.map((c) => c.args[0]));
    for (const c of ['finetune', 'eval', 'generate', 'merge', 'analyze', 'pretrain', 'bench', 'compare']) expect(commands, c).toContain(c);
  });

  it.concurrent.each(CASES.map((c, i) => [c.args.map((a) => (a === '' ? "''" : a)).join(' '), i, c] as const))(
    'sift %s (%#)',
    async (name, i, c) => {
      const args = c.args.map((a) => (OUTS.has(a) ? `${a}-${i}` : a));
      const r = await runSift(args, { cwd: root, env: c.env, stdin: c.stdin, timeoutMs: DEADLINE_MS });
      outcomes.set(name, r);
      expect(r.hung, `still running after ${DEADLINE_MS / 1000} s`).toBe(false);
      expect(r.stderr, 'a stack trace').not.toMatch(STACK_LINE);
      // A loading notice (a classification head the checkpoint lacks, initialised) may come first: it is not an error.
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note: '));
      expect(lines, 'stderr is one error line').toHaveLength(1);
      expect(lines[0]).toMatch(/^sift: /);
      if (typeof c.names === 'string') expect(lines[0]).toContain(c.names);
      else expect(lines[0]).toMatch(c.names);
      expect(r.code, lines[0]).toBe(2);
    },
    DEADLINE_MS + 10_000,
  );
});
