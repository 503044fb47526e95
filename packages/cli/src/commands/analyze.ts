import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { meanShares } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { makeBatches } from '../data/batches.js';
import { encodeExamples } from '../data/encode.js';
import { writeFileAtomic } from '../data/save.js';
import { loadModelInput } from '../inputs.js';
import type { Task } from '../model-dir.js';
import { concentrationPlot, renderSvg } from '../report/plots.js';
import { textTable } from '../report/table.js';
import { gradientConcentration } from '../train/concentration.js';
import { readData } from './data-source.js';

/**
 * `sift analyze`: how concentrated the gradient is — the share of its squared norm in the top x% of components
 * of each targeted matrix — for the pretrained model and for the same architecture at random initialisation
 * (the paper's Figure 3(d)). Prints a table, writes the SVG plot and the per-tensor JSON.
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
  const [mp, mr] = [meanShares(pre), meanShares(rnd)];
  const header = ['top x% of components', 'pretrained', 'random init'];
  const rows = a.fractions.map((f) => [`${100 * f}%`, `${(100 * mp[String(f)]).toFixed(1)}%`, `${(100 * mr[String(f)]).toFixed(1)}%`]);
  process.stdout.write(`Share of the squared gradient norm (mean over ${pre.length} matrices, ${batches.length} batches of ${ds.source}):\n${textTable(header, rows)}\n`);
  mkdirSync(a.out, { recursive: true });
  const points = a.fractions.flatMap((f) => [
    { model: 'pretrained', fraction: f, share: mp[String(f)] },
    { model: 'random init', fraction: f, share: mr[String(f)] },
  ]);
  writeFileAtomic(join(a.out, 'gradient-concentration.svg'), await renderSvg(concentrationPlot(points)));
  writeFileAtomic(join(a.out, 'gradient-concentration.json'), `${JSON.stringify({ pretrained: pre, randomInit: rnd }, null, 2)}\n`);
  process.stdout.write(`wrote ${join(a.out, 'gradient-concentration.svg')}\n`);
  pretrained.model.dispose();
  random.model.dispose();
}
