/**
 * An RFC 4180 CSV parser. Hand-written because the rules are short and we want the error to carry the line
 * where a record starts (quoted fields may span lines).
 *
 * Accepted beyond the RFC: LF or CRLF (or lone CR) record ends, a UTF-8 byte-order mark, a missing final
 * newline, and blank lines between records (skipped). Rejected: a quote inside an unquoted field, text after
 * a closing quote, an unterminated quoted field.
 */

export interface CsvRecord {
  fields: string[];
  /** 1-based line on which the record starts. */
  line: number;
}

/** A syntax error at a 1-based line; the caller adds the file name. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly defect: string,
  ) {
    super(`line ${line}: ${defect}`);
  }
}

const QUOTE = 34; // "
const CR = 13;
const LF = 10;

export function parseCsv(text: string, delimiter = ','): CsvRecord[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new RangeError(`parseCsv: delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const delim = delimiter.charCodeAt(0);
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  while (i < n) {
    // Blank line between records: skip it (an RFC reader would see one empty field).
    const c0 = text.charCodeAt(i);
    if (c0 === LF || c0 === CR) {
      i += c0 === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        // Quoted field: "" is a literal quote, newlines are part of the value.
        const parts: string[] = [];
        let from = ++i;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(start, 'unterminated quoted field (a " is never closed)');
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              parts.push(text.slice(from, i + 1));
              i += 2;
              from = i;
              continue;
            }
            parts.push(text.slice(from, i));
            i++;
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line++;
          i++;
        }
        value = parts.join('');
        const after = i < n ? text.charCodeAt(i) : LF;
        if (after !== delim && after !== LF && after !== CR) {
          throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(text[i])} after a closing quote (quote the whole field and double inner quotes)`);
        }
      } else {
        const from = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === delim || c === LF || c === CR) break;
          if (c === QUOTE) throw new CsvSyntaxError(line, 'a " inside an unquoted field (quote the field and double the quote)');
          i++;
        }
        value = text.slice(from, i);
      }
      fields.push(value);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === delim) {
        i++;
        continue;
      }
      // End of record.
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      break;
    }
    records.push({ fields, line: start });
  }
  return records;
}
