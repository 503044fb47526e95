import type { CompareOptions, MethodResult } from '../compare-types.js';
import { writeFileAtomic } from '../data/save.js';
import { accuracyCurves, concentrationPlot, learningCurves, renderSvg } from './plots.js';
import { TABLE_HEADER, tableRows } from './table.js';

export interface ReportInput {
  options: CompareOptions;
  results: MethodResult[];
  concentration: { model: string; fraction: number; share: number }[];
  labelNames: string[];
  train: number;
  heldOut: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A self-contained HTML page: the table, the learning curves, held-out accuracy and the gradient concentration. */
export async function writeReport(path: string, r: ReportInput): Promise<void> {
  const full = r.results.find((x) => x.method === 'full');
  const rows = tableRows(r.results, full);
  const curves = Object.fromEntries(r.results.map((x) => [x.label, x.losses]));
  const acc = r.results.flatMap((x) => x.accuracies.map((a, epoch) => ({ method: x.label, epoch, accuracy: a })));
  const [lossSvg, accSvg, concSvg] = await Promise.all([renderSvg(learningCurves(curves)), renderSvg(accuracyCurves(acc)), renderSvg(concentrationPlot(r.concentration))]);
  const o = r.options;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>siftjs: SIFT vs full fine-tuning vs LoRA</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}
td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body>
<h1>Fine-tuning the bundled model: SIFT and the baselines</h1>
<p>Task: ${escape(r.labelNames.join(' vs '))} (SpamAssassin), ${r.train} training and ${r.heldOut} held-out emails (balanced), first ${o.maxLength} tokens,
${o.epochs} epochs of batches of ${o.batchSize}. SIFT and random-index sparse at density ${o.density}; LoRA at the rank closest to SIFT's trainable count.
Model: <code>${escape(o.model)}</code>, seed ${o.seed}.</p>
<table><thead><tr>${TABLE_HEADER.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>
<p>"grad + optimizer state": the gradient and AdamW bytes each method keeps (SIFT: also its k values and indices).
"peak bytes": the CPU backend's measured peak during training above what was in use before it (activations included).</p>
<h2>Learning curves</h2>${lossSvg}
${accSvg}
<h2>Gradient concentration (the paper's Figure 3(d))</h2>
<p>Share of the squared norm of the gradient (first batches of the task) held by the top x% of components of the targeted matrices.</p>
${concSvg}
</body></html>
`;
  writeFileAtomic(path, html);
}
