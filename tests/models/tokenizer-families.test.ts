import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatTemplate, ChatTemplateError, type ChatMessage, HfTokenizer } from '@siftjs/models';
import { afterAll, describe, expect, it } from 'vitest';
import { llama2TokenizerJson, llama3TokenizerJson, mistralTokenizerJson, NEWLINE, qwen2TokenizerJson, SPACE } from './published-tokenizers.js';

const dir = mkdtempSync(join(tmpdir(), 'sift-tok-families-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes tokenizer.json and tokenizer_config.json as a model directory holds them, and loads it. */
function load(name: string, { json, config }: { json: object; config: object }, chatTemplate?: string): { tok: HfTokenizer; id: (token: string) => number } {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(json, null, 2));
  writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify(chatTemplate === undefined ? config : { ...config, chat_template: chatTemplate }, null, 2));
  const tok = HfTokenizer.fromDir(d);
  const vocab = (json as { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] }).model.vocab;
  const specials = Object.fromEntries((json as { added_tokens: { id: number; content: string }[] }).added_tokens.map((t) => [t.content, t.id]));
  const id = (token: string) => {
    const v = vocab[token] ?? specials[token];
    if (v === undefined) throw new Error(`fixture has no token '${token}'`);
    return v;
  };
  return { tok, id };
}

// Every expected token below is derived by hand: the pre-tokenizer's pieces from its published regex, then the
// BPE merges of the fixture applied in rank order inside each piece (see published-tokenizers.ts).
describe('byte-level BPE tokenizers (Llama 3, Qwen2)', () => {
  it('Llama 3: tiktoken pieces (digits in threes, contractions), ignore_merges, <|begin_of_text|> prepended', () => {
    const { tok, id } = load('llama3', llama3TokenizerJson());
    // "Hello" | " world" | "!" | " " | "123" | "4" | "'s" | " hi"  (" hi" is whole in the vocabulary: ignore_merges)
    const want = ['<|begin_of_text|>', 'Hello', `${SPACE}world`, '!', SPACE, '123', '4', "'s", `${SPACE}hi`];
    expect(tok.encode("Hello world! 1234's hi")).toEqual(want.map(id));
    expect(tok.encode("Hello world! 1234's hi", { addSpecialTokens: false })).toEqual(want.slice(1).map(id));
    // "\n\n" is one piece (\s*[\r\n]+); "world" without its space merges only "o r".
    expect(tok.encode('Hello\n\nworld', { addSpecialTokens: false })).toEqual(['Hello', NEWLINE, NEWLINE, 'w', 'or', 'l', 'd'].map(id));
    expect(tok.decode(want.map(id))).toBe("Hello world! 1234's hi");
    expect(tok.eosId).toBe(id('<|eot_id|>'));
  });

  it('Qwen2: NFC first, single digits, no BOS, merges in the [a, b] layout', () => {
    const { tok, id } = load('qwen2', qwen2TokenizerJson());
    // "e" + U+0301 composes to é (bytes C3 A9 → "Ã©"); " hi" is built from merges only, and there are none for it.
    const want = ['Hello', `${SPACE}world`, '!', SPACE, '1', '2', '3', '4', "'s", SPACE, 'h', 'i', SPACE, 'caf\u00c3\u00a9'];
    expect(tok.encode("Hello world! 1234's hi cafe\u0301")).toEqual(want.map(id));
    expect(tok.decode(want.map(id))).toBe("Hello world! 1234's hi caf\u00e9");
    // Special tokens in the text are single tokens.
    expect(tok.encode('<|im_start|>Hello<|im_end|>')).toEqual(['<|im_start|>', 'Hello', '<|im_end|>'].map(id));
    expect(tok.padId).toBe(id('<|endoftext|>'));
    expect(tok.eosId).toBe(id('<|im_end|>'));
  });
});

