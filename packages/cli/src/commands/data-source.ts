import { existsSync } from 'node:fs';
import { loadMobyDick, loadSotu, loadSpamAssassin, passages } from '../data/corpora.js';
import { type Dataset, labelExamples } from '../data/dataset.js';
import { DataError } from '../data/errors.js';
import { type InstructionDataset, readInstructionData, type ReadInstructionOptions } from '../data/instruction.js';
import { INSTRUCTION_SET, loadInstructionSet } from '../data/instruction-set.js';
import { readDataset } from '../data/read.js';

/** Bundled corpora usable as --data: spam-assassin (5 groups), sotu (passages labelled by party), moby-dick (text). */
export const CORPORA = ['spam-assassin', 'sotu', 'moby-dick'] as const;

/** Reads --data: a JSONL/CSV/TSV file, or the name of a bundled corpus when no such file exists. */
export function readData(source: string, opts: { textField: string; labelField: string | null }): Dataset {
  if (!existsSync(source) && (CORPORA as readonly string[]).includes(source)) {
    if (source === 'spam-assassin') return loadSpamAssassin();
    if (source === 'sotu') {
      const raw = loadSotu().flatMap((a) => passages(a.text, 1200).map((text) => ({ text, label: a.party, meta: { year: a.year } })));
      return labelExamples(raw, 'sotu');
    }
    return labelExamples(loadMobyDick().flatMap((s) => passages(s.text, 1200).map((text) => ({ text }))), 'moby-dick');
  }
  const ds = readDataset(source, opts);
  if (ds.examples.length === 0) throw new DataError(source, 'the dataset is empty');
  return ds;
}

/** Reads --data for --task instruction: a JSONL file (prompt/response or messages), or the bundled 'sift-instruct'. */
export function readInstructions(source: string, opts: ReadInstructionOptions): InstructionDataset {
  if (!existsSync(source) && source === INSTRUCTION_SET) return loadInstructionSet();
  return readInstructionData(source, opts);
}
