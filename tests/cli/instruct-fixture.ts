import { loadInstructionSet, saveTokenizer, tokenizerConfigFor, trainBpe } from '@siftjs/cli';
import { LlamaForCausalLM, llamaConfig } from '@siftjs/models';
import { manualSeed } from '@siftjs/tensor';

/** SmolLM2-Instruct's published chat template (ChatML with a default system message). */
export const SMOLLM2_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}" +
  "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}" +
  "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/**
 * A tiny LLaMA-family chat model as a Hugging Face directory: a byte-level BPE trained on the bundled instruction
 * set with ChatML's special tokens, SmolLM2's chat template in tokenizer_config.json, and random weights
 * (2 layers, hidden 32, grouped-query attention).
 */
export function writeTinyChatLlama(dir: string, { vocabSize = 1024, seed = 0 } = {}): void {
  // The template's own words are in the BPE's training text too, so the system prompt takes few tokens.
  const boilerplate = 'system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face\nuser\nassistant\n';
  const texts = [...loadInstructionSet().examples.flatMap((e) => e.messages.map((m) => m.content)), ...Array(50).fill(boilerplate)];
  const json = trainBpe(texts, { vocabSize, eosToken: '<|im_end|>', padToken: '<|endoftext|>', extraSpecialTokens: ['<|im_start|>'] });
  saveTokenizer(dir, json, { ...tokenizerConfigFor(json), bos_token: null, eos_token: '<|im_end|>', pad_token: '<|endoftext|>', chat_template: SMOLLM2_TEMPLATE });
  manualSeed(seed);
  const cfg = { model_type: 'llama', vocab_size: vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256, tie_word_embeddings: false };
  const lm = new LlamaForCausalLM(llamaConfig(cfg, 'test'));
  lm.savePretrained(dir);
  lm.dispose();
}
