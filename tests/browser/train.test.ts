import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setBackend } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import '@siftjs/backend-cpu';
import '@siftjs/backend-webgpu';
import { trainTiny } from './page/train.js';
import { CHROMIUM, runPage } from './serve.js';

/**
 * WebGPU in a real browser: a page bundled from the packages (esbuild, as an application bundles them) and served
 * on 127.0.0.1 trains a tiny transformer on navigator.gpu in headless Chromium (SwiftShader's Vulkan), and its
 * losses are checked against the same run in Node on Dawn and on the CPU backend. Needs Debian's chromium; without
 * it the test skips, except under CI=true, where it fails.
 */
const present = existsSync(CHROMIUM);
if (!present && process.env.CI !== 'true') console.log(`[browser test] skipped: no Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`);

interface PageResult {
  losses?: number[];
  adapter?: string;
  error?: string;
}

describe.runIf(present || process.env.CI === 'true')('WebGPU in headless Chromium', () => {
  it('trains a tiny transformer on navigator.gpu with the losses of the same run in Node (WebGPU and CPU)', { timeout: 240_000 }, async () => {
    const page = await runPage<PageResult>(fileURLToPath(new URL('./page/main.ts', import.meta.url)));
    expect(page.adapter).toMatch(/navigator/);
    await setBackend('webgpu');
    const node = await trainTiny();
    await setBackend('cpu');
    const cpu = await trainTiny();
    const losses = page.losses!;
    expect(losses).toHaveLength(5);
    // It learns: the last loss is well below the first (ln 32 ≈ 3.47 at the start).
    expect(losses[4]).toBeLessThan(losses[0] - 0.3);
    for (let i = 0; i < losses.length; i++) {
      // Same shaders, same driver family: float32 rounding apart at most.
      expect(Math.abs(losses[i] - node[i])).toBeLessThanOrEqual(1e-5 * Math.abs(node[i]));
      // The CPU computes in another order (and float64 inside some kernels): close, not equal.
      expect(Math.abs(losses[i] - cpu[i])).toBeLessThanOrEqual(2e-3 * Math.abs(cpu[i]));
    }
  });
});
