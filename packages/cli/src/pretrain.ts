import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { AdamW, clipGradNorm_, LRScheduler, linearWarmupCosineDecay, weightDecayGroups } from '@siftjs/nn';
import { manualSeed, noGrad, scope, stack, type Tensor, tensor } from '@siftjs/tensor';
import { loadMobyDick, loadSotu } from './data/corpora.js';
import { SeededRandom } from './data/random.js';
import { trainBpe, tokenizerConfigFor } from './data/bpe.js';
import { BpeTokenizer } from './data/bpe-tokenizer.js';
import { saveTokenizer } from './data/save.js';
import { JsonlLog } from './train/log.js';
import { Progress } from './train/progress.js';

export interface PretrainOptions {
  out: string;
  vocabSize: number;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  /** Tokens per training window (also the model's n_positions). */
  context: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  seed: number;
  /** The command line that ran this, written into the model's README. */
  command?: string;
  quiet?: boolean;
  /** Recompute each transformer block in backward instead of keeping its activations (the same weights, less memory). */
  gradientCheckpointing?: boolean;
}

// Dropout off: a short run over a few million tokens underfits rather than overfits, and it halves the step time.
const noDropout = { resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };

export const PRETRAIN_DEFAULTS: Omit<PretrainOptions, 'out'> = {
  vocabSize: 4096,
  nLayer: 4,
  nEmbd: 128,
  nHead: 4,
  context: 128,
  batchSize: 16,
  steps: 800,
  lr: 2e-3,
  warmup: 40,
  weightDecay: 0.1,
  seed: 0,
};

/**
 * Pretrains a small GPT-2 on the offline corpora (State of the Union addresses + Moby-Dick): a byte-level BPE
 * trained on the same text, then next-token prediction on random windows, AdamW with warmup and cosine decay,
 * gradient clipping at 1. Writes a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json) with its training log and a README holding the command that reproduces it. The last
 * 2% of the token stream is held out and its loss reported.
 */
