/** SVG plots for the benchmark results: Vega-Lite specs rendered in Node (no browser, no canvas). */
import type * as vl from 'vega-lite';

// The renderer is the CLI's: one place turns a Vega-Lite spec into SVG.
export { renderSvg } from '@siftjs/cli';

/**
 * Held-out accuracy against trainable parameters (log scale): one line per sparse/low-rank method across
 * densities, and a horizontal rule per reference method (density null: full fine-tuning, head only).
 */
export function budgetCurvePlot(points: { density: number | null; label: string; trainable: number; accuracy: number }[]): vl.TopLevelSpec {
  const curve = points.filter((p) => p.density != null);
  const reference = points.filter((p) => p.density == null).map((p) => ({ ...p, label: `${p.label} (${p.trainable.toLocaleString('en-US')} params)` }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Held-out accuracy vs trainable parameters (SpamAssassin, sift-gpt2-mini)',
    width: 560,
    height: 300,
    layer: [
      {
        data: { values: curve },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'trainable', type: 'quantitative', title: 'trainable parameters (log scale)', scale: { type: 'log' }, axis: { format: '~s', tickCount: 6 } },
          y: { field: 'accuracy', type: 'quantitative', title: 'held-out accuracy', scale: { zero: false }, axis: { format: '%' } },
          color: { field: 'label', type: 'nominal', title: 'method', legend: { labelLimit: 320 } },
        },
      },
      {
        data: { values: reference },
        mark: { type: 'rule', strokeDash: [6, 4] },
        encoding: {
          y: { field: 'accuracy', type: 'quantitative' },
          color: { field: 'label', type: 'nominal', title: 'method', legend: { labelLimit: 320 } },
        },
      },
    ],
  };
}

/**
 * The paper's Figure 3(d) across model sizes: how much of the gradient the top x of components hold at each size
 * (parameters, log scale), pretrained against random initialisation: one column per measure in `measures`' order
 * (each titled by its measure), one row per objective (the loss whose gradient it is). `low`/`high` draw the
 * spread over seeds as a bar.
 */
export function shareBySizePlot(
  points: { objective: string; measure: string; init: string; size: string; params: number; value: number; low: number; high: number }[],
  fraction: number,
  measures: string[],
  objectives: string[],
): vl.TopLevelSpec {
  const x = { field: 'params', type: 'quantitative' as const, title: 'parameters (log scale)', scale: { type: 'log' as const }, axis: { format: '~s', tickCount: 5 } };
  const color = { field: 'init', type: 'nominal' as const, title: 'weights' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Gradient held by the top ${100 * fraction}% of components against model size (mean over matrices; bars: seeds' range)`,
    data: { values: points },
    facet: {
      column: { field: 'measure', type: 'nominal', title: null, sort: measures, header: { labelFontSize: 12, labelLimit: 0 } },
      row: { field: 'objective', type: 'nominal', title: null, sort: objectives, header: { labelFontSize: 12, labelLimit: 0, labelAngle: -90 } },
    },
    spec: {
      width: 300,
      height: 220,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'value', type: 'quantitative', title: `held by the top ${100 * fraction}%`, scale: { domain: [0, 1] }, axis: { format: '%' } }, color } },
        { mark: { type: 'rule' }, encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color } },
        { transform: [{ filter: "datum.init === 'pretrained'" }], mark: { type: 'text', dy: -12, fontSize: 10 }, encoding: { x, y: { field: 'value', type: 'quantitative' }, text: { field: 'size' } } },
      ],
    },
  };
}

/**
 * The paper's Figure 4: per fine-tuning step, how much of that step's gradient the components chosen from the first
 * batch hold, beside the step's own top x (the most any set of that size could hold) and what a fixed random set of
 * that size holds on average, and a control (`which` names each; drawn solid, dashed, dotted, dash-dotted in the order
 * they first appear); one
 * panel per measure in `measures`' order.
 */
export function stabilityPlot(points: { measure: string; which: string; model: string; step: number; value: number }[], fraction: number, measures: string[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Full fine-tuning: the first batch's top ${100 * fraction}% against each step's own top ${100 * fraction}% (mean over matrices)`,
    data: { values: points },
    facet: { column: { field: 'measure', type: 'nominal', title: null, sort: measures, header: { labelFontSize: 12, labelLimit: 0 } } },
    spec: {
      width: 320,
      height: 260,
      mark: { type: 'line', strokeWidth: 1.3 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'fine-tuning step' },
        y: { field: 'value', type: 'quantitative', title: 'held by the components', scale: { domain: [0, 1] }, axis: { format: '%' } },
        color: { field: 'model', type: 'nominal', title: 'model', legend: { labelLimit: 0 } },
        // In the order the points name them: solid, dashed, dotted, dash-dotted.
        strokeDash: { field: 'which', type: 'nominal', title: 'components', scale: { domain: [...new Set(points.map((p) => p.which))], range: [[1, 0], [6, 3], [1, 3], [6, 2, 1, 2]] }, legend: { labelLimit: 0 } },
      },
    },
  };
}
