import { createRequire, syncBuiltinESMExports } from 'node:module';
import { isAbsolute, join, relative, resolve } from 'node:path';

/*
 * A SIGKILL at any file-system step, simulated in-process so that every step can be tried in a test's time.
 *
 * Every call of node:fs that changes what is on disk under `root` is a step; a kill point is "just before step n"
 * (the process dies with steps 1..n-1 done), and for a step that writes bytes also "torn": half the bytes
 * written, then death (a SIGKILL can land inside a write(2) of a regular file). A recursive rmSync is taken apart
 * into its unlinks and rmdirs, each a step of its own, as the kernel sees them. When the switch fires it applies
 * the partial effect, marks the process dead and throws `Killed`; from then on every disk-changing call under
 * `root` throws `Killed` and changes nothing, whatever the code does with the exception (a `finally` that removes
 * a temporary file, a catch that goes on): the disk is left exactly as a SIGKILL would leave it. Closing a
 * descriptor changes nothing on disk and stays allowed (the kernel closes them at a real kill). Reads are free.
 *
 * The patch goes on node:fs itself (then `syncBuiltinESMExports`), so the code under test is neither changed nor
 * told: `import { renameSync } from 'node:fs'` anywhere sees the wrapped function. Asynchronous fs calls under
 * `root` are refused while installed: the model has no order for them, and the save paths must not use them.
 *
 * `onPoint` sees every kill point as the run passes it, with the partial effect a kill there would add: a test
 * can copy the disk at each point (the state a kill there leaves) while the run goes on.
 */

const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

/** Thrown at the kill point and by every later disk-changing call: the process is "dead". */
export class Killed extends Error {
  override name = 'Killed';
}

export interface KillPoint {
  /** What the step does, paths relative to the root: `renameSync run/checkpoint.tmp -> run/checkpoint`. */
  step: string;
  /** Half the bytes written, then death. */
  torn: boolean;
}

/** The partial effect of a torn write: `data` appended to, or replacing, the file at `path`. */
export interface Tear {
  path: string;
  data: Buffer;
  mode: 'append' | 'replace';
}

type AnyFn = (...args: any[]) => any;

const ASYNC_MUTATORS = ['writeFile', 'appendFile', 'rename', 'unlink', 'rm', 'rmdir', 'mkdir', 'copyFile', 'open', 'truncate', 'cp', 'createWriteStream'];

