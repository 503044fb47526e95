/**
 * Dawn (the `webgpu` package) writes its diagnostics straight to the process's file descriptor 2 from native code,
 * where no JavaScript hook sees them. While it looks for adapters on a machine without a GPU it prints the same
 * expected lines every time (the Vulkan loader finding no driver, the software adapter's limits being lowered),
 * a handful per process: in a test run, hundreds. Here, during acquisition only, fd 2 is pointed at a temporary
 * file (through libc's dup/dup2, via koffi, as the CPU backend reaches OpenBLAS) and afterwards every line that is
 * not one of those known ones is written back to stderr, in order. Anything else Dawn (or anyone) printed in that
 * window still shows. Where koffi or libc cannot be loaded (a platform without them) nothing is filtered.
 */

/** The lines Dawn prints when a path finds no usable GPU or takes a software adapter: expected, not a problem. */
export const EXPECTED_DAWN_LINES: readonly RegExp[] = [
  /^Warning: vkCreateInstance: Found no drivers!$/,
  /^Warning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER$/,
  /^\s+at CheckVkSuccessImpl \(.*VulkanError\.cpp:\d+\)$/,
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
  /^\s*$/,
];

interface Libc {
  dup(fd: number): number;
  dup2(from: number, to: number): number;
  close(fd: number): number;
}

let libc: Promise<Libc | null> | null = null;
/**
 * Whether a capture is under way: one that starts inside another runs uncaptured (nothing is lost), so two never
 * juggle fd 2 at once — restored out of order, they would leave it pointing at a deleted file.
 */
let capturing = false;

/** Node's process, typed here without @types/node (this package is typed for browsers). */
const nodeProcess = (globalThis as { process?: { platform: string; stderr: { write(s: string): unknown } } }).process;

async function loadLibc(): Promise<Libc | null> {
  if (nodeProcess?.platform !== 'linux') return null;
  try {
    const name = 'koffi'; // a computed name: bundlers for the browser must not resolve the native module
    const mod = (await import(/* @vite-ignore */ name)) as { default?: KoffiLike } & KoffiLike;
    const lib = (mod.default ?? mod).load('libc.so.6');
    const [dup, dup2, close] = ['int dup(int)', 'int dup2(int, int)', 'int close(int)'].map((s) => lib.func(s) as (...a: number[]) => number);
    return { dup: (fd) => dup(fd), dup2: (a, b) => dup2(a, b), close: (fd) => close(fd) };
  } catch {
    return null;
  }
}

interface KoffiLike {
  load(path: string): { func(signature: string): unknown };
}

/**
 * Runs `fn` with fd 2 captured; afterwards writes back every captured line that `expected` does not match.
 * Node only (the caller checks).
 */
export async function withDawnStderrFiltered<T>(fn: () => Promise<T>, expected: readonly RegExp[] = EXPECTED_DAWN_LINES): Promise<T> {
  if (capturing) return fn();
  capturing = true;
  try {
    return await capture(fn, expected);
  } finally {
    capturing = false;
  }
}

async function capture<T>(fn: () => Promise<T>, expected: readonly RegExp[]): Promise<T> {
  libc ??= loadLibc();
  const c = await libc;
  if (!c) return fn();
  // Computed names, as above: this file is bundled for browsers too (and never runs there).
  const [fsName, osName, pathName] = ['node:fs', 'node:os', 'node:path'];
  const [fs, os, path] = await Promise.all([import(/* @vite-ignore */ fsName), import(/* @vite-ignore */ osName), import(/* @vite-ignore */ pathName)]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'siftjs-dawn-')), 'stderr');
  const fd: number = fs.openSync(file, 'w+');
  const saved = c.dup(2);
  if (saved < 0 || c.dup2(fd, 2) < 0) {
    if (saved >= 0) c.close(saved);
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return fn();
  }
  try {
    return await fn();
  } finally {
    c.dup2(saved, 2);
    c.close(saved);
    fs.closeSync(fd);
    const text: string = fs.readFileSync(file, 'utf8');
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    const kept = text.split('\n').filter((line) => !expected.some((re) => re.test(line)));
    if (kept.length > 0) nodeProcess?.stderr.write(`${kept.join('\n')}\n`);
  }
}
