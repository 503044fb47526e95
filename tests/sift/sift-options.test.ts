/**
 * SIFT's options as documented (packages/sift-optimizer/src/sift.ts, selection.ts, targets.ts, param-groups.ts):
 * what is refused and how it is named, how selections are written in states and deltas ('accumulate:3'), which
 * parameter names a pattern matches (whole dotted components), and the parameter groups a set-up makes — the user's
 * first (first match wins, lr defaulting to SIFT's, decay to none), then sparse (no decay), dense 2-D (decayed),
 * dense 1-D (not), empty ones left out.
 */
import { Linear, Module } from '@siftjs/nn';
import { describeSelection, matchesAny, parseSelection, SIFT, type SIFTOptions } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { Net } from './net.js';

/** Two dense layers beside the Net's: a 2-D head weight and 1-D biases to group. */
class Wide extends Module {
  a = new Linear(5, 4, { bias: false });
  b = new Linear(4, 3);
  head = new Linear(3, 2);
}

describe('selections as text', () => {
  it("describeSelection writes 'first-batch', 'weight-magnitude', 'random', 'accumulate:N', 'fisher:N'; parseSelection reads them back", () => {
    const cases = [
      ['first-batch', 'first-batch'],
      ['weight-magnitude', 'weight-magnitude'],
      ['random', 'random'],
      [{ accumulate: 3 }, 'accumulate:3'],
      [{ fisher: 12 }, 'fisher:12'],
    ] as const;
    for (const [s, text] of cases) {
      expect(describeSelection(s)).toBe(text);
      expect(parseSelection(text)).toEqual(s);
    }
  });

  it('parseSelection refuses anything else, quoting it', () => {
    for (const text of ['', 'first', 'accumulate', 'accumulate:', 'accumulate:x', 'fisher:-1', 'fisher:2.5', 'Fisher:2', 'accumulate:3 ', ' random', 'xaccumulate:3']) {
      expect(() => parseSelection(text), text).toThrow(`SIFT: unknown selection '${text}'`);
    }
  });

  it('matchesAny: the whole name, or a run of whole dotted components of it', () => {
    const name = 'bert.encoder.layer.0.attention.self.query.weight';
    for (const p of [name, 'bert', 'query', 'attention.self', 'weight', 'query.weight', 'bert.encoder', 'layer.0']) expect(matchesAny(name, [p]), p).toBe(true);
    for (const p of ['quer', 'uery', 'ert', 'weigh', 'self.query.weigh', 'bert.encode', 'attention.self.q', '', 'x']) expect(matchesAny(name, [p]), p).toBe(false);
    expect(matchesAny('dense.weight', ['dense'])).toBe(true);
    expect(matchesAny('denser.weight', ['dense'])).toBe(false);
    expect(matchesAny('a.denser', ['dense'])).toBe(false);
    expect(matchesAny('a.xdense', ['dense'])).toBe(false);
    expect(matchesAny('a.dense', ['dense'])).toBe(true);
    expect(matchesAny('a.dense.b', ['dense'])).toBe(true);
    expect(matchesAny('a.xdense.b', ['dense'])).toBe(false);
    expect(matchesAny('a.densex.b', ['dense'])).toBe(false);
    expect(matchesAny('bias', ['bias'])).toBe(true);
    expect(matchesAny('c.bias', ['x', 'bias'])).toBe(true);
    expect(matchesAny('c.bias', [])).toBe(false);
  });
});

