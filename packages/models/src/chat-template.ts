import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { ConfigError } from './config.js';

/** One turn of a conversation, as chat templates and Hugging Face's `apply_chat_template` take it. */
export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's reply (for generation), as transformers' flag of that name. */
  addGenerationPrompt?: boolean;
}

/**
 * A chat template that cannot be parsed, or that refused a conversation (`raise_exception` in the template:
 * roles that do not alternate, an unsupported role). Names tokenizer_config.json and what went wrong.
 */
export class ChatTemplateError extends ConfigError {
  constructor(file: string, defect: string) {
    super(file, defect);
    this.name = 'ChatTemplateError';
  }
}

/** The special tokens a template may print, as strings (tokenizer_config.json stores a string or an AddedToken). */
export type SpecialTokenStrings = Partial<Record<'bos_token' | 'eos_token' | 'unk_token' | 'pad_token', string>>;

/**
 * `tokenizer_config.json`'s `chat_template`, rendered the way transformers renders it: Jinja with trim_blocks and
 * lstrip_blocks, the variables `messages`, `add_generation_prompt` and the special tokens (`bos_token`, …), and the
 * functions `raise_exception` and `strftime_now`. The Jinja engine is @huggingface/jinja, the one transformers.js
 * renders chat templates with; what it cannot parse is reported as a ChatTemplateError naming the file.
 */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly file: string,
    private readonly specials: SpecialTokenStrings = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(file, `chat_template cannot be parsed: ${(e as Error).message}`);
    }
  }

  /**
   * The chat template of a parsed tokenizer_config.json, or null when it has none. A list of named templates (the
   * newer layout) gives its 'default' one.
   */
  static fromConfig(config: Record<string, unknown>, file: string, specials: SpecialTokenStrings): ChatTemplate | null {
    const t = config.chat_template;
    if (t === undefined || t === null) return null;
    if (typeof t === 'string') return new ChatTemplate(t, file, specials);
    if (Array.isArray(t)) {
      const named = t as { name?: unknown; template?: unknown }[];
      const def = named.find((x) => x?.name === 'default');
      if (def && typeof def.template === 'string') return new ChatTemplate(def.template, file, specials);
      throw new ChatTemplateError(file, `chat_template is a list without a 'default' template (names: ${named.map((x) => String(x?.name)).join(', ')})`);
    }
    throw new ChatTemplateError(file, `chat_template must be a string or a list of {name, template}, got ${typeof t}`);
  }

  /** The conversation as the model reads it (a string; encode it without adding special tokens: the template has them). */
  render(messages: readonly ChatMessage[], { addGenerationPrompt = false }: ChatTemplateOptions = {}): string {
    for (const [i, m] of messages.entries()) {
      if (typeof m?.role !== 'string' || typeof m?.content !== 'string') throw new ChatTemplateError(this.file, `message ${i} needs a string 'role' and 'content'`);
    }
    // Our own environment rather than Template.render's, so that `raise_exception` throws a ChatTemplateError we
    // can tell apart from the engine's own errors.
    const env = new Environment();
    const vars: Record<string, unknown> = {
      true: true,
      false: false,
      none: null,
      True: true,
      False: false,
      None: null,
      range: pythonRange,
      strftime_now: strftimeNow,
      raise_exception: (message: unknown) => {
        throw new ChatTemplateError(this.file, `the chat template refused the conversation: ${String(message)}`);
      },
      ...this.specials,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: addGenerationPrompt,
    };
    try {
      for (const [k, v] of Object.entries(vars)) env.set(k, v);
      return new Interpreter(env).run(this.template.parsed).value as string;
    } catch (e) {
      if (e instanceof ChatTemplateError) throw e;
      throw new ChatTemplateError(this.file, `chat_template failed to render: ${(e as Error).message}`);
    }
  }
}

/** Python's range(stop) / range(start, stop[, step]), as a list. */
function pythonRange(...args: number[]): number[] {
  const [start, stop, step] = args.length === 1 ? [0, args[0], 1] : [args[0], args[1], args[2] ?? 1];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** transformers' strftime_now(format): today's date and time; the directives the published templates use. */
function strftimeNow(format: string): string {
  const d = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const codes: Record<string, () => string> = {
    Y: () => String(d.getFullYear()),
    y: () => two(d.getFullYear() % 100),
    m: () => two(d.getMonth() + 1),
    d: () => two(d.getDate()),
    B: () => MONTHS[d.getMonth()],
    b: () => MONTHS[d.getMonth()].slice(0, 3),
    A: () => DAYS[d.getDay()],
    a: () => DAYS[d.getDay()].slice(0, 3),
    H: () => two(d.getHours()),
    I: () => two(d.getHours() % 12 || 12),
    M: () => two(d.getMinutes()),
    S: () => two(d.getSeconds()),
    p: () => (d.getHours() < 12 ? 'AM' : 'PM'),
    '%': () => '%',
  };
  return format.replace(/%(.)/g, (all, c: string) => {
    const f = codes[c];
    if (!f) throw new Error(`strftime_now: directive '%${c}' is not supported`);
    return f();
  });
}
