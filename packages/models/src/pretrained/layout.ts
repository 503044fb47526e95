/**
 * How one model class's parameter names sit in the checkpoints published for its family — what transformers
 * spreads over `base_model_prefix`, `_keys_to_ignore_on_load_unexpected` and its legacy-name fixes.
 */
export interface CheckpointLayout {
  /**
   * The base model's attribute in the family's task models ('transformer', 'bert', 'roberta', 'model'). A base
   * model loads a task checkpoint by stripping it (the task's head goes unused); a task model loads a base
   * checkpoint by adding it.
   */
  basePrefix: string;
  /** The base model itself (GPT2Model, BertModel, LlamaModel): its own names carry no prefix. */
  isBase: boolean;
  /**
   * Heads that fine-tuning creates ('score', 'classifier'): parameters under these names may be missing from the
   * checkpoint, and are then left as the constructor initialised them (from the seed) and named in the notice.
   */
  newHeads?: readonly string[];
  /**
   * The heads of the family's task models ('lm_head', 'score', 'classifier', 'cls', 'qa_outputs'…): a checkpoint
   * saved from another task model holds one beside the base model's part; it goes unused, named in the notice.
   * Any other name outside the base model's part is unexpected.
   */
  taskHeads: readonly string[];
  /**
   * Checkpoint tensors that are not parameters here and carry nothing to load — buffers older saves kept (GPT-2's
   * causal masks, BERT's position_ids, LLaMA's rotary inverse frequencies) or a part this class leaves out (the
   * pooler of a masked-LM model). Matched against the names after the prefix is settled; skipped without a word.
   */
  ignoredKeys?: readonly RegExp[];
}

/** Whether `name` is under one of `heads` (the head itself, or a parameter inside it). */
export function underHead(name: string, heads: readonly string[] = []): boolean {
  return heads.some((h) => name === h || name.startsWith(`${h}.`));
}

/**
 * Names from the TensorFlow-era ports (bert-base-uncased and its kin store LayerNorm's weight as `gamma` and its
 * bias as `beta`), mapped for every family as transformers does.
 */
export function modernName(key: string): string {
  if (key.endsWith('LayerNorm.gamma')) return `${key.slice(0, -'gamma'.length)}weight`;
  if (key.endsWith('LayerNorm.beta')) return `${key.slice(0, -'beta'.length)}bias`;
  return key;
}
