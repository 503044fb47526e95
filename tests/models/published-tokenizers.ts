/**
 * Small tokenizers written in the exact JSON structure Hugging Face publishes for each family (the same
 * normalizer, pre-tokenizer, post-processor, decoder and model fields, with a vocabulary of a few dozen tokens):
 * Llama 3 and Qwen2 (byte-level BPE), Llama 2 (SentencePiece-style BPE through a Prepend/Replace normalizer)
 * and Mistral v0.3 (SentencePiece-style BPE through a Metaspace pre-tokenizer). The merges are few and ranked
 * by hand, so the tests can derive every expected token by hand from them.
 */

const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

/** The byte-level letters GPT-2 publishes for the bytes these fixtures use (printable ASCII is itself). */
export const SPACE = '\u0120'; // Ġ, byte 0x20
export const NEWLINE = '\u010a'; // Ċ, byte 0x0A

function vocabOf(tokens: string[], start = 0): Record<string, number> {
  return Object.fromEntries(tokens.map((t, i) => [t, start + i]));
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzHM'.split('');

/**
 * Byte-level merges shared by the Llama 3 and Qwen2 fixtures, in rank order (the first merges first). Llama 3
 * writes merges as "a b" strings, newer files (Qwen2.5 saved by tokenizers ≥ 0.20) as ["a", "b"] pairs; both
 * layouts are published and both are used here.
 */
const BYTE_MERGES: [string, string][] = [
  ['l', 'l'],
  ['e', 'll'],
  ['H', 'ell'],
  ['Hell', 'o'],
  ['o', 'r'],
  [SPACE, 'w'],
  [`${SPACE}w`, 'or'],
  [`${SPACE}wor`, 'l'],
  [`${SPACE}worl`, 'd'],
  ['1', '2'],
  ['12', '3'],
  ["'", 's'],
];
const merged = BYTE_MERGES.map(([a, b]) => a + b);

/** Llama 3 (meta-llama/Meta-Llama-3-8B-Instruct's layout): tiktoken's split regex, byte-level, ignore_merges, <|begin_of_text|> prepended. */
export function llama3TokenizerJson(): { json: object; config: object } {
  const base = ['!', "'", '1', '2', '3', '4', ...LETTERS, SPACE, NEWLINE];
  // "Ġhi" is in the vocabulary without the merges that would build it: only ignore_merges finds it.
  const vocab = vocabOf([...base, ...merged, `${SPACE}hi`]);
  const n = Object.keys(vocab).length;
  const specials = ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'];
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s, i) => added(n + i, s)),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [n], tokens: ['<|begin_of_text|>'] } },
        },
      ],
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges: BYTE_MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
  const config = {
    bos_token: '<|begin_of_text|>',
    eos_token: '<|eot_id|>',
    clean_up_tokenization_spaces: true,
    model_max_length: 8192,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return { json, config };
}

/** Qwen2 (Qwen/Qwen2-7B-Instruct's layout): NFC, a split regex with single digits, byte-level, no BOS, ChatML specials. */
export function qwen2TokenizerJson(): { json: object; config: object } {
  const accents: [string, string][] = [
    ['c', 'a'],
    ['\u00c3', '\u00a9'], // Ã ©: the UTF-8 bytes C3 A9 of é, as byte-level letters
    ['ca', 'f'],
    ['caf', '\u00c3\u00a9'],
  ];
  const merges = [...BYTE_MERGES, ...accents];
  const base = ['!', "'", '1', '2', '3', '4', ...LETTERS, SPACE, NEWLINE, '\u00c3', '\u00a9'];
  const vocab = vocabOf([...base, ...merges.map(([a, b]) => a + b), `${SPACE}hi`]);
  const n = Object.keys(vocab).length;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((s, i) => added(n + i, s)),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => [a, b]),
    },
  };
  const config = {
    add_prefix_space: false,
    bos_token: null,
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    unk_token: null,
    errors: 'replace',
    model_max_length: 32768,
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
  };
  return { json, config };
}

/** SentencePiece-style merges of the Llama 2 and Mistral fixtures, in rank order. */
const SP_MERGES: [string, string][] = [
  ['l', 'l'],
  ['e', 'll'],
  ['\u2581', 'H'],
  ['\u2581H', 'ell'],
  ['\u2581Hell', 'o'],
  ['o', 'r'],
  ['\u2581', 'w'],
  ['\u2581w', 'or'],
  ['l', 'd'],
  ['\u2581wor', 'ld'],
];
const SP_PIECES = ['\u2581', 'H', 'e', 'l', 'o', 'w', 'r', 'd', ...SP_MERGES.map(([a, b]) => a + b)];
const BYTES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

const spDecoder = {
  type: 'Sequence',
  decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
};

const bosTemplate = (bosId: number) => ({
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [bosId], tokens: ['<s>'] } },
});

const spModel = (vocab: Record<string, number>) => ({
  type: 'BPE',
  dropout: null,
  unk_token: '<unk>',
  continuing_subword_prefix: null,
  end_of_word_suffix: null,
  fuse_unk: true,
  byte_fallback: true,
  ignore_merges: false,
  vocab,
  merges: SP_MERGES.map(([a, b]) => `${a} ${b}`),
});

/** Llama 2 (meta-llama/Llama-2-7b-hf's layout): Prepend("▁") + Replace(" "→"▁") normalizer, no pre-tokenizer, byte fallback. */
export function llama2TokenizerJson(): { json: object; config: object } {
  const vocab = vocabOf(['<unk>', '<s>', '</s>', ...BYTES, ...SP_PIECES]);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { ...added(0, '<unk>') },
      { ...added(1, '<s>') },
      { ...added(2, '</s>') },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '\u2581' },
        { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' },
      ],
    },
    pre_tokenizer: null,
    post_processor: bosTemplate(1),
    decoder: spDecoder,
    model: spModel(vocab),
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    eos_token: { __type: 'AddedToken', content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    unk_token: { __type: 'AddedToken', content: '<unk>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    pad_token: null,
    legacy: false,
    model_max_length: 1000000000000000019884624838656,
    tokenizer_class: 'LlamaTokenizer',
  };
  return { json, config };
}

/** Mistral v0.3 (mistralai/Mistral-7B-Instruct-v0.3's layout): [INST]/[/INST] control tokens, Metaspace with prepend_scheme 'first'. */
export function mistralTokenizerJson(): { json: object; config: object } {
  const vocab = vocabOf(['<unk>', '<s>', '</s>', '[INST]', '[/INST]', ...BYTES, ...SP_PIECES]);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<unk>', '<s>', '</s>', '[INST]', '[/INST]'].map((s, i) => added(i, s)),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    post_processor: bosTemplate(1),
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false },
    model: spModel(vocab),
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    legacy: false,
    model_max_length: 1000000000000000019884624838656,
    tokenizer_class: 'LlamaTokenizer',
  };
  return { json, config };
}
