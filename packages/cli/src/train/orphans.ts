import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Temporary files a killed process leaves beside their final names: `NAME.tmp-PID-N` (the safetensors writer),
 * `.NAME.PID.STAMP.tmp` (writeFileAtomic), `.sift-probe-PID` (the check that --out can be written), and
 * `config.json.tmp` (the models' config writer) — plus the fixed
 * names earlier versions of saveFineTune used. Each is renamed into place when complete, so one still there was
 * abandoned, unless the process that writes it is alive.
 */
const WITH_PID = [/\.tmp-(\d+)-\d+$/, /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/, /^\.sift-probe-(\d+)$/];
const FIXED = new Set(['config.json.tmp', '.full.tmp', ...['delta', 'adapter_model', 'head', 'bitfit'].map((n) => `${n}.safetensors.tmp`)]);

/** Whether process `pid` is running (EPERM: it is, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files in `dir` (not below it) whose writer is dead, or is this process (called before it
 * starts saving, so none of its own is in flight); returns their names.
 */
export function removeOrphans(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const pid = WITH_PID.map((re) => re.exec(name)?.[1]).find((m) => m !== undefined);
    const orphan = pid !== undefined ? Number(pid) === process.pid || !alive(Number(pid)) : FIXED.has(name);
    if (!orphan) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
