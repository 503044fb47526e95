import { scope, type Tensor } from '@siftjs/tensor';
import { Module } from '../module.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

/** The transformer feed-forward block: fc2(dropout?(gelu(fc1(x)))) with a 4× (or given) hidden width. */
export class GeluMLP extends Module {
  fc1: Linear;
  fc2: Linear;
  dropout: Dropout;

  constructor(
    dim: number,
    hidden = 4 * dim,
    readonly approximate: 'none' | 'tanh' = 'none',
    dropout = 0,
  ) {
    super();
    this.fc1 = new Linear(dim, hidden);
    this.fc2 = new Linear(hidden, dim);
    this.dropout = new Dropout(dropout);
  }

  forward(x: Tensor): Tensor {
    return scope(() => this.dropout.forward(this.fc2.forward(this.fc1.forward(x).gelu(this.approximate))));
  }
}

/** SwiGLU (Shazeer 2020), LLaMA's feed-forward: down(silu(gate(x)) ⊙ up(x)), no biases. */
export class SwiGLU extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;

  constructor(dim: number, hidden: number) {
    super();
    this.gate_proj = new Linear(dim, hidden, { bias: false });
    this.up_proj = new Linear(dim, hidden, { bias: false });
    this.down_proj = new Linear(hidden, dim, { bias: false });
  }

  forward(x: Tensor): Tensor {
    return scope(() => this.down_proj.forward(this.gate_proj.forward(x).silu().mul(this.up_proj.forward(x))));
  }
}
