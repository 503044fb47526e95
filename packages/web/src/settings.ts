// Section 3 of the page: the method and its settings, read from the controls (each checked, the error naming its
// label) and written back into them when a saved run is resumed.
import { BROWSER_METHODS, type BrowserMethod } from '@siftjs/cli/browser';
import { $ } from './dom.js';
import type { RunSettings } from './run/saved-run.js';

/** A number from an input, or an error naming its label. */
function numberFrom(id: string, { integer = false, min = 0, max = Infinity, exclusiveMin = true } = {}): number {
  const input = $<HTMLInputElement>(id);
  const v = Number(input.value);
  const label = document.querySelector(`label[for="${id}"]`)?.textContent ?? id;
  const low = exclusiveMin ? v <= min : v < min;
  if (input.value.trim() === '' || !Number.isFinite(v) || low || v > max || (integer && !Number.isInteger(v))) {
    input.focus();
    const what = integer ? (min === 0 && !exclusiveMin ? 'a whole number ≥ 0' : 'a positive whole number') : 'a positive number';
    throw new Error(`${label}: '${input.value}' is not ${what}${max < Infinity ? ` up to ${max}` : ''}`);
  }
  return v;
}

/** The run's settings from the controls; `context` is the model's longest input. */
export function readSettings(context: number): RunSettings {
  const method = $<HTMLSelectElement>('method').value as BrowserMethod;
  if (!(BROWSER_METHODS as readonly string[]).includes(method)) throw new Error(`Method: '${method}' is not one of ${BROWSER_METHODS.join(', ')}`);
  const rank = $<HTMLInputElement>('lora-rank').value.trim();
  return {
    method,
    density: numberFrom('density', { max: 1 }),
    lr: numberFrom('lr'),
    epochs: numberFrom('epochs', { integer: true }),
    batchSize: numberFrom('batch-size', { integer: true }),
    maxLength: numberFrom('max-length', { integer: true, max: context }),
    seed: numberFrom('seed', { integer: true, exclusiveMin: false }),
    ...(method === 'lora' && rank !== '' ? { loraRank: numberFrom('lora-rank', { integer: true }) } : {}),
    saveEvery: numberFrom('save-every', { integer: true }),
  };
}

/** Puts a saved run's settings back into the controls. */
export function writeSettings(s: RunSettings): void {
  const set = (id: string, v: string) => {
    $<HTMLInputElement | HTMLSelectElement>(id).value = v;
  };
  set('method', s.method);
  set('density', String(s.density));
  set('lr', String(s.lr));
  set('epochs', String(s.epochs));
  set('batch-size', String(s.batchSize));
  set('max-length', String(s.maxLength));
  set('seed', String(s.seed));
  set('lora-rank', s.loraRank === undefined ? '' : String(s.loraRank));
  set('save-every', String(s.saveEvery));
  showMethodControls();
}

/** LoRA's rank is LoRA's alone; density sizes SIFT (and LoRA's default rank), not full or head-only. */
export function showMethodControls(): void {
  const method = $<HTMLSelectElement>('method').value;
  $('lora-rank-row').hidden = method !== 'lora';
  $<HTMLInputElement>('density').disabled = method === 'full' || method === 'head';
}

export function describeSettings(s: RunSettings): string {
  const method = { sift: `SIFT at density ${s.density}`, lora: `LoRA${s.loraRank ? ` rank ${s.loraRank}` : ` (rank matched to SIFT at density ${s.density})`}`, full: 'full fine-tuning', head: 'head only' }[s.method];
  return `${method}, lr ${s.lr}, ${s.epochs} epoch${s.epochs === 1 ? '' : 's'} of batches of ${s.batchSize}, ${s.maxLength} tokens, seed ${s.seed}`;
}
