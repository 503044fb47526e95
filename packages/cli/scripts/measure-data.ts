// Measures the data layer on the bundled corpora: BPE training time on State of the Union + Moby-Dick, and the
// spam-assassin emails per group in characters and in tokens of the trained tokenizers.
// Run: npx tsx --conditions source packages/cli/scripts/measure-data.ts
import { BpeTokenizer, encodeExamples, loadMobyDick, loadSotu, loadSpamAssassin, tokenizerConfigFor, trainBpe } from '../src/index.js';

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const summary = (xs: number[]) => `median ${q(xs, 0.5)}, p10 ${q(xs, 0.1)}, p90 ${q(xs, 0.9)}, max ${q(xs, 1)}`;

const texts = [...loadSotu().map((d) => d.text), ...loadMobyDick().map((d) => d.text)];
const chars = texts.reduce((a, t) => a + t.length, 0);
const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
console.log(`pretraining text: ${texts.length} documents, ${chars} characters, ${bytes} UTF-8 bytes`);

let t0 = performance.now();
const spam = loadSpamAssassin();
console.log(`loadSpamAssassin: ${((performance.now() - t0) / 1000).toFixed(2)} s, ${spam.examples.length} emails`);

const toks: [number, BpeTokenizer][] = [];
for (const vocabSize of [4096, 8192]) {
  t0 = performance.now();
  const json = trainBpe(texts, { vocabSize });
  const s = (performance.now() - t0) / 1000;
  console.log(`trainBpe vocab ${vocabSize}: ${s.toFixed(2)} s, ${json.model.merges.length} merges`);
  toks.push([vocabSize, new BpeTokenizer(json, tokenizerConfigFor(json))]); // same ids as HfTokenizer, ~8x faster
}

for (let k = 0; k < spam.labelNames.length; k++) {
  const ex = spam.examples.filter((e) => e.label === k);
  console.log(`\n${spam.labelNames[k]}: ${ex.length} emails`);
  console.log(`  characters (subject + body): ${summary(ex.map((e) => e.text.length))}`);
  for (const [v, tok] of toks) {
    t0 = performance.now();
    const lens = ex.map((e) => tok.encode(e.text).length);
    console.log(`  tokens @${v}: ${summary(lens)}  (${((performance.now() - t0) / 1000).toFixed(1)} s to encode)`);
  }
}

// What a fine-tuning run pays: every email encoded once, truncated to 256 tokens (encodeExamples reads prefixes only).
for (const [v, tok] of toks) {
  t0 = performance.now();
  const enc = encodeExamples(tok, spam.examples, { maxLength: 256 });
  const full = enc.filter((e) => e.ids.length === 256).length;
  console.log(`encodeExamples @${v}, maxLength 256: ${((performance.now() - t0) / 1000).toFixed(1)} s for ${enc.length} emails (${full} reach 256 tokens)`);
}
