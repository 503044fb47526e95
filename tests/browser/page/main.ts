// The browser page's entry: bundled by the test with esbuild, as an application would bundle the packages.
import '@siftjs/backend-webgpu';
import { getBackend, setBackend } from '@siftjs/tensor';
import { trainTiny } from './train.js';

interface PageResult {
  losses?: number[];
  adapter?: string;
  error?: string;
}

const w = globalThis as unknown as { __result?: PageResult };
try {
  await setBackend('webgpu');
  const adapter = String(getBackend().info().description);
  w.__result = { losses: await trainTiny(), adapter };
} catch (e) {
  w.__result = { error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) };
}
