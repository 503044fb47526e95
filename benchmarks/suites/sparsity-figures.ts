/**
 * The paper's Figures 3(d) and 4 at our scale, over GPT-2s of several sizes pretrained by `sift pretrain` on the
 * same corpus (State of the Union + Moby-Dick, 800 steps of 16 × 128 tokens, the command's defaults):
 *
 * - Figure 3(d): how much of the gradient the top 1% of components hold, pretrained against random initialisation,
 *   at each size. The gradient is the task loss of a fixed held-out set — the first 32 ham and 32 spam emails of
 *   the SpamAssassin task's held-out split (the task `sift compare` fine-tunes on), 96 tokens, a fresh 2-class head
 *   — summed over its 4 batches of 16, as `sift analyze` computes it (gradientConcentration), over every matrix of
 *   the transformer blocks (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj), once per seed (the seed draws the head,
 *   and the random initialisation).
 * - Figure 4: one full fine-tune of the pretrained model on that task (COMPARE_DEFAULTS: 800 training emails, 2
 *   epochs of batch 16, AdamW lr 2e-3 with warm-up and linear decay, the `fit` loop every method trains with); after
 *   each backward, SelectionStability records how much of the step's gradient the components the first batch ranked
 *   top 1% hold, beside the step's own top 1%, over the same block matrices.
 *
 * Both measures throughout, named wherever they appear: our share of the squared norm, Σ g[top]² / Σ g², and the
 * authors' norm ratio ‖g[top]‖ / ‖g‖ (the square root of the share, tensor by tensor).
 *
 *   node --import tsx benchmarks/suites/sparsity-figures.ts [--sizes 2x64,4x128,6x192|none] [--model 6x192=DIR]
 *        [--models-dir DIR] [--seeds 0,1,2] [--stability all|none|4x128,...] [--time-steps 8x256,...] [--note TEXT] [--replot]
 *
 * --note TEXT is printed under the host line (how the models were pretrained, say), kept in the JSON.
 *
 * A size is LAYERSxWIDTH (heads = width / 32). 4x128 is the bundled models/sift-gpt2-mini (`sift pretrain`'s
 * defaults); the others are read from --model SIZE=DIR or DIR/gpt2-SIZE under --models-dir (default
 * benchmarks/models, git-ignored), and pretrained there when missing, the command recorded. --time-steps times
 * pretraining steps of other sizes beside 4x128's, round by round, to project their pretraining time from the
 * bundled model's recorded one. Results merge into benchmarks/results/sparsity-figures.json by size (a size
 * measured again replaces its entry), which is rewritten after every size; then sparsity-figures.md and the two
 * SVGs. --replot redraws the table and the figures from the JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import {
  COMPARE_DEFAULTS,
  type EncodedExample,
  encodeExamples,
  fit,
  gradientConcentration,
  JsonlLog,
  loadMobyDick,
  loadSotu,
  loadTaskModel,
  makeBatches,
  MEASURES,
  PRETRAIN_DEFAULTS,
  pretrain,
  spamTask,
  type TaskModel,
  type TokenBatch,
} from '@siftjs/cli';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { AdamW, clipGradNorm_, weightDecayGroups } from '@siftjs/nn';
import { createFineTuner, type GradientShare, matchesAny, meanShares, SelectionStability, type StabilityPoint } from '@siftjs/sift-optimizer';
import { getBackend, manualSeed, type Tensor, tensor } from '@siftjs/tensor';
import { renderSvg, shareBySizePlot, stabilityPlot } from '../lib/plot.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const outDir = join(repo, 'benchmarks/results');
const outName = opt('out', 'sparsity-figures');
const log = (s: string) => process.stdout.write(`${s}\n`);

/** The matrices measured: every weight matrix of the transformer blocks (not the embeddings, not the fresh head). */
const BLOCK_MATRICES = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];
const FRACTIONS = [0.001, 0.01, 0.1];
const FRACTION = 0.01;
const ANALYSIS = { perClass: 32, batchSize: 16, maxLength: COMPARE_DEFAULTS.maxLength };
type Measure = keyof typeof MEASURES;
const MEASURE_KEYS: Measure[] = ['shares', 'normRatios'];

// ---------------------------------------------------------------------------------------------------------------
// Sizes and their model directories.

interface Size {
  name: string;
  layers: number;
  width: number;
  heads: number;
}

function parseSize(s: string): Size {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m || Number(m[2]) % 32 !== 0) throw new Error(`--sizes: '${s}' is not LAYERSxWIDTH with a width divisible by 32 (e.g. 6x192)`);
  return { name: s, layers: Number(m[1]), width: Number(m[2]), heads: Number(m[2]) / 32 };
}

