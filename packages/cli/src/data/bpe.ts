import { BYTE_TO_CHAR, GPT2_SPLIT } from './byte-level.js';

export interface TrainBpeOptions {
  /** Total vocabulary: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** A pair seen fewer times than this (weighted by word frequency) is never merged. Default 2. */
  minFrequency?: number;
  /** Ends documents; also the BOS token of the config. Default '<|endoftext|>'. */
  eosToken?: string;
  /** Pads batches. Default '<pad>'. */
  padToken?: string;
  /** More special tokens, after eos and pad. */
  extraSpecialTokens?: string[];
}

/** The parts of a Hugging Face tokenizer.json this trainer writes. */
export interface TokenizerJson {
  version: '1.0';
  truncation: null;
  padding: null;
  added_tokens: { id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }[];
  normalizer: null;
  pre_tokenizer: { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  post_processor: { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  decoder: { type: 'ByteLevel'; add_prefix_space: boolean; trim_offsets: boolean; use_regex: boolean };
  model: {
    type: 'BPE';
    dropout: null;
    unk_token: null;
    continuing_subword_prefix: null;
    end_of_word_suffix: null;
    fuse_unk: boolean;
    byte_fallback: boolean;
    ignore_merges: boolean;
    vocab: Record<string, number>;
    merges: string[];
  };
}

/** Pair (a, b) of token ids as one number key (ids stay below 2^21, so the key is an exact integer). */
const PAIR = 2 ** 21;

/**
 * Trains a byte-level BPE (GPT-2 style) and returns its tokenizer.json. Ids: special tokens first, then the 256
 * bytes in byte order, then one token per merge; every text encodes (no unknown token) and decodes back exactly.
 *
 * Speed comes from counting each distinct pre-tokenized word once (weighted by its frequency), keeping pair
 * counts in a map with the words each pair occurs in, and after a merge re-counting only the words that held
 * the pair; the best pair comes from a max-heap whose stale entries are fixed when popped. Ties go to the
 * smaller (left id, right id), so training is deterministic.
 */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions): TokenizerJson {
  const { vocabSize, minFrequency = 2, eosToken = '<|endoftext|>', padToken = '<pad>', extraSpecialTokens = [] } = opts;
  const specials = [eosToken, padToken, ...extraSpecialTokens];
  if (new Set(specials).size !== specials.length) throw new RangeError(`trainBpe: special tokens must be distinct, got ${specials.join(' ')}`);
  if (!Number.isInteger(vocabSize) || vocabSize < specials.length + 256 || vocabSize >= PAIR) {
    throw new RangeError(`trainBpe: vocabSize must be an integer in [${specials.length + 256}, ${PAIR}) (special tokens + 256 bytes + merges), got ${vocabSize}`);
  }
  if (!(minFrequency >= 1)) throw new RangeError(`trainBpe: minFrequency must be ≥ 1, got ${minFrequency}`);

  // Token strings by id, and ids by string (two merges can spell the same token; it keeps its first id).
  const tokens: string[] = [...specials, ...BYTE_TO_CHAR];
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  const byteBase = specials.length;

  // 1. Distinct words with their frequencies, as byte-token id sequences.
  const wordFreq = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(GPT2_SPLIT)) wordFreq.set(m[0], (wordFreq.get(m[0]) ?? 0) + 1);
  }
  const enc = new TextEncoder();
  const words: Int32Array[] = [];
  const lens: number[] = [];
  const freqs: number[] = [];
  for (const [w, f] of wordFreq) {
    const bytes = enc.encode(w);
    if (bytes.length < 2) continue; // nothing to merge
    const s = new Int32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) s[i] = byteBase + bytes[i];
    words.push(s);
    lens.push(s.length);
    freqs.push(f);
  }
  wordFreq.clear();

  // 2. Pair counts and where each pair occurs.
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const add = (key: number, f: number) => {
    const c = (counts.get(key) ?? 0) + f;
    if (c === 0) counts.delete(key);
    else counts.set(key, c);
  };
  for (let w = 0; w < words.length; w++) {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * PAIR + s[i + 1];
      add(key, freqs[w]);
      let ws = where.get(key);
      if (!ws) where.set(key, (ws = new Set()));
      ws.add(w);
    }
  }
  const heap = new MaxHeap();
  for (const [key, c] of counts) heap.push(c, key);

  // 3. Merge the most frequent pair until the vocabulary is full or no pair is frequent enough.
  const merges: string[] = [];
  const seen = new Set<string>();
  const touched = new Set<number>();
  while (tokens.length < vocabSize && heap.size > 0) {
    const [stored, key] = heap.pop();
    const c = counts.get(key) ?? 0;
    if (c !== stored) {
      // Stale: a count that grew was pushed again already; one that shrank is pushed now at its true value.
      if (c > 0 && c < stored) heap.push(c, key);
      continue;
    }
    if (c < minFrequency) break;
    const a = Math.floor(key / PAIR);
    const b = key - a * PAIR;
    const text = tokens[a] + tokens[b];
    let z = idOf.get(text);
    if (z === undefined) {
      z = tokens.length;
      tokens.push(text);
      idOf.set(text, z);
    }
    // A reused id can rebuild a pair that was merged before; its first rank already covers it.
    const merge = `${tokens[a]} ${tokens[b]}`;
    if (!seen.has(merge)) {
      seen.add(merge);
      merges.push(merge);
    }

    touched.clear();
    for (const w of where.get(key) ?? []) {
      const s = words[w];
      const n = lens[w];
      const f = freqs[w];
      // Re-count this word's pairs: subtract the old ones, merge left to right, add the new ones.
      let found = false;
      for (let i = 0; i + 1 < n; i++) if (s[i] === a && s[i + 1] === b) found = true;
      if (!found) continue; // stale entry: an earlier merge took the pair away
      for (let i = 0; i + 1 < n; i++) add(s[i] * PAIR + s[i + 1], -f);
      let m = 0;
      for (let i = 0; i < n; i++) {
        if (i + 1 < n && s[i] === a && s[i + 1] === b) {
          s[m++] = z;
          i++;
        } else s[m++] = s[i];
      }
      lens[w] = m;
      for (let i = 0; i + 1 < m; i++) {
        const k = s[i] * PAIR + s[i + 1];
        add(k, f);
        if (s[i] === z || s[i + 1] === z) {
          touched.add(k);
          let ws = where.get(k);
          if (!ws) where.set(k, (ws = new Set()));
          ws.add(w);
        }
      }
    }
    where.delete(key);
    counts.delete(key);
    // Only pairs with the new token can have grown; the rest only shrank and are fixed lazily.
    for (const k of touched) {
      const ck = counts.get(k);
      if (ck !== undefined) heap.push(ck, k);
    }
  }

  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const byteLevel = { type: 'ByteLevel' as const, add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/**
 * The tokenizer_config.json that goes with a trained tokenizer.json: names eos/bos/pad so HfTokenizer (and
 * transformers' PreTrainedTokenizerFast) find their ids, and turns off the clean-up of spaces before
 * punctuation that would otherwise break decode(encode(text)) === text.
 */
export function tokenizerConfigFor(json: TokenizerJson): Record<string, unknown> {
  const [eos, pad] = json.added_tokens.map((t) => t.content);
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: eos,
    eos_token: eos,
    pad_token: pad,
    unk_token: null,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 1_000_000_000,
  };
}

/** A binary max-heap of (count, pair key); ties pop the smaller key first. */
class MaxHeap {
  private c: number[] = [];
  private k: number[] = [];

  get size(): number {
    return this.c.length;
  }

  private above(i: number, j: number): boolean {
    return this.c[i] > this.c[j] || (this.c[i] === this.c[j] && this.k[i] < this.k[j]);
  }

  private swap(i: number, j: number): void {
    const tc = this.c[i];
    this.c[i] = this.c[j];
    this.c[j] = tc;
    const tk = this.k[i];
    this.k[i] = this.k[j];
    this.k[j] = tk;
  }

  push(count: number, key: number): void {
    this.c.push(count);
    this.k.push(key);
    for (let i = this.c.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [count: number, key: number] {
    const top: [number, number] = [this.c[0], this.k[0]];
    const lastC = this.c.pop() as number;
    const lastK = this.k.pop() as number;
    if (this.c.length > 0) {
      this.c[0] = lastC;
      this.k[0] = lastK;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.c.length && this.above(l, m)) m = l;
        if (r < this.c.length && this.above(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
