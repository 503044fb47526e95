import { join } from 'node:path';
import { writeFileAtomic } from '../data/save.js';
import { compare } from '../compare.js';
import type { CompareOptions } from '../compare-types.js';
import { markdownTable, TABLE_HEADER, tableRows, textTable } from '../report/table.js';

/** `sift compare` (the main job behind `npm start`): every method on the task, one table, an HTML report. */
export async function compareCommand(o: CompareOptions): Promise<void> {
  const t0 = performance.now();
  const results = await compare(o);
  const full = results.find((r) => r.method === 'full');
  const rows = tableRows(results, full);
  process.stdout.write(`\n${textTable(TABLE_HEADER, rows)}\n\n`);
  writeFileAtomic(join(o.out, 'results.md'), `${markdownTable(TABLE_HEADER, rows)}\n`);
  writeFileAtomic(join(o.out, 'results.json'), `${JSON.stringify(results.map(({ losses: _l, ...r }) => r), null, 2)}\n`);
  process.stdout.write(`report: ${join(o.out, 'report.html')} (${((performance.now() - t0) / 60000).toFixed(1)} minutes in all)\n`);
}
