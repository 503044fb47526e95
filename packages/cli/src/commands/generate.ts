import { type CausalLM, generate } from '@siftjs/models';
import { loadTaskModel } from '../model-dir.js';
import { assertFiniteWeights } from '../train/finite.js';
import { applyDeltaFile } from './delta-input.js';

/** `sift generate`: continues a prompt with a causal LM (greedy, or sampled with a temperature and top-k). */
export async function generateCommand(a: { model: string; prompt: string; maxNewTokens: number; temperature: number; topK?: number; seed: number; delta?: string }): Promise<void> {
  const tm = loadTaskModel(a.model, 'causal-lm');
  try {
    if (a.delta) await applyDeltaFile(tm.model, a.delta, a.model);
    // NaN weights sample garbage: refuse them, naming the weight.
    await assertFiniteWeights(tm.model, a.delta ? `${a.model} with ${a.delta}` : a.model);
  } catch (e) {
    tm.model.dispose();
    throw e;
  }
  const prompt = tm.tokenizer.encode(a.prompt);
  const ids = await generate(tm.model as unknown as CausalLM<{ dispose(): void }>, prompt, {
    maxNewTokens: a.maxNewTokens,
    temperature: a.temperature,
    topK: a.topK,
    seed: a.seed,
    eosId: tm.tokenizer.eosId ?? undefined,
  });
  process.stdout.write(`${tm.tokenizer.decode(ids)}\n`);
  tm.model.dispose();
}
