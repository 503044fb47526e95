import {
  bertConfig,
  BertForSequenceClassification,
  gpt2Config,
  GPT2LMHeadModel,
  llamaConfig,
  LlamaForCausalLM,
  type PretrainedModel,
  RobertaForSequenceClassification,
} from '@siftjs/models';
import { AdamW } from '@siftjs/nn';
import { SIFT } from '@siftjs/sift-optimizer';
import { manualSeed, memoryStats, resetPeakBytes, scope, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectNoLeaks } from '../support/memory.js';
import { read } from '../support/read.js';

/**
 * model.gradientCheckpointingEnable() (transformers' name): every transformer block recomputed in backward. The
 * reference is the same model without it, in training mode with dropout on — the gradients must be the same bits.
 */

const int = (rows: number[][]) => tensor(rows, { dtype: 'int32' });
const IDS = [
  [3, 7, 1, 9, 4, 12, 5, 2],
  [8, 2, 6, 11, 0, 0, 0, 0],
];
const MASK = IDS.map((row, i) => row.map((_, t) => (i === 1 && t >= 4 ? 0 : 1)));

interface Family {
  name: string;
  build(): PretrainedModel;
  loss(model: PretrainedModel): Tensor;
}

const drop = { resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1 };
const gpt2 = (layers = 3, embd = 16, positions = 16) =>
  new GPT2LMHeadModel(gpt2Config({ vocab_size: 20, n_positions: positions, n_embd: embd, n_layer: layers, n_head: 2, ...drop }, 'gpt2-tiny'));
const bertLike = { vocab_size: 20, hidden_size: 16, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, num_labels: 3 };
const labels = () => tensor([2, 0], { dtype: 'int32' });

const FAMILIES: Family[] = [
  {
    name: 'GPT-2',
    build: () => gpt2(),
    loss: (m) => (m as GPT2LMHeadModel).forward(int(IDS), { attentionMask: int(MASK), labels: int(IDS) }).loss as Tensor,
  },
  {
    name: 'BERT',
    build: () => new BertForSequenceClassification(bertConfig({ ...bertLike, type_vocab_size: 2, pad_token_id: 0 }, 'bert-tiny')),
    loss: (m) => (m as BertForSequenceClassification).forward(int(IDS), { attentionMask: int(MASK), labels: labels() }).loss as Tensor,
  },
  {
    name: 'RoBERTa',
    build: () => new RobertaForSequenceClassification(bertConfig({ ...bertLike, type_vocab_size: 1, pad_token_id: 1, layer_norm_eps: 1e-5 }, 'roberta-tiny')),
    loss: (m) => (m as RobertaForSequenceClassification).forward(int(IDS), { attentionMask: int(MASK), labels: labels() }).loss as Tensor,
  },
  {
    name: 'LLaMA',
    build: () =>
      new LlamaForCausalLM(
        llamaConfig({ vocab_size: 20, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16 }, 'llama-tiny'),
      ),
    loss: (m) => (m as LlamaForCausalLM).forward(int(IDS), { attentionMask: int(MASK), labels: int(IDS) }).loss as Tensor,
  },
];

/** Each number as text, so −0 and every last bit count. */
const bits = (xs: number[]) => xs.map((v) => (Object.is(v, -0) ? '-0' : v.toString()));

/** The loss and every parameter's gradient after one backward from the dropout stream of `seed`. */
function lossAndGrads(f: Family, model: PretrainedModel, seed: number): Tensor[] {
  model.zeroGrad();
  manualSeed(seed);
  return scope(() => {
    const loss = f.loss(model);
    loss.backward();
    return [loss, ...model.parameters().map((p) => p.grad as Tensor)];
  });
}

