import type { MethodResult } from '../compare-types.js';

export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return '–';
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}

export const TABLE_HEADER = ['method', 'trainable params', 'held-out accuracy', 'grad + optimizer state', 'peak bytes', 'saved file', 'wall time'];

/** One row of strings per method, in the table's column order. */
export function tableRows(results: readonly MethodResult[], full?: MethodResult): string[][] {
  return results.map((r) => [
    r.label,
    `${r.trainable.toLocaleString('en-US')}${full && r !== full ? ` (${((100 * r.trainable) / full.trainable).toFixed(2)}%)` : ''}`,
    `${(100 * r.accuracy).toFixed(1)}%`,
    formatBytes(r.keptBytes),
    formatBytes(r.peakBytes),
    `${formatBytes(r.savedBytes)} ${r.savedFile.split('/').pop()}`,
    `${r.seconds.toFixed(0)} s`,
  ]);
}

/** A plain-text table with aligned columns, for the terminal. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
