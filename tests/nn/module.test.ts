import { Dropout, Embedding, LayerNorm, Linear, Module, ModuleList } from '@siftjs/nn';
import { manualSeed, ones, scope, ShapeError } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { read, values } from '../support/read.js';

class Block extends Module {
  ln_1 = new LayerNorm(4);
  attn = new Linear(4, 4);
  drop = new Dropout(0.5);
}

class Toy extends Module {
  wte = new Embedding(10, 4);
  h = new ModuleList([new Block(), new Block()]);
  head = new Linear(4, 3, { bias: false });
}


describe.each(backendsUnderTest())('Module on $name', (backend) => {
  beforeAll(() => backend.start());

  it('names parameters like Hugging Face checkpoints, in definition order', () => {
    const m = new Toy();
    expect([...m.namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'wte.weight 10x4',
      'h.0.ln_1.weight 4',
      'h.0.ln_1.bias 4',
      'h.0.attn.weight 4x4',
      'h.0.attn.bias 4',
      'h.1.ln_1.weight 4',
      'h.1.ln_1.bias 4',
      'h.1.attn.weight 4x4',
      'h.1.attn.bias 4',
      'head.weight 3x4',
    ]);
    expect(m.numParameters()).toBe(40 + 2 * (4 + 4 + 16 + 4) + 12);
    m.dispose();
  });

  it('a state dict loads into another instance, value for value', async () => {
    manualSeed(1);
    const a = new Toy();
    manualSeed(2);
    const b = new Toy();
    expect(await values(b.head.weight)).not.toEqual(await values(a.head.weight));
    expect(b.loadStateDict(a.stateDict())).toEqual({ missing: [], unexpected: [] });
    for (const [name, p] of a.namedParameters()) expect(await values(b.stateDict()[name]), name).toEqual(await values(p));
    a.dispose();
    b.dispose();
  });

  it('a mismatched state dict names every missing, unexpected and wrong-shape key, and writes nothing', async () => {
    const m = new Toy();
    const before = await values(m.wte.weight);
    const sd = { ...m.stateDict() };
    delete sd['head.weight'];
    const [afterRefused, afterLoaded] = await read(() => {
      sd['extra.bias'] = ones([2]);
      sd['wte.weight'] = ones([3, 3]);
      expect(() => m.loadStateDict(sd)).toThrow(ShapeError);
      expect(() => m.loadStateDict(sd)).toThrow(
        'loadStateDict: missing keys: head.weight. unexpected keys: extra.bias. wrong shapes: wte.weight: checkpoint [3, 3], model [10, 4]',
      );
      const refused = m.wte.weight.detach().clone();
      delete sd['wte.weight'];
      sd['wte.weight'] = ones([10, 4]);
      expect(m.loadStateDict(sd, { strict: false })).toEqual({ missing: ['head.weight'], unexpected: ['extra.bias'] });
      return [refused, m.wte.weight];
    });
    expect(afterRefused).toEqual(before);
    expect(afterLoaded).toEqual(new Array(40).fill(1));
    m.dispose();
  });

  it('train() and eval() reach every descendant; Dropout is the identity in eval', async () => {
    const m = new Toy();
    m.eval();
    expect([...m.namedModules()].every(([, c]) => !c.training)).toBe(true);
    expect(await read(() => m.h.at(0).drop.forward(ones([8])))).toEqual(new Array(8).fill(1));
    m.train();
    expect(m.h.at(1).drop.training).toBe(true);
    m.dispose();
  });
});
