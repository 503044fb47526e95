/**
 * Bad input data: the message is one line naming the file (or corpus) and the defect, so the CLI can print it
 * as-is and exit with code 2.
 */
export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(
    /** The file or corpus at fault. */
    readonly source: string,
    /** What is wrong with it, without the source. */
    readonly defect: string,
  ) {
    // Newlines from embedded messages (JSON.parse, fs) would break the one-line promise.
    super(`${source}: ${defect}`.replace(/\s*\n\s*/g, ' '));
  }
}
