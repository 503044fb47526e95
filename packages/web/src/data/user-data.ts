import { readCsvRecords } from './csv-records.js';

/*
 * A user's data file, read for the page: every row kept with where it came from, every defect a row has listed
 * with its line and reason (never dropped without a word), and the examples a column mapping gives. `sift`'s reader
 * (packages/cli/src/data/read.ts) stops at the first defect; a page shows them all, so the user fixes the file once.
 */

export type DataFormat = 'jsonl' | 'csv' | 'tsv';

/** One data row: its values by column, the line it starts on, and its 1-based number among the data rows. */
export interface DataRow {
  row: number;
  line: number;
  values: Record<string, unknown>;
}

export interface RowDefect {
  /** 1-based line of the file where the row starts. */
  line: number;
  /** 1-based data row (a CSV's header is not a row), or null where the defect is no single row's (the header). */
  row: number | null;
  reason: string;
}

export interface ParsedData {
  name: string;
  format: DataFormat;
  /** The columns, in the order they first appear (a CSV's header; the keys of JSONL objects). */
  columns: string[];
  rows: DataRow[];
  /** Rows that could not be read at all (bad JSON, not an object, wrong field count, broken quoting). */
  defects: RowDefect[];
}

/** The format a file name says, or null for one the page does not read. */
export function formatOf(fileName: string): DataFormat | null {
  const ext = /\.([^.]+)$/.exec(fileName.toLowerCase())?.[1];
  return ext === 'jsonl' || ext === 'ndjson' ? 'jsonl' : ext === 'csv' ? 'csv' : ext === 'tsv' ? 'tsv' : null;
}

export function parseUserData(name: string, text: string, format: DataFormat): ParsedData {
  return format === 'jsonl' ? fromJsonl(name, text) : fromCsv(name, text, format);
}

function fromJsonl(name: string, text: string): ParsedData {
  const rows: DataRow[] = [];
  const defects: RowDefect[] = [];
  const columns = new Set<string>();
  const lines = text.split(/\r\n|\n|\r/);
  let row = 0;
  for (let i = 0; i < lines.length; i++) {
    const source = (i === 0 ? lines[i].replace(/^\ufeff/, '') : lines[i]).trim();
    if (source === '') continue;
    row++;
    const at = { line: i + 1, row };
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (e) {
      defects.push({ ...at, reason: `not valid JSON (${(e as Error).message})` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      defects.push({ ...at, reason: `not a JSON object (it is ${kind(value)})` });
      continue;
    }
    for (const k of Object.keys(value)) columns.add(k);
    rows.push({ ...at, values: value as Record<string, unknown> });
  }
  if (row === 0) defects.push({ line: 1, row: null, reason: 'the file is empty (no JSON lines)' });
  return { name, format: 'jsonl', columns: [...columns], rows, defects };
}

function fromCsv(name: string, text: string, format: 'csv' | 'tsv'): ParsedData {
  const { records, defects: syntax } = readCsvRecords(text, format === 'tsv' ? '\t' : ',');
  const header = records[0];
  if (syntax.length && (!header || syntax[0].line < header.line)) {
    // Without a header no row has columns: the header's defect is the one to fix.
    return { name, format, columns: [], rows: [], defects: [{ line: syntax[0].line, row: null, reason: `the header row: ${syntax[0].reason}` }] };
  }
  if (!header) return { name, format, columns: [], rows: [], defects: [{ line: 1, row: null, reason: 'the file is empty (no header row)' }] };
  const columns = header.fields;
  const defects: RowDefect[] = [];
  const duplicate = columns.find((c, i) => columns.indexOf(c) !== i);
  if (duplicate !== undefined) defects.push({ line: header.line, row: null, reason: `the header names the column '${duplicate}' twice` });
  // Rows are numbered in the order they appear, those with broken quoting included.
  const items = [...syntax.map((d) => ({ line: d.line, defect: d.reason, fields: null })), ...records.slice(1).map((r) => ({ line: r.line, defect: null, fields: r.fields }))];
  items.sort((a, b) => a.line - b.line);
  const rows: DataRow[] = [];
  items.forEach((item, i) => {
    const at = { line: item.line, row: i + 1 };
    if (item.fields === null) defects.push({ ...at, reason: item.defect as string });
    else if (item.fields.length !== columns.length) defects.push({ ...at, reason: `${item.fields.length} field${item.fields.length === 1 ? '' : 's'}, but the header has ${columns.length}` });
    else rows.push({ ...at, values: Object.fromEntries(columns.map((c, j) => [c, (item.fields as string[])[j]])) });
  });
  return { name, format, columns, rows, defects };
}

export type Label = string | number | boolean;

/** A row that maps to a training example. */
export interface MappedExample {
  row: number;
  line: number;
  text: string;
  label: Label;
}

export interface Mapping {
  text: string;
  label: string;
}

/**
 * The examples `mapping` gives, and the defects of the rows that give none: a missing field, text that is not a
 * string or is empty, a label of a type that is no class (an object, an array, null, a non-finite number) or an
 * empty one. The read defects come first, all in line order.
 */
export function mapColumns(data: ParsedData, mapping: Mapping): { examples: MappedExample[]; defects: RowDefect[] } {
  const examples: MappedExample[] = [];
  const defects: RowDefect[] = [...data.defects];
  for (const r of data.rows) {
    const at = { line: r.line, row: r.row };
    const reason = textDefect(r.values, mapping.text) ?? labelDefect(r.values, mapping.label);
    if (reason) defects.push({ ...at, reason });
    else examples.push({ ...at, text: r.values[mapping.text] as string, label: r.values[mapping.label] as Label });
  }
  defects.sort((a, b) => a.line - b.line);
  return { examples, defects };
}

function textDefect(values: Record<string, unknown>, column: string): string | null {
  if (!Object.hasOwn(values, column)) return `no field '${column}' (the text)`;
  const t = values[column];
  if (typeof t !== 'string') return `the text '${column}' is ${kind(t)}, not a string`;
  if (t.trim() === '') return `the text '${column}' is empty`;
  return null;
}

function labelDefect(values: Record<string, unknown>, column: string): string | null {
  if (!Object.hasOwn(values, column)) return `no field '${column}' (the label)`;
  const v = values[column];
  if (typeof v === 'string') return v.trim() === '' ? `the label '${column}' is empty` : null;
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return null;
  return `the label '${column}' is ${kind(v)}: a label is a string, a number or true/false`;
}

/** The classes of `examples` with their counts, named as `sift` names them (the label's text). */
export function classCounts(examples: readonly MappedExample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of examples) counts.set(String(e.label), (counts.get(String(e.label)) ?? 0) + 1);
  return counts;
}

/** The examples as the JSONL `sift finetune --data` reads ({"text", "label"} per line, in file order). */
export function toJsonl(examples: readonly MappedExample[]): string {
  return examples.map((e) => `${JSON.stringify({ text: e.text, label: e.label })}\n`).join('');
}

/** The column a mapping starts from: `preferred` when there is one, else the first column whose values are text. */
export function guessColumn(data: ParsedData, preferred: string[], exclude?: string): string | null {
  const named = preferred.find((p) => data.columns.includes(p) && p !== exclude);
  if (named) return named;
  const first = data.rows[0]?.values ?? {};
  return data.columns.find((c) => c !== exclude && typeof first[c] === 'string') ?? data.columns.find((c) => c !== exclude) ?? null;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
