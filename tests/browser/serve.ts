import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

/** Headless Chromium for the browser tests: Debian's package (SIFT_CHROMIUM names another). */
export const CHROMIUM = process.env.SIFT_CHROMIUM ?? '/usr/bin/chromium';

// The flags Chromium's own headless WebGPU tests use on machines without a GPU, and no network chatter.
export const FLAGS = [
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

/**
 * Bundles `entry` with esbuild, as an application bundles the packages, serves it with an HTML page on 127.0.0.1
 * (cross-origin isolated when `isolated`: the headers that give a page SharedArrayBuffer), opens it in headless
 * Chromium, waits for the page to set `globalThis.__result`, and returns that.
 */
export async function runPage<T extends { error?: string }>(entry: string, { isolated = false } = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'siftjs-page-'));
  const server = createServer();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const log: string[] = [];
  try {
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', outfile: join(dir, 'main.js'), logLevel: 'silent' });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="/main.js"></script>\n');
    server.on('request', (req, res) => {
      const file = req.url === '/main.js' ? 'main.js' : 'index.html';
      const headers: Record<string, string> = { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' };
      if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
      res.writeHead(200, headers);
      res.end(readFileSync(join(dir, file)));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as { port: number };
    const page = await browser.newPage();
    page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result !== undefined, null, { timeout: 150_000 });
    const result = (await page.evaluate(() => (globalThis as { __result?: unknown }).__result)) as T;
    if (result.error) throw new Error(`the page failed: ${result.error}\n${log.join('\n')}`);
    return result;
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