const overrides = new Map<string, string>();
args.forEach((a, i) => {
  if (a !== '--model') return;
  const [size, dir] = (args[i + 1] ?? '').split('=');
  if (!size || !dir) throw new Error(`--model takes SIZE=DIR, got '${args[i + 1]}'`);
  overrides.set(size, dir);
});
const modelsDir = opt('models-dir', join(repo, 'benchmarks/models'));
const bundled = join(repo, 'models/sift-gpt2-mini');
const defaultSize = `${PRETRAIN_DEFAULTS.nLayer}x${PRETRAIN_DEFAULTS.nEmbd}`;

function modelDir(size: Size): string {
  return overrides.get(size.name) ?? (size.name === defaultSize ? bundled : join(modelsDir, `gpt2-${size.name}`));
}

function pretrainCommand(size: Size, dir: string): string {
  return dir === bundled ? 'sift pretrain --out models/sift-gpt2-mini' : `sift pretrain --out ${dir} --layers ${size.layers} --width ${size.width} --heads ${size.heads}`;
}

/** What the model directory says about its pretraining: its log's first and last records and its README's command. */
function pretrainRecord(dir: string) {
  const lines = readFileSync(join(dir, 'training_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const start = lines.find((l) => l.event === 'start');
  const end = lines.find((l) => l.event === 'end');
  const steps = lines.filter((l) => typeof l.step === 'number');
  const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : '';
  const command = /```sh\n(.*)\n```/.exec(readme)?.[1] ?? null;
  return {
    params: start.params as number,
    options: start.options as Record<string, unknown>,
    startedAt: start.time as string,
    seconds: end.seconds as number,
    trainLoss: end.trainLoss as number,
    heldOutLoss: end.heldOutLoss as number,
    tokensPerSecond: steps.at(-1)?.tokensPerSecond as number,
    command,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The host, recorded with every measurement.

function host() {
  const lscpu = spawnSync('lscpu', { encoding: 'utf8' }).stdout ?? '';
  const cpu = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim() ?? os.cpus()[0]?.model;
  return { cpu, cores: os.cpus().length, node: process.version, backend: getBackend().info().description, loadAverage: os.loadavg()[0] };
}

// ---------------------------------------------------------------------------------------------------------------
// Figure 3(d): pretrained against random initialisation.

type ByFraction = Record<string, number>;
interface SeedShares {
  seed: number;
  pretrained: Record<Measure, ByFraction>;
  randomInit: Record<Measure, ByFraction>;
}

const blocks = (t: TaskModel): TaskModel => ({ ...t, siftTargets: BLOCK_MATRICES });

/**
 * The two gradients measured. `classification`: the SpamAssassin task through a fresh 2-class head (the fine-tuning
 * gradient the paper studies). `causal-lm`: the pretraining loss itself on the first windows of the token stream
 * `sift pretrain` held out (its last 2%, never trained on), which needs no new head.
 */
type Objective = 'classification' | 'causal-lm';
const OBJECTIVES: Objective[] = ['classification', 'causal-lm'];
const LM = { windows: 64, context: PRETRAIN_DEFAULTS.context };

/** The first LM.windows windows of `sift pretrain`'s held-out tokens, encoded as it encodes them (document by document, EOS after each). */
function heldOutWindows(t: TaskModel, totalTokens: number): EncodedExample[] {
  const texts = [...loadSotu().map((a) => a.text), ...loadMobyDick().map((m) => m.text)];
  const heldOut = totalTokens - Math.floor(totalTokens * 0.98);
  const tail: number[] = [];
  for (let d = texts.length - 1; d >= 0 && tail.length < heldOut; d--) tail.unshift(...t.tokenizer.encode(texts[d]), t.tokenizer.eosId as number);
  const stream = tail.slice(tail.length - heldOut);
  return Array.from({ length: Math.min(LM.windows, Math.floor(stream.length / LM.context)) }, (_, w) => ({ ids: stream.slice(w * LM.context, (w + 1) * LM.context) }));
}

function analysisBatches(objective: Objective, t: TaskModel, totalTokens: number): TokenBatch[] {
  if (objective === 'causal-lm') return makeBatches(heldOutWindows(t, totalTokens), { batchSize: ANALYSIS.batchSize, padId: t.tokenizer.padId });
  const data = spamTask({ trainPerClass: 0, heldOutPerClass: ANALYSIS.perClass, seed: COMPARE_DEFAULTS.seed });
  return makeBatches(encodeExamples(t.tokenizer, data.heldOut, { maxLength: ANALYSIS.maxLength }), { batchSize: ANALYSIS.batchSize, padId: t.tokenizer.padId });
}

async function concentration(dir: string, seeds: number[], objective: Objective, totalTokens: number): Promise<{ matrices: number; perSeed: SeedShares[]; perTensorSeed0: { pretrained: GradientShare[]; randomInit: GradientShare[] } | null }> {
  const task = objective === 'causal-lm' ? 'causal-lm' : 'classification';
  const perSeed: SeedShares[] = [];
  let perTensorSeed0 = null;
  let matrices = 0;
  let batches: TokenBatch[] | null = null;
  for (const seed of seeds) {
    manualSeed(seed);
    const pre = blocks(loadTaskModel(dir, task, 2));
    manualSeed(seed);
    const rnd = blocks(loadTaskModel(dir, task, 2, { randomInit: true }));
    batches ??= analysisBatches(objective, pre, totalTokens);
    const r = await gradientConcentration(pre, rnd, batches, FRACTIONS);
    pre.model.dispose();
    rnd.model.dispose();
    matrices = r.pretrained.length;
    const means = (rs: GradientShare[]) => Object.fromEntries(MEASURE_KEYS.map((m) => [m, meanShares(rs, m)])) as Record<Measure, ByFraction>;
    perSeed.push({ seed, pretrained: means(r.pretrained), randomInit: means(r.randomInit) });
    perTensorSeed0 ??= r;
    const at = perSeed.at(-1)!;
    log(`    ${objective}, seed ${seed}: top 1% Σg² share pretrained ${pct(at.pretrained.shares['0.01'])}, random ${pct(at.randomInit.shares['0.01'])}; norm ratio pretrained ${pct(at.pretrained.normRatios['0.01'])}, random ${pct(at.randomInit.normRatios['0.01'])}`);
  }
  return { matrices, perSeed, perTensorSeed0 };
}

// ---------------------------------------------------------------------------------------------------------------
// Figure 4: one full fine-tune, tracked.

/** Batches of the control: the fine-tune's first batches, seen by the untouched pretrained model. */
const CONTROL_BATCHES = 20;

/**
 * The control for Figure 4: the same tracker over the fine-tune's first batches with no optimizer step between
 * them, so what the first batch's top 1% loses there is the batches differing, not the weights moving.
 */
async function withoutTraining(task: TaskModel, batches: TokenBatch[], include: (name: string, p: Tensor) => boolean): Promise<StabilityPoint[]> {
  const tracker = new SelectionStability(task.model, FRACTION, include);
  try {
    for (const b of batches) {
      const ids = tensor(b.inputIds, { shape: b.shape, dtype: 'int32' });
      const mask = tensor(b.attentionMask, { shape: b.shape, dtype: 'int32' });
      const labels = tensor(b.labels!, { shape: [b.shape[0]], dtype: 'int32' });
      const { loss, logits } = task.forward(ids, mask, labels);
      (loss as Tensor).backward();
      [ids, mask, labels, loss as Tensor, logits].forEach((t) => t.dispose());
      await tracker.observe();
      for (const p of task.model.parameters()) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
    return tracker.points;
  } finally {
    tracker.dispose();
  }
}

async function stability(dir: string) {
  const o = COMPARE_DEFAULTS;
  const data = spamTask(o);
  manualSeed(o.seed);
  const task = loadTaskModel(dir, 'classification', data.labelNames.length);
  const encode = (xs: typeof data.train) => encodeExamples(task.tokenizer, xs, { maxLength: o.maxLength });
  const trainEnc = encode(data.train);
  const padId = task.tokenizer.padId;
  const batchesFor = (epoch: number): TokenBatch[] => makeBatches(trainEnc, { batchSize: o.batchSize, padId, bucketByLength: true, seed: o.seed * 1000 + epoch });
  const heldOut = makeBatches(encode(data.heldOut), { batchSize: 64, padId });
  const tuner = createFineTuner(task.model, { method: 'full', lr: o.lr.full! });
  const include = (name: string, p: Tensor) => p.rank >= 2 && matchesAny(name, BLOCK_MATRICES);
  const tracker = new SelectionStability(task.model, FRACTION, include);
  const tmp = mkdtempSync(join(os.tmpdir(), 'siftjs-stability-'));
  try {
    const control = await withoutTraining(task, batchesFor(0).slice(0, CONTROL_BATCHES), include);
    const r = await fit({
      task,
      tuner,
      batchesFor,
      heldOut,
      epochs: o.epochs,
      lr: o.lr.full!,
      seed: o.seed,
      log: new JsonlLog(join(tmp, 'log.jsonl')),
      quiet: true,
      afterBackward: async () => {
        await tracker.observe();
      },
    });
    return {
      setting: `full fine-tuning, ${data.train.length} training emails, ${o.epochs} epochs of batch ${o.batchSize}, ${o.maxLength} tokens, AdamW lr ${o.lr.full} (6% warm-up, linear decay), seed ${o.seed}`,
      steps: tracker.points.length,
      accuracy: r.evaluations.at(-1)?.accuracy ?? NaN,
      seconds: r.seconds,
      losses: r.losses,
      points: tracker.points,
      control,
    };
  } finally {
    tracker.dispose();
    tuner.dispose();
    task.model.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pretraining step times: sizes side by side, round by round, on random token windows (the cost of a step does not
// depend on the tokens).

function pretrainStepSeconds(size: Size, steps: number): number {
  const d = PRETRAIN_DEFAULTS;
  manualSeed(0);
  const model = new GPT2LMHeadModel(
    gpt2Config({ vocab_size: d.vocabSize, n_positions: d.context, n_embd: size.width, n_layer: size.layers, n_head: size.heads, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'timing'),
  );
  const opt = new AdamW(weightDecayGroups(model, d.weightDecay), { lr: 1e-4, betas: [0.9, 0.95] });
  const step = () => {
    const ids = tensor(Array.from({ length: d.batchSize }, (_, r) => Array.from({ length: d.context }, (_, c) => (r * 7919 + c * 104729) % d.vocabSize)), { dtype: 'int32' });
    const { logits, loss } = model.forward(ids, { labels: ids });
    logits.dispose();
    (loss as Tensor).backward();
    (loss as Tensor).itemSync();
    (loss as Tensor).dispose();
    ids.dispose();
    clipGradNorm_(model.parameters(), 1).dispose();
    opt.step();
    opt.zeroGrad();
  };
  step(); // warm-up: first-use allocations and kernel set-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const s = (performance.now() - t0) / 1000 / steps;
  model.dispose();
  return s;
}

async function timeSteps(sizes: Size[], reference: Size, referenceSeconds: number) {
  const rounds = 3;
  const perRound: Record<string, number>[] = [];
  for (let r = 0; r < rounds; r++) {
    const row: Record<string, number> = {};
    for (const s of [reference, ...sizes]) row[s.name] = pretrainStepSeconds(s, 2);
    perRound.push(row);
    log(`  round ${r + 1}: ${Object.entries(row).map(([k, v]) => `${k} ${v.toFixed(2)} s/step`).join(', ')}`);
  }
  return sizes.map((s) => {
    const ratios = perRound.map((row) => row[s.name] / row[reference.name]).sort((a, b) => a - b);
    const ratio = ratios[Math.floor(ratios.length / 2)];
    return { size: s.name, params: null as number | null, reference: reference.name, ratios, medianRatio: ratio, projectedMinutes: (ratio * referenceSeconds) / 60, perRound };
  });
}

/** The step times of the last --time-steps run, with where and how they were taken. */
interface StepTimes {
  measured: { date: string; host: ReturnType<typeof host>; command: string };
  sizes: Awaited<ReturnType<typeof timeSteps>>;
}

// ---------------------------------------------------------------------------------------------------------------
// The results file: one entry per size, merged across runs.

interface SizeEntry {
  size: string;
  layers: number;
  width: number;
  heads: number;
  dir: string;
  pretrain: ReturnType<typeof pretrainRecord> & { command: string; pretrainedByThisRun: boolean };
  measured: { date: string; host: ReturnType<typeof host>; command: string };
  concentration: Record<Objective, Awaited<ReturnType<typeof concentration>>>;
  stability: Awaited<ReturnType<typeof stability>> | null;
}

interface Results {
  fractions: number[];
  fraction: number;
  measures: typeof MEASURES;
  matrices: string[];
  analysisSets: Record<Objective, string>;
  sizes: SizeEntry[];
  stepTimes: StepTimes | null;
  note: string | null;
}

const jsonPath = join(outDir, `${outName}.json`);
const previous: Results | null = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as Results) : null;
const results: Results = {
  fractions: FRACTIONS,
  fraction: FRACTION,
  measures: MEASURES,
  matrices: BLOCK_MATRICES,
  analysisSets: {
    classification: `the classification loss of a fresh 2-class head on the first ${ANALYSIS.perClass} ham and ${ANALYSIS.perClass} spam emails of the SpamAssassin task's held-out split (seed ${COMPARE_DEFAULTS.seed}), first ${ANALYSIS.maxLength} tokens, ${(2 * ANALYSIS.perClass) / ANALYSIS.batchSize} batches of ${ANALYSIS.batchSize}, gradient summed over them`,
    'causal-lm': `the next-token loss (the pretraining objective) on the first ${LM.windows} windows of ${LM.context} tokens of the stream \`sift pretrain\` held out (the last 2% of its corpus, never trained on), ${LM.windows / ANALYSIS.batchSize} batches of ${ANALYSIS.batchSize}, gradient summed over them`,
  },
  sizes: previous?.sizes ?? [],
  stepTimes: previous?.stepTimes ?? null,
  note: args.includes('--note') ? opt('note', '') : (previous?.note ?? null),
};

/** Writes benchmarks/results/<out>.json|.md, or <out>-size.svg / <out>-steps.svg, atomically. */
function save(ext: string, text: string): void {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, ext.endsWith('.svg') ? `${outName}-${ext}` : `${outName}.${ext}`);
  writeFileSync(`${path}.tmp`, text.endsWith('\n') ? text : `${text}\n`);
  renameSync(`${path}.tmp`, path);
}

const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(1)}%`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---------------------------------------------------------------------------------------------------------------
// The run.

if (!args.includes('--replot')) {
  const sizeList = opt('sizes', '2x64,4x128,6x192');
  const sizes = sizeList === 'none' ? [] : sizeList.split(',').map(parseSize);
  const seeds = opt('seeds', '0,1,2').split(',').map(Number);
  const stabilityArg = opt('stability', 'all');
  const tracked = (s: Size) => stabilityArg === 'all' || stabilityArg.split(',').includes(s.name);
  const command = `node --import tsx benchmarks/suites/sparsity-figures.ts ${args.join(' ')}`.trim();
  log(`sparsity figures: sizes ${sizes.map((s) => s.name).join(', ')}; seeds ${seeds.join(', ')}; ${host().cpu}`);
  for (const size of sizes) {
    const dir = modelDir(size);
    const cmd = pretrainCommand(size, dir);
    let pretrainedByThisRun = false;
    if (!existsSync(join(dir, 'model.safetensors'))) {
      log(`${size.name}: no model at ${dir}; pretraining it: ${cmd}`);
      await pretrain({ ...PRETRAIN_DEFAULTS, out: dir, nLayer: size.layers, nEmbd: size.width, nHead: size.heads, command: cmd, quiet: true });
      pretrainedByThisRun = true;
    }
    const record = pretrainRecord(dir);
    log(`${size.name}: ${record.params.toLocaleString('en-US')} parameters, pretrained in ${(record.seconds / 60).toFixed(1)} min (held-out loss ${record.heldOutLoss.toFixed(3)}); gradient concentration over seeds ${seeds.join(', ')}`);
    const entry: SizeEntry = {
      size: size.name,
      ...size,
      dir: relative(repo, dir).startsWith('..') ? dir : relative(repo, dir),
      pretrain: { ...record, command: record.command ?? cmd, pretrainedByThisRun },
      measured: { date: new Date().toISOString(), host: host(), command },
      concentration: {} as SizeEntry['concentration'],
      // A size measured again without its fine-tune keeps the one measured before.
      stability: results.sizes.find((e) => e.size === size.name)?.stability ?? null,
    };
    const tokens = (JSON.parse(readFileSync(join(dir, 'training_log.jsonl'), 'utf8').split('\n')[0]) as { tokens: number }).tokens;
    for (const objective of OBJECTIVES) entry.concentration[objective] = await concentration(dir, seeds, objective, tokens);
    const keep = () => {
      results.sizes = [...results.sizes.filter((s) => s.size !== size.name), entry].sort((a, b) => a.pretrain.params - b.pretrain.params);
      save('json', JSON.stringify(results, null, 2));
    };
    keep();
    if (tracked(size)) {
      log(`${size.name}: full fine-tune, tracking the first batch's top ${100 * FRACTION}%`);
      entry.stability = await stability(dir);
      const last = entry.stability.points.at(-1)!;
      log(`  ${entry.stability.steps} steps in ${entry.stability.seconds.toFixed(0)} s, held-out accuracy ${pct(entry.stability.accuracy)}; last step: first batch's top 1% holds ${pct(last.firstBatchShare)} of Σg² (own top 1%: ${pct(last.ownShare)})`);
      keep();
    }
  }
  const timed = opt('time-steps', '');
  if (timed) {
    const reference = parseSize(defaultSize);
    const refSeconds = pretrainRecord(bundled).seconds;
    log(`pretraining step times beside ${reference.name} (whose pretraining took ${(refSeconds / 60).toFixed(1)} min):`);
    const measured = { date: new Date().toISOString(), host: host(), command };
    results.stepTimes = { measured, sizes: await timeSteps(timed.split(',').map(parseSize), reference, refSeconds) };
    for (const t of results.stepTimes.sizes) {
      const s = parseSize(t.size);
      t.params = 12 * s.layers * s.width * s.width + 13 * s.layers * s.width + (PRETRAIN_DEFAULTS.vocabSize + PRETRAIN_DEFAULTS.context + 2) * s.width;
    }
    save('json', JSON.stringify(results, null, 2));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The table and the figures.

type Init = 'pretrained' | 'randomInit';
const INIT_LABEL: Record<Init, string> = { pretrained: 'pretrained', randomInit: 'random init' };
const OBJECTIVE_LABEL: Record<Objective, string> = { classification: 'spam/ham classification (fresh head)', 'causal-lm': 'next-token loss on held-out text' };
const at = (e: SizeEntry, o: Objective, init: Init, m: Measure, f = FRACTION) => e.concentration[o].perSeed.map((s) => s[init][m][String(f)]);
const spread = (xs: number[]) => `${pct(mean(xs))} (${pct(Math.min(...xs))}–${pct(Math.max(...xs))})`;

function table(): string {
  const sizes = results.sizes;
  const h = sizes[0]?.measured.host;
  const lines = [
    `# Gradient sparsity at our scale: the paper's Figures 3(d) and 4 (${sizes.map((s) => s.measured.date.slice(0, 10)).sort().at(-1) ?? ''})`,
    '',
    `Host: ${h?.cpu} (lscpu), ${h?.cores} cores, Node ${h?.node}; ${h?.backend}. 1-minute load average when each size was measured: ${sizes.map((s) => `${s.size} ${s.measured.host.loadAverage.toFixed(1)}`).join(', ')}.`,
    ...(results.note ? ['', results.note] : []),
    '',
    `Models: GPT-2s pretrained by \`sift pretrain\` on the same corpus (State of the Union addresses + Moby-Dick, ${PRETRAIN_DEFAULTS.steps} steps of ${PRETRAIN_DEFAULTS.batchSize} × ${PRETRAIN_DEFAULTS.context} tokens, a ${PRETRAIN_DEFAULTS.vocabSize}-token BPE), one size apart each.`,
    'Gradients, each summed over its batches and measured per matrix of the transformer blocks',
    `(${BLOCK_MATRICES.join(', ')}), then averaged over the matrices, once per seed (seeds ${sizes[0]?.concentration.classification.perSeed.map((s) => s.seed).join(', ')}: the random initialisation's draw, and the fresh head's); shown as the mean over seeds (min–max):`,
    ...OBJECTIVES.map((o) => `- **${OBJECTIVE_LABEL[o]}** — ${results.analysisSets[o]}.`),
    '',
    'Two measures of how much of a gradient g its top components hold, named in every column and figure:',
    '- **Σg² share** — Σ g[top]² / Σ g², the share of the squared norm (what `sift analyze` printed alone until now);',
    "- **norm ratio** — ‖g[top]‖ / ‖g‖, the ratio of L2 norms the authors' code records. Per tensor it is the square root of the share (a 37% share is a 61% ratio); means over matrices and seeds are taken of each measure separately.",
    '',
    '## Pretraining',
    '',
    '| size | parameters | pretraining wall time | tokens/s at the end | final training loss | held-out loss | command |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...sizes.map(
      (s) =>
        `| ${s.size} (${s.heads} heads) | ${s.pretrain.params.toLocaleString('en-US')} | ${(s.pretrain.seconds / 60).toFixed(1)} min (from ${s.pretrain.startedAt.slice(0, 16).replace('T', ' ')}) | ${s.pretrain.tokensPerSecond} | ${s.pretrain.trainLoss.toFixed(3)} | ${s.pretrain.heldOutLoss.toFixed(3)} | \`${s.pretrain.command}\` |`,
    ),
    '',
    `## Figure 3(d): the top ${100 * FRACTION}% of components, pretrained against random initialisation`,
    '',
    ...OBJECTIVES.flatMap((o) => [
      `### ${OBJECTIVE_LABEL[o]}`,
      '',
      '| size | parameters | Σg² share, pretrained | Σg² share, random init | norm ratio, pretrained | norm ratio, random init |',
      '| --- | --- | --- | --- | --- | --- |',
      ...sizes.map((s) => `| ${s.size} | ${s.pretrain.params.toLocaleString('en-US')} | ${MEASURE_KEYS.flatMap((m) => (['pretrained', 'randomInit'] as Init[]).map((i) => spread(at(s, o, i, m)))).join(' | ')} |`),
      '',
      'At every fraction measured (mean over seeds; pretrained / random init):',
      '',
      `| size | ${FRACTIONS.map((f) => `Σg² share, top ${100 * f}%`).join(' | ')} | ${FRACTIONS.map((f) => `norm ratio, top ${100 * f}%`).join(' | ')} |`,
      `| --- | ${FRACTIONS.map(() => '---').join(' | ')} | ${FRACTIONS.map(() => '---').join(' | ')} |`,
      ...sizes.map((s) => `| ${s.size} | ${MEASURE_KEYS.flatMap((m) => FRACTIONS.map((f) => `${pct(mean(at(s, o, 'pretrained', m, f)))} / ${pct(mean(at(s, o, 'randomInit', m, f)))}`)).join(' | ')} |`),
      '',
    ]),
    `Figure: [${outName}-size.svg](${outName}-size.svg) (columns: Σg² share, then norm ratio; rows: ${OBJECTIVES.map((o) => OBJECTIVE_LABEL[o]).join(', then ')}).`,
    '',
  ];
  const tracked = sizes.filter((s) => s.stability);
  if (tracked.length) {
    const st = tracked[0].stability!;
    const summary = (pts: StabilityPoint[], key: keyof StabilityPoint) => {
      const v = pts.map((p) => p[key] as number);
      return `${pct(v[0])} → ${pct(mean(v.slice(-10)))}`;
    };
    lines.push(
      `## Figure 4: the first batch's top ${100 * FRACTION}% against each step's own, through a full fine-tune`,
      '',
      `Setting: ${st.setting}; the gradients of every step are dense (full fine-tuning), and after each backward the`,
      `components the first batch ranked top ${100 * FRACTION}% (per matrix, fixed from then on) are compared with that step's own top ${100 * FRACTION}%.`,
      'Columns: the first step → the mean of the last 10 steps; "kept" is first-batch ÷ own, averaged over all steps after the first (how much of',
      `the best possible a fixed choice keeps), over all steps and over the first ${CONTROL_BATCHES}. "Without training" is the control: the same first ${CONTROL_BATCHES} batches through the`,
      'untouched pretrained model, no optimizer step between them — what the first batch\'s choice loses to the batches differing, before the weights move.',
      '',
      `| size | steps | held-out accuracy after | Σg² share: first batch's top 1% | Σg² share: own top 1% | kept (Σg²) | kept, first ${CONTROL_BATCHES} steps (Σg²) | kept without training (Σg²) | norm ratio: first batch's | norm ratio: own | kept (norm ratio) | kept, first ${CONTROL_BATCHES} steps (norm ratio) | kept without training (norm ratio) |`,
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...tracked.map((s) => {
        const p = s.stability!.points;
        const kept = (pts: StabilityPoint[] | undefined, a: keyof StabilityPoint, b: keyof StabilityPoint) => (pts ? pct(mean(pts.slice(1).map((q) => (q[a] as number) / (q[b] as number)))) : '–');
        const c = s.stability!.control;
        const early = p.slice(0, CONTROL_BATCHES);
        return `| ${s.size} | ${s.stability!.steps} | ${pct(s.stability!.accuracy)} | ${summary(p, 'firstBatchShare')} | ${summary(p, 'ownShare')} | ${kept(p, 'firstBatchShare', 'ownShare')} | ${kept(early, 'firstBatchShare', 'ownShare')} | ${kept(c, 'firstBatchShare', 'ownShare')} | ${summary(p, 'firstBatchNormRatio')} | ${summary(p, 'ownNormRatio')} | ${kept(p, 'firstBatchNormRatio', 'ownNormRatio')} | ${kept(early, 'firstBatchNormRatio', 'ownNormRatio')} | ${kept(c, 'firstBatchNormRatio', 'ownNormRatio')} |`;
      }),
      '',
      `Figure: [${outName}-steps.svg](${outName}-steps.svg) (left panel: Σg² share; right panel: norm ratio; solid: the step's own top ${100 * FRACTION}%, dashed: the first batch's, dotted: the ${100 * FRACTION}% of Σg² (${pct(Math.sqrt(FRACTION))} as a norm ratio) a fixed random set holds on average, dash-dotted: the control, the first batch's top ${100 * FRACTION}% over the first ${CONTROL_BATCHES} batches without training).`,
      '',
    );
  }
  if (results.stepTimes?.sizes.length) {
    const t = results.stepTimes.sizes;
    const ref = t[0].reference;
    const perStep = (name: string) => t[0].perRound.map((row) => row[name].toFixed(2)).join(', ');
    lines.push(
      '## Which sizes pretrain in under an hour here',
      '',
      `Pretraining steps (16 × 128 tokens: forward, backward, clipping, AdamW) of each size timed beside ${ref}'s, 3 rounds of 2 steps`,
      `after a warm-up step each, in one process (${results.stepTimes.measured.date.slice(0, 16).replace('T', ' ')}, load average ${results.stepTimes.measured.host.loadAverage.toFixed(1)}: ${ref} took ${perStep(ref)} s a step`,
      `against ${(pretrainRecord(bundled).seconds / 800).toFixed(2)} s in its recorded pretraining). Other jobs slow every size alike within a round, so the ratio of step`,
      `times is what is kept: its median, times ${ref}'s recorded pretraining (${(pretrainRecord(bundled).seconds / 60).toFixed(1)} min), projects each size's pretraining on a quiet machine.`,
      '',
      `| size | parameters | s per step (per round) | step time ÷ ${ref}'s (per round) | median | projected pretraining |`,
      '| --- | --- | --- | --- | --- | --- |',
      ...t.map((r) => `| ${r.size} | ${r.params?.toLocaleString('en-US')} | ${perStep(r.size)} | ${r.ratios.map((x) => x.toFixed(2)).join(', ')} | ${r.medianRatio.toFixed(2)} | ${r.projectedMinutes.toFixed(0)} min |`),
      '',
    );
  }
  const commands = [...sizes.map((s) => s.pretrain.command), ...sizes.map((s) => s.measured.command), ...(results.stepTimes ? [results.stepTimes.measured.command] : [])];
  lines.push('## Commands', '', '```sh', ...new Set(commands), '```', '');
  return lines.join('\n');
}

function sizePoints() {
  return results.sizes.flatMap((s) =>
    OBJECTIVES.flatMap((o) =>
      MEASURE_KEYS.flatMap((m) =>
        (['pretrained', 'randomInit'] as Init[]).map((init) => {
          const xs = at(s, o, init, m);
          return { objective: OBJECTIVE_LABEL[o], measure: MEASURES[m], init: INIT_LABEL[init], size: s.size, params: s.pretrain.params, value: mean(xs), low: Math.min(...xs), high: Math.max(...xs) };
        }),
      ),
    ),
  );
}

function stepPoints() {
  const which = {
    first: `the first batch's top ${100 * FRACTION}%`,
    own: `the step's own top ${100 * FRACTION}%`,
    random: `a random fixed ${100 * FRACTION}% (expected)`,
    control: `the first batch's top ${100 * FRACTION}%, later batches without training (control)`,
  };
  return results.sizes
    .filter((s) => s.stability)
    .flatMap((s) => {
      const pts = s.stability!.points;
      // A fixed set of components chosen at random holds x of Σg² on average, √x as a norm ratio: the floor.
      const floor = [1, pts.length].flatMap((step) => [
        { measure: MEASURES.shares, which: which.random, model: s.size, step, value: FRACTION },
        { measure: MEASURES.normRatios, which: which.random, model: s.size, step, value: Math.sqrt(FRACTION) },
      ]);
      const control = (s.stability!.control ?? []).flatMap((p) => [
        { measure: MEASURES.shares, which: which.control, model: s.size, step: p.step + 1, value: p.firstBatchShare },
        { measure: MEASURES.normRatios, which: which.control, model: s.size, step: p.step + 1, value: p.firstBatchNormRatio },
      ]);
      return [
        ...pts.flatMap((p) => [
          { measure: MEASURES.shares, which: which.own, model: s.size, step: p.step + 1, value: p.ownShare },
          { measure: MEASURES.shares, which: which.first, model: s.size, step: p.step + 1, value: p.firstBatchShare },
          { measure: MEASURES.normRatios, which: which.own, model: s.size, step: p.step + 1, value: p.ownNormRatio },
          { measure: MEASURES.normRatios, which: which.first, model: s.size, step: p.step + 1, value: p.firstBatchNormRatio },
        ]),
        ...floor,
        ...control,
      ];
    });
}

if (args.includes('--replot') && args.includes('--note')) save('json', JSON.stringify(results, null, 2));
if (results.sizes.length) {
  const md = table();
  save('md', md);
  save('size.svg', await renderSvg(shareBySizePlot(sizePoints(), FRACTION, Object.values(MEASURES), OBJECTIVES.map((o) => OBJECTIVE_LABEL[o]))));
  const steps = stepPoints();
  if (steps.length) save('steps.svg', await renderSvg(stabilityPlot(steps, FRACTION, Object.values(MEASURES))));
  log(`\n${md}`);
}
