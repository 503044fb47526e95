/** The loss curve as an SVG polyline over the steps so far (y from the run's smallest to largest loss). */
export function drawLosses(svg: SVGSVGElement, losses: readonly number[]): void {
  const [w, h, pad] = [400, 160, 8];
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1;
  const x = (i: number) => pad + (losses.length === 1 ? 0 : (i / (losses.length - 1)) * (w - 2 * pad));
  const y = (v: number) => pad + (1 - (v - lo) / span) * (h - 2 * pad);
  const points = losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  svg.innerHTML = `<polyline fill="none" stroke="#1a5fb4" stroke-width="2" points="${points}"/><text x="${w - pad}" y="${h - pad}" text-anchor="end" font-size="11">${losses.length} steps, last ${losses.at(-1)?.toFixed(3)}</text>`;
}
