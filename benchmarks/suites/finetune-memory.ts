/**
 * Memory of one GPT-2- or BERT-architecture training step under SIFT, full fine-tuning and LoRA (equal trainable
 * parameters), on the CPU backend: the bytes each method keeps (gradients + optimizer state, accounted by the
 * method), the backend's measured peak above the model's own weights during a step, the step time, and the size
 * of what a fine-tune saves (sparse delta, LoRA adapter, full checkpoint).
 *
 *   node --import tsx benchmarks/suites/finetune-memory.ts [--size small|tiny|bert-base|bert-tiny] [--seq 128] [--batch 4]
 *
 * small and tiny: GPT-2 architecture, causal LM loss, SIFT on every block projection. bert-base: BERT-base
 * (12 layers, 768 wide, 12 heads, vocabulary 30,522) as BertForSequenceClassification with a fresh 2-class head and
 * a classification loss, SIFT on query/key/value/attention.output.dense plus the classifier trained densely (the
 * paper's GLUE setup), LoRA on the same layers plus the classifier; bert-tiny is the same at 2 layers × 128 (a quick
 * check). Writes benchmarks/results/finetune-memory-<size>.{json,md}. The model is randomly initialised: memory
 * and file sizes do not depend on the weights' values; the token ids and labels are random.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import { BertForSequenceClassification, bertConfig, GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { saveSafetensors } from '@siftjs/safetensors';
import { extractDelta, type FineTuner, fullFineTune, lora, loraRankForBudget, matchesAny, saveDelta, SIFT } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, memoryStats, resetPeakBytes, type Tensor, tensor } from '@siftjs/tensor';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const size = opt('size', 'small');
const seq = Number(opt('seq', '128'));
const batch = Number(opt('batch', '4'));
const density = Number(opt('density', '0.01'));
const isBert = size.startsWith('bert');
if (!['small', 'tiny', 'bert-base', 'bert-tiny'].includes(size)) throw new Error(`finetune-memory: --size small|tiny|bert-base|bert-tiny, got ${size}`);
const bertDims = size === 'bert-base' ? { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522 } : { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 4, intermediate_size: 512, vocab_size: 30522 };
const dims: Record<string, number> = isBert ? bertDims : size === 'small' ? { n_layer: 12, n_embd: 768, n_head: 12, vocab_size: 50257 } : { n_layer: 2, n_embd: 128, n_head: 4, vocab_size: 4096 };
const gpt2 = () => gpt2Config({ ...dims, n_positions: 1024, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'benchmark');
const bert = () =>
  bertConfig({ ...bertDims, hidden_act: 'gelu', max_position_embeddings: 512, type_vocab_size: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, num_labels: 2 }, 'benchmark');
// The paper's choice for decoders, on GPT-2's names: every projection of every block. For BERT, its GLUE setup:
// the attention projections, with the classifier trained densely.
const targets = isBert ? ['query', 'key', 'value', 'attention.output.dense'] : ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];
const dense = isBert ? ['classifier'] : undefined;
const archName = isBert ? `BERT ${size.slice(5)}` : `GPT-2 ${size}`;
type Model = GPT2LMHeadModel | BertForSequenceClassification;
const newModel = (): Model => (isBert ? new BertForSequenceClassification(bert()) : new GPT2LMHeadModel(gpt2()));
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Row {
  method: string;
  trainable: number;
  gradients: number;
  optimizerState: number;
  kept: number;
  peakAboveWeights: number;
  stepSeconds: number;
  savedBytes: number;
  saved: string;
}

let lcg = 12345;
function batchOf(): Tensor {
  const ids = Int32Array.from({ length: batch * seq }, () => {
    lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0;
    return lcg % dims.vocab_size;
  });
  return tensor(ids, { shape: [batch, seq], dtype: 'int32' });
}

/** One random class label per sequence (BERT's classification loss). */
function labelsOf(): Tensor {
  const labels = Int32Array.from({ length: batch }, () => {
    lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0;
    return lcg >>> 31;
  });
  return tensor(labels, { shape: [batch], dtype: 'int32' });
}

/** The step's loss: causal LM on the ids themselves (GPT-2), or classification against random labels (BERT). */
function lossOf(model: Model, ids: Tensor): Tensor {
  if (model instanceof GPT2LMHeadModel) {
    const { logits, loss } = model.forward(ids, { labels: ids });
    logits.dispose();
    return loss!;
  }
  const labels = labelsOf();
  const { logits, loss } = model.forward(ids, { labels });
  logits.dispose();
  labels.dispose();
  return loss!;
}

/** Two steps (SIFT selects on the first); the second is measured. */
async function measure(method: string, build: (m: Model) => FineTuner, save: (m: Model, t: FineTuner, dir: string) => Promise<string>): Promise<Row> {
  manualSeed(0);
  const model = newModel();
  const weights = memoryStats().bytesInUse;
  const tuner = build(model);
  let seconds = 0;
  for (let step = 0; step < 2; step++) {
    const ids = batchOf();
    if (step === 1) resetPeakBytes();
    const t0 = performance.now();
    const loss = lossOf(model, ids);
    loss.backward();
    loss.dispose();
    tuner.step();
    tuner.zeroGrad();
    seconds = (performance.now() - t0) / 1000;
    ids.dispose();
  }
  const peak = memoryStats().peakBytes - weights;
  const report = tuner.memoryReport();
  const dir = mkdtempSync(join(os.tmpdir(), 'siftjs-mem-'));
  const file = await save(model, tuner, dir);
  const savedBytes = statSync(file).size;
  rmSync(dir, { recursive: true, force: true });
  const row: Row = {
    method,
    trainable: tuner.trainableCount(),
    gradients: report.gradients,
    optimizerState: report.optimizerState,
    kept: report.total,
    peakAboveWeights: peak,
    stepSeconds: seconds,
    savedBytes,
    saved: file.split('/').pop() as string,
  };
  tuner.dispose();
  model.dispose();
  return row;
}

