import type * as vl from 'vega-lite';

/**
 * Renders a Vega-Lite spec to an SVG string in Node (no browser, no canvas). Vega is imported here, on the first
 * plot: it takes about a second to load, and most `sift` runs (and every input error) draw nothing.
 */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Training loss per step for each method, smoothed by a running mean over `window` steps. */
export function learningCurves(curves: Record<string, number[]>, window = 10): vl.TopLevelSpec {
  const values = Object.entries(curves).flatMap(([method, losses]) =>
    losses.map((_, i) => {
      const from = Math.max(0, i - window + 1);
      const slice = losses.slice(from, i + 1);
      return { method, step: i + 1, loss: slice.reduce((a, b) => a + b, 0) / slice.length };
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Training loss (running mean over ${window} steps)`,
    width: 520,
    height: 280,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
      color: { field: 'method', type: 'nominal' },
    },
  };
}

/** Held-out accuracy after each epoch, per method. */
export function accuracyCurves(points: { method: string; epoch: number; accuracy: number }[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Held-out accuracy after each epoch',
    width: 520,
    height: 240,
    data: { values: points.map((p) => ({ ...p, epoch: p.epoch + 1 })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'ordinal', title: 'epoch' },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false }, axis: { format: '%' } },
      color: { field: 'method', type: 'nominal' },
    },
  };
}

/** The paper's Figure 3(d): share of the gradient's squared norm in the top x% of components, per model. */
export function concentrationPlot(points: { model: string; fraction: number; share: number }[]): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Gradient concentration: share of ‖g‖² in the top x% of components (mean over matrices)',
    width: 520,
    height: 260,
    data: { values: points.map((p) => ({ ...p, percent: 100 * p.fraction })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'percent', type: 'quantitative', title: 'top x% of components', scale: { type: 'log' } },
      y: { field: 'share', type: 'quantitative', title: 'share of squared gradient norm', scale: { domain: [0, 1] }, axis: { format: '%' } },
      color: { field: 'model', type: 'nominal' },
    },
  };
}
