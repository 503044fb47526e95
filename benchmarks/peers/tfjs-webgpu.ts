// @tensorflow/tfjs-backend-webgpu in Node, on the adapter siftjs used (argv[2]: its path, 'dawn-default',
// 'dawn-swiftshader' or 'dawn-opengles'), in a process of its own: prints {"matmul": {n: GFLOP/s}, "version": …}.
import { create, globals } from 'webgpu';
import { tfjsMatmul } from '../suites/matmul.js';

const path = process.argv[2];
const cfg = JSON.parse(process.argv[3]) as { matmul_sizes: number[] };
if (path === 'dawn-opengles') process.env.EGL_PLATFORM ??= 'surfaceless';
if (path === 'dawn-swiftshader') process.env.VK_ICD_FILENAMES = process.env.SIFT_SWIFTSHADER_ICD ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const gpu = create(path === 'dawn-opengles' ? ['backend=opengles'] : []);
if (path === 'dawn-opengles') {
  // tfjs asks for an adapter without options; Mesa's OpenGL ES path only has the compatibility feature level.
  const request = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = (o?: GPURequestAdapterOptions) => request({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
}
// tfjs reads GPUBufferUsage, GPUMapMode … as browser globals.
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
const tf = await import('@tensorflow/tfjs');
await import('@tensorflow/tfjs-backend-webgpu');
if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs-backend-webgpu did not start on this adapter');
await tf.ready();
const matmul: Record<string, number> = {};
for (const n of cfg.matmul_sizes) matmul[n] = await tfjsMatmul(tf, n);
console.log(JSON.stringify({ version: tf.version_core, matmul, mlp: null }));
process.exit(0);
