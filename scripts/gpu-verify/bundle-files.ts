/**
 * Which files of node_modules `npm run gpu:verify` needs on a bare GPU machine: the packages reachable, through
 * package-lock.json, from the workspace packages the run loads (every one but the CLI) and from the tools it runs
 * (vitest, fast-check, tsx), Linux x64 only, without what only a build or an editor reads (type declarations, source
 * maps, docs, other platforms' binaries). The packages' own sources travel with the working tree and the run uses
 * them (the "source" export condition); their built dist/ travels too, because Vite resolves vitest.config.ts's
 * imports of them by the default conditions while it bundles the config (`npm run build` first).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  link?: boolean;
  resolved?: string;
}

/** The tools the run starts, beside the workspace packages' own dependencies. */
const TOOLS = ['vitest', '@fast-check/vitest', 'fast-check', 'tsx'];
/** Workspace packages the run does not load. */
const NOT_LOADED = new Set(['@siftjs/cli', '@siftjs/web']); // the page is a browser app, built by Vite, not by npm run build

/** Files no run reads (matched against the path inside node_modules). */
const DROP: RegExp[] = [
  /\.(d\.[cm]?ts|map|md|markdown)$/i,
  /^webgpu\/dist\/(?!linux-x64\/)/,
  /^@koromix\/[^/]+\/musl_/,
  // gpt-tokenizer: its ESM build of the r50k_base encoding is what @siftjs/models imports.
  /^gpt-tokenizer\/(cjs|dist|src|data)\//,
  /^gpt-tokenizer\/esm\/(fixtures\/|.*\.test\.js$|bpeRanks\/(?!r50k_base\.js$)|encoding\/(?!r50k_base\.js$))/,
];

/** Linux x64 with glibc: the GPU machine's platform. */
const platformOk = (e: LockEntry) => (!e.os || e.os.includes('linux')) && (!e.cpu || e.cpu.includes('x64')) && (!e.libc || e.libc.includes('glibc'));

/** The lock's location of `name` as required from `from` (Node's lookup: nearest node_modules up the tree). */
function resolveIn(lock: Record<string, LockEntry>, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (lock[candidate]) return candidate;
    if (!base) return null;
    const i = base.lastIndexOf('/node_modules/');
    base = i >= 0 ? base.slice(0, i) : '';
  }
}

/** Lock locations (node_modules/… and workspace folders) the run needs. */
export function neededPackages(root: string): string[] {
  const lock = (JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const seen = new Set<string>();
  const queue: string[] = [];
  const visit = (loc: string | null) => {
    if (!loc || seen.has(loc)) return;
    const e = lock[loc];
    if (!platformOk(e)) return;
    seen.add(loc);
    queue.push(loc);
    if (e.link && e.resolved) visit(e.resolved);
  };
  for (const [loc, e] of Object.entries(lock)) {
    if (!loc.startsWith('packages/') || loc.includes('/node_modules/')) continue;
    const name = (JSON.parse(readFileSync(join(root, loc, 'package.json'), 'utf8')) as { name: string }).name;
    if (!NOT_LOADED.has(name) && e) visit(resolveIn(lock, '', name));
  }
  for (const t of TOOLS) visit(resolveIn(lock, '', t));
  while (queue.length) {
    const loc = queue.shift()!;
    const e = lock[loc];
    const optionalPeers = e.peerDependenciesMeta ?? {};
    const deps = [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {}), ...Object.keys(e.peerDependencies ?? {}).filter((p) => !optionalPeers[p]?.optional)];
    for (const d of deps) visit(resolveIn(lock, loc, d));
  }
  return [...seen].filter((l) => l.startsWith('node_modules/')).sort();
}

export interface BundleList {
  /** Paths relative to the root: files, and the workspace packages' links (node_modules/@siftjs/*). */
  files: string[];
  bytes: number;
  packages: number;
}

/** Where a workspace package's link points (relative), or null for an installed package. */
function readlinkOr(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

/** Every file of the needed packages (their nested node_modules are packages of their own in the lock). */
export function bundleFiles(root: string): BundleList {
  const files: string[] = [];
  let bytes = 0;
  const walk = (rel: string) => {
    const st = lstatSync(join(root, rel));
    if (st.isSymbolicLink()) {
      files.push(rel); // a workspace link: tar keeps it a link, to the sources that travel with the tree
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(join(root, rel))) if (name !== 'node_modules') walk(`${rel}/${name}`);
      return;
    }
    const inPackage = rel.includes('node_modules/') ? rel.slice(rel.lastIndexOf('node_modules/') + 'node_modules/'.length) : rel;
    if (DROP.some((re) => re.test(inPackage))) return;
    files.push(rel);
    bytes += st.size;
  };
  const packages = neededPackages(root);
  const dists = packages.flatMap((p) => {
    const link = readlinkOr(join(root, p));
    return link ? [join(p, '..', link, 'dist')] : [];
  });
  for (const d of dists) {
    if (!existsSync(join(root, d))) throw new Error(`gpu:pack: ${d} is missing: run npm run build first`);
    walk(d);
  }
  for (const p of packages) {
    try {
      walk(p);
    } catch {
      // an optional dependency npm did not install here (another platform's binary)
    }
  }
  return { files, bytes, packages: packages.length };
}
