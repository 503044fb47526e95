/**
 * Child of the transformers phase: our models loaded by `fromPretrained` from checkpoints written by someone else,
 * their logits, loss and gradients compared with the golden file beside each.
 *   node --conditions=source --import tsx scripts/gpu-verify/hf-compare.ts BACKEND FAMILY=DIR ...
 * FAMILY is gpt2 (GPT2LMHeadModel), bert (BertForMaskedLM) or llama (LlamaForCausalLM); DIR holds config.json,
 * model.safetensors and golden.safetensors (input_ids [, attention_mask, token_type_ids, labels], logits, loss,
 * grad.<name>). Prints one JSON line: per family, max |ours − theirs| / max |theirs| of each, or the error.
 */
import { join } from 'node:path';
import { BertForMaskedLM, GPT2LMHeadModel, LlamaForCausalLM } from '@siftjs/models';
import { loadSafetensors } from '@siftjs/safetensors';
import { setBackend, type Tensor } from '@siftjs/tensor';

const [backend, ...pairs] = process.argv.slice(2);
if (backend === 'cuda') await import('@siftjs/backend-cuda');
else if (backend === 'webgpu') await import('@siftjs/backend-webgpu');
else await import('@siftjs/backend-cpu');
await setBackend(backend);

type Model = GPT2LMHeadModel | BertForMaskedLM | LlamaForCausalLM;
const LOADERS: Record<string, (dir: string) => Model> = {
  gpt2: (d) => GPT2LMHeadModel.fromPretrained(d),
  bert: (d) => BertForMaskedLM.fromPretrained(d),
  llama: (d) => LlamaForCausalLM.fromPretrained(d),
};

/** max |a − e| / max |e|: one relative error for a whole tensor (tests/support/golden.ts's measure). */
function relError(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < e.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - e[i]));
    scale = Math.max(scale, Math.abs(e[i]));
  }
  return a.length === e.length ? diff / scale : Number.POSITIVE_INFINITY;
}

async function compare(family: string, dir: string) {
  const golden = loadSafetensors(join(dir, 'golden.safetensors'));
  const model = LOADERS[family](dir).eval();
  try {
    const g = golden;
    const { logits, loss } =
      model instanceof BertForMaskedLM
        ? model.forward(g.input_ids, { attentionMask: g.attention_mask, tokenTypeIds: g.token_type_ids, labels: g.labels })
        : model.forward(g.input_ids, { labels: g.labels ?? g.input_ids });
    loss!.backward();
    const params = model.stateDict();
    const grads: Record<string, number> = {};
    const absent: string[] = [];
    for (const key of Object.keys(g).filter((k) => k.startsWith('grad.'))) {
      const p = params[key.slice(5)];
      if (!p?.grad) {
        absent.push(key.slice(5));
        continue;
      }
      grads[key.slice(5)] = relError(await p.grad.toArray(), await g[key].toArray());
    }
    const r = {
      logits: relError(await logits.toArray(), await g.logits.toArray()),
      loss: relError(await loss!.toArray(), await g.loss.toArray()),
      grads,
      absent,
    };
    logits.dispose();
    loss!.dispose();
    return r;
  } finally {
    model.dispose();
    for (const t of Object.values(golden) as Tensor[]) t.dispose();
  }
}

const results: Record<string, unknown> = {};
for (const pair of pairs) {
  const [family, dir] = pair.split('=');
  try {
    if (!LOADERS[family]) throw new Error(`unknown family '${family}' (gpt2, bert, llama)`);
    results[family] = await compare(family, dir);
  } catch (e) {
    // One family's failure (a config field we do not read, a missing tensor…) is its own result.
    results[family] = { error: (e as Error).message.split('\n')[0] };
  }
}
console.log(JSON.stringify({ backend, results }));
process.exit(0);
