import { mkdirSync, writeFileSync } from 'node:fs';
import { saveTokenizer, tokenizerConfigFor, trainBpe } from '@siftjs/cli';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { manualSeed } from '@siftjs/tensor';

/**
 * The CLI tests' fixture: `count` labelled mails (alternating ham and spam, JSONL) at `data`, and a tiny GPT-2
 * (1 layer, n_embd 16) with its own 300-token BPE, written as a Hugging Face directory at `modelDir`.
 */
export function writeTinyFixture(modelDir: string, data: string, count: number): void {
  const words = ['free', 'money', 'offer', 'click', 'winner', 'meeting', 'notes', 'project', 'review', 'lunch'];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const spam = i % 2 === 1;
    const pick = (j: number) => words[(spam ? 0 : 5) + ((i * 7 + j * 3) % 5)];
    lines.push(JSON.stringify({ text: `${pick(0)} ${pick(1)} ${pick(2)} ${pick(3)} number ${i}`, label: spam ? 'spam' : 'ham' }));
  }
  writeFileSync(data, `${lines.join('\n')}\n`);
  const json = trainBpe(lines, { vocabSize: 300 });
  mkdirSync(modelDir, { recursive: true });
  saveTokenizer(modelDir, json, tokenizerConfigFor(json));
  manualSeed(0);
  const lm = new GPT2LMHeadModel(gpt2Config({ vocab_size: 300, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'test'));
  lm.savePretrained(modelDir);
  lm.dispose();
}
