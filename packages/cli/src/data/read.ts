import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parseCsv, CsvSyntaxError } from './csv.js';
import { labelExamples, type Dataset, type RawExample, type RawLabel } from './dataset.js';
import { DataError } from './errors.js';

export interface ReadDatasetOptions {
  /** Field (JSONL) or column (CSV) holding the text. Default 'text'. */
  textField?: string;
  /** Field or column holding the label; null reads unlabelled text (causal-LM data). Default 'label'. */
  labelField?: string | null;
}

/** Reads a labelled text dataset from .jsonl/.ndjson (one JSON object per line), .csv or .tsv (with a header row). */
export function readDataset(path: string, opts: ReadDatasetOptions = {}): Dataset {
  const { textField = 'text', labelField = 'label' } = opts;
  const ext = extname(path).toLowerCase();
  const format = ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : ext === '.csv' ? 'csv' : ext === '.tsv' ? 'tsv' : null;
  if (format === null) throw new DataError(path, `unknown extension '${ext}' (expected .jsonl, .ndjson, .csv or .tsv)`);
  return parseDataset(path, readText(path), format, opts);
}

export type DataFormat = 'jsonl' | 'csv' | 'tsv';

/** `readDataset` of text already read (a browser's fetch or picked file); `source` names it in errors. */
export function parseDataset(source: string, text: string, format: DataFormat, opts: ReadDatasetOptions = {}): Dataset {
  const { textField = 'text', labelField = 'label' } = opts;
  const raw = format === 'jsonl' ? fromJsonl(source, text, textField, labelField) : fromCsv(source, text, format === 'tsv' ? '\t' : ',', textField, labelField);
  return labelExamples(raw, source);
}

/**
 * The most a data file may hold: the text is read whole into one string, and V8's strings stop at 2^29 − 24
 * UTF-16 units (about 512 MiB of ASCII).
 */
export const MAX_DATA_BYTES = 512 * 2 ** 20;

function readText(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) throw new DataError(path, 'is a directory, not a data file');
  // A FIFO, a device or a socket (/dev/stdin, /dev/zero) may block forever or never end.
  if (!st.isFile()) throw new DataError(path, `is not a regular file (${st.isFIFO() ? 'a FIFO or pipe' : st.isSocket() ? 'a socket' : 'a device'}); give a data file`);
  if (st.size > MAX_DATA_BYTES) throw new DataError(path, `is ${(st.size / 2 ** 30).toFixed(1)} GiB; sift reads data files of up to ${MAX_DATA_BYTES / 2 ** 20} MiB whole into memory`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function fromJsonl(path: string, text: string, textField: string, labelField: string | null): RawExample[] {
  const out: RawExample[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || (i === 0 && line === '\ufeff')) continue;
    const at = `line ${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(i === 0 ? line.replace(/^\ufeff/, '') : line);
    } catch (e) {
      throw new DataError(path, `malformed JSON at ${at} (${(e as Error).message})`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new DataError(path, `${at} is not a JSON object (got ${Array.isArray(row) ? 'an array' : row === null ? 'null' : typeof row})`);
    }
    const rec = row as Record<string, unknown>;
    const field = (name: string): unknown => {
      if (!Object.hasOwn(rec, name)) throw new DataError(path, `${at} has no field '${name}' (fields: ${Object.keys(rec).join(', ') || 'none'})`);
      return rec[name];
    };
    const t = field(textField);
    if (typeof t !== 'string') throw new DataError(path, `${at}: field '${textField}' must be a string, got ${describe(t)}`);
    const ex: RawExample = { text: t };
    if (labelField !== null) ex.label = checkLabel(path, at, labelField, field(labelField));
    out.push(ex);
  }
  return out;
}

function fromCsv(path: string, text: string, delimiter: string, textField: string, labelField: string | null): RawExample[] {
  let records;
  try {
    records = parseCsv(text, delimiter);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new DataError(path, `malformed ${delimiter === '\t' ? 'TSV' : 'CSV'} at ${e.message}`);
    throw e;
  }
  if (records.length === 0) throw new DataError(path, 'the dataset is empty (no header row)');
  const header = records[0].fields;
  const column = (name: string): number => {
    const c = header.indexOf(name);
    if (c < 0) throw new DataError(path, `no column '${name}' (columns: ${header.join(', ')})`);
    return c;
  };
  const tc = column(textField);
  const lc = labelField === null ? -1 : column(labelField);
  const out: RawExample[] = [];
  for (const r of records.slice(1)) {
    const at = `line ${r.line}`;
    if (r.fields.length !== header.length) {
      throw new DataError(path, `${at} has ${r.fields.length} fields but the header has ${header.length}`);
    }
    const ex: RawExample = { text: r.fields[tc] };
    if (labelField !== null) ex.label = checkLabel(path, at, labelField, r.fields[lc]);
    out.push(ex);
  }
  return out;
}

function checkLabel(path: string, at: string, name: string, v: unknown): RawLabel {
  if (typeof v === 'string' ? v.trim() === '' : !(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
    throw new DataError(path, `${at}: label '${name}' must be a non-empty string or a number, got ${describe(v)}`);
  }
  return v as RawLabel;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