export async function pretrain(o: PretrainOptions): Promise<{ trainLoss: number; heldOutLoss: number; tokens: number; seconds: number }> {
  const say = (s: string) => o.quiet || process.stderr.write(`${s}\n`);
  const t0 = performance.now();
  const texts = [...loadSotu().map((a) => a.text), ...loadMobyDick().map((s) => s.text)];
  const json = trainBpe(texts, { vocabSize: o.vocabSize });
  const config = tokenizerConfigFor(json);
  const tok = new BpeTokenizer(json, config); // the same ids as HfTokenizer, several times faster
  const eos = tok.eosId as number;
  const pieces = texts.map((t) => [...tok.encode(t), eos]);
  const stream = Int32Array.from(pieces.flat());
  const cut = Math.floor(stream.length * 0.98);
  const train = stream.subarray(0, cut);
  const heldOut = stream.subarray(cut);
  say(`pretrain: ${texts.length} documents, ${stream.length.toLocaleString('en-US')} tokens (vocab ${o.vocabSize}), BPE + encoding ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  manualSeed(o.seed);
  const model = new GPT2LMHeadModel(
    gpt2Config(
      { vocab_size: o.vocabSize, n_positions: o.context, n_embd: o.nEmbd, n_layer: o.nLayer, n_head: o.nHead, pad_token_id: tok.padId, bos_token_id: eos, eos_token_id: eos, ...noDropout },
      'pretrain',
    ),
  );
  if (o.gradientCheckpointing) model.gradientCheckpointingEnable();
  const opt = new AdamW(weightDecayGroups(model, o.weightDecay), { lr: o.lr, betas: [0.9, 0.95] });
  const sched = new LRScheduler(opt, linearWarmupCosineDecay(o.warmup, o.steps, 0.1));
  const rng = new SeededRandom(o.seed, 7);
  const window = (from: Int32Array, start: number) => Array.from(from.subarray(start, start + o.context));
  const log = new JsonlLog(join(o.out, 'training_log.jsonl.tmp'));
  mkdirSync(o.out, { recursive: true });
  rmSync(join(o.out, 'training_log.jsonl.tmp'), { force: true });
  log.write({ event: 'start', options: { ...o, command: undefined }, tokens: stream.length, params: model.parameters().reduce((n, p) => n + p.size, 0) });
  const bar = o.quiet ? null : new Progress('pretrain', o.steps);
  const tStart = performance.now();
  let recent: number[] = [];
  for (let step = 1; step <= o.steps; step++) {
    const rows = Array.from({ length: o.batchSize }, () => window(train, rng.below(train.length - o.context)));
    const ids = tensor(rows, { dtype: 'int32' });
    const { logits, loss } = model.forward(ids, { labels: ids });
    logits.dispose();
    loss!.backward();
    ids.dispose();
    // One read per step, started before the clip and the step are queued (a GPU runs them while the loss travels).
    const read = loss!.item().finally(() => loss!.dispose());
    read.catch(() => {}); // awaited below; if the step throws first, the read must not go unhandled
    clipGradNorm_(model.parameters(), 1).dispose();
    opt.step();
    sched.step();
    opt.zeroGrad();
    const value = await read;
    if (!Number.isFinite(value)) throw new Error(`pretrain: the loss became ${value} at step ${step}; lower --lr`);
    recent.push(value);
    const tps = (step * o.batchSize * o.context) / ((performance.now() - tStart) / 1000);
    bar?.update(step, value, tps);
    if (step % 10 === 0 || step === o.steps) {
      log.write({ step, loss: recent.reduce((a, b) => a + b, 0) / recent.length, lr: opt.paramGroups[0].lr, tokensPerSecond: Math.round(tps) });
      if (step !== o.steps) recent = [];
    }
  }
  bar?.stop();
  const trainLoss = recent.reduce((a, b) => a + b, 0) / recent.length;
  // Held-out loss over consecutive windows of the last 2%: the batch losses stay on the device and are read once.
  const losses: Tensor[] = [];
  const counts: number[] = [];
  noGrad(() => {
    for (let start = 0; start + o.context <= heldOut.length; start += o.context * o.batchSize) {
      const rows: number[][] = [];
      for (let r = 0; r < o.batchSize && start + (r + 1) * o.context <= heldOut.length; r++) rows.push(window(heldOut, start + r * o.context));
      if (rows.length === 0) break;
      losses.push(
        scope(() => {
          const ids = tensor(rows, { dtype: 'int32' });
          return model.forward(ids, { labels: ids }).loss!;
        }),
      );
      counts.push(rows.length);
    }
  });
  const all = noGrad(() => stack(losses));
  for (const l of losses) l.dispose();
  const values = await all.toArray();
  all.dispose();
  let sum = 0;
  let n = 0;
  counts.forEach((rows, i) => {
    sum += values[i] * rows;
    n += rows;
  });
  const heldOutLoss = sum / n;
  const seconds = (performance.now() - t0) / 1000;
  log.write({ event: 'end', trainLoss, heldOutLoss, seconds });
  await model.savePretrainedAsync(o.out);
  saveTokenizer(o.out, json, config);
  renameSync(join(o.out, 'training_log.jsonl.tmp'), join(o.out, 'training_log.jsonl'));
  const params = model.parameters().reduce((s, p) => s + p.size, 0);
  writeFileSync(
    join(o.out, 'README.md'),
    [
      '# The bundled model',
      '',
      `A GPT-2 architecture (${o.nLayer} layers, ${o.nEmbd} wide, ${o.nHead} heads, ${o.context} positions, ${params.toLocaleString('en-US')} parameters) with a ${o.vocabSize}-token byte-level BPE,`,
      `pretrained by \`sift pretrain\` for ${o.steps} steps of ${o.batchSize} × ${o.context} tokens on the State of the Union addresses and Moby-Dick`,
      `(${stream.length.toLocaleString('en-US')} tokens; the last 2% held out). Final training loss ${trainLoss.toFixed(3)}, held-out loss ${heldOutLoss.toFixed(3)} (nats/token); ${(seconds / 60).toFixed(1)} minutes on the CPU.`,
      '',
      'Reproduce it:',
      '',
      '```sh',
      o.command ?? `sift pretrain --out ${o.out}`,
      '```',
      '',
      '`training_log.jsonl` holds the loss every 10 steps. It loads as a Hugging Face checkpoint (`GPT2LMHeadModel`, `PreTrainedTokenizerFast`).',
      '',
    ].join('\n'),
  );
  model.dispose();
  return { trainLoss, heldOutLoss, tokens: stream.length, seconds };
}
