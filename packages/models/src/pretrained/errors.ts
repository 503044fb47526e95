/**
 * A checkpoint that does not fit the model it is loaded into: names the directory, the model, and every missing,
 * unexpected, wrong-shape and doubly-stored key (the first few of each, with the count). Thrown before any tensor
 * is read, and after the half-built model is freed.
 */
export class CheckpointError extends Error {
  constructor(
    readonly dir: string,
    readonly model: string,
    readonly problems: { missing: string[]; unexpected: string[]; wrongShape: string[]; duplicated: string[] },
  ) {
    const parts = [
      list('missing', problems.missing),
      list('unexpected', problems.unexpected),
      list('wrong shape', problems.wrongShape),
      list('stored twice', problems.duplicated),
    ].filter(Boolean);
    super(`${dir}: does not fit ${model}: ${parts.join('; ')}`);
    this.name = 'CheckpointError';
  }
}

const SHOWN = 12;

function list(what: string, items: string[]): string {
  if (items.length === 0) return '';
  const more = items.length > SHOWN ? `, … ${items.length - SHOWN} more` : '';
  return `${items.length} ${what} (${items.slice(0, SHOWN).join(', ')}${more})`;
}
