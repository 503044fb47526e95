import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/**
 * The built `sift` executable (npm run build), run as a user runs it. SIFT_TEST_BIN names another build (an older
 * checkout's, to count how it fared on the same cases).
 */
export const SIFT_BIN = process.env.SIFT_TEST_BIN ?? fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

export interface SiftRun {
  /** The exit code; null when the process was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Still running at the deadline, and killed. */
  hung: boolean;
  ms: number;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  /** 'endless': a stdin that never ends (the child is fed for as long as it reads). Default: no stdin. */
  stdin?: 'endless';
  timeoutMs: number;
}

/** An endless stream of text lines, for a stdin that never ends. */
function endless(): Readable {
  const chunk = Buffer.from('{"text":"y","label":"a"}\n'.repeat(2048));
  return new Readable({
    read() {
      this.push(chunk);
    },
  });
}

/**
 * Runs `sift args` in its own process without blocking the test runner (so cases run side by side), and kills it
 * (SIGKILL, by its pid) at the deadline: a hang is a result, not a stuck suite.
 */
export function runSift(args: string[], o: RunOptions): Promise<SiftRun> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIFT_BIN, ...args], {
      cwd: o.cwd,
      env: { ...process.env, SIFT_THREADS: '1', ...o.env },
      stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let feed: Readable | null = null;
    if (o.stdin && child.stdin) {
      feed = endless();
      child.stdin.on('error', () => {}); // EPIPE once the child exits without reading it all
      feed.pipe(child.stdin);
    }
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      feed?.destroy();
      resolve({ code, stdout, stderr, hung, ms: performance.now() - t0 });
    });
  });
}
