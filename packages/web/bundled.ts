// What the page ships besides its code, made in Node (by the Vite server and build, and by the browser test): the
// bundled model's files, served as they are from models/, and the spam/ham sample, cut from the SpamAssassin corpus.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spamTask } from '@siftjs/cli';

/** The model directory the page offers, and the files of it the page fetches. */
export const MODEL_NAME = 'sift-gpt2-mini';
export const MODEL_DIR = fileURLToPath(new URL(`../../models/${MODEL_NAME}/`, import.meta.url));
export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** Emails per class in the sample, and the characters kept of each (the page's longest window, 128 tokens, reads at most 1,024). */
export const SAMPLE_PER_CLASS = 120;
export const SAMPLE_CHARS = 2000;

/**
 * The sample as JSONL ({"text", "label"} per line): `npm start`'s task (SpamAssassin, both spam groups against the
 * three ham groups, balanced) with seed 0, its first SAMPLE_PER_CLASS training emails of each class, each cut to
 * SAMPLE_CHARS characters. The page holds out a share of it as `sift finetune --held-out` does.
 */
export function spamHamSample(): string {
  const task = spamTask({ trainPerClass: SAMPLE_PER_CLASS, heldOutPerClass: 0, seed: 0 });
  return task.train.map((e) => `${JSON.stringify({ text: e.text.slice(0, SAMPLE_CHARS), label: task.labelNames[e.label!] })}\n`).join('');
}

export function modelFile(name: string): Buffer {
  return readFileSync(`${MODEL_DIR}${name}`);
}
