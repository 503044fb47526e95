import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, floatDtypes } from '../support/backends.js';
import { relError } from '../support/golden.js';
import { compare, firstGradients, type Golden, type OurResult, readGolden, runOurs, sameSet } from './authors-golden-run.js';

/**
 * Our SIFT against a PyTorch SIFT written from the paper and the authors' published method
 * (tests/golden/sift_authors.py; regenerate with `/usr/bin/python3 tests/golden/sift_authors.py`). The script has a
 * switch for each deliberate difference between siftjs and the authors' code; with every switch ours it is an
 * independent re-implementation of what we claim, and our run must match it. Each switch flipped alone must differ
 * from our run exactly as the switch says: our SIFT, with that one behaviour of theirs modelled around it, reproduces
 * the flipped run — so that switch, and nothing else, explains the difference.
 *
 * Bounds, relative to each tensor's largest value (and per step loss): 1e-6 in float32 (the issue's), 1e-12 in
 * float64. A switch "differs" where our plain run is further than 1e-4 from its golden run: 100× the float32 bound.
 *
 * Every backend runs the golden comparison itself (a). The switches are properties of the algorithm, not of a
 * backend, and each is a few more 8-step runs: they run on the CPU backends (cpu, cpu-ts), where a run takes a
 * fraction of a second, not on WebGPU's software adapter, where one takes about 40 s.
 */
const BOUND = { float32: 1e-6, float64: 1e-12 };
const DIFFERS = 1e-4;
/** SIFT_GOLDEN_REPORT=1 prints the differences the closing note quotes. */
const report = process.env.SIFT_GOLDEN_REPORT === '1';

