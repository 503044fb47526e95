import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../data/save.js';

/** A JSON-lines log: one object per line, appended as training goes (a crash keeps every line written so far). */
export class JsonlLog {
  constructor(readonly path: string | null) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  write(record: Record<string, unknown>): void {
    if (this.path) appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }

  /**
   * Keeps only the complete records `keep` accepts (rewritten atomically, only if something goes): a resumed run
   * drops what a killed run logged after its checkpoint, and a line a kill tore in half, before logging again.
   */
  retain(keep: (record: Record<string, unknown>) => boolean): void {
    if (!this.path || !existsSync(this.path)) return;
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n').slice(0, -1); // the part after the last newline is torn (or empty)
    const kept = lines.filter((line) => {
      try {
        return keep(JSON.parse(line));
      } catch {
        return false;
      }
    });
    const next = kept.map((l) => `${l}\n`).join('');
    if (next !== text) writeFileAtomic(this.path, next);
  }
}
