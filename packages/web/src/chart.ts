import { learningCurves, renderSvg } from '@siftjs/cli/browser';

/**
 * The loss curve as the HTML report of `sift compare` draws it: the same Vega-Lite spec (learningCurves, a running
 * mean over 10 steps), rendered to SVG by Vega. Drawing takes tens of milliseconds, so while one is drawn the
 * newest losses wait, and only they are drawn next.
 */
let drawing = false;
let next: { el: HTMLElement; method: string; losses: number[] } | null = null;

export function drawLosses(el: HTMLElement, method: string, losses: readonly number[]): Promise<void> {
  next = { el, method, losses: [...losses] };
  return drawing ? Promise.resolve() : drain();
}

async function drain(): Promise<void> {
  drawing = true;
  try {
    while (next) {
      const { el, method, losses } = next;
      next = null;
      el.innerHTML = losses.length ? await renderSvg(learningCurves({ [method]: losses })) : '';
      el.dataset.steps = String(losses.length);
    }
  } finally {
    drawing = false;
  }
}
