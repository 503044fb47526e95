import { type CausalLM, generate } from '@siftjs/models';
import { applyDeltaInput, loadModelInput } from '../inputs.js';
import { checkPromptFits } from '../validate.js';

/** `sift generate`: continues a prompt with a causal LM (greedy, or sampled with a temperature and top-k). */
export async function generateCommand(a: { model: string; prompt: string; maxNewTokens: number; temperature: number; topK?: number; seed: number; delta?: string }): Promise<void> {
  const tm = loadModelInput('--model', a.model, 'causal-lm');
  if (a.delta) await applyDeltaInput(tm.model, a.delta);
  const prompt = tm.tokenizer.encode(a.prompt);
  checkPromptFits(prompt.length, a.maxNewTokens, a.model);
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
