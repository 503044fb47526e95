// A tiny causal transformer trained a few steps — the same code in the browser page and in Node, so the test can
// compare the two runs' losses. The caller picks the backend first.
import { AdamW, Embedding, GeluMLP, LayerNorm, Linear, Module, MultiHeadAttention, crossEntropy } from '@siftjs/nn';
import { manualSeed, scope, tensor, type Tensor } from '@siftjs/tensor';

const TEXT = 'sparse increment fine-tuning updates the top components of the gradient and nothing else. ';
const VOCAB = 32;
const DIM = 32;
const SEQ = 16;
const BATCH = 4;

class TinyLM extends Module {
  embed = new Embedding(VOCAB, DIM);
  ln1 = new LayerNorm(DIM);
  attn = new MultiHeadAttention(DIM, { heads: 4, causal: true });
  ln2 = new LayerNorm(DIM);
  mlp = new GeluMLP(DIM, 4 * DIM, 'tanh');
  head = new Linear(DIM, VOCAB);

  forward(ids: Tensor): Tensor {
    return scope(() => {
      let h = this.embed.forward(ids);
      h = h.add(this.attn.forward(this.ln1.forward(h)));
      h = h.add(this.mlp.forward(this.ln2.forward(h)));
      return this.head.forward(h);
    });
  }
}

/** Batch `step`: BATCH windows of SEQ + 1 characters of TEXT (codes folded into the vocabulary). */
function batch(step: number): Int32Array {
  const ids = new Int32Array(BATCH * (SEQ + 1));
  for (let b = 0; b < BATCH; b++) {
    const start = (step * 7 + b * 13) % (TEXT.length - SEQ - 1);
    for (let t = 0; t <= SEQ; t++) ids[b * (SEQ + 1) + t] = TEXT.charCodeAt(start + t) % VOCAB;
  }
  return ids;
}

/** Trains `steps` steps of next-character prediction from seed 0; returns each step's loss. */
export async function trainTiny(steps = 5): Promise<number[]> {
  manualSeed(0);
  const model = new TinyLM();
  const opt = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const ids = tensor(batch(step), { shape: [BATCH, SEQ + 1], dtype: 'int32' });
    const loss = scope(() => {
      const inputs = ids.narrow(1, 0, SEQ);
      const targets = ids.narrow(1, 1, SEQ);
      return crossEntropy(model.forward(inputs).reshape([BATCH * SEQ, VOCAB]), targets.reshape([BATCH * SEQ]));
    });
    loss.backward();
    opt.step();
    opt.zeroGrad();
    losses.push(await loss.item());
    loss.dispose();
    ids.dispose();
  }
  model.dispose();
  return losses;
}
