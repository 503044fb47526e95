import { fmtShape } from '@siftjs/tensor';
import { type CheckpointLayout, modernName, underHead } from './layout.js';

/** A model's tensors by state-dict name, in state-dict order; tied names share one `tensor`. */
export type OwnTensors = ReadonlyMap<string, { tensor: object; shape: readonly number[] }>;

/** What a load does, decided from names and shapes alone before any data is read. */
export interface LoadPlan {
  /** Each of the model's tensors once (tied names share one read): its name here and its key in the checkpoint. */
  reads: { name: string; key: string }[];
  /** New-head parameters the checkpoint lacks: left as initialised from the seed. */
  initialised: string[];
  /** Checkpoint keys of heads this model does not have (another task's): not read. */
  unused: string[];
  /** Checkpoint keys of known buffers: not read. */
  ignored: string[];
  /** Checkpoint keys read under their modern name (LayerNorm gamma/beta). */
  renamed: string[];
  /** The problems: any of these makes the load fail before anything is read. */
  missing: string[];
  unexpected: string[];
  wrongShape: string[];
  /** Two checkpoint keys for one tensor (a legacy name beside its modern one, a prefixed name beside a bare one). */
  duplicated: string[];
}

export function planFailed(p: LoadPlan): boolean {
  return p.missing.length + p.unexpected.length + p.wrongShape.length + p.duplicated.length > 0;
}

/**
 * Matches a checkpoint to a model as transformers does: legacy names modernised; the base-model prefix added or
 * stripped as the checkpoint needs; known buffers ignored; tied names filled from whichever of them is stored.
 * `strict`: every parameter from the checkpoint and every stored tensor used (known buffers aside). Otherwise a
 * missing new head is initialised and another task's head left unused — both reported — and everything else is
 * still an error. Names are compared through Maps, so 'constructor' or '__proto__' are names like any other.
 */
export function planLoad(own: OwnTensors, stored: ReadonlyMap<string, readonly number[]>, layout: CheckpointLayout, strict: boolean): LoadPlan {
  const plan: LoadPlan = { reads: [], initialised: [], unused: [], ignored: [], renamed: [], missing: [], unexpected: [], wrongShape: [], duplicated: [] };
  const prefix = `${layout.basePrefix}.`;
  const modern = [...stored.keys()].map((key) => [key, modernName(key)] as const);
  const prefixed = layout.basePrefix !== '' && modern.some(([, name]) => name.startsWith(prefix));

  // The model-side name each stored key speaks for.
  const keyOf = new Map<string, string>();
  for (const [key, modernKey] of modern) {
    let name = modernKey;
    if (layout.isBase && prefixed) {
      // A task checkpoint: the base model's part is under the prefix; the rest is the task's head.
      if (!name.startsWith(prefix)) {
        (matchesAny(name, layout.ignoredKeys) ? plan.ignored : underHead(name, layout.taskHeads) ? plan.unused : plan.unexpected).push(key);
        continue;
      }
      name = name.slice(prefix.length);
    } else if (!layout.isBase && !prefixed && !own.has(name) && !underHead(name, layout.taskHeads)) {
      name = prefix + name; // a base checkpoint under a task model (a head, if stored, keeps its name)
    }
    const earlier = keyOf.get(name);
    if (earlier !== undefined) {
      plan.duplicated.push(`'${earlier}' and '${key}' are both ${name}`);
      continue;
    }
    keyOf.set(name, key);
  }

  const used = new Set<string>();
  for (const names of tiedGroups(own)) {
    const present = names.filter((n) => keyOf.has(n));
    if (present.length === 0) {
      const newHead = !strict && names.every((n) => underHead(n, layout.newHeads));
      (newHead ? plan.initialised : plan.missing).push(...names);
      continue;
    }
    const want = own.get(names[0])!.shape;
    for (const name of present) {
      const key = keyOf.get(name)!;
      used.add(name);
      const shape = stored.get(key)!;
      if (shape.join() !== want.join()) plan.wrongShape.push(`${key}: checkpoint ${fmtShape(shape)}, model ${fmtShape(want)}`);
    }
    plan.reads.push({ name: present[0], key: keyOf.get(present[0])! });
  }

  for (const [name, key] of keyOf) {
    if (used.has(name)) continue;
    if (matchesAny(name, layout.ignoredKeys)) plan.ignored.push(key);
    else if (underHead(name, layout.taskHeads)) plan.unused.push(key);
    else plan.unexpected.push(key);
  }
  if (strict) plan.unexpected.push(...plan.unused.splice(0));
  plan.renamed = plan.reads.map((r) => r.key).filter((key) => modernName(key) !== key);
  return plan;
}

/** The model's names grouped by tensor (a tied tensor's names together), in state-dict order. */
function tiedGroups(own: OwnTensors): string[][] {
  const groups = new Map<object, string[]>();
  for (const [name, { tensor }] of own) {
    const g = groups.get(tensor);
    if (g) g.push(name);
    else groups.set(tensor, [name]);
  }
  return [...groups.values()];
}

function matchesAny(name: string, patterns: readonly RegExp[] = []): boolean {
  return patterns.some((p) => p.test(name));
}
