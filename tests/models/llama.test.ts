import { join } from 'node:path';
import { LlamaForCausalLM } from '@siftjs/models';
import { loadSafetensors } from '@siftjs/safetensors';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectMatchesGolden } from '../support/golden.js';

const golden = join(__dirname, '..', 'golden', 'llama-tiny');

describe.each(backendsUnderTest())('LLaMA on $name', (backend) => {
  beforeAll(() => backend.start());

  it('grouped-query attention, RoPE, RMSNorm and SwiGLU match PyTorch (logits, loss, gradients; tests/golden/llama.py)', async () => {
    const ref = loadSafetensors(join(golden, 'golden.safetensors'));
    const model = LlamaForCausalLM.fromPretrained(golden);
    await expectMatchesGolden(model, ref, () => model.forward(ref.input_ids, { labels: ref.input_ids }));
    model.dispose();
    for (const t of Object.values(ref)) t.dispose();
  });
});
