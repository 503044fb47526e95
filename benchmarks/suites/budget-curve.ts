/**
 * The paper's accuracy-vs-#trainable-parameters curve on the main job's task (SpamAssassin spam vs ham, the
 * bundled models/sift-gpt2-mini): SIFT, random-index sparse and LoRA (rank chosen for SIFT's trainable count on
 * the same layers) at each density, with full fine-tuning and head-only training as reference lines. Every point
 * is one `sift compare` run with the main job's settings (COMPARE_DEFAULTS), the density changed.
 *
 *   node --import tsx benchmarks/suites/budget-curve.ts [--densities 0.0025,0.005,0.01,0.02,0.04] [--seed 0]
 *
 * Writes benchmarks/results/budget-curve.{json,md,svg} (--out NAME for another name), the JSON after every
 * density so an interrupted sweep keeps what it measured. About 60 s per method per density on 2 cores.
 * --replot rewrites the table and the plot from the JSON without training.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import { compare, COMPARE_DEFAULTS, type MethodResult } from '@siftjs/cli';
import { getBackend } from '@siftjs/tensor';
import { budgetCurvePlot, renderSvg } from '../lib/plot.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const outName = opt('out', 'budget-curve');
const outDir = fileURLToPath(new URL('../results/', import.meta.url));
const replot: Summary | null = args.includes('--replot') ? (JSON.parse(readFileSync(join(outDir, `${outName}.json`), 'utf8')) as Summary) : null;
const densities: number[] = replot?.settings.densities ?? opt('densities', '0.0025,0.005,0.01,0.02,0.04').split(',').map(Number);
const seed: number = replot?.settings.seed ?? Number(opt('seed', String(COMPARE_DEFAULTS.seed)));
const model = fileURLToPath(new URL('../../models/sift-gpt2-mini', import.meta.url));
const log = (s: string) => process.stdout.write(`${s}\n`);

interface Point {
  density: number | null;
  method: string;
  label: string;
  trainable: number;
  accuracy: number;
  heldOutLoss: number;
  seconds: number;
}

const started: string = replot?.started ?? new Date().toISOString();
const points: Point[] = replot?.points ?? [];
mkdirSync(outDir, { recursive: true });

async function run(tmp: string, methods: MethodResult['method'][], density: number | null): Promise<void> {
  const out = join(tmp, `${density ?? 'reference'}`);
  const t0 = performance.now();
  const results = await compare({ ...COMPARE_DEFAULTS, model, out, methods, density: density ?? COMPARE_DEFAULTS.density, seed, analyze: false, quiet: true });
  rmSync(out, { recursive: true, force: true });
  for (const r of results) {
    points.push({ density, method: r.method, label: r.label, trainable: r.trainable, accuracy: r.accuracy, heldOutLoss: r.heldOutLoss, seconds: r.seconds });
    log(`  ${density ?? 'reference'} ${r.label}: ${r.trainable.toLocaleString('en-US')} trainable, accuracy ${(100 * r.accuracy).toFixed(1)}%`);
  }
  log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  save('json', JSON.stringify(summary(), null, 2));
}

interface Summary {
  started: string;
  host: { cpu?: string; cores: number; node: string; backend: string };
  model: string;
  settings: typeof COMPARE_DEFAULTS & { seed: number; densities: number[] };
  points: Point[];
}

function summary(): Summary {
  return {
    started,
    host: replot?.host ?? { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, backend: getBackend().info().description },
    model: 'models/sift-gpt2-mini',
    settings: { ...COMPARE_DEFAULTS, seed, densities },
    points,
  };
}

function save(ext: string, text: string): void {
  const path = join(outDir, `${outName}.${ext}`);
  writeFileSync(`${path}.tmp`, text.endsWith('\n') ? text : `${text}\n`);
  renameSync(`${path}.tmp`, path);
}

if (!replot) {
  log(`budget curve: densities ${densities.join(', ')} on ${COMPARE_DEFAULTS.targets?.join(', ')}; seed ${seed}`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'siftjs-budget-'));
  try {
    log('reference lines: full fine-tuning, head only');
    await run(tmp, ['full', 'head'], null);
    for (const d of densities) {
      log(`density ${d}`);
      await run(tmp, ['sift', 'random', 'lora'], d);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const md = table();
save('md', md);
save('svg', await renderSvg(budgetCurvePlot(points)));
log(`\n${md}`);

function table(): string {
  const pct = (p: Point | undefined) => (p ? `${(100 * p.accuracy).toFixed(1)}%` : '–');
  const n = (p: Point | undefined) => (p ? p.trainable.toLocaleString('en-US') : '–');
  const at = (d: number | null, m: string) => points.find((p) => p.density === d && p.method === m);
  const full = at(null, 'full');
  const head = at(null, 'head');
  const s = summary();
  return [
    `# Accuracy vs trainable parameters (${started.slice(0, 10)})`,
    '',
    `Host: ${s.host.cpu}, ${s.host.cores} cores, Node ${s.host.node}; ${s.host.backend}.`,
    `Task: SpamAssassin spam vs ham, ${2 * COMPARE_DEFAULTS.trainPerClass} training and ${2 * COMPARE_DEFAULTS.heldOutPerClass} held-out emails (first ${COMPARE_DEFAULTS.maxLength} tokens),`,
    `${COMPARE_DEFAULTS.epochs} epochs, batch ${COMPARE_DEFAULTS.batchSize}, seed ${seed}; model models/sift-gpt2-mini (the bundled GPT-2, 1.33M parameters) with a fresh 2-class head.`,
    `SIFT and random-index sparse: the given density on ${COMPARE_DEFAULTS.targets?.join(', ')}, plus the head. LoRA: the rank whose`,
    'trainable count is closest to SIFT\'s sparse count on the attention projections (at least 1, so at the lowest densities it',
    'trains more than SIFT), plus the head. Learning rates: each method\'s from COMPARE_DEFAULTS. One run per point: on 500',
    'held-out emails one standard error of an accuracy near 90% is about 1.3 points.',
    `Reference lines: full fine-tuning ${pct(full)} (${n(full)} trainable), head only ${pct(head)} (${n(head)} trainable).`,
    `Regenerate: \`node --import tsx benchmarks/suites/budget-curve.ts --densities ${densities.join(',')}\` (or \`npm run bench -- --budget\`).`,
    '',
    '| density | SIFT trainable | SIFT | random-index trainable | random-index | LoRA trainable | LoRA | SIFT − random | SIFT − full |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...densities.map((d) => {
      const [sift, random, lora] = ['sift', 'random', 'lora'].map((m) => at(d, m));
      const diff = (a?: Point, b?: Point) => (a && b ? `${(100 * (a.accuracy - b.accuracy)).toFixed(1)}` : '–');
      return `| ${d} | ${n(sift)} | ${pct(sift)} | ${n(random)} | ${pct(random)} | ${n(lora)} | ${pct(lora)} | ${diff(sift, random)} | ${diff(sift, full)} |`;
    }),
    '',
    '| reference | trainable | accuracy |',
    '| --- | --- | --- |',
    `| full fine-tuning | ${n(full)} | ${pct(full)} |`,
    `| head only | ${n(head)} | ${pct(head)} |`,
    '',
    `Plot: [${outName}.svg](${outName}.svg).`,
    '',
  ].join('\n');
}
