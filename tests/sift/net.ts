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

/** Σ y² over the rows, the input in the network's dtype. */
export function lossOf(net: Net, rows: number[][]): Tensor {
  return scope(() => net.forward(tensor(rows, { dtype: net.a.weight.dtype })).square().sum());
}

/** The weights as the reference takes them (read asynchronously: any backend). */
export async function weightsOf(net: Net): Promise<NetWeights> {
  return {
    a: Float64Array.from(await net.a.weight.toArray()),
    b: Float64Array.from(await net.b.weight.toArray()),
    c: Float64Array.from(await (net.b.bias as Tensor).toArray()),
  };
}

/** The exact float32 bits of every parameter, for bitwise comparisons. */
export async function bitsOf(net: Net): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [n, p] of net.namedParameters()) out[n] = Array.from(new Uint32Array(Float32Array.from(await p.toArray()).buffer));
  return out;
}

export function setWeights(net: Net, w: NetWeights): void {
  noGrad(() => {
    net.a.weight.copy_(tensor(Float32Array.from(w.a), { shape: [4, 5] }));
    net.b.weight.copy_(tensor(Float32Array.from(w.b), { shape: [3, 4] }));
    (net.b.bias as Tensor).copy_(tensor(Float32Array.from(w.c)));
  });
}
