import { DataError } from './errors.js';

/** One text with its class id (absent for unlabelled text, e.g. causal-LM data). */
export interface Example {
  text: string;
  /** Index into Dataset.labelNames. */
  label?: number;
  /** Extra fields a corpus keeps (an email's group and id, an address's year...). */
  meta?: Record<string, string | number>;
}

export interface Dataset {
  examples: Example[];
  /** Class names in class-id order; empty when the data has no labels. */
  labelNames: string[];
  /** Where the data came from (a file path or a corpus name), for messages. */
  source: string;
}

export type RawLabel = string | number | boolean;

/** A text with its label as written in the data, before labels become class ids. */
export interface RawExample {
  text: string;
  label?: RawLabel;
  meta?: Record<string, string | number>;
}

/**
 * Maps raw labels to class ids 0..K-1 in sorted order, so the ids do not depend on the order of the rows.
 * Labels are compared by their text (JSON 1 and CSV "1" are the same class). When every label reads as a
 * finite number they sort numerically ("2" before "10"), otherwise by UTF-16 code units (not locale, which
 * would vary by machine).
 */
export function labelExamples(raw: readonly RawExample[], source: string): Dataset {
  if (raw.length === 0) throw new DataError(source, 'the dataset is empty (no examples)');
  const labelled = raw.filter((r) => r.label !== undefined).length;
  if (labelled !== 0 && labelled !== raw.length) {
    throw new DataError(source, `${raw.length - labelled} of ${raw.length} examples have no label`);
  }
  if (labelled === 0) return { examples: raw.map(({ text, meta }) => (meta ? { text, meta } : { text })), labelNames: [], source };
  const names = [...new Set(raw.map((r) => String(r.label)))];
  const numeric = names.every((s) => s.trim() !== '' && Number.isFinite(Number(s)));
  names.sort(numeric ? (a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const id = new Map(names.map((s, i) => [s, i]));
  const examples = raw.map(({ text, label, meta }) => {
    const e: Example = { text, label: id.get(String(label)) as number };
    if (meta) e.meta = meta;
    return e;
  });
  return { examples, labelNames: names, source };
}

/**
 * Renames (and merges) classes: `mapping` sends old label names to new ones; examples whose label is not in
 * the mapping are dropped. E.g. spam-assassin groups to spam vs hard ham:
 * `relabel(ds, { 'spam-1': 'spam', 'spam-2': 'spam', 'hard-ham-1': 'ham' })`.
 */
export function relabel(ds: Dataset, mapping: Record<string, string>): Dataset {
  for (const old of Object.keys(mapping)) {
    if (!ds.labelNames.includes(old)) throw new DataError(ds.source, `relabel: no class '${old}' (classes: ${ds.labelNames.join(', ')})`);
  }
  const raw: RawExample[] = [];
  for (const e of ds.examples) {
    const old = e.label === undefined ? undefined : ds.labelNames[e.label];
    const name = old !== undefined && Object.hasOwn(mapping, old) ? mapping[old] : undefined;
    if (name !== undefined) raw.push(e.meta ? { text: e.text, label: name, meta: e.meta } : { text: e.text, label: name });
  }
  return labelExamples(raw, ds.source);
}
