// Section 2 of the page: the bundled sample or the user's JSONL / CSV file (picked or dropped), its column mapping,
// a preview of its first rows, and every row that cannot be used, with its line and reason.
import { $, say } from './dom.js';
import { classCounts, formatOf, guessColumn, type MappedExample, mapColumns, type ParsedData, parseUserData, type RowDefect, toJsonl } from './data/user-data.js';
import { loadBundledData } from './load.js';

/** The data a run trains on: JSONL as `sift finetune --data` reads it, and what the page says about it. */
export interface ReadyData {
  name: string;
  text: string;
  rows: number;
  /** Rows of the user's file left out, by the user's choice (0 for the bundled sample). */
  excluded: number;
}

/** Rows listed on the page; the rest are counted, never dropped without a word. */
const LISTED = 500;
const PREVIEW_ROWS = 5;

let bundled: { name: string; text: string; rows: number } | null = null;
let parsed: ParsedData | null = null;
let mapped: { examples: MappedExample[]; defects: RowDefect[] } | null = null;
/** Why the file picked cannot be read at all (its kind), or null. */
let fileError: string | null = null;

/** Called whenever what the data section offers changes (the page enables Train from it). */
let changed: () => void = () => {};

export function initDataPanel(onChange: () => void): void {
  changed = onChange;
  const source = $<HTMLSelectElement>('data');
  source.addEventListener('change', () => {
    $('data-file-controls').hidden = source.value !== 'file';
    show();
  });
  $<HTMLInputElement>('data-file').addEventListener('change', (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void readFile(file);
  });
  for (const id of ['text-column', 'label-column']) $(id).addEventListener('change', () => remap());
  $<HTMLInputElement>('exclude-defects').addEventListener('change', () => show());
  // A file dropped anywhere on the data section is read as the user's data.
  const zone = $('data-section');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dropping');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dropping'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dropping');
    const file = e.dataTransfer?.files[0];
    if (!file) return;
    source.value = 'file';
    $('data-file-controls').hidden = false;
    void readFile(file);
  });
}

/** Fetches the bundled sample (once). */
export async function loadBundled(): Promise<void> {
  bundled ??= await loadBundledData();
  show();
}

/** The data to train on, or why there is none yet (a sentence for the page). */
export function readyData(): ReadyData | { why: string } {
  if ($<HTMLSelectElement>('data').value !== 'file') return bundled ? { ...bundled, excluded: 0 } : { why: 'the bundled sample is not loaded yet' };
  if (fileError) return { why: fileError };
  if (!parsed || !mapped) return { why: 'pick or drop a JSONL or CSV file' };
  const { examples, defects } = mapped;
  if (defects.length && !$<HTMLInputElement>('exclude-defects').checked) {
    return { why: `${count(defects.length, 'row')} of ${parsed.name} cannot be used (listed under Data): fix the file, or tick “Leave out the rows listed” to train on the other ${examples.length}` };
  }
  const classes = classCounts(examples).size;
  if (classes < 2) return { why: `${parsed.name}: classification needs at least 2 classes in '${labelColumn()}', found ${classes}` };
  return { name: parsed.name, text: toJsonl(examples), rows: examples.length, excluded: defects.length };
}

async function readFile(file: File): Promise<void> {
  const format = formatOf(file.name);
  parsed = null;
  mapped = null;
  $<HTMLInputElement>('exclude-defects').checked = false;
  fileError = format ? null : `${file.name}: not a data file the page reads (.jsonl, .ndjson, .csv or .tsv)`;
  if (!format) {
    show();
    return;
  }
  parsed = parseUserData(file.name, await file.text(), format);
  const columns = parsed.columns;
  const text = guessColumn(parsed, ['text', 'sentence', 'content', 'body', 'review']) ?? '';
  const label = guessColumn(parsed, ['label', 'labels', 'class', 'category', 'target'], text) ?? '';
  for (const [id, chosen] of [['text-column', text], ['label-column', label]] as const) {
    const select = $<HTMLSelectElement>(id);
    select.replaceChildren(...columns.map((c) => new Option(c, c, false, c === chosen)));
    select.disabled = columns.length === 0;
  }
  remap();
}

const labelColumn = () => $<HTMLSelectElement>('label-column').value;

function remap(): void {
  if (!parsed) return;
  mapped = parsed.columns.length ? mapColumns(parsed, { text: $<HTMLSelectElement>('text-column').value, label: labelColumn() }) : { examples: [], defects: parsed.defects };
  show();
}

/** Brings the section's text, preview and defect list up to date with the source chosen. */
function show(): void {
  const fromFile = $<HTMLSelectElement>('data').value === 'file';
  const table = $<HTMLTableElement>('data-preview');
  if (!fromFile) {
    listDefects([]);
    $('exclude-row').hidden = true;
    preview(table, bundled ? bundled.text.split('\n').slice(0, PREVIEW_ROWS).filter(Boolean).map((l, i) => ({ row: i + 1, line: i + 1, ...(JSON.parse(l) as { text: string; label: string }) })) : []);
    say('data-info', bundled ? `${bundled.rows} emails labelled spam or ham; 10% of each class is held out for evaluation.` : '');
  } else if (parsed && mapped) {
    const { examples, defects } = mapped;
    preview(table, examples.slice(0, PREVIEW_ROWS));
    listDefects(defects);
    const exclude = $('exclude-row');
    exclude.hidden = defects.length === 0 || examples.length === 0;
    $('exclude-label').textContent = `Leave out the ${count(defects.length, 'row')} listed and train on the other ${examples.length}`;
    const classes = [...classCounts(examples)].map(([name, n]) => `${name} (${n})`).join(', ');
    const rows = examples.length + defects.filter((d) => d.row !== null).length;
    say('data-info', `${parsed.name}: ${count(rows, 'row')}, ${examples.length} usable${classes ? `; classes ${classes}` : ''}${defects.length ? `; ${count(defects.length, 'defect')} listed below` : ''}. 10% of each class is held out for evaluation.`);
  } else {
    preview(table, []);
    listDefects([]);
    $('exclude-row').hidden = true;
    say('data-info', fileError ?? '');
  }
  changed();
}

function preview(table: HTMLTableElement, rows: readonly { row: number; text: string; label: unknown }[]): void {
  table.hidden = rows.length === 0;
  const cell = (tag: 'td' | 'th', text: string) => Object.assign(document.createElement(tag), { textContent: text });
  const body = rows.map((r) => {
    const tr = document.createElement('tr');
    tr.append(cell('td', String(r.row)), cell('td', r.text.length > 120 ? `${r.text.slice(0, 120)}…` : r.text), cell('td', String(r.label)));
    return tr;
  });
  table.tBodies[0].replaceChildren(...body);
}

function listDefects(defects: readonly RowDefect[]): void {
  const list = $('data-defects');
  const items = defects.slice(0, LISTED).map((d) => {
    const li = document.createElement('li');
    li.textContent = `${d.line ? `Line ${d.line}` : 'The file'}${d.row !== null ? ` (row ${d.row})` : ''}: ${d.reason}`;
    return li;
  });
  if (defects.length > LISTED) items.push(Object.assign(document.createElement('li'), { textContent: `…and ${defects.length - LISTED} more rows with defects, not listed here; each is counted above and none is used unless you leave them out.` }));
  list.replaceChildren(...items);
  list.hidden = defects.length === 0;
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}
