import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { MODEL_FILES, MODEL_NAME, modelFile, spamHamSample } from './bundled.js';

/**
 * `npm run web` (vite) serves this page from the packages' TypeScript sources; `vite build` writes a static site
 * to dist/. Both send the cross-origin-isolation headers: without them a page has no SharedArrayBuffer, and the
 * CPU backend runs on one thread.
 */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The bundled model and sample data under /bundled/ (made in Node: see bundled.ts). */
function bundled(): Plugin {
  const files = (): Record<string, () => Buffer | string> => ({
    ...Object.fromEntries(MODEL_FILES.map((f) => [`bundled/${MODEL_NAME}/${f}`, () => modelFile(f)])),
    'bundled/spam-ham.jsonl': spamHamSample,
  });
  return {
    name: 'siftjs-bundled',
    configureServer(server) {
      const cache = new Map<string, Buffer | string>();
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0].replace(/^\//, '');
        const make = files()[path];
        if (!make) return next();
        if (!cache.has(path)) cache.set(path, make());
        res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(cache.get(path));
      });
    },
    generateBundle() {
      for (const [fileName, make] of Object.entries(files())) this.emitFile({ type: 'asset', fileName, source: make() });
    },
  };
}

/**
 * The service worker that keeps the page working offline once loaded (service-worker.js), written into the build as
 * sw.js with the build's file list and a version digested from every file's content: a new build is a new worker,
 * which replaces the old one's store. The dev server has none (its modules change as they are edited).
 */
function offline(): Plugin {
  return {
    name: 'siftjs-offline',
    enforce: 'post',
    // Tells the page whether it is a build, which has a worker to register (NODE_ENV, and so PROD, may say otherwise).
    config: (_config, { command }) => ({ define: { 'import.meta.env.SIFT_SERVICE_WORKER': JSON.stringify(command === 'build') } }),
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).sort();
      const digest = createHash('sha256');
      for (const f of files) {
        const out = bundle[f];
        digest.update(f).update(out.type === 'chunk' ? out.code : out.source);
      }
      const head = `const VERSION = '${digest.digest('hex').slice(0, 16)}';\nconst FILES = ${JSON.stringify(['./', ...files])};\n`;
      const body = readFileSync(fileURLToPath(new URL('service-worker.js', import.meta.url)), 'utf8');
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: head + body });
    },
  };
}

/**
 * Node's modules, which some package modules import for functions a page never calls (reading and writing files):
 * each export throws, naming itself, if it ever is called.
 */
const NODE_EXPORTS: Record<string, string[]> = {
  fs: ['accessSync', 'appendFileSync', 'closeSync', 'constants', 'copyFileSync', 'existsSync', 'fstatSync', 'lstatSync', 'mkdirSync', 'openSync', 'readdirSync', 'readFileSync', 'readSync', 'renameSync', 'rmdirSync', 'rmSync', 'statSync', 'unlinkSync', 'writeFileSync', 'writeSync'],
  path: ['basename', 'dirname', 'extname', 'join', 'resolve'],
  crypto: ['createHash'],
  module: ['createRequire'],
  os: ['totalmem'],
  child_process: ['spawnSync'],
};

function nodeStubs(): Plugin {
  const prefix = '\0node-stub:';
  return {
    name: 'siftjs-node-stubs',
    enforce: 'pre',
    resolveId(id) {
      const m = /^node:([a-z_]+)$/.exec(id);
      return m && NODE_EXPORTS[m[1]] ? prefix + m[1] : null;
    },
    load(id) {
      if (!id.startsWith(prefix)) return null;
      const mod = id.slice(prefix.length);
      const stub = (name: string) => `export const ${name} = () => { throw new Error('node:${mod} ${name}: not available in a browser'); };`;
      return `${NODE_EXPORTS[mod].map(stub).join('\n')}\nexport default {};\n`;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The packages' sources (their "source" export condition), so the page needs no build of them first.
  resolve: { conditions: ['source', 'browser', 'module', 'import', 'default'] },
  plugins: [nodeStubs(), bundled(), offline()],
  server: { headers: ISOLATION },
  preview: { headers: ISOLATION },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
  worker: { format: 'es' },
  // Vega is imported when the first loss is drawn: named here, so the dev server bundles it before the page loads
  // rather than reloading the page when it first sees the import.
  optimizeDeps: { include: ['vega', 'vega-lite'] },
});
