import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { ConfigError, encodeBatch, Gpt2Tokenizer, HfTokenizer } from '@siftjs/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { read } from '../support/read.js';

const gpt2 = new Gpt2Tokenizer();
const dir = mkdtempSync(join(tmpdir(), 'sift-tok-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small BERT-style tokenizer.json (WordPiece), written the way Hugging Face's tokenizers library saves one. */
function writeWordPiece(): string {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tj = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, hello: 4, world: 5, spam: 6, '##s': 7, free: 8 },
    },
  };
  const d = join(dir, 'wordpiece');
  require('node:fs').mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(tj));
  writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify({ pad_token: '[PAD]', cls_token: '[CLS]', sep_token: '[SEP]' }));
  return d;
}

describe('tokenizers', () => {
  it("GPT-2's BPE gives GPT-2's token ids", () => {
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2.encode(' Hello')).toEqual([18435]);
    expect(gpt2.decode([15496, 995])).toBe('Hello world');
    expect(gpt2.encode('<|endoftext|>')).not.toContain(50256); // special tokens in text are plain text
  });

  test.prop([fc.string({ maxLength: 60 })])('GPT-2 BPE decodes what it encodes', (s) => {
    expect(gpt2.decode(gpt2.encode(s))).toBe(s);
  });

  it('reads a tokenizer.json and its tokenizer_config.json (WordPiece, special tokens, padding id)', () => {
    const tok = HfTokenizer.fromDir(writeWordPiece());
    expect(tok.encode('Hello SPAMs world foo')).toEqual([2, 4, 6, 7, 5, 1, 3]);
    expect(tok.padId).toBe(0);
    expect(tok.decode([2, 4, 6, 7, 5, 3])).toBe('hello spams world');
    expect(() => HfTokenizer.fromDir(join(dir, 'nothing-here'))).toThrow(ConfigError);
  });
});

describe.each(backendsUnderTest())('batches on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([
    fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 5 }),
    fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    fc.constantFrom('right', 'left') as fc.Arbitrary<'right' | 'left'>,
    fc.boolean(),
  ])('encodeBatch pads and truncates into [B, T] with a mask that marks exactly the real tokens', async (texts, maxLength, side, toMax) => {
    const padding = toMax && maxLength !== undefined ? 'max_length' : 'longest';
    const { shape, lengths, ids, mask } = await read(() => {
      const b = encodeBatch(gpt2, texts, { maxLength, padding, paddingSide: side, truncationSide: side });
      return { shape: [...b.inputIds.shape], lengths: b.lengths, ids: b.inputIds, mask: b.attentionMask };
    });
    const full = texts.map((t) => gpt2.encode(t));
    const kept = full.map((ids) => (maxLength === undefined || ids.length <= maxLength ? ids : side === 'right' ? ids.slice(0, maxLength) : ids.slice(-maxLength)));
    const width = padding === 'max_length' ? maxLength! : Math.max(0, ...kept.map((k) => k.length));
    expect(shape).toEqual([texts.length, width]);
    expect(lengths).toEqual(kept.map((k) => k.length));
    kept.forEach((k, i) => {
      const row = ids.slice(i * width, (i + 1) * width);
      const m = mask.slice(i * width, (i + 1) * width);
      const start = side === 'left' ? width - k.length : 0;
      expect(row.slice(start, start + k.length)).toEqual(k);
      expect(m.reduce((a, v) => a + v, 0)).toBe(k.length);
      m.forEach((v, j) => expect(v).toBe(j >= start && j < start + k.length ? 1 : 0));
      row.forEach((v, j) => (m[j] ? null : expect(v).toBe(gpt2.padId)));
    });
  });
});
