import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const packagesDir = join(root, 'packages');
/** The library packages: those that export an entry (packages/web is a page, built by Vite, exporting nothing). */
const packages = readdirSync(packagesDir).filter((d) => existsSync(join(packagesDir, d, 'package.json')) && JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')).exports);

/** Imports every package's built entry the way a user's Node program would (plain node, no test transforms). */
describe('built packages', () => {
  it.each(packages)('%s has a built ESM entry with type declarations', (dir) => {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    const entry = pkg.exports['.'];
    expect(existsSync(join(packagesDir, dir, entry.import)), `${pkg.name}: ${entry.import} (run npm run build)`).toBe(true);
    expect(existsSync(join(packagesDir, dir, entry.types)), `${pkg.name}: ${entry.types}`).toBe(true);
  });

  it.each(packages)('%s imports only its declared dependencies', (dir) => {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    const code = readFileSync(join(packagesDir, dir, pkg.exports['.'].import), 'utf8');
    const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies }));
    // Static imports/re-exports at the start of a line, and dynamic import() calls.
    const statics = [...code.matchAll(/^\s*(?:import|export)\b[^'";]*?(?:from\s*)?['"]([^'".][^'"]*)['"]/gm)];
    const dynamics = [...code.matchAll(/\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/g)];
    const specifiers = [...statics, ...dynamics].map((m) => m[1]);
    for (const s of specifiers) {
      const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0];
      const builtin = s.startsWith('node:') || builtinModules.includes(name);
      expect(builtin || declared.has(name), `${pkg.name} imports '${s}' but does not declare it`).toBe(true);
    }
  });

  it('a plain Node program runs a matmul through the built packages', () => {
    const program = `
      import { tensor, memoryStats, getBackend } from '@siftjs/tensor';
      import '@siftjs/backend-cpu';
      const a = tensor([[1, 2], [3, 4]]);
      const c = a.matmul(a);
      console.log(JSON.stringify({ v: Array.from(await c.toArray()), b: getBackend().name, live: memoryStats().liveTensors }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ v: [7, 10, 15, 22], b: 'cpu', live: 2 });
  });
});
