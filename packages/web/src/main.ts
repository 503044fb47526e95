// The page: load the bundled model and data, train SIFT with the controls' settings on the backend chosen for this
// machine, show the loss as it goes, stop on request, offer delta.safetensors when done.
import { finetuneInMemory, type InMemoryResult } from '@siftjs/cli/browser';
import { memoryStats } from '@siftjs/tensor';
import { type BackendWish, chooseBackend } from './backend-choice.js';
import { drawLosses } from './chart.js';
import { initDataPanel, loadBundled, readyData } from './data-panel.js';
import { $, say } from './dom.js';
import { type LoadedModel, loadBundledModel } from './load.js';

/** What the browser test (and anyone curious) reads: the losses so far, and how the last run ended. */
interface PageState {
  phase: 'idle' | 'loading' | 'ready' | 'training' | 'done' | 'stopped' | 'failed';
  losses: number[];
  backend?: string;
  tokensPerSecond?: number;
  error?: string;
}
const state: PageState = { phase: 'idle', losses: [] };
(globalThis as { __siftWeb?: PageState }).__siftWeb = state;

let model: LoadedModel | null = null;
let stopRequested = false;
let downloadUrl: string | null = null;

class Stopped extends Error {}

function fail(e: unknown): void {
  state.phase = 'failed';
  state.error = e instanceof Error ? e.message : String(e);
  say('error', state.error);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** A positive number from an input, or an error naming its label. */
function numberFrom(id: string, { integer = false, max = Infinity } = {}): number {
  const input = $<HTMLInputElement>(id);
  const v = Number(input.value);
  const label = document.querySelector(`label[for="${id}"]`)?.textContent ?? id;
  if (input.value.trim() === '' || !Number.isFinite(v) || v <= 0 || v > max || (integer && !Number.isInteger(v))) {
    input.focus();
    throw new Error(`${label}: '${input.value}' is not ${integer ? 'a positive whole number' : 'a positive number'}${max < Infinity ? ` up to ${max}` : ''}`);
  }
  return v;
}

async function load(): Promise<void> {
  say('error', '');
  state.phase = 'loading';
  $<HTMLButtonElement>('load').disabled = true;
  say('model-info', 'Loading…');
  try {
    [model] = await Promise.all([loadBundledModel($<HTMLSelectElement>('model').value), loadBundled()]);
    const c = model.config;
    say('model-info', `${model.name}: ${String(c.model_type)}, ${c.n_layer} layers, width ${c.n_embd}, context ${c.n_positions} tokens; ${model.parameters.toLocaleString('en-US')} parameters (${model.dtypes.join(', ')}), ${mib(model.bytes)}.`);
    $<HTMLInputElement>('max-length').max = String(c.n_positions ?? 128);
    state.phase = 'ready';
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('train').focus();
  } catch (e) {
    $<HTMLButtonElement>('load').disabled = false;
    say('model-info', '');
    fail(e);
  }
}

async function train(): Promise<void> {
  if (!model) return;
  say('error', '');
  const data = readyData();
  if ('why' in data) {
    fail(new Error(`Data: ${data.why}.`));
    return;
  }
  let settings;
  try {
    settings = {
      density: numberFrom('density', { max: 1 }),
      lr: numberFrom('lr'),
      epochs: numberFrom('epochs', { integer: true }),
      batchSize: numberFrom('batch-size', { integer: true }),
      maxLength: numberFrom('max-length', { integer: true, max: Number(model.config.n_positions ?? 128) }),
      seed: Number($<HTMLInputElement>('seed').value) || 0,
    };
  } catch (e) {
    fail(e);
    return;
  }
  const [trainBtn, stopBtn] = [$<HTMLButtonElement>('train'), $<HTMLButtonElement>('stop')];
  trainBtn.disabled = true;
  stopBtn.disabled = false;
  stopBtn.focus();
  stopRequested = false;
  state.phase = 'training';
  state.losses = [];
  $('evaluations').replaceChildren();
  resetDownload();
  const progress = $<HTMLProgressElement>('progress');
  const t0 = performance.now();
  try {
    const choice = await chooseBackend($<HTMLSelectElement>('backend').value as BackendWish);
    state.backend = choice.name;
    say('backend-info', `Backend: ${choice.name === 'webgpu' ? 'WebGPU' : 'CPU'} — ${choice.reason}.`);
    const result: InMemoryResult = await finetuneInMemory({
      model: { name: model.name, config: model.config, weights: model.weights, tokenizer: model.tokenizer, tokenizerConfig: model.tokenizerConfig },
      data: { name: data.name, text: data.text, format: 'jsonl' },
      heldOut: 0.1,
      ...settings,
      onStep: (step, total, loss, tokens) => {
        state.losses.push(loss);
        progress.max = total;
        progress.value = step;
        const seconds = (performance.now() - t0) / 1000;
        const left = (seconds / step) * (total - step);
        const mem = memoryStats();
        say('train-info', `Step ${step} of ${total}: loss ${loss.toFixed(4)}; ${(tokens / seconds).toFixed(0)} tokens/s; about ${left.toFixed(0)} s left; ${mib(mem.bytesInUse)} in use (peak ${mib(mem.peakBytes)}).`);
        drawLosses($('loss-chart') as unknown as SVGSVGElement, state.losses);
      },
      onEpoch: (epoch, ev) => {
        const li = document.createElement('li');
        li.textContent = `Epoch ${epoch + 1}: held-out loss ${ev.loss.toFixed(4)}${ev.accuracy === null ? '' : `, accuracy ${(100 * ev.accuracy).toFixed(1)}%`}`;
        $('evaluations').append(li);
      },
      // Yield to the page between steps: it repaints and hears Stop.
      between: async () => {
        await new Promise((r) => setTimeout(r, 0));
        if (stopRequested) throw new Stopped();
      },
    });
    state.tokensPerSecond = result.tokensPerSecond;
    offerDownload(result);
    state.phase = 'done';
    const left = data.excluded ? `; ${data.excluded} rows of ${data.name} left out, as you chose` : '';
    say('train-info', `Done: ${result.losses.length} steps in ${result.seconds.toFixed(1)} s, ${result.tokensPerSecond.toFixed(0)} tokens/s; ${result.trainable.toLocaleString('en-US')} trainable parameters (${result.split.train} training examples, ${result.split.heldOut} held out${left}).`);
  } catch (e) {
    if (e instanceof Stopped) {
      state.phase = 'stopped';
      say('train-info', `Stopped after ${state.losses.length} steps; nothing was saved. Train starts again from the beginning.`);
    } else fail(e);
  } finally {
    trainBtn.disabled = false;
    stopBtn.disabled = true;
    if (state.phase !== 'done') trainBtn.focus();
  }
}

function resetDownload(): void {
  const a = $<HTMLAnchorElement>('download');
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
  a.removeAttribute('href');
  a.setAttribute('aria-disabled', 'true');
  say('result-info', '');
}

function offerDownload(r: InMemoryResult): void {
  const a = $<HTMLAnchorElement>('download');
  downloadUrl = URL.createObjectURL(new Blob([r.delta as BlobPart], { type: 'application/octet-stream' }));
  a.href = downloadUrl;
  a.setAttribute('aria-disabled', 'false');
  const last = r.evaluations.at(-1);
  say('result-info', `delta.safetensors: ${r.delta.length.toLocaleString('en-US')} bytes. Apply it with: sift merge --base models/${model?.name} --delta delta.safetensors --out merged${last?.accuracy != null ? `. Held-out accuracy ${(100 * last.accuracy).toFixed(1)}%.` : ''}`);
  a.focus();
}

initDataPanel(() => {});
$('load').addEventListener('click', () => void load());
$('train').addEventListener('click', () => void train());
$('stop').addEventListener('click', () => {
  stopRequested = true;
  say('train-info', 'Stopping after this step…');
});
