// siftjs on its CPU backend, in a process of its own: prints {"matmul": {n: GFLOP/s}, "mlp": ms, "attention": ms, "layernorm": ms, "bandwidth": {case: GB/s}, "gpt2": …, "info": …}.
import { getBackend, setBackend } from '@siftjs/tensor';
import '@siftjs/backend-cpu';
import { type BandwidthConfig, siftBandwidth } from '../suites/bandwidth.js';
import { type Gpt2Config, siftGpt2 } from '../suites/gpt2.js';
import { siftMatmul } from '../suites/matmul.js';
import { type MlpConfig, siftMlp } from '../suites/mlp.js';
import { type OpsConfig, siftAttention, siftLayerNorm } from '../suites/ops.js';

const cfg = JSON.parse(process.argv[2]) as { matmul_sizes: number[]; mlp: MlpConfig; gpt2?: Gpt2Config; ops?: OpsConfig; bandwidth?: BandwidthConfig };
await setBackend('cpu');
const matmul: Record<string, number> = {};
for (const n of cfg.matmul_sizes) matmul[n] = await siftMatmul(n);
const mlp = await siftMlp(cfg.mlp);
const attention = cfg.ops ? await siftAttention(cfg.ops.attention) : null;
const layernorm = cfg.ops ? await siftLayerNorm(cfg.ops.layernorm) : null;
const bandwidth = cfg.bandwidth ? await siftBandwidth(cfg.bandwidth) : null;
const gpt2 = cfg.gpt2 ? await siftGpt2(cfg.gpt2) : null;
console.log(JSON.stringify({ info: getBackend().info(), matmul, mlp, attention, layernorm, bandwidth, gpt2 }));
process.exit(0);
