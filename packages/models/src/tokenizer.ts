import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizerImpl } from '@huggingface/tokenizers';
import { tensor, type Tensor } from '@siftjs/tensor';
import * as r50k from 'gpt-tokenizer/encoding/r50k_base';
import { ChatTemplate, type SpecialTokenStrings } from './chat-template.js';
import { ConfigError } from './config.js';

export interface EncodeOptions {
  /** Add what the tokenizer's post-processor adds (Llama's <s> or <|begin_of_text|>); default true. Text rendered by a chat template already holds them. */
  addSpecialTokens?: boolean;
}

/** What the models and the trainer need of a tokenizer. */
export interface TextTokenizer {
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[]): string;
  /** The id used to pad batches. */
  readonly padId: number;
  readonly eosId: number | null;
  /** tokenizer_config.json's chat template, where the tokenizer has one. */
  readonly chatTemplate?: ChatTemplate | null;
}

/** GPT-2's byte-level BPE (r50k_base), offline through gpt-tokenizer. Pads with <|endoftext|> as GPT-2 has no pad. */
export class Gpt2Tokenizer implements TextTokenizer {
  readonly eosId = 50256;
  readonly padId = 50256;
  readonly vocabSize = 50257;

  encode(text: string): number[] {
    // Text that looks like a special token is just text (emails may contain anything).
    return r50k.encode(text, { allowedSpecial: new Set(), disallowedSpecial: new Set() });
  }

  decode(ids: readonly number[]): string {
    return r50k.decode(ids as number[]);
  }
}

/** A Hugging Face tokenizer.json (with tokenizer_config.json when present) through @huggingface/tokenizers. */
export class HfTokenizer implements TextTokenizer {
  private readonly impl: HfTokenizerImpl;
  readonly padId: number;
  readonly eosId: number | null;
  readonly chatTemplate: ChatTemplate | null;

  /** `configFile` names tokenizer_config.json in messages about its chat template. */
  constructor(tokenizerJson: object, config: Record<string, unknown> = {}, readonly addSpecialTokens = true, configFile = 'tokenizer_config.json') {
    this.impl = new HfTokenizerImpl(tokenizerJson, config);
    const specials: SpecialTokenStrings = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
      const tok = config[key];
      const text = typeof tok === 'string' ? tok : (tok as { content?: string } | null | undefined)?.content;
      if (typeof text === 'string') specials[key] = text;
    }
    const id = (key: keyof SpecialTokenStrings) => (specials[key] === undefined ? undefined : this.impl.token_to_id(specials[key]));
    this.eosId = id('eos_token') ?? null;
    this.padId = id('pad_token') ?? this.eosId ?? 0;
    this.chatTemplate = ChatTemplate.fromConfig(config, configFile, specials);
  }

  static fromDir(dir: string): HfTokenizer {
    const file = join(dir, 'tokenizer.json');
    if (!existsSync(file)) throw new ConfigError(file, 'not found');
    const parse = (f: string) => {
      try {
        return JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        throw new ConfigError(f, `invalid JSON (${(e as Error).message})`);
      }
    };
    const cfgFile = join(dir, 'tokenizer_config.json');
    return new HfTokenizer(parse(file), existsSync(cfgFile) ? parse(cfgFile) : {}, true, cfgFile);
  }

  encode(text: string, { addSpecialTokens = this.addSpecialTokens }: EncodeOptions = {}): number[] {
    return this.impl.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** The id of one token of the vocabulary (or an added token), or null. */
  tokenToId(token: string): number | null {
    return this.impl.token_to_id(token) ?? null;
  }

  decode(ids: readonly number[]): string {
    return this.impl.decode([...ids], { skip_special_tokens: true });
  }
}

export interface BatchOptions {
  /** Longest allowed sequence; longer ones are truncated (from the end, or the start with truncationSide 'left'). */
  maxLength?: number;
  /** 'longest' pads to the longest sequence in the batch, 'max_length' to maxLength. */
  padding?: 'longest' | 'max_length';
  paddingSide?: 'right' | 'left';
  truncationSide?: 'right' | 'left';
}

export interface Batch {
  /** int32 [B, T] */
  inputIds: Tensor;
  /** int32 [B, T]: 1 for tokens, 0 for padding. */
  attentionMask: Tensor;
  /** Tokens per row before padding (after truncation). */
  lengths: number[];
}

/** Tokenises, truncates and pads texts into one rectangular batch with its attention mask. */
export function encodeBatch(tok: TextTokenizer, texts: readonly string[], opts: BatchOptions = {}): Batch {
  const { maxLength, padding = 'longest', paddingSide = 'right', truncationSide = 'right' } = opts;
  if (padding === 'max_length' && maxLength === undefined) throw new RangeError("encodeBatch: padding 'max_length' needs maxLength");
  const rows = texts.map((t) => {
    const ids = tok.encode(t);
    if (maxLength === undefined || ids.length <= maxLength) return ids;
    return truncationSide === 'right' ? ids.slice(0, maxLength) : ids.slice(ids.length - maxLength);
  });
  const width = padding === 'max_length' ? (maxLength as number) : Math.max(0, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * width).fill(tok.padId);
  const mask = new Int32Array(rows.length * width);
  rows.forEach((r, i) => {
    const start = i * width + (paddingSide === 'left' ? width - r.length : 0);
    ids.set(r, start);
    mask.fill(1, start, start + r.length);
  });
  return {
    inputIds: tensor(ids, { shape: [rows.length, width] }),
    attentionMask: tensor(mask, { shape: [rows.length, width] }),
    lengths: rows.map((r) => r.length),
  };
}