describe.each(backendsUnderTest())('gradient checkpointing on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const f of FAMILIES) {
    // LLaMA's published configs have no dropout; GPT-2's and BERT's run here at 0.1 everywhere.
    it(`${f.name}: the loss and every parameter's gradient are the same bits with the blocks checkpointed (training mode${f.name === 'LLaMA' ? '' : ', dropout on'})`, async () => {
      manualSeed(1);
      const model = f.build();
      model.train();
      for (const seed of [5, 6]) {
        const plain = await read(() => lossAndGrads(f, model, seed));
        model.gradientCheckpointingEnable();
        expect(model.isGradientCheckpointing).toBe(true);
        const ckpt = await read(() => lossAndGrads(f, model, seed));
        model.gradientCheckpointingDisable();
        expect(model.isGradientCheckpointing).toBe(false);
        expect(ckpt.length).toBe(plain.length);
        const names = ['loss', ...[...model.namedParameters()].map(([n]) => n)];
        plain.forEach((g, i) => expect(bits(ckpt[i]), names[i]).toEqual(bits(g)));
      }
      model.dispose();
    });
  }

  it('GPT-2: SIFT with checkpointing trains to the same bits, each block parameter’s hook firing once per backward', async () => {
    const run = async (ckpt: boolean) => {
      manualSeed(2);
      const model = gpt2();
      const fired = new Map<string, number>();
      // Registered before SIFT's own hook (which drops the gradient), so they see every dense gradient it sees.
      for (const [name, p] of model.namedParameters()) if (/^transformer\.h\./.test(name)) p.registerHook(() => void fired.set(name, (fired.get(name) ?? 0) + 1));
      const sift = new SIFT(model, { density: 0.2, targets: ['ln_2', 'attn.c_attn.weight', 'mlp.c_proj'], lr: 0.01 });
      if (ckpt) model.gradientCheckpointingEnable();
      model.train();
      const perBackward: number[][] = [];
      for (let step = 0; step < 3; step++) {
        fired.clear();
        manualSeed(100 + step);
        scope(() => (model.forward(int(IDS), { attentionMask: int(MASK), labels: int(IDS) }).loss as Tensor).backward());
        perBackward.push([...fired.values()]);
        sift.step();
        sift.zeroGrad();
      }
      const weights = await read(() => model.parameters().map((p) => p.detach()));
      const hooked = [...fired.keys()];
      sift.dispose();
      model.dispose();
      return { weights, perBackward, hooked };
    };
    const plain = await run(false);
    const ckpt = await run(true);
    expect(ckpt.hooked).toEqual(plain.hooked);
    expect(plain.hooked.some((n) => n.endsWith('ln_2.weight'))).toBe(true);
    for (const counts of ckpt.perBackward) expect(counts.every((c) => c === 1)).toBe(true);
    expect(ckpt.perBackward).toEqual(plain.perBackward);
    plain.weights.forEach((w, i) => expect(bits(ckpt.weights[i]), `parameter ${i}`).toEqual(bits(w)));
  });

  it('GPT-2: checkpointed training steps leave nothing behind, and live tensors stay flat', async () => {
    manualSeed(3);
    const model = gpt2();
    model.gradientCheckpointingEnable();
    const opt = new AdamW(model.parameters(), { lr: 1e-3 });
    const step = () => {
      scope(() => (model.forward(int(IDS), { attentionMask: int(MASK), labels: int(IDS) }).loss as Tensor).backward());
      opt.step();
      opt.zeroGrad();
    };
    step(); // AdamW's moments are made on the first step
    const live: number[] = [];
    await expectNoLeaks(() => {
      for (let i = 0; i < 10; i++) {
        step();
        live.push(memoryStats().liveTensors);
      }
    });
    expect(new Set(live).size).toBe(1);
    opt.dispose?.();
    model.dispose();
  });

  it('GPT-2: a training step of a deep model peaks lower with checkpointing', () => {
    manualSeed(4);
    const model = gpt2(8, 32, 64);
    const ids = [Array.from({ length: 64 }, (_, t) => (t * 7) % 20), Array.from({ length: 64 }, (_, t) => (t * 3) % 20)];
    const peak = () => {
      scope(() => (model.forward(int(ids), { labels: int(ids) }).loss as Tensor).backward());
      model.zeroGrad();
      if (!resetPeakBytes()) return null;
      scope(() => (model.forward(int(ids), { labels: int(ids) }).loss as Tensor).backward());
      const s = memoryStats();
      model.zeroGrad();
      return s.peakBytes;
    };
    const plain = peak();
    model.gradientCheckpointingEnable();
    const ckpt = peak();
    if (plain === null || ckpt === null) return expect.fail(`${backend.name} does not reset its peak bytes`);
    expect(ckpt).toBeLessThan(plain);
    model.dispose();
  });

  it('a model without transformer blocks says so', async () => {
    const { Linear } = await import('@siftjs/nn');
    const { PretrainedModel } = await import('@siftjs/models');
    class Head extends PretrainedModel<object> {
      lin = new Linear(2, 2);
      get modelType() {
        return 'head';
      }
      get architecture() {
        return 'Head';
      }
      get checkpointLayout() {
        return { basePrefix: '', isBase: true, taskHeads: [], ignoredKeys: [] } as never;
      }
    }
    const m = new Head({});
    expect(() => m.gradientCheckpointingEnable()).toThrow(/Head does not support gradient checkpointing/);
    m.dispose();
  });
});
