/**
 * Inputs of the PEFT golden check (tests/golden/peft.py), written once and committed: tiny base checkpoints
 * (LLaMA, BERT with a 3-class head, GPT-2) with seeded random weights, a SIFT fine-tune of the LLaMA and of the
 * BERT (a few real SIFT steps on random tokens) saved as sparse deltas, those deltas exported as PEFT Super-Tuning
 * and SHiRA adapters, and the base + delta merged by `mergeInto`. peft.py re-implements PEFT's loading and
 * get_delta_weight and checks that the exported adapters merge to exactly those weights.
 *
 * Run from the repository root:  npx tsx --conditions=source tests/golden/peft-fixture.mts  (then /usr/bin/python3 tests/golden/peft.py)
 */
import '@siftjs/backend-cpu';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertForSequenceClassification, bertConfig, GPT2LMHeadModel, gpt2Config, LlamaForCausalLM, llamaConfig } from '@siftjs/models';
import { exportPeftAdapter, extractDelta, mergeInto, SIFT, saveDelta } from '@siftjs/sift-optimizer';
import { manualSeed, setBackend, type Tensor, tensor } from '@siftjs/tensor';

/** Token ids from a fixed linear congruential sequence (the data only has to be the same on every run). */
let state = 12345;
function randint(low: number, high: number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Int32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return low + (state % (high - low));
  }), { shape, dtype: 'int32' });
}

const HERE = join(fileURLToPath(new URL('.', import.meta.url)), 'peft');

export const LLAMA = { model_type: 'llama', vocab_size: 48, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false };
export const BERT = { model_type: 'bert', vocab_size: 40, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 48, max_position_embeddings: 32, type_vocab_size: 2, num_labels: 3, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
export const GPT2 = { model_type: 'gpt2', vocab_size: 40, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };

/** A few SIFT steps: forward, backward, step; the selection is the paper's (first batch's gradient). */
async function sift(model: { parameters(): Iterable<Tensor> }, tuner: SIFT, loss: () => Tensor, steps: number): Promise<void> {
  for (let s = 0; s < steps; s++) {
    const l = loss();
    l.backward();
    l.dispose();
    tuner.step();
    tuner.zeroGrad();
  }
}

async function main(): Promise<void> {
  await setBackend('cpu');
  rmSync(HERE, { recursive: true, force: true });
  mkdirSync(HERE, { recursive: true });

  manualSeed(7);
  const llama = new LlamaForCausalLM(llamaConfig(LLAMA, 'llama'));
  llama.savePretrained(join(HERE, 'llama-base'));
  const proj = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  const lt = new SIFT(llama, { density: 0.05, targets: proj, lr: 1e-2 });
  await sift(llama, lt, () => {
    const ids = randint(0, LLAMA.vocab_size, [2, 12]);
    const out = llama.forward(ids, { labels: ids });
    out.logits.dispose();
    ids.dispose();
    return out.loss!;
  }, 4);
  const llamaDelta = await extractDelta(lt);
  saveDelta(join(HERE, 'llama-sift.delta.safetensors'), llamaDelta);

  manualSeed(8);
  const bert = new BertForSequenceClassification(bertConfig(BERT, 'bert'));
  bert.savePretrained(join(HERE, 'bert-base'));
  const bt = new SIFT(bert, { density: 0.02, targets: ['query', 'key', 'value', 'attention.output.dense'], dense: ['classifier'], lr: 1e-2 });
  await sift(bert, bt, () => {
    const ids = randint(0, BERT.vocab_size, [4, 10]);
    const labels = randint(0, 3, [4]);
    const out = bert.forward(ids, { labels });
    out.logits.dispose();
    ids.dispose();
    labels.dispose();
    return out.loss!;
  }, 4);
  const bertDelta = await extractDelta(bt);
  saveDelta(join(HERE, 'bert-sift.delta.safetensors'), bertDelta);

  for (const tuner of ['supertuning', 'shira'] as const) {
    const l = exportPeftAdapter(llama, llamaDelta, join(HERE, `llama-${tuner}`), { tuner, baseModelNameOrPath: 'llama-base', taskType: 'CAUSAL_LM' });
    const b = exportPeftAdapter(bert, bertDelta, join(HERE, `bert-${tuner}`), { tuner, baseModelNameOrPath: 'bert-base', taskType: 'SEQ_CLS' });
    console.log(tuner, JSON.stringify({ llama: { sparsity: l.sparsity, r: l.r, exact: l.exact }, bert: { sparsity: b.sparsity, r: b.r, exact: b.exact } }));
  }
  mergeInto({ base: join(HERE, 'llama-base'), deltas: [{ delta: llamaDelta }], out: join(HERE, 'llama-merged') });
  mergeInto({ base: join(HERE, 'bert-base'), deltas: [{ delta: bertDelta }], out: join(HERE, 'bert-merged'), config: { num_labels: 3 } });
  for (const d of ['llama-merged', 'bert-merged']) rmSync(join(HERE, d, 'config.json'));

  manualSeed(9);
  const gpt2 = new GPT2LMHeadModel(gpt2Config(GPT2, 'gpt2'));
  gpt2.savePretrained(join(HERE, 'gpt2-base'));
  for (const m of [llama, bert, gpt2]) m.dispose();
  lt.dispose();
  bt.dispose();
}

await main();
