/** Median wall time of `fn` in milliseconds after a warm-up, over at least `minRuns` runs and `minMs` of work. */
export async function medianMs(fn: () => unknown | Promise<unknown>, { minRuns = 3, minMs = 1000, maxRuns = 50 } = {}): Promise<number> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < minMs && times.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export const gflops = (flop: number, ms: number) => flop / (ms * 1e6);
