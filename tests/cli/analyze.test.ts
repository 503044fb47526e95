import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@siftjs/cli';
import type { GradientShare } from '@siftjs/sift-optimizer';
import '@siftjs/backend-cpu';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTinyFixture } from './fixture.js';

const root = mkdtempSync(join(tmpdir(), 'siftjs-analyze-'));
const modelDir = join(root, 'model');
const data = join(root, 'mails.jsonl');

beforeAll(() => writeTinyFixture(modelDir, data, 32));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `sift …` in this process and returns what it printed. */
async function sift(args: string[]): Promise<string> {
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    printed.push(String(s));
    return true;
  });
  try {
    await main(['node', 'sift', ...args]);
  } finally {
    spy.mockRestore();
  }
  return printed.join('');
}

describe('sift analyze', () => {
  it("prints both measures side by side, each named — the squared-norm share and the authors' norm ratio — and plots one panel per measure", async () => {
    const out = join(root, 'analysis');
    const fractions = [0.01, 0.1, 1];
    const text = await sift(['analyze', '--model', modelDir, '--data', data, '--out', out, '--batches', '2', '--batch-size', '8', '--max-length', '16', '--fractions', fractions.join(',')]);
    const json = JSON.parse(readFileSync(join(out, 'gradient-concentration.json'), 'utf8')) as { pretrained: GradientShare[]; randomInit: GradientShare[] };

    // Per tensor, from the definitions: the norm ratio is the square root of the squared-norm share.
    for (const r of [...json.pretrained, ...json.randomInit]) {
      for (const f of fractions) expect(r.normRatios[String(f)]).toBeCloseTo(Math.sqrt(r.shares[String(f)]), 12);
    }
    // Each printed row: the means over the matrices, in the order the header names them.
    const mean = (rs: GradientShare[], key: 'shares' | 'normRatios', f: number) => rs.reduce((s, r) => s + r[key][String(f)], 0) / rs.length;
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    expect(text).toMatch(/top x% of components\s+Σg² share: pretrained\s+random init\s+norm ratio: pretrained\s+random init/);
    for (const f of fractions) {
      const cells = [mean(json.pretrained, 'shares', f), mean(json.randomInit, 'shares', f), mean(json.pretrained, 'normRatios', f), mean(json.randomInit, 'normRatios', f)].map(pct);
      expect(text).toContain(`${100 * f}%`);
      expect(text.split('\n').find((l) => l.startsWith(`${100 * f}% `))?.trim().split(/\s+/).slice(1)).toEqual(cells);
    }
    expect(text).toContain('Σg² share = share of the squared norm, Σ g[top]² / Σ g²');
    expect(text).toContain("norm ratio = norm ratio ‖g[top]‖ / ‖g‖ (the authors' measure)");
    // Where the two differ most is where it matters which one a figure shows: below 100% the ratio is the larger.
    expect(mean(json.pretrained, 'normRatios', 0.1)).toBeGreaterThan(mean(json.pretrained, 'shares', 0.1));

    const svg = readFileSync(join(out, 'gradient-concentration.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('share of the squared norm, Σ g[top]² / Σ g²');
    expect(svg).toContain('norm ratio ‖g[top]‖ / ‖g‖ (the authors');
  });
});
