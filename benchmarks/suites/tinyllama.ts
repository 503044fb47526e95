/**
 * SIFT fine-tunes a 1.1B-parameter LLaMA on this machine: the TinyLlama-1.1B configuration (22 layers, hidden 2048,
 * intermediate 5632, 32 heads, 4 KV heads, vocab 32000), random weights written once as bfloat16 safetensors, loaded
 * without widening (`fromPretrained(dir, { dtype: 'bfloat16' })`), gradient checkpointing on, SIFT at density 1% on
 * every projection, one batch of 1 × 256 tokens per step. Beside it, in the same run: PyTorch (Debian's
 * python3-torch) on the same architecture and batch — full fine-tuning and LoRA, float32 and bfloat16 — and GPT-2
 * small (124M): SIFT with bfloat16 weights and checkpointing against float32 without.
 *
 *   node --import tsx benchmarks/suites/tinyllama.ts [--layers 22] [--seq 256] [--steps 3] [--skip-torch] [--torch-only]
 *       [--torch-timeout 900] [--keep-torch]
 *
 * Every configuration runs in its own process, so its peak RSS is its own, and records the 1-minute load average at
 * its start (step times on a shared machine move with it). `--torch-only` adds the PyTorch rows to the siftjs rows of
 * the last run's tinyllama.json (each row keeps its own load); `--keep-torch` (with `--skip-torch`) the other way round:
 * the siftjs rows run again, the last run's PyTorch rows kept, each marked so. Writes benchmarks/results/tinyllama.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@siftjs/backend-cpu';
import { buildIn, GPT2LMHeadModel, gpt2Config, LlamaForCausalLM } from '@siftjs/models';
import { type HostTensor, saveSafetensors } from '@siftjs/safetensors';
import { SIFT } from '@siftjs/sift-optimizer';
import { arrayToHalfBits, type DType, getBackend, manualSeed, memoryStats, randn, resetPeakBytes, setBackend, tensor } from '@siftjs/tensor';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const layers = opt('layers', 22);
const seq = opt('seq', 256);
const steps = opt('steps', 3);
const torchTimeout = opt('torch-timeout', 900);
const density = 0.01;
const log = (s: string) => process.stdout.write(`${s}\n`);
const GiB = 2 ** 30;

const CONFIG = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 32000,
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: layers,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  attention_bias: false,
  torch_dtype: 'bfloat16',
};
const LLAMA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const GPT2_TARGETS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];

/** The checkpoint in Hugging Face's LlamaForCausalLM layout, random N(0, 0.02) projections and unit norms, as bfloat16. */
function ensureModel(dir: string): void {
  if (existsSync(join(dir, 'model.safetensors'))) return;
  mkdirSync(dir, { recursive: true });
  const c = CONFIG.hidden_size;
  const kv = (c / CONFIG.num_attention_heads) * CONFIG.num_key_value_heads;
  const shapes: Record<string, number[]> = { 'model.embed_tokens.weight': [CONFIG.vocab_size, c], 'model.norm.weight': [c], 'lm_head.weight': [CONFIG.vocab_size, c] };
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    Object.assign(shapes, {
      [`${p}self_attn.q_proj.weight`]: [c, c],
      [`${p}self_attn.k_proj.weight`]: [kv, c],
      [`${p}self_attn.v_proj.weight`]: [kv, c],
      [`${p}self_attn.o_proj.weight`]: [c, c],
      [`${p}mlp.gate_proj.weight`]: [CONFIG.intermediate_size, c],
      [`${p}mlp.up_proj.weight`]: [CONFIG.intermediate_size, c],
      [`${p}mlp.down_proj.weight`]: [c, CONFIG.intermediate_size],
      [`${p}input_layernorm.weight`]: [c],
      [`${p}post_attention_layernorm.weight`]: [c],
    });
  }
  manualSeed(0);
  const tensors: Record<string, HostTensor> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (shape.length === 1) values = new Float32Array(n).fill(1);
    else {
      const t = randn(shape, { std: 0.02 });
      values = t.toArraySync() as Float32Array;
      t.dispose();
    }
    tensors[name] = { dtype: 'bfloat16', shape, data: arrayToHalfBits(values, 'bfloat16') };
  }
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(CONFIG, null, 2)}\n`);
  saveSafetensors(join(dir, 'model.safetensors'), tensors, { metadata: { format: 'pt' } });
}

interface Row {
  system: string;
  model: string;
  method: string;
  dtype: string;
  checkpointing: boolean;
  trainable: number | null;
  /** Peak resident set of the process (bytes), or null when it did not run. */
  peakRss: number | null;
  /** The backend's accounted peak (siftjs only). */
  accountedPeak: number | null;
  stepSeconds: number[];
  tokensPerSecond: number | null;
  note?: string;
  byDtype?: Partial<Record<DType, number>>;
  /** The 1-minute load average when the configuration started. */
  load?: number;
}

/** One SIFT configuration of siftjs, in this process (run as a child). */
function siftRun(which: 'llama' | 'gpt2-f32' | 'gpt2-bf16', dir: string): Row {
  manualSeed(0);
  const batch = which === 'llama' ? 1 : 4;
  const tokens = which === 'llama' ? seq : 128;
  const half = which !== 'gpt2-f32';
  const model =
    which === 'llama'
      ? LlamaForCausalLM.fromPretrained(dir, { dtype: 'bfloat16' })
      : buildIn(half ? 'bfloat16' : 'float32', () => new GPT2LMHeadModel(gpt2Config({ n_layer: 12, n_embd: 768, n_head: 12, vocab_size: 50257, n_positions: 1024 }, 'benchmark')));
  if (half) model.gradientCheckpointingEnable();
  const sift = new SIFT(model, { density, targets: which === 'llama' ? LLAMA_TARGETS : GPT2_TARGETS, lr: 1e-5 });
  const vocab = which === 'llama' ? CONFIG.vocab_size : 50257;
  let lcg = 12345;
  const times: number[] = [];
  resetPeakBytes();
  for (let s = 0; s < steps; s++) {
    const ids = tensor(Int32Array.from({ length: batch * tokens }, () => (lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0) % vocab), { shape: [batch, tokens], dtype: 'int32' });
    const t0 = performance.now();
    const { logits, loss } = model.forward(ids, { labels: ids });
    logits.dispose();
    loss!.backward();
    loss!.dispose();
    sift.step();
    sift.zeroGrad();
    times.push((performance.now() - t0) / 1000);
    ids.dispose();
    log(`  step ${s + 1}: ${times.at(-1)!.toFixed(1)} s`);
  }
  const measured = times.length > 1 ? times.slice(1) : times;
  const row: Row = {
    system: 'siftjs',
    model: which === 'llama' ? `TinyLlama-1.1B configuration${layers === 22 ? '' : ` (${layers} layers)`}` : 'GPT-2 small (124M)',
    method: `SIFT, density ${density}`,
    dtype: half ? 'bfloat16 weights' : 'float32',
    checkpointing: half,
    trainable: sift.trainableCount(),
    peakRss: process.resourceUsage().maxRSS * 1024,
    accountedPeak: memoryStats().peakBytes,
    stepSeconds: times,
    tokensPerSecond: (batch * tokens) / (measured.reduce((a, b) => a + b, 0) / measured.length),
    byDtype: memoryStats().bytesByDtype,
  };
  sift.dispose();
  model.dispose();
  return row;
}

const only = args.includes('--run') ? args[args.indexOf('--run') + 1] : '';
const dir = join(os.tmpdir(), `siftjs-tinyllama-${layers}`);
if (only) {
  // Started and awaited: the CPU backend finds its BLAS and starts its worker threads asynchronously, and the run
  // below never yields to the event loop — without this every product ran on one thread in WebAssembly.
  await setBackend('cpu');
  process.stdout.write(`ROW ${JSON.stringify(siftRun(only as 'llama', dir))}\n`);
  process.exit(0);
}

function child(which: string): Row {
  const load = os.loadavg()[0];
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions', 'source', script, ...args, '--run', which], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = r.stdout.split('\n').find((l) => l.startsWith('ROW '));
  if (!line) throw new Error(`tinyllama: the ${which} run failed:\n${r.stdout}`);
  return { ...(JSON.parse(line.slice(4)) as Row), load };
}

/** MemAvailable from /proc/meminfo (bytes), or Infinity where there is none. */
function memAvailable(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(existsSync('/proc/meminfo') ? readFileSync('/proc/meminfo', 'utf8') : '');
  return m ? Number(m[1]) * 1024 : Infinity;
}

function torchRun(method: 'full' | 'lora', dtype: 'float32' | 'bfloat16'): Row {
  const load = os.loadavg()[0];
  const base: Row = {
    load, system: 'PyTorch', model: `TinyLlama-1.1B configuration${layers === 22 ? '' : ` (${layers} layers)`}`, method: method === 'full' ? 'full fine-tuning (AdamW)' : 'LoRA r=12 on every projection', dtype, checkpointing: true, trainable: null, peakRss: null, accountedPeak: null, stepSeconds: [], tokensPerSecond: null };
  // Full fine-tuning keeps weights, gradients and AdamW's two moments: 16 bytes a parameter in float32, 8 in bfloat16.
  const params = 1.1e9 * (layers / 22);
  const need = method === 'full' ? params * (dtype === 'float32' ? 16 : 8) : 0;
  if (need > memAvailable()) return { ...base, note: `not run: needs ~${(need / GiB).toFixed(1)} GiB for weights, gradients and moments, ${(memAvailable() / GiB).toFixed(1)} GiB available` };
  const script = fileURLToPath(new URL('../peers/torch_tinyllama.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [script, '--method', method, '--dtype', dtype, '--steps', String(steps), '--seq', String(seq), '--layers', String(layers), '--threads', String(os.cpus().length)], { encoding: 'utf8', timeout: torchTimeout * 1000 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('{'));
  if (!line) {
    const why = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `did not finish ${steps} steps in ${torchTimeout} s` : r.signal === 'SIGKILL' ? 'killed (out of memory)' : `failed: ${(r.stderr ?? '').trim().split('\n').at(-1)}`;
    return { ...base, note: why };
  }
  const j = JSON.parse(line) as { peakRssBytes: number; stepSeconds: number[]; tokensPerSecond: number; trainable: number };
  return { ...base, trainable: j.trainable, peakRss: j.peakRssBytes, stepSeconds: j.stepSeconds, tokensPerSecond: j.tokensPerSecond };
}

const out = fileURLToPath(new URL('../results/', import.meta.url));
const rows: Row[] = [];
if (args.includes('--torch-only')) {
  rows.push(...(JSON.parse(readFileSync(`${out}tinyllama.json`, 'utf8')) as { rows: Row[] }).rows.filter((r) => r.system === 'siftjs'));
} else {
  log(`writing/reading the model in ${dir}`);
  const t0 = performance.now();
  ensureModel(dir);
  log(`  model ready in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  for (const which of ['llama', 'gpt2-f32', 'gpt2-bf16']) {
    log(`siftjs ${which}`);
    rows.push(child(which));
    log(`  ${JSON.stringify(rows.at(-1))}`);
  }
}
if (args.includes('--keep-torch')) {
  const last = JSON.parse(readFileSync(`${out}tinyllama.json`, 'utf8')) as { date: string; rows: Row[] };
  for (const r of last.rows.filter((x) => x.system === 'PyTorch')) rows.push({ ...r, note: r.note ?? `kept from the run of ${last.date} (its load)` });
}
if (!args.includes('--skip-torch')) {
  for (const [method, dtype] of [['lora', 'bfloat16'], ['lora', 'float32'], ['full', 'bfloat16'], ['full', 'float32']] as const) {
    log(`PyTorch ${method} ${dtype}`);
    rows.push(torchRun(method, dtype));
    log(`  ${JSON.stringify(rows.at(-1))}`);
  }
}

