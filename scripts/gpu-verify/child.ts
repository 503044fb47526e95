import { spawn } from 'node:child_process';

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  seconds: number;
}

/**
 * Runs a command with a wall-clock limit: past it the whole process group is killed (vitest's forks included), so
 * one hung phase cannot eat the machine's minutes. Never rejects.
 */
export function runChild(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutS: number; cwd?: string; echo?: boolean }): Promise<ChildResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (opts.echo) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, opts.timeoutS * 1000);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, seconds: (performance.now() - t0) / 1000 });
    };
    child.on('error', (e) => {
      stderr += e.message;
      done(null);
    });
    child.on('close', done);
  });
}

/** The last line of stdout that is a JSON object (children print one result line), or null. */
export function lastJson<T>(stdout: string): T | null {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return null;
  try {
    return JSON.parse(line) as T;
  } catch {
    return null;
  }
}

/** Why a child gave no result, in one line: the timeout, or the last line it wrote to stderr. */
export function whyFailed(r: ChildResult, what: string): string {
  if (r.timedOut) return `${what} ran past its ${r.seconds.toFixed(0)} s limit and was stopped`;
  const lines = (r.stderr || r.stdout).split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim()).filter((l) => l && !/XDG_RUNTIME_DIR/.test(l));
  // The first line that names an error says more than the last, which is often a stack frame or a closing brace.
  const line = lines.find((l) => /error|cannot|failed|not found/i.test(l)) ?? lines.pop();
  return `${what} exited ${r.code}: ${line ?? 'no output'}`;
}

/** Arguments that run a TypeScript file of this repository in a fresh Node, on the packages' sources (no build needed). */
export function tsArgs(file: string, ...args: string[]): string[] {
  return ['--conditions=source', '--import', 'tsx', file, ...args];
}
