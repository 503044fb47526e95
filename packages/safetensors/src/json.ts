/**
 * A strict JSON parser (RFC 8259) for the files whose every byte must mean one thing: it keeps each object member
 * in order, duplicates included (JSON.parse keeps the last and says nothing), keeps each number's text (so `4`,
 * `4.0` and `4e0` stay apart and integers past 2^53 stay exact), and rejects a \u escape of a lone surrogate,
 * which names no character. The caller decides what may follow the value.
 */

export type Json =
  | { type: 'object'; members: [key: string, value: Json][] }
  | { type: 'array'; items: Json[] }
  | { type: 'string'; value: string }
  | { type: 'number'; text: string }
  | { type: 'literal'; value: boolean | null };

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    /** Position in the text (UTF-16 code units). */
    readonly at: number,
  ) {
    super(`${reason} at character ${at}`);
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const LITERALS = [['true', true], ['false', false], ['null', null]] as const;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Parses one JSON value starting at `start` (after any whitespace); returns it and where it ends. */
export function parseJson(text: string, start = 0, maxDepth = 64): { value: Json; end: number } {
  let at = start;
  const shown = (i: number) => (i < text.length ? JSON.stringify(text[i]) : 'the end');
  const fail = (reason: string, i = at): never => {
    throw new JsonSyntaxError(reason, i);
  };
  const ws = () => {
    for (let c = text.charCodeAt(at); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(at)) at++;
  };
  const expect = (c: string) => {
    if (text[at] !== c) fail(`expected '${c}', found ${shown(at)}`);
    at++;
  };

  const hex4 = (): number => {
    const h = text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('a \\u escape needs four hex digits');
    at += 4;
    return parseInt(h, 16);
  };

  const string = (): string => {
    expect('"');
    let out = '';
    for (;;) {
      // The run of plain characters up to the next quote, backslash or control character, taken in one slice.
      const from = at;
      for (let c = text.charCodeAt(at); c >= 0x20 && c !== 0x22 && c !== 0x5c; c = text.charCodeAt(at)) at++;
      out += text.slice(from, at);
      const c = text[at];
      if (c === undefined) fail('unterminated string');
      if (c === '"') break;
      if (c !== '\\') fail(`raw control character ${JSON.stringify(c)} in a string (it must be escaped)`);
      const e = text[at + 1];
      at += 2;
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === 'u') {
        const u = hex4();
        if (u >= 0xdc00 && u <= 0xdfff) fail(`\\u${u.toString(16)} is a lone low surrogate`, at - 6);
        if (u >= 0xd800 && u <= 0xdbff) {
          const low = text.startsWith('\\u', at) ? (at += 2, hex4()) : -1;
          if (low < 0xdc00 || low > 0xdfff) fail(`\\u${u.toString(16)} is a lone high surrogate`, at);
          out += String.fromCharCode(u, low);
        } else out += String.fromCharCode(u);
      } else fail(`invalid escape ${JSON.stringify(`\\${e ?? ''}`)}`, at - 2);
    }
    at++;
    return out;
  };

  const value = (depth: number): Json => {
    if (depth > maxDepth) fail(`nested more than ${maxDepth} levels deep`);
    ws();
    const c = text[at];
    if (c === '{') {
      at++;
      const members: [string, Json][] = [];
      ws();
      if (text[at] === '}') {
        at++;
        return { type: 'object', members };
      }
      for (;;) {
        ws();
        if (text[at] !== '"') fail(`expected a string key, found ${shown(at)}`);
        const key = string();
        ws();
        expect(':');
        members.push([key, value(depth + 1)]);
        ws();
        if (text[at] !== ',') break;
        at++;
      }
      expect('}');
      return { type: 'object', members };
    }
    if (c === '[') {
      at++;
      const items: Json[] = [];
      ws();
      if (text[at] === ']') {
        at++;
        return { type: 'array', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[at] !== ',') break;
        at++;
      }
      expect(']');
      return { type: 'array', items };
    }
    if (c === '"') return { type: 'string', value: string() };
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return { type: 'literal', value: v };
      }
    }
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) return fail(`unexpected ${shown(at)}`);
    at += m[0].length;
    return { type: 'number', text: m[0] };
  };

  const v = value(0);
  return { value: v, end: at };
}

/** What a JSON value is, in a message. */
export function kindOf(v: Json): string {
  return v.type === 'literal' ? String(v.value) : v.type === 'object' ? 'an object' : `a${v.type === 'array' ? 'n' : ''} ${v.type}`;
}