// Each method runs in its own process: a fresh heap, so one method's freed blocks cannot shape another's peak.
const only = opt('method', '');
const methods: Record<string, () => Promise<Row>> = {
  sift: () =>
    measure(
      'SIFT',
      (m) => new SIFT(m, { density, targets, dense, lr: 1e-4 }),
      async (_m, t, dir) => {
        const path = join(dir, 'delta.safetensors');
        saveDelta(path, await extractDelta(t as SIFT));
        return path;
      },
    ),
  full: () =>
    measure(
      'full fine-tuning',
      (m) => fullFineTune(m, { lr: 1e-4 }),
      async (m, _t, dir) => {
        m.savePretrained(dir); // as Hugging Face saves it: the tied LM head once
        return join(dir, 'model.safetensors');
      },
    ),
  lora: () =>
    measure(
      `LoRA rank ${loraRank} (equal trainable params)`,
      (m) => lora(m, { rank: loraRank, targets, dense, lr: 1e-4 }),
      async (m, _t, dir) => {
        const path = join(dir, 'adapter_model.safetensors');
        // The adapters, and the classifier where one trains (as PEFT saves modules_to_save).
        const adapters = Object.fromEntries(Object.entries(m.stateDict()).filter(([n]) => n.includes('.lora_') || matchesAny(n, dense ?? [])));
        saveSafetensors(path, adapters);
        return path;
      },
    ),
};
const loraRankArg = Number(opt('lora-rank', '0'));
let loraRank = loraRankArg;
if (only) {
  // --method a,b runs several methods one after another in this process (a check that the heap reuses memory).
  for (const method of only.split(',')) process.stdout.write(`ROW ${JSON.stringify(await methods[method]())}\n`);
  process.exit(0);
}

const child = (method: string, extra: string[] = []): Row => {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args, '--method', method, ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('ROW '));
  if (!line) throw new Error(`finetune-memory: the ${method} run failed:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice(4)) as Row;
};
log(`${archName}: ${JSON.stringify(dims)}, batch ${batch} × ${seq} tokens, SIFT density ${density} on ${targets.join(', ')}${dense ? ` (dense: ${dense.join(', ')})` : ''}`);
const rows: Row[] = [child('sift')];
log(`  ${JSON.stringify(rows[0])}`);
// LoRA's rank: closest to SIFT's trainable count on the same layers (its sparse part: both train the classifier).
manualSeed(0);
const probe = newModel();
const denseCount = [...probe.namedParameters()].reduce((n, [name, p]) => n + (matchesAny(name, dense ?? []) ? p.size : 0), 0);
loraRank = loraRankForBudget(probe, targets, rows[0].trainable - denseCount);
probe.dispose();
for (const [m, extra] of [['full', []], ['lora', ['--lora-rank', String(loraRank)]]] as const) {
  rows.push(child(m, [...extra]));
  log(`  ${JSON.stringify(rows.at(-1))}`);
}
const rank = loraRank;

const mib = (b: number) => (b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const full = rows[1];
const md = [
  `# Fine-tuning memory, ${archName} architecture (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Host: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}; backend ${JSON.stringify(getBackend().info())}.`,
  `Model: ${isBert ? `BertForSequenceClassification, fresh 2-class head, ${JSON.stringify(dims)}` : JSON.stringify(dims)}; one training step on ${batch} × ${seq} tokens (${isBert ? 'classification loss on random labels' : 'causal LM loss'}), AdamW.`,
  `SIFT: density ${density} on ${targets.join(', ')} (first-batch selection)${dense ? `, ${dense.join(', ')} trained densely` : ''}. LoRA rank ${rank} on the same layers (closest to SIFT's trainable count)${dense ? `, ${dense.join(', ')} trained densely` : ''}.`,
  '"kept" = gradients + optimizer state + SIFT\'s values/indices, as the method accounts them; "peak" = the backend\'s',
  'measured peak bytes during the second step, above the model weights (activations included). Step times were taken on a',
  'shared, loaded machine and are not comparable between rows; the memory figures are exact.',
  `Regenerate: \`node --import tsx benchmarks/suites/finetune-memory.ts --size ${size} --seq ${seq} --batch ${batch}\`.`,
  '',
  '| method | trainable params | gradients | optimizer state | kept | kept ÷ full | peak above weights | peak ÷ full | step (s) | saved file | size |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.method} | ${r.trainable.toLocaleString('en-US')} | ${mib(r.gradients)} | ${mib(r.optimizerState)} | ${mib(r.kept)} | ${(r.kept / full.kept).toFixed(3)} | ${mib(r.peakAboveWeights)} | ${(r.peakAboveWeights / full.peakAboveWeights).toFixed(3)} | ${r.stepSeconds.toFixed(2)} | ${r.saved} | ${mib(r.savedBytes)} |`,
  ),
  '',
].join('\n');
const outDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
for (const [ext, text] of [['json', JSON.stringify({ size, dims, seq, batch, density, targets, ...(dense ? { dense } : {}), loraRank: rank, rows }, null, 2)], ['md', md]] as const) {
  const path = join(outDir, `finetune-memory-${size}.${ext}`);
  writeFileSync(`${path}.tmp`, `${text}\n`);
  renameSync(`${path}.tmp`, path);
}
log(md);
