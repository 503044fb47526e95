/**
 * A parameter name matches a pattern when the pattern is the whole name or a run of whole dotted components of
 * it: 'query' matches 'bert.encoder.layer.0.attention.self.query.weight', 'attention.output.dense' matches
 * '...attention.output.dense.weight', but 'dense' does not match 'denser'.
 */
export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((t) => name === t || name.startsWith(`${t}.`) || name.includes(`.${t}.`) || name.endsWith(`.${t}`));
}
