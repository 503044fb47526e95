// siftjs on its CPU backend, in a process of its own: prints {"matmul": {n: GFLOP/s}, "mlp": ms, "info": …}.
import { getBackend, setBackend } from '@siftjs/tensor';
import '@siftjs/backend-cpu';
import { siftMatmul } from '../suites/matmul.js';
import { type MlpConfig, siftMlp } from '../suites/mlp.js';

const cfg = JSON.parse(process.argv[2]) as { matmul_sizes: number[]; mlp: MlpConfig };
await setBackend('cpu');
const matmul: Record<string, number> = {};
for (const n of cfg.matmul_sizes) matmul[n] = await siftMatmul(n);
const mlp = await siftMlp(cfg.mlp);
console.log(JSON.stringify({ info: getBackend().info(), matmul, mlp }));
process.exit(0);
