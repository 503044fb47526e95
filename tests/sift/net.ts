import { Linear, Module } from '@siftjs/nn';
import { noGrad, scope, type Tensor, tensor } from '@siftjs/tensor';
import type { NetWeights } from './reference.js';

/** The library side of reference.ts's network: y = B·tanh(A·x) + c, loss Σ y². */
export class Net extends Module {
  a = new Linear(5, 4, { bias: false });
  b = new Linear(4, 3);
  forward(x: Tensor): Tensor {
    return scope(() => this.b.forward(this.a.forward(x).tanh()));
  }
}

export function lossOf(net: Net, rows: number[][]): Tensor {
  return scope(() => net.forward(tensor(rows)).square().sum());
}

export function weightsOf(net: Net): NetWeights {
  return {
    a: Float64Array.from(net.a.weight.toArraySync()),
    b: Float64Array.from(net.b.weight.toArraySync()),
    c: Float64Array.from((net.b.bias as Tensor).toArraySync()),
  };
}

/** The exact float32 bits of every parameter, for bitwise comparisons. */
export function bitsOf(net: Net): Record<string, number[]> {
  return Object.fromEntries([...net.namedParameters()].map(([n, p]) => [n, Array.from(new Uint32Array(Float32Array.from(p.toArraySync()).buffer))]));
}

export function setWeights(net: Net, w: NetWeights): void {
  noGrad(() => {
    net.a.weight.copy_(tensor(Float32Array.from(w.a), { shape: [4, 5] }));
    net.b.weight.copy_(tensor(Float32Array.from(w.b), { shape: [3, 4] }));
    (net.b.bias as Tensor).copy_(tensor(Float32Array.from(w.c)));
  });
}