describe.each(backendsUnderTest())('SIFT options on $name', (backend) => {
  beforeAll(() => backend.start());

  /** A SIFT over `model` (a fresh Net, disposed after, if none), disposed: its options and groups stay readable. */
  const make = (opts: Partial<SIFTOptions>, model?: Module) => {
    const m = model ?? new Net();
    try {
      const s = new SIFT(m, { density: 0.5, targets: ['a'], ...opts });
      s.dispose();
      return s;
    } finally {
      if (!model) m.dispose();
    }
  };

  it('density outside (0, 1], a malformed reselect and a selection of no whole passes are RangeErrors naming the value', () => {
    manualSeed(1);
    for (const density of [0, -0.1, 1.01, Number.NaN]) expect(() => make({ density })).toThrow(new RangeError(`SIFT: density must be in (0, 1], got ${density}`));
    expect(() => make({ density: 1 })).not.toThrow();
    expect(() => make({ density: 1e-9 })).not.toThrow();
    for (const reselect of [{ every: 0, fraction: 0.5 }, { every: 1.5, fraction: 0.5 }, { every: -2, fraction: 0.5 }, { every: 2, fraction: 0 }, { every: 2, fraction: 1 }, { every: 2, fraction: -0.5 }]) {
      expect(() => make({ reselect }), JSON.stringify(reselect)).toThrow(new RangeError(`SIFT: reselect needs a whole 'every' ≥ 1 and 0 < fraction < 1, got ${JSON.stringify(reselect)}`));
    }
    expect(() => make({ reselect: { every: 1, fraction: 0.01 } })).not.toThrow();
    expect(() => make({ reselect: { every: 3, fraction: 0.99 } })).not.toThrow();
    for (const selection of [{ accumulate: 0 }, { fisher: 0 }, { accumulate: 1.5 }, { fisher: -2 }]) {
      const n = 'accumulate' in selection ? selection.accumulate : selection.fisher;
      expect(() => make({ selection }), JSON.stringify(selection)).toThrow(new RangeError(`SIFT: selection needs a whole number of passes ≥ 1, got ${n}`));
    }
    expect(() => make({ selection: { accumulate: 1 } })).not.toThrow();
    expect(() => make({ selection: { fisher: 1 } })).not.toThrow();
  });

  it('defaults and describe(): lr 1e-4, betas (0.9, 0.999), eps 1e-8, no decay, first-batch', () => {
    manualSeed(2);
    const s = make({ dense: ['b.bias'] });
    expect(s.options).toMatchObject({ lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, selection: 'first-batch' });
    expect(s.describe()).toEqual({ density: '0.5', targets: '["a"]', dense: '["b.bias"]', selection: 'first-batch' });
    expect(make({ selection: { fisher: 2 } }).describe()).toEqual({ density: '0.5', targets: '["a"]', dense: '[]', selection: 'fisher:2' });
    expect(s.method).toBe('sift');
  });

  it('parameter groups: the user\'s (first match wins) then sparse, decayed 2-D dense, undecayed 1-D dense; empty ones left out', () => {
    manualSeed(3);
    const model = new Wide();
    const plain = make({ targets: ['a'], dense: ['b', 'head'], lr: 0.01, weightDecay: 0.1 }, model);
    expect(plain.paramGroups).toEqual([
      { lr: 0.01, weightDecay: 0, names: ['a.weight'] },
      { lr: 0.01, weightDecay: 0.1, names: ['b.weight', 'head.weight'] },
      { lr: 0.01, weightDecay: 0, names: ['b.bias', 'head.bias'] },
    ]);
    const grouped = make(
      {
        targets: ['a'],
        dense: ['b', 'head'],
        lr: 0.01,
        weightDecay: 0.1,
        groups: [
          { params: ['head'], lr: 0.5 },
          { params: ['bias', 'a'], weightDecay: 0.3 },
        ],
      },
      model,
    );
    expect(grouped.paramGroups).toEqual([
      { lr: 0.5, weightDecay: 0, names: ['head.weight', 'head.bias'] },
      { lr: 0.01, weightDecay: 0.3, names: ['a.weight', 'b.bias'] },
      { lr: 0.01, weightDecay: 0.1, names: ['b.weight'] },
    ]);
    // Only sparse tensors: one group.
    expect(make({ targets: ['a', 'b'] }, model).paramGroups).toEqual([{ lr: 1e-4, weightDecay: 0, names: ['a.weight', 'b.weight', 'b.bias'] }]);
    model.dispose();
  });

  it('a group pattern that matches only a frozen parameter, or only parameters an earlier group took, is an error naming it', () => {
    manualSeed(4);
    const model = new Wide();
    expect(() => make({ targets: ['a'], dense: ['b'], groups: [{ params: ['head'] }] }, model)).toThrow("SIFT: the parameter group pattern 'head' matches no trained parameter");
    expect(() => make({ targets: ['a'], dense: ['b'], groups: [{ params: ['b'] }, { params: ['a', 'b.bias'] }] }, model)).toThrow("SIFT: the parameter group pattern 'b.bias' matches no trained parameter");
    model.dispose();
  });
});