const gib = (b: number | null) => (b === null ? '–' : `${(b / GiB).toFixed(2)} GiB`);
const date = new Date().toISOString().slice(0, 10);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const table = (model: string) =>
  rows
    .filter((r) => r.model.startsWith(model))
    .map((r) => `| ${r.system} | ${r.method} | ${r.dtype} | ${r.checkpointing ? 'on' : 'off'} | ${r.trainable?.toLocaleString('en-US') ?? '–'} | ${gib(r.peakRss)} | ${gib(r.accountedPeak)} | ${r.tokensPerSecond === null ? '–' : r.tokensPerSecond.toFixed(1)} | ${r.stepSeconds.map((s) => s.toFixed(1)).join(', ') || '–'} | ${r.load?.toFixed(1) ?? '–'} | ${r.note ?? ''} |`);
const head = ['| system | method | weights | checkpointing | trainable | peak RSS | accounted peak | tokens/s | step seconds | load | note |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
const lines = [
  `# SIFT on a 1.1B LLaMA, bfloat16 weights and gradient checkpointing (${date})`,
  '',
  `Host: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}; siftjs backend: ${getBackend().info().name}.`,
  `Model: the TinyLlama-1.1B configuration (${layers} layers, hidden 2048, intermediate 5632, 32 heads, 4 KV heads, vocab 32000), random weights stored as bfloat16 safetensors; one batch of 1 × ${seq} tokens per step (causal LM loss), ${steps} steps; tokens/s over the steps after the first (the first selects).`,
  'siftjs: loaded without widening, SIFT density 1% on every projection (q, k, v, o, gate, up, down), gradient checkpointing per block. PyTorch (benchmarks/peers/torch_tinyllama.py, the same architecture written from its definition, checkpointing per block): full fine-tuning and LoRA r=12 on every projection, AdamW, in float32 and in bfloat16, all cores.',
  '"peak RSS" is the process\'s (each configuration in its own); "accounted peak" the siftjs backend\'s own count of tensor bytes; "load" the 1-minute load average when the configuration started (this 2-core machine was shared: step times move with it, bytes do not).',
  `Regenerate: \`node --import tsx --conditions source benchmarks/suites/tinyllama.ts${args.length ? ` ${args.join(' ')}` : ''}\`.`,
  '',
  ...head,
  ...table('TinyLlama'),
  '',
  `GPT-2 small (124M, random weights), SIFT density 1% on the block projections, 4 × 128 tokens a step:`,
  '',
  ...head,
  ...table('GPT-2'),
  '',
];
mkdirSync(out, { recursive: true });
const json = { date, host: { cpu, cpus: os.cpus().length, node: process.version, memory: os.totalmem() }, layers, seq, steps, rows };
for (const [ext, text] of [['json', `${JSON.stringify(json, null, 2)}\n`], ['md', lines.join('\n')]] as const) {
  writeFileSync(`${out}tinyllama.${ext}.tmp`, text);
  renameSync(`${out}tinyllama.${ext}.tmp`, `${out}tinyllama.${ext}`);
}
log(lines.join('\n'));
