// TensorFlow.js with one backend (argv[2]: cpu | wasm), in a process of its own, same cases as peers/sift.ts.
import { tfjsMatmul } from '../suites/matmul.js';
import { type MlpConfig, tfjsMlp } from '../suites/mlp.js';
import { type OpsConfig, tfjsAttention, tfjsLayerNorm } from '../suites/ops.js';

const backend = process.argv[2] as 'cpu' | 'wasm';
const cfg = JSON.parse(process.argv[3]) as { matmul_sizes: number[]; mlp: MlpConfig; ops?: OpsConfig };
// The union package registers the gradient functions (tfjs-core alone has none), as users get it.
const tf = await import('@tensorflow/tfjs');
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not start`);
await tf.ready();
const matmul: Record<string, number> = {};
for (const n of cfg.matmul_sizes) matmul[n] = await tfjsMatmul(tf, n);
const mlp = await tfjsMlp(tf, cfg.mlp);
const attention = cfg.ops ? await tfjsAttention(tf, cfg.ops.attention) : null;
const layernorm = cfg.ops ? await tfjsLayerNorm(tf, cfg.ops.layernorm) : null;
console.log(JSON.stringify({ version: tf.version_core, matmul, mlp, attention, layernorm }));
process.exit(0);