describe.each(backendsUnderTest())("SIFT against the authors' algorithm on $name", (backend) => {
  beforeAll(() => backend.start());
  const cpu = backend.name.startsWith('cpu');

  describe.each(floatDtypes(backend))('%s', (dtype) => {
    const bound = BOUND[dtype];
    let golden: Golden;
    let ours: OurResult;
    beforeAll(async () => {
      golden = readGolden(dtype);
      ours = await runOurs(golden);
    }, 300_000);
    const note = (what: string, x: unknown) => report && console.log(`[${backend.name} ${dtype}] ${what}: ${JSON.stringify(x)}`);
    /** Our plain run is far from the golden run with this switch flipped. */
    const differs = (run: string) => {
      const c = compare(ours, golden.runs[run]);
      note(`ours vs golden ${run}`, c);
      expect(c.worst, `ours against the golden '${run}' run`).toBeGreaterThan(DIFFERS);
    };
    /** A run of ours matches a golden run: the same components, weights and losses within the bound. */
    const matches = (mine: OurResult, run: string) => {
      const g = golden.runs[run];
      expect(Object.keys(mine.indices).sort(), `${run}: the tensors trained sparsely`).toEqual(Object.keys(g.indices).sort());
      for (const n of Object.keys(g.indices)) expect(sameSet(mine.indices[n], g.indices[n]), `${run}: ${n}'s indices`).toBe(true);
      const c = compare(mine, g);
      note(`modelled vs golden ${run}`, c);
      expect(c.weights, `${run}: worst relative weight error, in ${c.at}`).toBeLessThanOrEqual(bound);
      expect(c.losses, `${run}: worst relative loss error`).toBeLessThanOrEqual(bound);
    };

    it('(a) every switch ours: the golden components of every tensor, every other component untouched, weights and losses within the bound', () => {
      matches(ours, 'ours');
      expect(Object.keys(ours.indices).sort()).toEqual([...golden.sparseNames].sort());
      for (const n of golden.sparseNames) {
        const chosen = new Set(ours.indices[n]);
        const moved = ours.weights[n].findIndex((v, i) => !chosen.has(i) && v !== golden.checkpoint[n][i]);
        expect(moved, `${n}: an unselected component moved`).toBe(-1);
      }
      note('indices', { tensors: golden.sparseNames.length, components: golden.sparseNames.reduce((k, n) => k + ours.indices[n].length, 0) });
    });

    if (!cpu) return;

    it("(b) the authors' configuration differs from ours, and our SIFT with each of their behaviours modelled reproduces it", async () => {
      differs('authors');
      const untrained = golden.runs.authors.untrained;
      const modelled = await runOurs(golden, {
        density: theirDensity(golden),
        targets: golden.sparseNames.filter((n) => !untrained.includes(n)),
        groups: [{ params: ['ln_f.weight'], weightDecay: golden.weightDecay }],
        discardFirstBatch: true,
        lateWriteBack: true,
      });
      matches(modelled, 'authors');
    });

    it('(c) k = int(x·n)+1 adds, where x·n is whole, the next component by |G| and nothing else; our SIFT at that k reproduces the run', async () => {
      const g = golden.runs.k_rule;
      const grads = await firstGradients(golden);
      let grown = 0;
      for (const n of golden.sparseNames) {
        const exact = golden.density * golden.checkpoint[n].length;
        const extra = g.indices[n].filter((i) => !ours.indices[n].includes(i));
        expect(ours.indices[n].every((i) => g.indices[n].includes(i)), `${n}: our components are among theirs`).toBe(true);
        expect(extra.length, `${n}: x·n = ${exact}`).toBe(Number.isInteger(exact) ? 1 : 0);
        if (!extra.length) continue;
        grown++;
        const byMagnitude = grads[n].map((v, i) => [Math.abs(v), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        expect(extra[0], `${n}: the extra component is the (k+1)-th largest |G|`).toBe(byMagnitude[ours.indices[n].length][1]);
      }
      note('k rule: tensors with one more component', grown);
      differs('k_rule');
      matches(await runOurs(golden, { density: theirDensity(golden) }), 'k_rule');
    });

    it('(c) first batch discarded: the sparse tensors take one AdamW step fewer; our SIFT dropping the first gradient after it selected reproduces the run', async () => {
      differs('first_batch');
      const modelled = await runOurs(golden, { discardFirstBatch: true });
      const k = golden.batches.length;
      for (const n of golden.sparseNames) expect([ours.steps[n], modelled.steps[n]], `${n}: AdamW steps, ours and modelled`).toEqual([k, k - 1]);
      matches(modelled, 'first_batch');
    });

    it("(c) late write-back: our SIFT with each forward seeing the sparse weights one step behind reproduces the run, and the update that never landed is our last step's", async () => {
      differs('write_back');
      const modelled = await runOurs(golden, { lateWriteBack: true });
      matches(modelled, 'write_back');
      // The golden δ after K steps, never written into the weight, is the δ our SIFT holds after K steps.
      for (const n of golden.sparseNames) expect(relError(modelled.delta[n], golden.runs.write_back.pending[n]), `${n}: pending δ`).toBeLessThanOrEqual(bound);
    });

    it("(c) lagged hook: exactly the weight whose gradient arrives last (layer 0's c_attn) is never selected nor trained; our SIFT without it reproduces the run", async () => {
      const g = golden.runs.hook;
      expect(g.untrained).toHaveLength(1);
      const [last] = g.untrained;
      expect(last).toMatch(/^transformer\.h\.0\.attn\.c_attn\.(weight|bias)$/);
      expect(g.indices[last]).toBeUndefined(); // and its weights are the checkpoint's (the script asserts it)
      differs('hook');
      matches(await runOurs(golden, { targets: golden.sparseNames.filter((n) => n !== last) }), 'hook');
    });

    it('(c) increment form (w ← w + u, u zeroed, against w = w₀ + δ) changes rounding only: our plain run is within the bound of it', () => {
      note('golden ours vs golden increment', compare(golden.runs.ours, golden.runs.increment));
      matches(ours, 'increment');
    });

    it("(c) decay by name: GPT-2's ln_f.weight decays (its name holds no \"LayerNorm.weight\"); our SIFT with a group decaying it reproduces the run", async () => {
      differs('no_decay');
      matches(await runOurs(golden, { groups: [{ params: ['ln_f.weight'], weightDecay: golden.weightDecay }] }), 'no_decay');
    });
  });
});

/**
 * A density x′ with ⌈x′·n⌉ = min(int(x·n) + 1, n) for every targeted n (checked): the authors' k in our rule. A hair
 * above x lifts the whole products by one and leaves the fractional ones where they round.
 */
function theirDensity(golden: Golden): number {
  const x = golden.density + 1e-9;
  for (const n of golden.sparseNames) {
    const size = golden.checkpoint[n].length;
    expect(Math.ceil(x * size), n).toBe(Math.min(Math.trunc(golden.density * size) + 1, size));
  }
  return x;
}
