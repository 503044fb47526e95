import type { Tensor } from '@siftjs/tensor';
import { SIFTError } from './errors.js';
import { matchesAny } from './targets.js';

/** A parameter group as PyTorch's `param_groups`, its members named by patterns (as `targets` are). */
export interface GroupOptions {
  params: string[];
  lr?: number;
  weightDecay?: number;
}

/** A group as SIFT keeps it: its hyper-parameters (an LRScheduler sets `lr`) and the names of its members. */
export interface ParamGroup {
  lr: number;
  weightDecay: number;
  names: string[];
}

/**
 * SIFT's parameter groups. A user group takes every trainable parameter one of its patterns matches (the first
 * matching group wins; a pattern matching none is an error). The others fall into the defaults, which reproduce the
 * paper's setup as the authors' code runs it:
 * - sparse increments: no decay. In the authors' code the parameter AdamW steps is the step's increment, added into
 *   the weight and zeroed in the next backward — zero whenever AdamW decays it — so decay never acts on the chosen
 *   components. (Given a decay, a group of sparse tensors decays δ, pulling them back toward the pre-trained
 *   values; the pre-trained base is never decayed.)
 * - dense parameters with two or more dimensions (a classifier's weight): `weightDecay`;
 * - biases and norm weights (one dimension): none, as Hugging Face's Trainer.
 * Empty groups are left out; the order is the user's groups, then sparse, decayed dense, undecayed dense.
 */
export function buildGroups(
  sparse: readonly string[],
  dense: readonly { name: string; param: Tensor }[],
  o: { lr: number; weightDecay: number; groups?: readonly GroupOptions[] },
): { groups: ParamGroup[]; groupOf: Map<string, number> } {
  const user = (o.groups ?? []).map((g) => ({ lr: g.lr ?? o.lr, weightDecay: g.weightDecay ?? 0, names: [] as string[], patterns: g.params }));
  const defaults = {
    sparse: { lr: o.lr, weightDecay: 0, names: [] as string[] },
    decay: { lr: o.lr, weightDecay: o.weightDecay, names: [] as string[] },
    noDecay: { lr: o.lr, weightDecay: 0, names: [] as string[] },
  };
  const place = (name: string, fallback: ParamGroup) => (user.find((g) => matchesAny(name, g.patterns)) ?? fallback).names.push(name);
  for (const name of sparse) place(name, defaults.sparse);
  for (const d of dense) place(d.name, d.param.rank >= 2 ? defaults.decay : defaults.noDecay);
  for (const g of user) {
    for (const pattern of g.patterns) {
      if (!g.names.some((n) => matchesAny(n, [pattern]))) throw new SIFTError(`SIFT: the parameter group pattern '${pattern}' matches no trained parameter`);
    }
  }
  const groups = [...user.map(({ patterns: _, ...g }) => g), defaults.sparse, defaults.decay, defaults.noDecay].filter((g) => g.names.length > 0);
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => g.names.forEach((n) => groupOf.set(n, i)));
  return { groups, groupOf };
}
