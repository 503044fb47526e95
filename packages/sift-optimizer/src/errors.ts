/** A SIFT set-up that cannot be what the user meant: a pattern matching nothing, an impossible option. */
export class SIFTError extends Error {
  override name = 'SIFTError';
}
