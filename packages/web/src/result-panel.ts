// Section 5 of the page: the files the run produced, as downloads (what `sift finetune` writes for the method, and
// SIFT's PEFT adapter), and a box to try the trained model on a pasted text.
import type { InMemoryResult, Predictor, ResultFile } from '@siftjs/cli/browser';
import { $, say } from './dom.js';
import { state } from './state.js';

let urls: string[] = [];
let predictor: Predictor | null = null;

/** What each method's main file is, and how to use it. */
function howTo(method: string, model: string, files: ResultFile[]): string {
  if (method === 'sift') return `Apply it with: sift merge --base models/${model} --delta delta.safetensors --out merged.`;
  if (method === 'full') return `A whole checkpoint: put ${files.map((f) => f.name).join(' and ')} in one folder with the base model's tokenizer files.`;
  if (method === 'lora') return 'The LoRA adapters and the head, under the model\'s parameter names (as `sift finetune --method lora` writes them).';
  return 'The trained head, under the model\'s parameter names.';
}

export function initResultPanel(): void {
  $('try-section').addEventListener('submit', (e) => {
    e.preventDefault();
    void classify();
  });
}

/** Offers the run's files and the try box; the previous run's are withdrawn first. */
export function showResult(r: InMemoryResult, method: string, model: string): void {
  clearResult();
  const [main, ...rest] = r.files.filter((f) => f.kind === 'result');
  const a = $<HTMLAnchorElement>('download');
  a.href = url(main);
  a.download = main.name;
  a.textContent = `Download ${main.name}`;
  a.setAttribute('aria-disabled', 'false');
  const more = $('more-downloads');
  for (const f of rest) more.append(link(f, `Download ${f.name}`));
  const peft = r.files.filter((f) => f.kind === 'peft');
  if (peft.length) {
    const p = document.createElement('p');
    p.append('PEFT adapter (Super-Tuning, loads with PeftModel.from_pretrained(base, folder) once both files are in one folder): ');
    peft.forEach((f, i) => p.append(...(i ? [', '] : []), link(f, f.name)));
    more.append(p);
  } else if (r.peftRefused) {
    more.append(Object.assign(document.createElement('p'), { textContent: `No PEFT adapter: ${r.peftRefused}.` }));
  }
  const last = r.evaluations.at(-1);
  const bytes = r.files.filter((f) => f.kind === 'result').reduce((n, f) => n + f.bytes.length, 0);
  say('result-info', `${r.files.filter((f) => f.kind === 'result').map((f) => f.name).join(' + ')}: ${bytes.toLocaleString('en-US')} bytes. ${howTo(method, model, r.files)}${last?.accuracy != null ? ` Held-out accuracy ${(100 * last.accuracy).toFixed(1)}%.` : ''}`);
  if (r.predictor) {
    predictor = r.predictor;
    $('try-section').hidden = false;
    $<HTMLButtonElement>('try-button').disabled = false;
  }
  a.focus();
}

/** Withdraws the downloads and frees the model the try box held. */
export function clearResult(): void {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  const a = $<HTMLAnchorElement>('download');
  a.removeAttribute('href');
  a.setAttribute('aria-disabled', 'true');
  $('more-downloads').replaceChildren();
  say('result-info', '');
  predictor?.dispose();
  predictor = null;
  $('try-section').hidden = true;
  $<HTMLButtonElement>('try-button').disabled = true;
  say('try-result', '');
}

function url(f: ResultFile): string {
  const u = URL.createObjectURL(new Blob([f.bytes as BlobPart], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }));
  urls.push(u);
  return u;
}

function link(f: ResultFile, text: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = url(f);
  a.download = f.name;
  a.textContent = text;
  a.className = 'button';
  return a;
}

async function classify(): Promise<void> {
  const text = $<HTMLTextAreaElement>('try-text').value;
  if (!predictor) return;
  if (text.trim() === '') {
    say('try-result', 'Paste or type a text to classify first.');
    return;
  }
  try {
    const r = await predictor.classify(text);
    state.classified = r.probabilities;
    const all = r.probabilities.map((p) => `${p.label} ${(100 * p.probability).toFixed(1)}%`).join(', ');
    say('try-result', `${r.label} (${all})`);
  } catch (e) {
    say('try-result', (e as Error).message);
  }
}
