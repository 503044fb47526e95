/**
 * GPT-2's byte-level alphabet: every byte gets a printable, non-space character, so byte strings can be
 * written as plain tokens in tokenizer.json. Printable Latin-1 bytes stand for themselves; the other 68 bytes
 * (controls, space, NBSP, soft hyphen) take U+0100.. in byte order. This is the table Hugging Face's ByteLevel
 * pre-tokenizer and decoder use, so the two must agree exactly.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const chars: string[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0x100;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCharCode(printable(b) ? b : next++);
  return chars;
})();

/**
 * GPT-2's pre-tokenization pattern (contractions, letter runs, digit runs, other symbols, each with at most one
 * leading space; whitespace runs leave their last space to the next word). Same as Hugging Face's ByteLevel
 * pre-tokenizer with use_regex, so merges learnt on these pieces are the ones encoding will meet.
 */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