describe('SentencePiece-style BPE tokenizers (Llama 2, Mistral)', () => {
  it('Llama 2: ▁ prepended and spaces replaced by the normalizer, merges across the whole text, bytes for unknown characters', () => {
    const { tok, id } = load('llama2', llama2TokenizerJson());
    // "▁Hello▁world▁ü": ll, ell, ▁H, ▁Hell, ▁Hello, or, ▁w, ▁wor, ld, ▁world; ü is not in the vocabulary: its UTF-8 bytes.
    const want = ['<s>', '\u2581Hello', '\u2581world', '\u2581', '<0xC3>', '<0xBC>'];
    expect(tok.encode('Hello world \u00fc')).toEqual(want.map(id));
    expect(id('<0xC3>')).toBe(3 + 0xc3);
    expect(tok.decode(want.map(id))).toBe('Hello world \u00fc');
    // The normalizer prepends ▁ to any text, so a leading space becomes two: "▁▁Hello".
    expect(tok.encode(' Hello', { addSpecialTokens: false })).toEqual(['\u2581', '\u2581Hello'].map(id));
  });

  it("Mistral v0.3: Metaspace 'first' prepends ▁ only at the start of the text, not after a control token", () => {
    const { tok, id } = load('mistral', mistralTokenizerJson());
    expect(tok.encode('Hello world \u00fc')).toEqual(['<s>', '\u2581Hello', '\u2581world', '\u2581', '<0xC3>', '<0xBC>'].map(id));
    // "[INST]" is a control token, so "Hello" after it is not at the start of the text: no ▁ (with 'always' it
    // would be "▁Hello"). A piece that starts with a space has its ▁ already: nothing is prepended either way.
    expect(tok.encode('[INST]Hello[/INST]', { addSpecialTokens: false })).toEqual(['[INST]', 'H', 'ell', 'o', '[/INST]'].map(id));
    expect(tok.encode('[INST] Hello[/INST]', { addSpecialTokens: false })).toEqual(['[INST]', '\u2581Hello', '[/INST]'].map(id));
    expect(tok.decode(['<s>', '\u2581Hello', '\u2581world'].map(id))).toBe('Hello world');
  });
});

interface Golden {
  templates: Record<string, { chat_template: string } & Record<string, string>>;
  conversations: Record<string, ChatMessage[]>;
  cases: { template: string; conversation: string; add_generation_prompt: boolean; rendered?: string; refused?: string }[];
}
const golden = JSON.parse(readFileSync(new URL('../golden/chat-templates/rendered.json', import.meta.url), 'utf8')) as Golden;

describe('chat templates (tokenizer_config.json), against Jinja2 set up as transformers does', () => {
  for (const c of golden.cases) {
    const name = `${c.template}, ${c.conversation}${c.add_generation_prompt ? ', with the generation prompt' : ''}`;
    it(c.refused ? `${name}: refused as the template says` : `${name}: renders as Jinja2 does`, () => {
      const { chat_template, ...specials } = golden.templates[c.template];
      const t = new ChatTemplate(chat_template, 'tokenizer_config.json', specials);
      const render = () => t.render(golden.conversations[c.conversation], { addGenerationPrompt: c.add_generation_prompt });
      if (c.refused) expect(render).toThrow(new ChatTemplateError('tokenizer_config.json', `the chat template refused the conversation: ${c.refused}`));
      else expect(render()).toBe(c.rendered);
    });
  }

  it("a tokenizer directory's template renders a conversation whose special tokens encode as single tokens", () => {
    const { tok, id } = load('llama3-chat', llama3TokenizerJson(), golden.templates.llama3.chat_template);
    const text = tok.chatTemplate!.render([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
    expect(text).toBe('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    // The template printed <|begin_of_text|>; encoding without special tokens keeps it once.
    const ids = tok.encode(text, { addSpecialTokens: false });
    expect(ids.slice(0, 3)).toEqual(['<|begin_of_text|>', '<|start_header_id|>', 'u'].map(id));
    expect(ids.filter((x) => x === id('<|begin_of_text|>'))).toHaveLength(1);
    expect(ids.at(-1)).toBe(id(NEWLINE));
  });

  it('a template that does not parse, or a chat_template of the wrong type, names tokenizer_config.json', () => {
    expect(() => new ChatTemplate('{% for m in messages %}{{ m.content }', 'x/tokenizer_config.json')).toThrow(/x\/tokenizer_config\.json: chat_template cannot be parsed/);
    expect(() => ChatTemplate.fromConfig({ chat_template: 42 }, 'x/tokenizer_config.json', {})).toThrow(/must be a string or a list/);
    expect(ChatTemplate.fromConfig({ chat_template: [{ name: 'default', template: '{{ messages[0].content }}' }] }, 'f', {})!.render([{ role: 'user', content: 'ok' }])).toBe('ok');
    expect(ChatTemplate.fromConfig({}, 'f', {})).toBeNull();
  });
});
