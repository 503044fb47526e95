/**
 * `npm run gpu:pack`: what a bare GPU machine needs to run `npm run gpu:verify`, in .gpu/ at the repository root
 * (git-ignored through .git/info/exclude; the device tool's `carry` takes it along):
 *   node.xz            this machine's Node binary (the GPU image has none), compressed once and cached;
 *   modules.tar.xz     the node_modules files of bundle-files.ts (Linux x64), workspace links included;
 *   debs/libvulkan1_*  the Vulkan loader Dawn needs, where the image lacks it;
 *   boot.sh            unpacks all that there and runs the command given.
 * Prints the bundle's size and what travels in all (the working tree's tracked files beside it): at most 64 MiB.
 *
 *   npm run gpu:pack [-- --out DIR] [--fast] [--no-debs]   --fast: xz -1 instead of -9 (a test's quicker, larger
 *                                                          bundle); --no-debs: no Vulkan loader download (offline)
 *   npm run gpu:pack -- --list                    the file list's count and uncompressed size as JSON; packs nothing
 */
import { execFileSync, execSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleFiles } from './bundle-files.js';
import { ROOT } from './plan.js';

const LIMIT = 64 * 2 ** 20;
const args = process.argv.slice(2);
const known = new Set(['--list', '--fast', '--no-debs', '--out']);
for (let i = 0; i < args.length; i++) {
  if (!known.has(args[i])) {
    process.stderr.write(`gpu:pack: unknown flag '${args[i]}' (usage: npm run gpu:pack -- [--out DIR] [--fast] [--no-debs] [--list])\n`);
    process.exit(2);
  }
  if (args[i] === '--out' && (args[++i] === undefined || args[i].startsWith('--'))) {
    process.stderr.write('gpu:pack: --out needs a folder\n');
    process.exit(2);
  }
}
const list = bundleFiles(ROOT);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
if (args.includes('--list')) {
  console.log(JSON.stringify({ files: list.files.length, bytes: list.bytes, packages: list.packages }));
  process.exit(0);
}

const out = args.includes('--out') ? resolve(args[args.indexOf('--out') + 1]) : join(ROOT, '.gpu');
const level = args.includes('--fast') ? '-1' : '-9';
mkdirSync(out, { recursive: true });
if (out === join(ROOT, '.gpu')) {
  // Ignored locally, so it travels only when `carry` names it (and is never committed).
  const exclude = execFileSync('git', ['rev-parse', '--git-path', 'info/exclude'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const path = resolve(ROOT, exclude);
  if (!existsSync(path) || !readFileSync(path, 'utf8').split('\n').includes('/.gpu/')) appendFileSync(path, '\n/.gpu/\n');
}

// 1. Node, recompressed only when the local binary changes.
const stamp = `${process.version} ${statSync(process.execPath).size} ${level}`;
const stampFile = join(out, 'node.stamp');
if (!existsSync(join(out, 'node.xz')) || !existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
  console.log(`pack: compressing Node ${process.version} (xz ${level}; once)`);
  execSync(`xz -T0 ${level} -c "${process.execPath}" > "${join(out, 'node.xz')}"`);
  writeFileSync(stampFile, stamp);
}

// 2. node_modules: the list, as tar reads it (links stay links, hard links are stored once).
const listFile = join(out, 'modules.list');
writeFileSync(listFile, `${list.files.join('\n')}\n`);
execSync(`tar -cf - --no-recursion -T "${listFile}" | xz -T0 ${level} > "${join(out, 'modules.tar.xz')}"`, { cwd: ROOT });
rmSync(listFile);

// 3. The Vulkan loader (the GPU image may have none; Dawn's Vulkan path needs libvulkan.so.1).
const debs = join(out, 'debs');
mkdirSync(debs, { recursive: true });
if (!args.includes('--no-debs') && !readdirSync(debs).some((f) => f.startsWith('libvulkan1_'))) {
  try {
    execFileSync('apt-get', ['download', 'libvulkan1'], { cwd: debs, stdio: 'ignore' });
  } catch {
    console.error('pack: could not download libvulkan1 (run apt-get update once): WebGPU may find no loader on the GPU machine');
  }
}

copyFileSync(new URL('boot.sh', import.meta.url), join(out, 'boot.sh'));

const size = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? size(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
const bundle = size(out);
// What the device tool sends besides: tracked files and untracked ones git does not ignore.
const tree = execSync('git ls-files -z --cached --others --exclude-standard', { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 })
  .split('\0')
  .filter(Boolean)
  .reduce((n, f) => n + (existsSync(join(ROOT, f)) ? statSync(join(ROOT, f)).size : 0), 0);
console.log(`pack: ${out} is ${mib(bundle)} (${list.files.length} files of node_modules and the packages' dist, ${mib(list.bytes)} before compression); the working tree adds ${mib(tree)}: ${mib(bundle + tree)} of the 64 MiB that travel`);
console.log(JSON.stringify({ bundleBytes: bundle, treeBytes: tree, totalBytes: bundle + tree, limitBytes: LIMIT, files: list.files.length }));
if (bundle + tree > LIMIT) {
  console.error(`pack: ${mib(bundle + tree)} is over the 64 MiB the device tool carries`);
  process.exit(1);
}
