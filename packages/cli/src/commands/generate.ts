import { type CausalLM, generate } from '@siftjs/models';
import { renderPrompt } from '../data/instruction-encode.js';
import { applyDeltaInput, loadModelInput } from '../inputs.js';
import { type ModelDtype, storedDtype } from '../model-dtype.js';
import { assertFiniteWeights } from '../train/finite.js';
import { checkPromptFits } from '../validate.js';

/**
 * `sift generate`: continues a prompt with a causal LM (greedy, or sampled with a temperature and top-k). With
 * `chat`, the prompt is a user message put in the model's chat template (or the plain instruction format that
 * `sift finetune --task instruction` trains without one), and only the reply is printed.
 */
export async function generateCommand(a: { model: string; prompt: string; maxNewTokens: number; temperature: number; topK?: number; seed: number; delta?: string; chat?: boolean; dtype?: ModelDtype }): Promise<void> {
  const tm = loadModelInput('--model', a.model, 'causal-lm', undefined, { dtype: storedDtype(a.dtype) });
  try {
    if (a.delta) await applyDeltaInput(tm.model, a.delta);
    // NaN weights sample garbage: refuse them, naming the weight.
    await assertFiniteWeights(tm.model, a.delta ? `${a.model} with ${a.delta}` : a.model);
  } catch (e) {
    tm.model.dispose();
    throw e;
  }
  let prompt: number[];
  if (a.chat) {
    const { text, templated } = renderPrompt(tm.tokenizer, [{ role: 'user', content: a.prompt }]);
    prompt = tm.tokenizer.encode(text, { addSpecialTokens: !templated });
  } else prompt = tm.tokenizer.encode(a.prompt);
  checkPromptFits(prompt.length, a.maxNewTokens, a.model);
  const ids = await generate(tm.model as unknown as CausalLM<{ dispose(): void }>, prompt, {
    maxNewTokens: a.maxNewTokens,
    temperature: a.temperature,
    topK: a.topK,
    seed: a.seed,
    eosId: tm.tokenizer.eosId ?? undefined,
  });
  process.stdout.write(`${tm.tokenizer.decode(a.chat ? ids.slice(prompt.length) : ids)}\n`);
  tm.model.dispose();
}
