import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire } from './helpers.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu fill (${reason})`, () => {
  const b = be as WebGpuBackend;

  it('fill writes every dtype', async () => {
    expect(Array.from(await b.read(b.fill('float32', 5, -2.5), 'float32', 5))).toEqual([-2.5, -2.5, -2.5, -2.5, -2.5]);
    expect(Array.from(await b.read(b.fill('int32', 3, -7), 'int32', 3))).toEqual([-7, -7, -7]);
    expect(Array.from(await b.read(b.fill('bool', 3, 1), 'bool', 3))).toEqual([1, 1, 1]);
  });
});
