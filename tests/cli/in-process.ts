import { main } from '@siftjs/cli';
import { Killed, type KillSwitch } from './kill-switch.js';

/** How one in-process `sift` invocation ended. */
export interface Outcome {
  /** 'ok': returned; 'killed': the kill switch fired; 'exit': process.exit(code); 'threw': any other error. */
  end: 'ok' | 'killed' | 'exit' | 'threw';
  code: number;
  stdout: string;
  stderr: string;
  error?: unknown;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/**
 * Runs `sift args…` in this process, as bin.js would, with `process.exit` turned into a thrown `Exit` and stdout
 * and stderr captured: a run is a function call, so thousands fit in a test.
 */
export async function siftInProcess(args: string[], ks?: KillSwitch): Promise<Outcome> {
  const out = { stdout: '', stderr: '' };
  const saved = { exit: process.exit, stdout: process.stdout.write, stderr: process.stderr.write };
  process.exit = ((code?: number) => {
    throw new Exit(code ?? 0);
  }) as typeof process.exit;
  process.stdout.write = ((s: string | Uint8Array) => ((out.stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((out.stderr += String(s)), true)) as typeof process.stderr.write;
  try {
    await main(['node', 'sift', ...args]);
    return { end: 'ok', code: 0, ...out };
  } catch (e) {
    // A dead process ends as killed whatever error the code made of the Killed it met.
    if (ks?.dead || e instanceof Killed) return { end: 'killed', code: 137, ...out, error: e };
    if (e instanceof Exit) return { end: 'exit', code: e.code, ...out };
    return { end: 'threw', code: 1, ...out, error: e };
  } finally {
    process.exit = saved.exit;
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
}
