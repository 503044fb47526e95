import { learningCurves, renderSvg } from '@siftjs/cli/browser';

/**
 * The loss curve as the HTML report of `sift compare` draws it: the same Vega-Lite spec (learningCurves, a running
 * mean over 10 steps), rendered to SVG by Vega. Drawing takes tens of milliseconds of the thread that also drives
 * training, so while training it draws at most once a second, always the newest losses; `final` draws at once and
 * resolves when the chart shows every loss given.
 */
const INTERVAL_MS = 1000;
let next: { el: HTMLElement; method: string; losses: number[] } | null = null;
let inflight: Promise<void> | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let last = -Infinity;

export async function drawLosses(el: HTMLElement, method: string, losses: readonly number[], { final = false } = {}): Promise<void> {
  next = { el, method, losses: [...losses] };
  if (final) {
    if (timer) clearTimeout(timer);
    timer = null;
    while (inflight || next) await (inflight ?? drain());
    return;
  }
  if (inflight || timer) return;
  timer = setTimeout(() => {
    timer = null;
    // A drawing that fails while training shows no chart; the final one reports the error.
    drain().catch(() => {});
  }, Math.max(0, last + INTERVAL_MS - performance.now()));
}

function drain(): Promise<void> {
  const p: Promise<void> = (async () => {
    while (next) {
      const { el, method, losses } = next;
      next = null;
      el.innerHTML = losses.length ? await renderSvg(learningCurves({ [method]: losses })) : '';
      el.dataset.steps = String(losses.length);
      last = performance.now();
    }
  })().finally(() => {
    if (inflight === p) inflight = null;
  });
  inflight = p;
  return p;
}
