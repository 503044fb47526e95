import { loadMobyDick, loadSotu } from './corpora.js';
import type { InstructionDataset, InstructionExample } from './instruction.js';

/** The bundled instruction set's name, usable as --data. */
export const INSTRUCTION_SET = 'sift-instruct';

/** A text's first sentence (as written) and the text after it. */
function splitFirst(text: string): [string, string] {
  const t = text.trim();
  const first = /^.*?[.!?](?=\s|$)/s.exec(t)?.[0] ?? t;
  return [first, t.slice(first.length).trim()];
}

/** The first sentence of a text on one line, cut at `maxWords` words (with an ellipsis when cut). */
function firstSentence(text: string, maxWords = 24): string {
  const words = splitFirst(text)[0].split(/\s+/);
  return words.length <= maxWords ? words.join(' ') : `${words.slice(0, maxWords).join(' ')} …`;
}

const ask = (prompt: string, response: string): InstructionExample => ({
  messages: [
    { role: 'user', content: prompt },
    { role: 'assistant', content: response },
  ],
});

/**
 * A small instruction set derived from the bundled corpora, so instruction tuning runs offline: questions whose
 * answers the corpora hold. From the State of the Union addresses (1790–2016): who gave the address of a year,
 * which party that president belonged to, how the address begins; from Moby-Dick: each chapter's title and the
 * sentence that follows its first. Deterministic: the same examples in the same order on every machine.
 */
export function loadInstructionSet(): InstructionDataset {
  const examples: InstructionExample[] = [];
  const parties = new Map<string, string>();
  for (const a of loadSotu()) {
    examples.push(ask(`Who gave the State of the Union address of ${a.year}?`, `${a.president} gave the address of ${a.year}.`));
    examples.push(ask(`How does the State of the Union address of ${a.year} begin?`, firstSentence(a.text)));
    if (!parties.has(a.president)) parties.set(a.president, a.party);
  }
  for (const [president, party] of parties) {
    examples.push(ask(`Which party did ${president} belong to?`, party === 'none' ? `${president} belonged to no party.` : `${president} belonged to the ${party} party.`));
  }
  for (const s of loadMobyDick()) {
    if (!/^\d+$/.test(s.chapter)) continue;
    const title = s.title.replace(/\.$/, '');
    examples.push(ask(`What is chapter ${s.chapter} of Moby-Dick called?`, `Chapter ${s.chapter} of Moby-Dick is called "${title}".`));
    const rest = splitFirst(s.text)[1];
    if (rest) examples.push(ask(`Continue this passage from Moby-Dick: ${firstSentence(s.text)}`, firstSentence(rest)));
  }
  return { examples, source: INSTRUCTION_SET };
}
