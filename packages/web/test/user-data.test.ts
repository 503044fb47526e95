import { fc, test } from '@fast-check/vitest';
import { parseDataset } from '@siftjs/cli';
import { describe, expect, it } from 'vitest';
import { readCsvRecords } from '../src/data/csv-records.js';
import { classCounts, formatOf, mapColumns, parseUserData, toJsonl } from '../src/data/user-data.js';

/**
 * RFC 4180's writing rules, as the oracle: a field holding the delimiter, a quote, CR or LF is enclosed in quotes
 * with each quote doubled; any other field may be quoted too (`quoteAll`). A record of one empty field is quoted, or
 * it would be a blank line (which readers, `sift`'s included, skip).
 */
function writeCsv(records: string[][], { delimiter = ',', lineBreak = '\r\n', quoteAll = [] as boolean[], finalBreak = true } = {}): string {
  const quote = (f: string) => `"${f.replaceAll('"', '""')}"`;
  const lines = records.map((r, i) =>
    r.map((f) => (quoteAll[i] || f.includes(delimiter) || /["\r\n]/.test(f) || (r.length === 1 && f === '') ? quote(f) : f)).join(delimiter),
  );
  return lines.join(lineBreak) + (finalBreak && lines.length ? lineBreak : '');
}

/** The 1-based line each record starts on, counted from the written text: one more than the line breaks before it. */
function startLines(records: string[][], options: Parameters<typeof writeCsv>[1]): number[] {
  return records.map((_, i) => {
    const before = i === 0 ? '' : writeCsv(records.slice(0, i), { ...options, finalBreak: true });
    return 1 + (before.match(/\r\n|\n|\r/g) ?? []).length;
  });
}

const cell = fc.string({ unit: fc.constantFrom('a', 'é', ',', '\t', '"', '\n', '\r', '\r\n', ' ', '😀'), maxLength: 8 });
const table = fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 });

describe('readCsvRecords (RFC 4180)', () => {
  test.prop([table, fc.constantFrom(',', '\t'), fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.boolean(), { maxLength: 8 }), fc.boolean()])(
    'reads back every record RFC 4180 writes, quotes, delimiters and line breaks inside fields included, each at the line it starts on',
    (records, delimiter, lineBreak, quoteAll, finalBreak) => {
      const options = { delimiter, lineBreak, quoteAll, finalBreak };
      const text = writeCsv(records, options);
      const r = readCsvRecords(text, delimiter);
      expect(r.defects).toEqual([]);
      expect(r.records.map((x) => x.fields)).toEqual(records);
      expect(r.records.map((x) => x.line)).toEqual(startLines(records, options));
    },
  );

  test.prop([table, fc.nat(), fc.constantFrom('\n', '\r\n')])(
    'a bare quote in an unquoted field is reported at the line its record starts on, and every other record is still read',
    (records, pick, lineBreak) => {
      const bad = pick % records.length;
      const quote = (f: string) => `"${f.replaceAll('"', '""')}"`;
      // Every field quoted but the broken one, `x"y`; the rest of its line is skipped, so its other fields stay on it.
      const lines = records.map((r, i) => (i === bad ? ['x"y', ...r.slice(1).map((f) => quote(f.replace(/[\r\n]/g, ' ')))] : r.map(quote)).join(','));
      const starts = lines.map((_, i) => 1 + (lines.slice(0, i).map((l) => l + lineBreak).join('').match(/\r\n|\n|\r/g) ?? []).length);
      const r = readCsvRecords(lines.join(lineBreak) + lineBreak);
      expect(r.defects).toEqual([{ line: starts[bad], reason: expect.stringMatching(/^a " inside an unquoted field/) }]);
      expect(r.records.map((x) => x.fields)).toEqual(records.filter((_, i) => i !== bad));
      expect(r.records.map((x) => x.line)).toEqual(starts.filter((_, i) => i !== bad));
    },
  );

  it("reads RFC 4180's own examples (section 2)", () => {
    expect(readCsvRecords('aaa,bbb,ccc\r\nzzz,yyy,xxx\r\n').records.map((r) => r.fields)).toEqual([
      ['aaa', 'bbb', 'ccc'],
      ['zzz', 'yyy', 'xxx'],
    ]);
    expect(readCsvRecords('"aaa","b\r\nbb","ccc"\r\nzzz,yyy,xxx').records).toEqual([
      { fields: ['aaa', 'b\r\nbb', 'ccc'], line: 1 },
      { fields: ['zzz', 'yyy', 'xxx'], line: 3 },
    ]);
    expect(readCsvRecords('"aaa","b""bb","ccc"').records.map((r) => r.fields)).toEqual([['aaa', 'b"bb', 'ccc']]);
  });

  it('reports text after a closing quote, and a quote never closed, at the line its record starts on', () => {
    const after = readCsvRecords('a,b\n"x"y,1\nc,d\n');
    expect(after.defects).toEqual([{ line: 2, reason: expect.stringMatching(/^"y" after a closing quote/) }]);
    expect(after.records.map((r) => r.fields)).toEqual([['a', 'b'], ['c', 'd']]);
    const open = readCsvRecords('a,b\nc,d\n"never\nclosed,1\ne,f\n');
    expect(open.defects).toEqual([{ line: 3, reason: 'a quoted field opened on line 3 is never closed, so nothing after it can be read (lines 3–6)' }]);
    expect(open.records.map((r) => r.fields)).toEqual([['a', 'b'], ['c', 'd']]);
  });
});

describe('a user’s data file: rows, defects, a column mapping', () => {
  it('names the format from the file name', () => {
    expect(['a.jsonl', 'B.NDJSON', 'c.csv', 'd.tsv', 'e.json', 'f'].map(formatOf)).toEqual(['jsonl', 'jsonl', 'csv', 'tsv', null, null]);
  });

  it('lists every defective JSONL row with its line, row and reason, and keeps the others in order', () => {
    const text = [
      '{"body": "hello", "y": "pos"}',
      '{"body": "broken", "y": }',
      '',
      '[1, 2]',
      '{"body": "", "y": "neg"}',
      '{"y": "neg"}',
      '{"body": "ok", "y": {"a": 1}}',
      '{"body": "ok", "y": null}',
      '{"body": 7, "y": "neg"}',
      '{"body": "no label"}',
      '{"body": "bye", "y": 2}',
      '{"body": "yes", "y": true}',
    ].join('\r\n');
    const data = parseUserData('d.jsonl', text, 'jsonl');
    expect(data.columns).toEqual(['body', 'y']);
    const { examples, defects } = mapColumns(data, { text: 'body', label: 'y' });
    expect(examples.map((e) => [e.row, e.line, e.text, e.label])).toEqual([
      [1, 1, 'hello', 'pos'],
      [10, 11, 'bye', 2],
      [11, 12, 'yes', true],
    ]);
    expect(defects.map((d) => [d.line, d.row, d.reason])).toEqual([
      [2, 2, expect.stringMatching(/^not valid JSON \(/)],
      [4, 3, 'not a JSON object (it is an array)'],
      [5, 4, "the text 'body' is empty"],
      [6, 5, "no field 'body' (the text)"],
      [7, 6, "the label 'y' is an object: a label is a string, a number or true/false"],
      [8, 7, "the label 'y' is null: a label is a string, a number or true/false"],
      [9, 8, "the text 'body' is the number 7, not a string"],
      [10, 9, "no field 'y' (the label)"],
    ]);
  });

  it('lists CSV rows of the wrong field count, with broken quoting, or with an empty text or label', () => {
    const text = 'label,text\npos,"fine, with a comma"\nneg\npos,"multi\nline"\nneg,a"b\n,empty label\nneg,"  "\nneg,"x",extra\nneg,last\n';
    const { examples, defects } = mapColumns(parseUserData('d.csv', text, 'csv'), { text: 'text', label: 'label' });
    expect(examples.map((e) => [e.row, e.line, e.text, e.label])).toEqual([
      [1, 2, 'fine, with a comma', 'pos'],
      [3, 4, 'multi\nline', 'pos'],
      [8, 10, 'last', 'neg'],
    ]);
    expect(defects.map((d) => [d.line, d.row, d.reason])).toEqual([
      [3, 2, '1 field, but the header has 2'],
      [6, 4, expect.stringMatching(/a " inside an unquoted field/)],
      [7, 5, "the label 'label' is empty"],
      [8, 6, "the text 'text' is empty"],
      [9, 7, '3 fields, but the header has 2'],
    ]);
  });

  it('says what is wrong with a file it cannot read rows from at all', () => {
    expect(parseUserData('e.csv', '', 'csv').defects).toEqual([{ line: 1, row: null, reason: 'the file is empty (no header row)' }]);
    expect(parseUserData('e.jsonl', '\n\n', 'jsonl').defects).toEqual([{ line: 1, row: null, reason: 'the file is empty (no JSON lines)' }]);
    expect(parseUserData('h.csv', 'a,"b\nc,d\n', 'csv').defects).toEqual([{ line: 1, row: null, reason: expect.stringMatching(/^the header row: a quoted field opened on line 1 is never closed/) }]);
    expect(parseUserData('h.csv', 'a,a\n1,2\n', 'csv').defects).toEqual([{ line: 1, row: null, reason: "the header names the column 'a' twice" }]);
  });

  test.prop([fc.array(fc.record({ text: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== ''), label: fc.oneof(fc.constantFrom('spam', 'ham', 'x,y', 'q"'), fc.integer({ min: -3, max: 3 }), fc.boolean()) }), { minLength: 1, maxLength: 12 })])(
    "the mapped examples, written as JSONL, are what `sift`'s reader reads from the same rows written as CSV",
    (rows) => {
      const csv = writeCsv([['text', 'label'], ...rows.map((r) => [r.text, String(r.label)])], { lineBreak: '\n' });
      const mine = mapColumns(parseUserData('p.csv', csv, 'csv'), { text: 'text', label: 'label' });
      expect(mine.defects).toEqual([]);
      const viaPage = parseDataset('page.jsonl', toJsonl(mine.examples), 'jsonl');
      const viaSift = parseDataset('p.csv', csv, 'csv');
      expect(viaPage.examples).toEqual(viaSift.examples);
      expect(viaPage.labelNames).toEqual(viaSift.labelNames);
      expect([...classCounts(mine.examples).keys()].sort()).toEqual([...viaSift.labelNames].sort());
    },
  );
});