const bytesOf = (data: string | ArrayBufferView): Buffer => (typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
const halfOf = (b: Buffer): Buffer => Buffer.from(b.subarray(0, b.length >> 1));

export class KillSwitch {
  /** The kill points passed so far in this run, in order. */
  readonly points: KillPoint[] = [];
  /** Fire at this point (its index in `points`); -1: never. */
  killAt = -1;
  dead = false;
  /** Called at every kill point before the step runs (not when it fires). */
  onPoint: ((index: number, point: KillPoint, tear: Tear | null) => void) | null = null;
  /** A real process: fire with an actual SIGKILL to itself (after the partial effect) rather than a throw. */
  realKill = false;
  private readonly fds = new Map<number, string>();
  /** Inside a step: fs calls it makes itself (appendFileSync → writeFileSync) are part of it, not steps. */
  private depth = 0;
  private readonly restore: (() => void)[] = [];

  constructor(readonly root: string) {}

  /** Starts counting from zero: a new process. */
  reset(killAt = -1): void {
    this.points.length = 0;
    this.killAt = killAt;
    this.dead = false;
    this.onPoint = null;
    this.fds.clear();
  }

  private under(path: unknown): boolean {
    if (typeof path !== 'string') return false;
    const rel = relative(this.root, resolve(path));
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  }

  private rel(path: string): string {
    return relative(this.root, resolve(path)) || '.';
  }

  /** One disk-changing step: its kill points (before it; torn if `tear`), then the step. */
  private step<T>(label: string, tear: Tear | null, run: () => T): T {
    if (this.dead) throw new Killed(`dead before ${label}`);
    for (const t of tear ? [null, tear] : [null]) {
      const point = { step: label, torn: t !== null };
      this.points.push(point);
      const index = this.points.length - 1;
      if (index === this.killAt) {
        if (t) applyTear(t);
        this.dead = true;
        if (this.realKill) process.kill(process.pid, 'SIGKILL'); // delivered as the call returns
        throw new Killed(`killed at ${label}${t ? ' (torn)' : ''}`);
      }
      this.onPoint?.(index, point, t);
    }
    this.depth++;
    try {
      return run();
    } finally {
      this.depth--;
    }
  }

  /** Runs `fn` with its fs calls passed through uncounted (the test's own copying under the root). */
  bypass<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  /** Whether a call is ours to count: under the root, not made by a step itself. */
  private counts(...paths: unknown[]): boolean {
    if (this.depth > 0) return false;
    return paths.some((p) => this.under(p));
  }

  install(): void {
    const real = <K extends keyof typeof fs>(key: K) => fs[key] as unknown as AnyFn;
    const openSync = real('openSync');
    const writeSync = real('writeSync');
    const closeSync = real('closeSync');
    const renameSync = real('renameSync');
    const unlinkSync = real('unlinkSync');
    const rmSync = real('rmSync');
    const rmdirSync = real('rmdirSync');
    const mkdirSync = real('mkdirSync');
    const writeFileSync = real('writeFileSync');
    const appendFileSync = real('appendFileSync');
    const copyFileSync = real('copyFileSync');
    const { existsSync, lstatSync, readdirSync, readFileSync } = fs;
    const self = this;

    /** rm -r as the kernel sees it: each unlink and rmdir a step, children first, in readdir order. */
    const removeTree = (path: string): void => {
      if (lstatSync(path).isDirectory()) {
        for (const entry of readdirSync(path)) removeTree(join(path, entry));
        self.step(`rmdirSync ${self.rel(path)}`, null, () => rmdirSync(path));
      } else self.step(`unlinkSync ${self.rel(path)}`, null, () => unlinkSync(path));
    };

    const patch: Record<string, AnyFn> = {
      openSync(path: unknown, flags: unknown = 'r', ...rest: unknown[]) {
        const writes = typeof flags === 'number' ? (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0 : /[wa+]/.test(String(flags));
        if (!writes || !self.counts(path)) return openSync(path, flags, ...rest);
        const fd = self.step(`openSync ${self.rel(path as string)} '${String(flags)}'`, null, () => openSync(path, flags, ...rest)) as number;
        self.fds.set(fd, path as string);
        return fd;
      },
      writeSync(fd: number, data: string | ArrayBufferView, ...rest: unknown[]) {
        const file = self.fds.get(fd);
        if (file === undefined || self.depth > 0) return writeSync(fd, data, ...rest);
        // writeSync(fd, buffer, offset, length[, position]) as the savers call it, always at the file's end.
        let view = bytesOf(data);
        if (typeof data !== 'string') {
          const [offset = 0, length = view.length - (offset as number), position = null] = rest as [number?, number?, number?];
          if (position !== null) throw new Error('kill switch: a positioned writeSync is not modelled');
          view = view.subarray(offset, offset + length);
        }
        const tear: Tear | null = view.length >= 2 ? { path: file, data: halfOf(view), mode: 'append' } : null;
        return self.step(`writeSync ${self.rel(file)} (${view.length} bytes)`, tear, () => writeSync(fd, data, ...rest));
      },
      closeSync(fd: number) {
        self.fds.delete(fd);
        return closeSync(fd);
      },
      renameSync(from: unknown, to: unknown) {
        if (!self.counts(from, to)) return renameSync(from, to);
        return self.step(`renameSync ${self.rel(from as string)} -> ${self.rel(to as string)}`, null, () => renameSync(from, to));
      },
      unlinkSync(path: unknown) {
        if (!self.counts(path)) return unlinkSync(path);
        return self.step(`unlinkSync ${self.rel(path as string)}`, null, () => unlinkSync(path));
      },
      rmSync(path: unknown, opts?: { recursive?: boolean; force?: boolean }) {
        if (!self.counts(path)) return rmSync(path, opts);
        if (self.dead) throw new Killed(`dead before rmSync ${self.rel(path as string)}`);
        if (!existsSync(path as string) || (!opts?.recursive && lstatSync(path as string).isDirectory())) return rmSync(path, opts); // no change: throws or returns
        removeTree(path as string);
      },
      rmdirSync(path: unknown, ...rest: unknown[]) {
        if (!self.counts(path)) return rmdirSync(path, ...rest);
        return self.step(`rmdirSync ${self.rel(path as string)}`, null, () => rmdirSync(path, ...rest));
      },
      mkdirSync(path: unknown, opts?: unknown) {
        if (!self.counts(path)) return mkdirSync(path, opts);
        if (self.dead) throw new Killed(`dead before mkdirSync ${self.rel(path as string)}`);
        if (existsSync(path as string)) return mkdirSync(path, opts); // changes nothing (or throws EEXIST)
        return self.step(`mkdirSync ${self.rel(path as string)}`, null, () => mkdirSync(path, opts));
      },
      writeFileSync(path: unknown, data: string | ArrayBufferView, opts?: unknown) {
        if (!self.counts(path)) return writeFileSync(path, data, opts);
        const flag = typeof opts === 'object' && opts !== null && 'flag' in opts ? String((opts as { flag: string }).flag) : 'w';
        const tear: Tear = { path: path as string, data: halfOf(bytesOf(data)), mode: flag.startsWith('a') ? 'append' : 'replace' };
        return self.step(`writeFileSync ${self.rel(path as string)}`, tear, () => writeFileSync(path, data, opts));
      },
      appendFileSync(path: unknown, data: string | ArrayBufferView, opts?: unknown) {
        if (!self.counts(path)) return appendFileSync(path, data, opts);
        return self.step(`appendFileSync ${self.rel(path as string)}`, { path: path as string, data: halfOf(bytesOf(data)), mode: 'append' }, () => appendFileSync(path, data, opts));
      },
      copyFileSync(from: unknown, to: unknown, ...rest: unknown[]) {
        if (!self.counts(to)) return copyFileSync(from, to, ...rest);
        const tear: Tear = { path: to as string, data: halfOf(readFileSync(from as string)), mode: 'replace' };
        return self.step(`copyFileSync ${self.rel(from as string)} -> ${self.rel(to as string)}`, tear, () => copyFileSync(from, to, ...rest));
      },
    };
    const put = (holder: object, key: string, f: AnyFn) => {
      const h = holder as Record<string, AnyFn>;
      const before = h[key];
      h[key] = f;
      this.restore.push(() => {
        h[key] = before;
      });
    };
    for (const [key, f] of Object.entries(patch)) put(fs, key, f);
    // Asynchronous fs under the root: refused (the model has no order for them).
    for (const key of ASYNC_MUTATORS) {
      for (const holder of [fs, fs.promises] as object[]) {
        const f = (holder as Record<string, AnyFn>)[key];
        if (typeof f !== 'function') continue;
        put(holder, key, function (this: unknown, ...args: unknown[]) {
          if (args.slice(0, 2).some((a) => self.under(a))) throw new Error(`kill switch: asynchronous fs.${key} under ${self.root} is not modelled; saves must use the synchronous calls`);
          return f.apply(this, args);
        });
      }
    }
    syncBuiltinESMExports();
  }

  uninstall(): void {
    for (const r of this.restore.splice(0).reverse()) r();
    syncBuiltinESMExports();
  }
}

/** Applies a torn write's partial effect, to `path` or (for a copy of the disk) to `mapPath(path)`. */
export function applyTear(t: Tear, mapPath: (p: string) => string = (p) => p): void {
  const at = mapPath(t.path);
  if (t.mode === 'append') REAL.appendFileSync(at, t.data);
  else REAL.writeFileSync(at, t.data);
}

/** The calls as they were when this module loaded, before any switch was installed. */
const REAL = { appendFileSync: fs.appendFileSync, writeFileSync: fs.writeFileSync };
