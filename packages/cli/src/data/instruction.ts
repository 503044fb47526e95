import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { ChatMessage } from '@siftjs/models';
import { DataError } from './errors.js';

/** One instruction example: a conversation whose last message is the assistant's reply (the response trained on). */
export interface InstructionExample {
  messages: ChatMessage[];
}

export interface InstructionDataset {
  examples: InstructionExample[];
  /** The file path or bundled set name, for messages. */
  source: string;
}

export interface ReadInstructionOptions {
  /** The field holding the prompt (default 'prompt'); ignored for rows with `messages`. */
  promptField?: string;
  /** The field holding the response (default 'response'). */
  responseField?: string;
}

const ROLES = new Set(['system', 'user', 'assistant']);

/**
 * Reads instruction data from JSONL: each line is either `{"prompt": …, "response": …}` (optionally with a
 * `"system"` string), or `{"messages": [{"role": "user", "content": …}, …, {"role": "assistant", "content": …}]}`
 * in the chat format Hugging Face datasets use. The last message must be the assistant's: it is the response
 * whose tokens the loss is computed on.
 */
export function readInstructionData(path: string, opts: ReadInstructionOptions = {}): InstructionDataset {
  const { promptField = 'prompt', responseField = 'response' } = opts;
  const ext = extname(path).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.ndjson') throw new DataError(path, `instruction data must be JSONL (.jsonl or .ndjson) with prompt/response or messages, got '${ext || 'no extension'}'`);
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new DataError(path, 'is a directory, not a data file');
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot be read (${(e as Error).message})`);
  }
  const examples: InstructionExample[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = (i === 0 ? raw.replace(/^\ufeff/, '') : raw).trim();
    if (line === '') return;
    const at = `line ${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new DataError(path, `malformed JSON at ${at} (${(e as Error).message})`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new DataError(path, `${at} is not a JSON object`);
    examples.push({ messages: toMessages(path, at, row as Record<string, unknown>, promptField, responseField) });
  });
  if (examples.length === 0) throw new DataError(path, 'the dataset is empty (no examples)');
  return { examples, source: path };
}

function toMessages(path: string, at: string, rec: Record<string, unknown>, promptField: string, responseField: string): ChatMessage[] {
  if (Object.hasOwn(rec, 'messages')) {
    const ms = rec.messages;
    if (!Array.isArray(ms) || ms.length < 2) throw new DataError(path, `${at}: 'messages' must be a list of at least 2 messages`);
    const out = ms.map((m, j) => {
      const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
      if (typeof role !== 'string' || !ROLES.has(role)) throw new DataError(path, `${at}: messages[${j}].role must be system, user or assistant, got ${JSON.stringify(role)}`);
      if (typeof content !== 'string') throw new DataError(path, `${at}: messages[${j}].content must be a string`);
      return { role, content };
    });
    if (out[out.length - 1].role !== 'assistant') throw new DataError(path, `${at}: the last message must be the assistant's (the response trained on), got '${out[out.length - 1].role}'`);
    return out;
  }
  const field = (name: string): string => {
    if (!Object.hasOwn(rec, name)) throw new DataError(path, `${at} has no field '${name}' and no 'messages' (fields: ${Object.keys(rec).join(', ') || 'none'})`);
    const v = rec[name];
    if (typeof v !== 'string') throw new DataError(path, `${at}: field '${name}' must be a string`);
    return v;
  };
  const system = rec.system;
  if (system !== undefined && typeof system !== 'string') throw new DataError(path, `${at}: field 'system' must be a string`);
  const msgs: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
  msgs.push({ role: 'user', content: field(promptField) }, { role: 'assistant', content: field(responseField) });
  return msgs;
}
