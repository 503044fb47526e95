import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, safetensorsBytes } from '@siftjs/safetensors';
import { applyDelta, loadDelta } from '@siftjs/sift-optimizer';
import { batchTensors, encodeExamples, loadTaskModel, makeBatches } from '@siftjs/cli';
import { noGrad } from '@siftjs/tensor';
import '@siftjs/backend-cpu';
import { chromium, type Page } from 'playwright-core';
import { build, createServer, preview as startPreview, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webConfig from '../../packages/web/vite.config.js';
import { CHROMIUM, FLAGS } from './serve.js';

/**
 * The page of packages/web (`npm run web`), served by Vite's dev server as a user gets it and driven in headless
 * Chromium: loaded and trained from the keyboard, every control labelled, the loss falling, and the downloaded
 * delta.safetensors the very bytes `sift finetune` writes for the same model, data and seed on the CPU backend
 * (the page picks the CPU here: Chromium's WebGPU adapter on this machine is SwiftShader, a software one). Needs
 * Debian's chromium; without it the test skips, except under CI=true, where it fails.
 */
const present = existsSync(CHROMIUM);
const root = fileURLToPath(new URL('../../', import.meta.url));

/** The run: two epochs of the 216 training emails at 64 tokens (28 steps), lr 3e-3. */
const SETTINGS = { density: '0.01', lr: '0.003', epochs: '2', 'batch-size': '16', 'max-length': '64', seed: '0' };

interface PageState {
  phase: string;
  losses: number[];
  backend?: string;
  tokensPerSecond?: number;
  error?: string;
  savedStep?: number;
  storage?: string;
  resumedFrom?: number;
  totalSteps?: number;
}

const pageState = (page: Page) => page.evaluate(() => (globalThis as { __siftWeb?: PageState }).__siftWeb) as Promise<PageState>;
/** With SIFT_SCREENSHOTS=1, the element's picture as docs/images/web-NAME.png (the pictures docs/web.md shows). */
const shot = async (page: Page, selector: string, name: string) => {
  if (process.env.SIFT_SCREENSHOTS) await page.locator(selector).screenshot({ path: join(root, 'docs/images', `web-${name}.png`) });
};
const ended = (page: Page, timeout = 200_000) => page.waitForFunction(() => ['done', 'failed', 'stopped'].includes((globalThis as { __siftWeb?: PageState }).__siftWeb?.phase ?? ''), null, { timeout });

describe.runIf(present || process.env.CI === 'true')('the fine-tuning page in headless Chromium', () => {
  let server: ViteDevServer;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'siftjs-web-'));

  beforeAll(async () => {
    // The page's own config, imported here (so its Node side runs from the sources, as the rest of the tests do).
    server = await createServer({ ...webConfig, configFile: false, server: { ...webConfig.server, host: '127.0.0.1', port: 0 }, logLevel: 'error' });
    await server.listen();
    url = server.resolvedUrls!.local[0];
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `sift finetune` on the page's bundled sample with SETTINGS and `method`, on the CPU's WebAssembly kernels as in the browser (no BLAS): its out directory (run once per method). */
  const cliRuns = new Map<string, Promise<string>>();
  const cli = (method: string, epochs = SETTINGS.epochs): Promise<string> => {
    const key = `${method}-${epochs}`;
    if (!cliRuns.has(key)) {
      cliRuns.set(
        key,
        (async () => {
          const data = join(dir, 'spam-ham.jsonl');
          writeFileSync(data, await (await fetch(new URL('bundled/spam-ham.jsonl', url))).text());
          const out = join(dir, `cli-${key}`);
          const args = ['finetune', '--model', join(root, 'models/sift-gpt2-mini'), '--data', data, '--out', out, '--backend', 'cpu', '--method', method];
          args.push('--density', SETTINGS.density, '--lr', SETTINGS.lr, '--epochs', epochs, '--batch-size', SETTINGS['batch-size'], '--max-length', SETTINGS['max-length'], '--seed', SETTINGS.seed);
          const r = spawnSync(process.execPath, [join(root, 'packages/cli/bin/sift.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, SIFT_BLAS: 'off' }, timeout: 180_000 });
          if (r.status !== 0) throw new Error(`sift finetune failed: ${r.stderr}`);
          return out;
        })(),
      );
    }
    return cliRuns.get(key)!;
  };

  it("lists every malformed row of the user's file (picked or dropped) with its line and reason, and Train refuses until they are fixed or left out", { timeout: 120_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.click('#load');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase === 'ready', null, { timeout: 60_000 });
      await page.selectOption('#data', 'file');
      const csv = 'review,stars\n"great, really",5\nawful\n"fine",\n"said ""meh""",3\nok,"4"x\n';
      await page.setInputFiles('#data-file', { name: 'reviews.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.waitForSelector('#data-defects li');
      // The mapping guessed from the header: the text column is the first holding text, the label the other one.
      expect(await page.inputValue('#text-column')).toBe('review');
      expect(await page.inputValue('#label-column')).toBe('stars');
      expect(await page.$$eval('#data-defects li', (lis) => lis.map((li) => li.textContent))).toEqual([
        'Line 3 (row 2): 1 field, but the header has 2',
        "Line 4 (row 3): the label 'stars' is empty",
        'Line 6 (row 5): "x" after a closing quote (quote the whole field and write each quote inside it twice)',
      ]);
      expect(await page.$$eval('#data-preview tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)))).toEqual([
        ['1', 'great, really', '5'],
        ['4', 'said "meh"', '3'],
      ]);
      expect(await page.textContent('#data-info')).toMatch(/^reviews\.csv: 5 rows, 2 usable; classes 5 \(1\), 3 \(1\); 3 defects listed below\./);
      await shot(page, '#data-section', 'data-defects');
      // Train refuses, saying why; nothing runs.
      await page.click('#train');
      expect(await page.textContent('#error')).toBe('Data: 3 rows of reviews.csv cannot be used (listed under Data): fix the file, or tick “Leave out the rows listed” to train on the other 2.');
      expect(await page.evaluate(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.losses.length)).toBe(0);
      // Leaving them out is a choice the user makes, by name.
      expect(await page.textContent('#exclude-label')).toBe('Leave out the 3 rows listed and train on the other 2');

      // A JSONL file dropped on the data section: its bad lines listed the same way.
      const jsonl = '{"text": "a", "label": "x"}\n{"text": "b", "label": [1]}\nnot json\n{"label": "y"}\n';
      await page.evaluate((content) => {
        const dt = new DataTransfer();
        dt.items.add(new File([content], 'dropped.jsonl'));
        document.getElementById('data-section')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, jsonl);
      await page.waitForFunction(() => document.querySelector('#data-info')?.textContent?.startsWith('dropped.jsonl'));
      expect(await page.$$eval('#data-defects li', (lis) => lis.map((li) => li.textContent))).toEqual([
        "Line 2 (row 2): the label 'label' is an array: a label is a string, a number or true/false",
        expect.stringMatching(/^Line 3 \(row 3\): not valid JSON \(/),
        "Line 4 (row 4): no field 'text' (the text)",
      ]);
    } finally {
      await browser.close();
    }
  });

  it('loads the bundled model, trains 28 SIFT steps from the keyboard with the loss falling, downloads the delta `sift finetune` writes, and stops on request', { timeout: 240_000 }, async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    const log: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
      await page.goto(url);
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);

      // Every control has a label (a <label for> with text) or text of its own.
      const unlabelled = await page.evaluate(() =>
        Array.from(document.querySelectorAll('input, select, button, a.button, progress'))
          .filter((el) => !(el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent?.trim()) && !el.textContent?.trim())
          .map((el) => el.outerHTML),
      );
      expect(unlabelled).toEqual([]);

      // Keyboard only: Tab to "Load model and data", Enter; focus then moves to Train.
      for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== 'load'; i++) await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('load');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase !== 'loading' && document.activeElement?.id === 'train', null, { timeout: 60_000 });
      expect(await page.textContent('#model-info')).toMatch(/^sift-gpt2-mini: gpt2 \(GPT2LMHeadModel\), 4 layers, width 128, context 128 tokens; [\d,]+ parameters \(F32\), [\d.]+ MiB\.$/);
      await shot(page, '#model-section', 'model');
      for (const [id, value] of Object.entries(SETTINGS)) await page.fill(`#${id}`, value);
      await shot(page, 'section:has(#method-h)', 'method');
      await page.focus('#train');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => ['done', 'failed', 'stopped'].includes((globalThis as { __siftWeb?: PageState }).__siftWeb?.phase ?? ''), null, { timeout: 200_000 });
      const state = (await page.evaluate(() => (globalThis as { __siftWeb?: PageState }).__siftWeb)) as PageState;
      if (state.error) throw new Error(`the page failed: ${state.error}\n${log.join('\n')}`);
      expect(state.phase).toBe('done');
      expect(state.backend).toBe('cpu');
      expect(await page.textContent('#backend-info')).toMatch(/Backend: CPU — WebGPU here is a software adapter.*wasm-simd kernels on \d+ threads?\.$/);
      console.log(`[web page] ${state.losses.length} steps on the CPU workers at ${state.tokensPerSecond?.toFixed(0)} tokens/s`);

      // It learns: the mean loss of the last 5 steps is well below that of the first 5.
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(state.losses).toHaveLength(28);
      expect(mean(state.losses.slice(-5))).toBeLessThan(mean(state.losses.slice(0, 5)) - 0.05);

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      const saved = join(dir, 'page-delta.safetensors');
      await download.saveAs(saved);
      const delta = loadDelta(saved); // parses as a sparse delta, every structural check passed
      expect(delta.metadata.density).toBe(0.01);
      // PEFT's sparse tuners take torch.nn.Linear weights only: a GPT-2 delta (Conv1D, biases) has no adapter, and the page says why.
      expect(await page.textContent('#more-downloads')).toBe("No PEFT adapter: 'transformer.h.0.attn.c_attn.bias' is not a layer's weight: PEFT's sparse tuners adapt the weights of torch.nn.Linear layers only.");

      // The loss curve is the Vega-Lite chart of sift's HTML report (learningCurves), drawn by Vega, over all 28 steps.
      expect(await page.getAttribute('#loss-chart', 'data-steps')).toBe('28');
      expect(await page.textContent('#loss-chart svg')).toContain('Training loss (running mean over 10 steps)');

      // Try the model, from the keyboard: its probabilities are those of the base model with the downloaded delta
      // applied in Node (sift-optimizer's applyDelta), up to float32 rounding.
      const text = 'Congratulations! You have been selected to receive a FREE vacation. Click here to claim your prize now.';
      await page.focus('#try-text');
      await page.keyboard.type(text);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('try-button');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: { classified?: unknown } }).__siftWeb?.classified !== undefined);
      const tried = (await page.evaluate(() => (globalThis as { __siftWeb?: { classified?: unknown } }).__siftWeb?.classified)) as { label: string; probability: number }[];
      expect(tried.map((p) => p.label)).toEqual(['ham', 'spam']);
      expect(await page.textContent('#try-result')).toMatch(/^(ham|spam) \(ham \d+\.\d%, spam \d+\.\d%\)$/);
      const tm = loadTaskModel(join(root, 'models/sift-gpt2-mini'), 'classification', 2);
      try {
        await applyDelta(tm.model, delta);
        const [encoded] = encodeExamples(tm.tokenizer, [{ text, label: 0 }], { maxLength: 64 });
        const t = batchTensors(makeBatches([encoded], { batchSize: 1, padId: tm.tokenizer.padId })[0]);
        const probs = noGrad(() => tm.forward(t.ids, t.mask, null).logits.softmax(-1));
        const expected = Array.from(await probs.toArray());
        for (let i = 0; i < 2; i++) expect(Math.abs(tried[i].probability - expected[i])).toBeLessThan(1e-5);
      } finally {
        tm.model.dispose();
      }
      await shot(page, 'section:has(#train-h)', 'training');
      await shot(page, 'section:has(#result-h)', 'result');

      // Stop, from the keyboard (the focus is on Stop while training): the run ends after the step in progress, and
      // the previous delta is no longer offered.
      await page.focus('#train');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => ((globalThis as { __siftWeb?: PageState }).__siftWeb?.losses.length ?? 0) >= 2 && document.activeElement?.id === 'stop', null, { timeout: 60_000 });
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase !== 'training', null, { timeout: 60_000 });
      const stopped = (await page.evaluate(() => (globalThis as { __siftWeb?: PageState }).__siftWeb)) as PageState;
      expect(stopped.phase).toBe('stopped');
      expect(stopped.losses.length).toBeLessThan(28);
      expect(await page.getAttribute('#download', 'aria-disabled')).toBe('true');
      expect(await page.textContent('#train-info')).toMatch(/^Stopped at step \d+ of 28; saved in this browser \(OPFS\)\. Resume goes on from step \d+; Train starts over\.$/);
      // The focus waits on Resume (moved there once the saved run is shown again, after the phase changed).
      await page.waitForFunction(() => document.activeElement?.id === 'resume', null, { timeout: 30_000 });

      // The CLI on the same data and settings writes the same bytes.
      expect(Buffer.compare(readFileSync(saved), readFileSync(join(await cli('sift'), 'delta.safetensors')))).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('reads a Hugging Face folder picked through the file input — sharded — shows it before anything runs, trains on it as on the bundled model, and names the file and the defect of a malformed one', { timeout: 300_000 }, async () => {
    // The bundled model's files, its weights split into two shards with their index (as Hugging Face writes them).
    const folder = (name: string, files: Record<string, Buffer | string>) => {
      const at = join(dir, 'folders', name);
      mkdirSync(at, { recursive: true });
      for (const [f, content] of Object.entries(files)) writeFileSync(join(at, f), content);
      return at;
    };
    const modelDir = join(root, 'models/sift-gpt2-mini');
    const base = Object.fromEntries(['config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => [f, readFileSync(join(modelDir, f))]));
    const all = loadSafetensors(join(modelDir, 'model.safetensors'));
    const names = Object.keys(all).sort();
    const shardFiles: Record<string, Buffer> = {};
    const weightMap: Record<string, string> = {};
    for (const [i, keys] of [names.slice(0, 20), names.slice(20)].entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      shardFiles[file] = Buffer.from(await safetensorsBytes(file, Object.fromEntries(keys.map((k) => [k, all[k]])), { metadata: { format: 'pt' } }));
      for (const k of keys) weightMap[k] = file;
    }
    for (const t of Object.values(all)) t.dispose();
    const index = JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap });
    const good = folder('my-gpt2', { ...base, ...shardFiles, 'model.safetensors.index.json': index });
    const weights = readFileSync(join(modelDir, 'model.safetensors'));
    const bad: [string, string, RegExp][] = [
      ['no-config', folder('no-config', { 'tokenizer.json': base['tokenizer.json'], 'model.safetensors': weights }), /^no-config\/config\.json: not found \(the folder holds (model\.safetensors|tokenizer\.json), (model\.safetensors|tokenizer\.json)\)$/],
      ['llama', folder('llama', { ...base, 'config.json': '{"model_type": "llama"}', 'model.safetensors': weights }), /^llama\/config\.json: model_type 'llama' trains as a causal language model; this page trains classifiers \(gpt2, bert, roberta\)/],
      ['bad JSON', folder('bad-json', { ...base, 'config.json': '{"model_type": ', 'model.safetensors': weights }), /^bad-json\/config\.json: invalid JSON \(/],
      ['missing shard', folder('missing-shard', { ...base, 'model-00001-of-00002.safetensors': shardFiles['model-00001-of-00002.safetensors'], 'model.safetensors.index.json': index }), /^missing-shard\/model-00002-of-00002\.safetensors: not found \(model\.safetensors\.index\.json lists it as a shard\)$/],
      ['truncated weights', folder('truncated', { ...base, 'model.safetensors': weights.subarray(0, 100) }), /^truncated\/model\.safetensors: header length \d+ runs past the end of the file \(100 bytes\)$/],
      ['no weights', folder('no-weights', { ...base, 'pytorch_model.bin': 'x' }), /^no-weights\/model\.safetensors: not found, nor model\.safetensors\.index\.json \(the folder has pytorch_model\.bin: the page reads safetensors weights/],
    ];

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.selectOption('#model', 'folder');
      for (const [what, path, message] of bad) {
        await page.setInputFiles('#model-folder', path);
        await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase === 'failed', null, { timeout: 30_000 });
        expect(await page.textContent('#error'), what).toMatch(message);
        expect(await page.isDisabled('#train'), what).toBe(true);
      }
      await page.setInputFiles('#model-folder', good);
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase === 'ready', null, { timeout: 30_000 });
      expect(await page.textContent('#error')).toBe('');
      expect(await page.textContent('#model-info')).toMatch(/^my-gpt2: gpt2 \(GPT2LMHeadModel\), 4 layers, width 128, context 128 tokens; [\d,]+ parameters \(F32\), [\d.]+ MiB in 2 shards\.$/);
      await shot(page, '#model-section', 'model-folder');
      for (const [id, value] of Object.entries(SETTINGS)) await page.fill(`#${id}`, value);
      await page.click('#train');
      await ended(page);
      const s = await pageState(page);
      if (s.error) throw new Error(`the page failed: ${s.error}`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      const file = join(dir, 'folder-delta.safetensors');
      await download.saveAs(file);
      expect(Buffer.compare(readFileSync(file), readFileSync(join(await cli('sift'), 'delta.safetensors')))).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it.each([
    ['lora', ['adapter_model.safetensors']],
    ['head', ['head.safetensors']],
    ['full', ['model.safetensors', 'config.json']],
  ])('trains with method %s and offers the files `sift finetune --method` writes, the same bytes', { timeout: 300_000 }, async (method, files) => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.click('#load');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase === 'ready', null, { timeout: 60_000 });
      await page.selectOption('#method', method);
      expect(await page.isVisible('#lora-rank')).toBe(method === 'lora');
      for (const [id, value] of Object.entries({ ...SETTINGS, epochs: '1' })) if (id !== 'density' || method === 'lora') await page.fill(`#${id}`, value);
      await page.click('#train');
      await ended(page);
      const s = await pageState(page);
      if (s.error) throw new Error(`the page failed: ${s.error}`);
      expect(s.losses).toHaveLength(14);
      const links = await page.$$eval('#download, #more-downloads a', (as) => as.map((a) => (a as HTMLAnchorElement).download));
      expect(links).toEqual(files);
      const out = await cli(method, '1');
      for (const name of files) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.click(`a[download="${name}"]`)]);
        const saved = join(dir, `${method}-${name}`);
        await download.saveAs(saved);
        expect(Buffer.compare(readFileSync(saved), readFileSync(join(out, name))), `${method}: ${name}`).toBe(0);
      }
    } finally {
      await browser.close();
    }
  });

  it('built (vite build) and served by vite preview, it stores itself in a service worker and, with the network gone, opens cross-origin isolated and trains', { timeout: 300_000 }, async () => {
    const outDir = join(dir, 'dist');
    await build({ ...webConfig, configFile: false, logLevel: 'error', build: { ...webConfig.build, outDir } });
    const preview = await startPreview({ ...webConfig, configFile: false, logLevel: 'error', build: { ...webConfig.build, outDir }, preview: { ...webConfig.preview, host: '127.0.0.1', port: 0 } });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(preview.resolvedUrls!.local[0]);
      await page.waitForFunction(() => (globalThis as { __siftWeb?: { offline?: boolean } }).__siftWeb?.offline === true, null, { timeout: 60_000 });
      expect(await page.textContent('#offline-info')).toBe('Works offline: the page and the bundled model and sample are stored in this browser.');
      await context.setOffline(true);
      await page.reload();
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
      await page.click('#load');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase === 'ready', null, { timeout: 60_000 });
      for (const [id, value] of Object.entries({ ...SETTINGS, epochs: '1', 'batch-size': '64', 'max-length': '16' })) await page.fill(`#${id}`, value);
      await page.click('#train');
      await ended(page);
      const s = await pageState(page);
      if (s.error) throw new Error(`the page failed offline: ${s.error}`);
      expect(s.phase).toBe('done');
      expect(await page.textContent('#backend-info')).toMatch(/kernels on [2-9]\d* threads\.$/);
      expect(await page.getAttribute('#download', 'aria-disabled')).toBe('false');
    } finally {
      await browser.close();
      await preview.close();
    }
  });

  it.each([
    ['OPFS', 'a reload', ''],
    ['IndexedDB', 'the tab closed and opened again', '?storage=indexeddb'],
  ])('keeps the run in %s: after %s it resumes at the saved step, and the delta equals an uninterrupted run’s', { timeout: 300_000 }, async (storage, how, query) => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const context = await browser.newContext();
      let page = await context.newPage();
      await page.goto(url + query);
      await page.click('#load');
      await page.waitForFunction(() => (globalThis as { __siftWeb?: PageState }).__siftWeb?.phase === 'ready', null, { timeout: 60_000 });
      for (const [id, value] of Object.entries({ ...SETTINGS, 'save-every': '1' })) await page.fill(`#${id}`, value);
      await page.click('#train');
      // Mid-epoch (an epoch is 14 steps), past the selection of SIFT's indices at step 1.
      await page.waitForFunction(() => ((globalThis as { __siftWeb?: PageState }).__siftWeb?.savedStep ?? 0) >= 9, null, { timeout: 120_000 });
      const before = await pageState(page);
      expect(before.storage).toBe(storage);
      if (query) {
        await page.close();
        page = await context.newPage();
        await page.goto(url + query);
      } else await page.reload();
      await page.waitForFunction(() => !(document.getElementById('resume') as HTMLButtonElement).disabled, null, { timeout: 30_000 });
      const saved = (await pageState(page)).savedStep as number;
      // Saved at least where it was seen, at most at the step in progress when the page went.
      expect(saved).toBeGreaterThanOrEqual(before.savedStep as number);
      expect(saved).toBeLessThanOrEqual(before.losses.length + 1);
      expect(saved).toBeLessThan(14);
      expect(await page.textContent('#resume-info')).toMatch(new RegExp(`^Saved in this browser \\(${storage}\\) on .+: the bundled sift-gpt2-mini on bundled/spam-ham\\.jsonl, SIFT at density 0\\.01, lr 0\\.003, 2 epochs of batches of 16, 64 tokens, seed 0; at step ${saved} of 28\\.$`));
      // The page shows the saved run's curve so far.
      await page.waitForFunction((n) => document.getElementById('loss-chart')?.dataset.steps === String(n), saved);
      if (!query) await shot(page, 'section:has(#train-h)', 'resume');
      await page.focus('#resume');
      await page.keyboard.press('Enter');
      await ended(page);
      const after = await pageState(page);
      if (after.error) throw new Error(`the page failed: ${after.error}`);
      expect(after.phase).toBe('done');
      expect(after.resumedFrom).toBe(saved);
      // The steps before the save are the ones trained before the page went; 28 in all.
      expect(after.losses).toHaveLength(28);
      // The page may have saved one step more than the state read before it went (the step in progress): compare
      // the steps both saw.
      const seen = Math.min(saved, before.losses.length);
      expect(after.losses.slice(0, seen)).toEqual(before.losses.slice(0, seen));
      expect(await page.textContent('#train-info')).toMatch(new RegExp(`^Done: 28 steps, resumed at step ${saved}; this session ${28 - saved} steps in `));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      const file = join(dir, `resumed-${storage}.safetensors`);
      await download.saveAs(file);
      expect(Buffer.compare(readFileSync(file), readFileSync(join(await cli('sift'), 'delta.safetensors')))).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
