import { type ChatMessage, ChatTemplateError, type TextTokenizer } from '@siftjs/models';
import type { EncodedExample } from './batches.js';
import type { InstructionExample } from './instruction.js';

/**
 * How a conversation becomes text for a tokenizer without a chat template (GPT-2, the models `sift pretrain`
 * writes): each turn as "### Role:\n" and its content, turns separated by a blank line, the reply opened by
 * "### Assistant:\n" and closed by the end-of-text token.
 */
export const PLAIN_FORMAT = {
  header: (role: string) => `### ${role.charAt(0).toUpperCase()}${role.slice(1)}:\n`,
  separator: '\n\n',
};

/** The prompt as the model reads it before its reply: the earlier turns and the opening of the assistant's turn. */
export function renderPrompt(tok: TextTokenizer, messages: readonly ChatMessage[]): { text: string; templated: boolean } {
  if (tok.chatTemplate) return { text: tok.chatTemplate.render(messages, { addGenerationPrompt: true }), templated: true };
  return { text: messages.map((m) => `${PLAIN_FORMAT.header(m.role)}${m.content}${PLAIN_FORMAT.separator}`).join('') + PLAIN_FORMAT.header('assistant'), templated: false };
}

/**
 * One example's token ids and which of them the loss is computed on: the tokens of the final assistant reply
 * (with the template's end-of-turn, or the end-of-text token without a template), never the prompt's. The prompt
 * and the reply are tokenized separately, so the boundary between them is exact, and generation (which encodes
 * the prompt alone) sees the prompt exactly as training did.
 */
export function encodeInstruction(tok: TextTokenizer, ex: InstructionExample): { ids: number[]; targetMask: number[] } {
  const context = ex.messages.slice(0, -1);
  const reply = ex.messages[ex.messages.length - 1];
  const prompt = renderPrompt(tok, context);
  let replyIds: number[];
  if (prompt.templated) {
    const full = tok.chatTemplate!.render(ex.messages);
    if (!full.startsWith(prompt.text)) {
      throw new ChatTemplateError('tokenizer_config.json', 'the chat template does not render the conversation as its prompt (with the generation prompt) followed by the reply, so the reply tokens cannot be told apart');
    }
    replyIds = tok.encode(full.slice(prompt.text.length), { addSpecialTokens: false });
  } else {
    if (tok.eosId === null) throw new RangeError('instruction tuning without a chat template needs a tokenizer with an end-of-text token');
    replyIds = [...tok.encode(reply.content, { addSpecialTokens: false }), tok.eosId];
  }
  // Text from a template carries its own special tokens; plain text gets the tokenizer's (Llama's <s>).
  const promptIds = tok.encode(prompt.text, { addSpecialTokens: !prompt.templated });
  return { ids: [...promptIds, ...replyIds], targetMask: [...promptIds.map(() => 0), ...replyIds.map(() => 1)] };
}

export interface EncodeInstructionsResult {
  encoded: EncodedExample[];
  /** Examples dropped because their prompt alone fills maxLength (no reply token would be left to train on). */
  dropped: number;
}

/** encodeInstruction over a dataset, each example cut to maxLength tokens (the reply's end goes first). */
export function encodeInstructions(tok: TextTokenizer, examples: readonly InstructionExample[], maxLength: number): EncodeInstructionsResult {
  const encoded: EncodedExample[] = [];
  let dropped = 0;
  for (const ex of examples) {
    const { ids, targetMask } = encodeInstruction(tok, ex);
    const keep = Math.min(ids.length, maxLength);
    if (!targetMask.slice(0, keep).includes(1)) {
      dropped++;
      continue;
    }
    encoded.push({ ids: Int32Array.from(ids.slice(0, keep)), targetMask: Int32Array.from(targetMask.slice(0, keep)) });
  }
  return { encoded, dropped };
}

/**
 * Packing: the examples, in order, concatenated into windows of exactly `length` tokens (the last one shorter), each
 * token keeping its target flag, so no batch holds padding. As in TRL's constant-length packing, an example may
 * continue into the next window and attention is not reset between examples within a window.
 */
export function packExamples(encoded: readonly EncodedExample[], length: number): EncodedExample[] {
  if (!Number.isInteger(length) || length < 2) throw new RangeError(`packExamples: length must be an integer ≥ 2, got ${length}`);
  const total = encoded.reduce((n, e) => n + e.ids.length, 0);
  const ids = new Int32Array(total);
  const mask = new Int32Array(total);
  let at = 0;
  for (const e of encoded) {
    ids.set(Array.from(e.ids), at);
    mask.set(e.targetMask ? Array.from(e.targetMask) : new Array(e.ids.length).fill(1), at);
    at += e.ids.length;
  }
  const out: EncodedExample[] = [];
  for (let s = 0; s < total; s += length) {
    const m = mask.slice(s, s + length);
    // A window whose only targets sit at its first position trains nothing (the first token is never predicted).
    if (m.subarray(1).includes(1)) out.push({ ids: ids.slice(s, s + length), targetMask: m });
  }
  return out;
}
