import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** A JSON-lines log: one object per line, appended as training goes (a crash keeps every line written so far). */
export class JsonlLog {
  constructor(readonly path: string | null) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  write(record: Record<string, unknown>): void {
    if (this.path) appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
  }
}
