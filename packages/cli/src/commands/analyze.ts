import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { meanShares } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { makeBatches } from '../data/batches.js';
import { encodeExamples } from '../data/encode.js';
import { writeFileAtomic } from '../data/save.js';
import { loadModelInput } from '../inputs.js';
import type { Task } from '../model-dir.js';
import { concentrationPlot, MEASURES, renderSvg } from '../report/plots.js';
import { textTable } from '../report/table.js';
import { gradientConcentration } from '../train/concentration.js';
import { readData } from './data-source.js';

/**
 * `sift analyze`: how concentrated the gradient is — how much of each targeted matrix's gradient its top x% of
 * components hold — for the pretrained model and for the same architecture at random initialisation (the paper's
 * Figure 3(d)). Two measures, each named where it is shown: our share of the squared norm, Σ g[top]² / Σ g², and
 * the authors' norm ratio ‖g[top]‖ / ‖g‖ (its square root). Prints a table, writes the SVG plot (one panel per
 * measure) and the per-tensor JSON.
 */
export async function analyzeCommand(a: { model: string; data: string; task: string; fractions: number[]; batches: number; batchSize: number; maxLength: number; out: string; seed: number; textField: string; labelField: string }): Promise<void> {
  const task = a.task as Task;
  const ds = readData(a.data, { textField: a.textField, labelField: task === 'classification' ? a.labelField : null });
  const pretrained = loadModelInput('--model', a.model, task, Math.max(2, ds.labelNames.length));
  const enc = encodeExamples(pretrained.tokenizer, ds.examples, { maxLength: a.maxLength, appendEos: task === 'causal-lm' });
  const batches = makeBatches(enc, { batchSize: a.batchSize, padId: pretrained.tokenizer.padId, seed: a.seed }).slice(0, a.batches);
  manualSeed(a.seed);
  const random = loadModelInput('--model', a.model, task, Math.max(2, ds.labelNames.length), { randomInit: true });
  const { pretrained: pre, randomInit: rnd } = await gradientConcentration(pretrained, random, batches, a.fractions);
  const short = { shares: 'Σg² share', normRatios: 'norm ratio' };
  const measures = (['shares', 'normRatios'] as const).map((m) => ({ short: short[m], name: MEASURES[m], pre: meanShares(pre, m), rnd: meanShares(rnd, m) }));
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const header = ['top x% of components', ...measures.flatMap((m) => [`${m.short}: pretrained`, 'random init'])];
  const rows = a.fractions.map((f) => [`${100 * f}%`, ...measures.flatMap((m) => [pct(m.pre[String(f)]), pct(m.rnd[String(f)])])]);
  process.stdout.write(
    [
      `Gradient held by the top x% of components (mean over ${pre.length} matrices, gradient summed over ${batches.length} batches of ${ds.source}):`,
      textTable(header, rows),
      ...measures.map((m) => `  ${m.short} = ${m.name}`),
      '',
    ].join('\n'),
  );
  mkdirSync(a.out, { recursive: true });
  const points = measures.flatMap((m) =>
    a.fractions.flatMap((f) => [
      { measure: m.name, model: 'pretrained', fraction: f, share: m.pre[String(f)] },
      { measure: m.name, model: 'random init', fraction: f, share: m.rnd[String(f)] },
    ]),
  );
  writeFileAtomic(join(a.out, 'gradient-concentration.svg'), await renderSvg(concentrationPlot(points)));
  writeFileAtomic(join(a.out, 'gradient-concentration.json'), `${JSON.stringify({ measures: MEASURES, pretrained: pre, randomInit: rnd }, null, 2)}\n`);
  process.stdout.write(`wrote ${join(a.out, 'gradient-concentration.svg')}\n`);
  pretrained.model.dispose();
  random.model.dispose();
}
