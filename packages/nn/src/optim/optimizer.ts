import { noGrad, type Tensor } from '@siftjs/tensor';

/** A parameter group: its parameters and its own hyper-parameters (torch's param_groups). */
export type ParamGroup<O> = O & { params: Tensor[] };

export type ParamsInput<O> = Tensor[] | (Partial<O> & { params: Tensor[] })[];

export type OptimizerState = Record<string, Tensor | number>;

/** What `stateDict()` returns: per-parameter state by parameter index, and the groups' hyper-parameters. */
export interface OptimizerStateDict<O> {
  state: Record<number, OptimizerState>;
  paramGroups: (O & { params: number[] })[];
}

/**
 * The base of the optimizers, after torch.optim.Optimizer: parameter groups with defaults, per-parameter state,
 * zeroGrad, and a state dict that restores a run exactly.
 */
export abstract class Optimizer<O extends object> {
  readonly paramGroups: ParamGroup<O>[];
  protected readonly state = new Map<Tensor, OptimizerState>();

  constructor(params: ParamsInput<O>, defaults: O) {
    const groups = params.length > 0 && !('params' in (params[0] as object)) ? [{ params: params as Tensor[] }] : (params as ({ params: Tensor[] } & Partial<O>)[]);
    this.paramGroups = groups.map((g) => ({ ...defaults, ...g, params: [...g.params] }));
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (seen.has(p)) throw new Error('optimizer: a parameter appears in more than one group');
        seen.add(p);
      }
    }
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (!p.grad) continue;
          let s = this.state.get(p);
          if (!s) this.state.set(p, (s = this.initState(p)));
          this.update(p, p.grad, s, group);
        }
      }
    });
  }

  protected abstract initState(p: Tensor): OptimizerState;
  protected abstract update(p: Tensor, grad: Tensor, state: OptimizerState, group: ParamGroup<O>): void;

  /** Frees every parameter's gradient (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /**
   * Frees what the optimizer holds — every parameter's state (AdamW's moments…) and gradient — when training is
   * over; the parameters themselves belong to the model. A later `step()` starts from fresh state.
   */
  dispose(): void {
    this.zeroGrad();
    this.freeState();
  }

  private freeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
    this.state.clear();
  }

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The state, referring to parameters by their index across groups (tensors are the live state, not copies). */
  stateDict(): OptimizerStateDict<O> {
    const params = this.allParams();
    const state: Record<number, OptimizerState> = {};
    params.forEach((p, i) => {
      const s = this.state.get(p);
      if (s) state[i] = { ...s };
    });
    let at = 0;
    const paramGroups = this.paramGroups.map(({ params: ps, ...rest }) => ({ ...(rest as unknown as O), params: ps.map(() => at++) }));
    return { state, paramGroups };
  }

  /** Restores hyper-parameters and state (tensors are copied into fresh ones owned by this optimizer). */
  loadStateDict(sd: OptimizerStateDict<O>): void {
    const params = this.allParams();
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`optimizer loadStateDict: ${sd.paramGroups.length} groups saved, ${this.paramGroups.length} here`);
    }
    sd.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length) {
        throw new Error(`optimizer loadStateDict: group ${i} has ${g.params.length} parameters saved, ${this.paramGroups[i].params.length} here`);
      }
      const { params: _ignored, ...hyper } = g;
      Object.assign(this.paramGroups[i], hyper);
    });
    this.freeState();
    for (const [i, s] of Object.entries(sd.state)) {
      const copy: OptimizerState = {};
      for (const [k, v] of Object.entries(s)) copy[k] = typeof v === 'number' ? v : noGrad(() => v.clone());
      this.state.set(params[Number(i)], copy);
    }
  }
}
