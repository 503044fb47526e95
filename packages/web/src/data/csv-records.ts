/**
 * CSV records as RFC 4180 defines them, read so that one bad record does not hide the others: a page lists every
 * defect of a user's file with its line, where `sift`'s reader stops at the first.
 *
 * RFC 4180: fields separated by the delimiter, records by line breaks; a field that holds the delimiter, a quote or
 * a line break is enclosed in double quotes, and a quote inside it is written twice. Accepted beyond the RFC (as
 * `sift` accepts them): LF, CRLF or a lone CR as the line break, a UTF-8 byte-order mark, no final line break,
 * blank lines between records (skipped). Defects, each reported at the line where its record starts:
 * - a quote inside an unquoted field, or text after a closing quote: the rest of that line is skipped and reading
 *   goes on at the next line;
 * - a quoted field never closed: it runs to the end of the file, so nothing after its opening can be read.
 */

export interface CsvRecord {
  fields: string[];
  /** 1-based line on which the record starts. */
  line: number;
}

export interface CsvDefect {
  line: number;
  reason: string;
}

const QUOTE = 34;
const CR = 13;
const LF = 10;

export function readCsvRecords(text: string, delimiter = ','): { records: CsvRecord[]; defects: CsvDefect[] } {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new RangeError(`readCsvRecords: the delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  const delim = delimiter.charCodeAt(0);
  const records: CsvRecord[] = [];
  const defects: CsvDefect[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  /** Past the line break at i (CRLF counts once), counting the line. */
  const breakAt = (at: number) => {
    line++;
    return at + (text.charCodeAt(at) === CR && text.charCodeAt(at + 1) === LF ? 2 : 1);
  };
  /** From i to just past the next line break (or the end): where reading goes on after a defect. */
  const skipLine = (from: number) => {
    let at = from;
    while (at < n && text.charCodeAt(at) !== LF && text.charCodeAt(at) !== CR) at++;
    return at < n ? breakAt(at) : n;
  };

  records: while (i < n) {
    const c0 = text.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      i = breakAt(i);
      continue;
    }
    const start = line;
    const fields: string[] = [];
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        const parts: string[] = [];
        let from = ++i;
        for (;;) {
          if (i >= n) {
            defects.push({ line: start, reason: `a quoted field opened on line ${start} is never closed, so nothing after it can be read (lines ${start}–${line})` });
            break records;
          }
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              parts.push(text.slice(from, i + 1));
              from = i += 2;
              continue;
            }
            parts.push(text.slice(from, i++));
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line++;
          i++;
        }
        const after = i < n ? text.charCodeAt(i) : LF;
        if (after !== delim && after !== LF && after !== CR) {
          defects.push({ line: start, reason: `${JSON.stringify(text[i])} after a closing quote (quote the whole field and write each quote inside it twice)` });
          i = skipLine(i);
          continue records;
        }
        fields.push(parts.join(''));
      } else {
        const from = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === delim || c === LF || c === CR) break;
          if (c === QUOTE) {
            defects.push({ line: start, reason: 'a " inside an unquoted field (quote the field and write the quote twice)' });
            i = skipLine(i);
            continue records;
          }
          i++;
        }
        fields.push(text.slice(from, i));
      }
      if (i >= n) break;
      if (text.charCodeAt(i) === delim) {
        i++;
        continue;
      }
      i = breakAt(i);
      break;
    }
    records.push({ fields, line: start });
  }
  return { records, defects };
}
