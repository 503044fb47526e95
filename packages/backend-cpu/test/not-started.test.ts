import type { BackendStorage, View } from '@siftjs/tensor';
import { expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';

/**
 * The CPU backend finds its BLAS and starts its workers in the background. A program that never yields to the event
 * loop runs every product on one thread without them; that must not be silent.
 */

const NOTICE = 'before the backend finished starting';

/** What `run` wrote to stderr. */
async function stderrOf(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    lines.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stderr.write = write;
  }
  return lines.filter((l) => l.includes(NOTICE));
}

function square(b: CpuBackend, n: number): { s: BackendStorage; v: View } {
  const s = b.upload('float32', new Float32Array(n * n).fill(1));
  return { s, v: { storage: s, dtype: 'float32', shape: [n, n], strides: [n, 1], offset: 0 } };
}

it('a large product run before the backend started says so once, naming the fix; small ones and a started backend say nothing', async () => {
  const early = await stderrOf(async () => {
    const b = new CpuBackend();
    const { s, v } = square(b, 300); // 300³ multiply-adds, over the notice's 256³
    b.free(b.matmul(v, v));
    b.free(b.matmul(v, v));
    b.free(s);
    await b.dispose();
  });
  expect(early).toHaveLength(1);
  expect(early[0]).toContain("await setBackend('cpu')");
  expect(early[0].trimEnd().split('\n')).toHaveLength(1);

  const small = await stderrOf(async () => {
    const b = new CpuBackend();
    const { s, v } = square(b, 64);
    b.free(b.matmul(v, v));
    b.free(s);
    await b.dispose();
  });
  expect(small).toHaveLength(0);

  const started = await stderrOf(async () => {
    const b = new CpuBackend();
    await b.init();
    const { s, v } = square(b, 300);
    b.free(b.matmul(v, v));
    b.free(s);
    await b.dispose();
  });
  expect(started).toHaveLength(0);
});
