// TensorFlow.js with one backend (argv[2]: cpu | wasm), in a process of its own, same cases as peers/sift.ts.
import { tfjsMatmul } from '../suites/matmul.js';
import { type MlpConfig, tfjsMlp } from '../suites/mlp.js';

const backend = process.argv[2] as 'cpu' | 'wasm';
const cfg = JSON.parse(process.argv[3]) as { matmul_sizes: number[]; mlp: MlpConfig };
// The union package registers the gradient functions (tfjs-core alone has none), as users get it.
const tf = await import('@tensorflow/tfjs');
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not start`);
await tf.ready();
const matmul: Record<string, number> = {};
for (const n of cfg.matmul_sizes) matmul[n] = await tfjsMatmul(tf, n);
const mlp = await tfjsMlp(tf, cfg.mlp);
console.log(JSON.stringify({ version: tf.version_core, matmul, mlp }));
process.exit(0);
