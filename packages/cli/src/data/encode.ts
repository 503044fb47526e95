import type { TextTokenizer } from '@siftjs/models';
import type { EncodedExample } from './batches.js';
import type { Example } from './dataset.js';

export interface EncodeOptions {
  /** Keep only the first maxLength tokens (the end-of-text token, when appended, counts). */
  maxLength?: number;
  /** Append the tokenizer's end-of-text token (causal-LM documents); it is cut off with the rest when truncating. */
  appendEos?: boolean;
}

/**
 * Tokenizes examples once, so epochs re-batch ids instead of re-encoding text. With maxLength, long texts
 * (an email can run to 300k characters) are encoded from a prefix only; see encodePrefix.
 */
export function encodeExamples(tok: TextTokenizer, examples: readonly Example[], opts: EncodeOptions = {}): EncodedExample[] {
  const { maxLength = Infinity, appendEos = false } = opts;
  if (appendEos && tok.eosId === null) throw new RangeError('encodeExamples: appendEos needs a tokenizer with an end-of-text token');
  return examples.map((e) => {
    let ids = encodePrefix(tok, e.text, maxLength);
    if (ids.length < maxLength && appendEos) ids.push(tok.eosId as number);
    if (ids.length > maxLength) ids = ids.slice(0, maxLength);
    const out: EncodedExample = { ids: Int32Array.from(ids) };
    if (e.label !== undefined) out.label = e.label;
    return out;
  });
}

/**
 * The first maxLength tokens of tok.encode(text) (or more), without encoding all of a long text.
 *
 * Why this is exact for GPT-2-style tokenizers: their pre-tokenizer starts a new piece at a single space that
 * sits between two non-space characters, and BPE never merges across pieces; so cutting the text just before
 * such a space leaves every earlier piece, and its tokens, unchanged. We encode a prefix cut there, and accept
 * it once it holds maxLength + 2 tokens (the slack covers a special token a tokenizer might append). Otherwise
 * the prefix doubles, up to the whole text. firstChars sets the first prefix (tests use small ones to stress the cut).
 */
export function encodePrefix(tok: TextTokenizer, text: string, maxLength: number, firstChars = Math.max(64, 8 * maxLength)): number[] {
  for (let chars = Math.max(1, firstChars); chars < text.length; chars *= 2) {
    const cut = safeCut(text, chars);
    if (cut <= 0) break;
    const ids = tok.encode(text.slice(0, cut));
    if (ids.length >= maxLength + 2) return ids;
  }
  return tok.encode(text);
}

/** The last index ≤ at holding a space between two non-space characters, or -1. */
function safeCut(text: string, at: number): number {
  for (let p = Math.min(at, text.length - 2); p > 0; p--) {
    if (text.charCodeAt(p) === 32 && !/\s/.test(text[p - 1]) && !/\s/.test(text[p + 1])) return p;
  }
  return -1;
}
