import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '@siftjs/tensor';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import '@siftjs/backend-cpu';
import '@siftjs/backend-webgpu';
import { trainTiny } from './page/train.js';

/**
 * WebGPU in a real browser: a page bundled from the packages (esbuild, as an application bundles them) and served
 * on 127.0.0.1 trains a tiny transformer on navigator.gpu in headless Chromium (SwiftShader's Vulkan), and its
 * losses are checked against the same run in Node on Dawn and on the CPU backend. Needs Debian's chromium; without
 * it the test skips, except under CI=true, where it fails.
 */
const CHROMIUM = process.env.SIFT_CHROMIUM ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && process.env.CI !== 'true') console.log(`[browser test] skipped: no Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`);

// The flags Chromium's own headless WebGPU tests use on machines without a GPU, and no network chatter.
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

interface PageResult {
  losses?: number[];
  adapter?: string;
  error?: string;
}

let server: Server | null = null;
const dir = mkdtempSync(join(tmpdir(), 'siftjs-page-'));
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Serves the bundle and a page that loads it on 127.0.0.1; resolves to the page's URL. */
async function serve(): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('./page/main.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outfile: join(dir, 'main.js'),
    logLevel: 'silent',
  });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="/main.js"></script>\n');
  const { readFileSync } = await import('node:fs');
  server = createServer((req, res) => {
    const file = req.url === '/main.js' ? 'main.js' : 'index.html';
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(readFileSync(join(dir, file)));
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}/`;
}

async function inBrowser(url: string): Promise<PageResult> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const log: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, null, { timeout: 150_000 });
    const result = (await page.evaluate(() => (globalThis as { __result?: unknown }).__result)) as PageResult;
    if (result.error) throw new Error(`the page failed: ${result.error}\n${log.join('\n')}`);
    return result;
  } finally {
    await browser.close();
  }
}

describe.runIf(present || process.env.CI === 'true')('WebGPU in headless Chromium', () => {
  it('trains a tiny transformer on navigator.gpu with the losses of the same run in Node (WebGPU and CPU)', { timeout: 240_000 }, async () => {
    const page = await inBrowser(await serve());
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
