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
