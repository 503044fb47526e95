import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplate, type EncodeOptions, type SpecialTokenStrings, type TextTokenizer } from '@siftjs/models';
import { DataError } from './errors.js';
import { BYTE_TO_CHAR, GPT2_SPLIT } from './byte-level.js';
import type { TokenizerJson } from './bpe.js';

const PAIR = 2 ** 21;

/**
 * A fast encoder for the byte-level BPE tokenizer.json files trainBpe writes, giving the same ids as HfTokenizer
 * (@huggingface/tokenizers) but caching each pre-tokenized piece: emails and speeches repeat their words, and
 * the general library re-runs BPE on most pieces, encoding about 0.5 MB/s here.
 *
 * Same rules as Hugging Face: special tokens are matched in the raw text first; the rest is split by the GPT-2
 * pattern, each piece's UTF-8 bytes become byte tokens, and the lowest-ranked merge applies first (the leftmost
 * occurrence on ties) until none applies.
 */
export class BpeTokenizer implements TextTokenizer {
  readonly padId: number;
  readonly eosId: number | null;
  readonly vocabSize: number;
  readonly chatTemplate: ChatTemplate | null;
  private readonly tokens: string[] = [];
  private readonly merges = new Map<number, { rank: number; id: number }>();
  private readonly byteId = new Int32Array(256);
  private readonly charToByte = new Map<string, number>();
  private readonly specials: { content: string; id: number }[];
  private readonly specialIds = new Set<number>();
  private readonly specialStarts: Set<string>;
  private cache = new Map<string, number[]>();
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** `configFile` names tokenizer_config.json in messages about its chat template. */
  constructor(json: TokenizerJson, config: Record<string, unknown> = {}, configFile = 'tokenizer_config.json') {
    const m = json.model;
    const pre = json.pre_tokenizer;
    if (m?.type !== 'BPE' || pre?.type !== 'ByteLevel' || pre.add_prefix_space || pre.use_regex === false || json.normalizer) {
      throw new RangeError('BpeTokenizer: needs a byte-level BPE tokenizer.json (ByteLevel pre-tokenizer without prefix space, no normalizer), as trainBpe writes');
    }
    const idOf = new Map<string, number>();
    for (const [t, i] of Object.entries(m.vocab)) {
      this.tokens[i] = t;
      idOf.set(t, i);
    }
    this.vocabSize = this.tokens.length;
    BYTE_TO_CHAR.forEach((c, b) => {
      const id = idOf.get(c);
      if (id === undefined) throw new RangeError(`BpeTokenizer: byte token ${JSON.stringify(c)} (byte ${b}) is missing from the vocabulary`);
      this.byteId[b] = id;
      this.charToByte.set(c, b);
    });
    m.merges.forEach((merge, rank) => {
      const [l, r] = typeof merge === 'string' ? merge.split(' ') : (merge as [string, string]);
      const a = idOf.get(l);
      const b = idOf.get(r);
      const id = idOf.get(l + r);
      if (a === undefined || b === undefined || id === undefined) throw new RangeError(`BpeTokenizer: merge ${rank} '${l} ${r}' uses a token not in the vocabulary`);
      const key = a * PAIR + b;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id });
    });
    this.specials = json.added_tokens.map((t) => ({ content: t.content, id: t.id })).sort((x, y) => y.content.length - x.content.length);
    this.specialStarts = new Set(this.specials.map((t) => t.content[0]));
    for (const t of json.added_tokens) if (t.special) this.specialIds.add(t.id);
    const special = (key: string) => {
      const v = config[key];
      const text = typeof v === 'string' ? v : (v as { content?: string } | undefined)?.content;
      return text === undefined ? undefined : json.added_tokens.find((t) => t.content === text)?.id;
    };
    this.eosId = special('eos_token') ?? null;
    this.padId = special('pad_token') ?? this.eosId ?? 0;
    const strings: SpecialTokenStrings = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
      const v = config[key];
      const text = typeof v === 'string' ? v : (v as { content?: string } | null | undefined)?.content;
      if (typeof text === 'string') strings[key] = text;
    }
    this.chatTemplate = ChatTemplate.fromConfig(config, configFile, strings);
  }

  /** Reads dir/tokenizer.json and, when present, dir/tokenizer_config.json (as saveTokenizer writes them). */
  static fromDir(dir: string): BpeTokenizer {
    const read = (f: string) => {
      try {
        return JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        throw new DataError(f, existsSync(f) ? `invalid JSON (${(e as Error).message})` : 'file not found');
      }
    };
    const cfg = join(dir, 'tokenizer_config.json');
    return new BpeTokenizer(read(join(dir, 'tokenizer.json')), existsSync(cfg) ? read(cfg) : {}, cfg);
  }

  /** Byte-level BPE adds no special tokens of its own (no post-processor), so the options change nothing. */
  encode(text: string, _opts?: EncodeOptions): number[] {
    const out: number[] = [];
    // Split around special tokens (longest first at each position), as the Hugging Face tokenizer does.
    let from = 0;
    if (this.specials.length > 0) {
      for (let i = 0; i < text.length; i++) {
        if (!this.specialStarts.has(text[i])) continue;
        const s = this.specials.find((sp) => text.startsWith(sp.content, i));
        if (!s) continue;
        this.encodeOrdinary(text.slice(from, i), out);
        out.push(s.id);
        i += s.content.length - 1;
        from = i + 1;
      }
    }
    this.encodeOrdinary(text.slice(from), out);
    return out;
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (this.specialIds.has(id)) continue; // like HfTokenizer: skip_special_tokens
      const t = this.tokens[id];
      if (t === undefined) throw new RangeError(`BpeTokenizer.decode: id ${id} is not in the vocabulary (size ${this.vocabSize})`);
      for (const c of t) bytes.push(this.charToByte.get(c) ?? 0);
    }
    return this.dec.decode(Uint8Array.from(bytes));
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (text === '') return;
    for (const m of text.matchAll(GPT2_SPLIT)) {
      const piece = m[0];
      let ids = this.cache.get(piece);
      if (ids === undefined) {
        ids = this.bpe(piece);
        if (this.cache.size >= 200_000) this.cache = new Map(); // bound memory on endless unique pieces
        this.cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  private bpe(piece: string): number[] {
    const s = Array.from(this.enc.encode(piece), (b) => this.byteId[b]);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < s.length; i++) {
        const mg = this.merges.get(s[i] * PAIR + s[i + 1]);
        if (mg !== undefined && mg.rank < bestRank) {
          bestRank = mg.rank;
          best = i;
        }
      }
      if (best < 0) return s;
      const { id } = this.merges.get(s[best] * PAIR + s[best + 1])!;
      s.splice(best, 2, id);
    }
  }
}
