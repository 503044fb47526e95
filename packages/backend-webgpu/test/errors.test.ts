import { type View, adamwConstants } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { NotImplementedError, WebGpuBackend } from '../src/index.js';
import { acquire } from './helpers.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu errors name the op and shapes (${reason})`, () => {
  const b = be as WebGpuBackend;
  const v = (shape: number[], dtype: View['dtype'] = 'float32'): View => {
    const n = shape.reduce((p, q) => p * q, 1);
    const s = b.alloc(dtype === 'float64' ? 'float32' : dtype, n);
    const st = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
    return { storage: s, dtype, shape, strides: st, offset: 0 };
  };

  it('a kernel without a WGSL form for a dtype throws NotImplementedError naming the op', () => {
    expect(() => b.unary('sin', v([4], 'int32'))).toThrow(NotImplementedError);
    expect(() => b.unary('sin', v([4], 'int32'))).toThrow('not implemented on webgpu yet: sin on int32 ([4])');
  });

  it('every kernel of the Backend list runs (none is left unimplemented)', async () => {
    const x = v([2, 3]);
    const ids = v([2], 'int32');
    const h = { lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 1 };
    const f = b.layerNorm(x, null, null, 3, 1e-5);
    b.layerNormBackward(x, x, null, f, 3, { input: true, weight: false, bias: true });
    b.rmsNormBackward(x, x, null, b.rmsNorm(x, null, 3, 1e-5), 3, { input: true, weight: false, bias: false });
    b.gatherRows(x, ids);
    b.scatterAddRows(2, ids, x);
    b.gatherFlat(x, ids);
    b.scatterFlat(x.storage, 'float32', ids, v([2]), 'add');
    b.topkAbs(x, 2);
    b.random('normal', 'float32', 4, [1, 2], 0);
    b.adamw(x.storage, v([6]).storage, v([6]).storage, v([6]).storage, 'float32', 6, h);
    b.adamwIncrement({ param: x.storage, paramDtype: 'float32', paramSize: 6, indices: ids.storage, base: v([2]).storage, delta: v([2]).storage, grad: v([2]).storage, m: v([2]).storage, v: v([2]).storage, steps: v([2]).storage, dtype: 'float32', k: 2, c: adamwConstants(h) });
    await expect(b.sync()).resolves.toBeUndefined();
  });

  it('a kernel binding more storage buffers than the device allows is refused before it is encoded', async () => {
    const tight = new WebGpuBackend({ ...b.context, limits: { ...b.limits, maxStorageBuffersPerShaderStage: 2 } });
    const s = tight.alloc('float32', 4);
    expect(() => tight.adamw(s, s, s, s, 'float32', 4, { lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 1 })).toThrow(
      'webgpu adamw float32 ×4: a kernel binding 4 storage buffers, over the device\'s 2',
    );
  });

  it('float64, dtype and shape mismatches throw at once with the shapes', () => {
    expect(() => b.alloc('float64', 3)).toThrow(/float64 is not supported on WebGPU/);
    expect(() => b.matmul(v([2, 3]), v([4, 5]))).toThrow('webgpu matmul: shapes [2, 3] and [4, 5] do not multiply');
    expect(() => b.matmul(v([2, 3], 'int32'), v([3, 5], 'int32'))).toThrow(/matmul: float32, float16 or bfloat16 operands only, got int32 \[2, 3\]/);
    expect(() => b.binary('add', v([2, 3]), v([3, 2]))).toThrow('webgpu add: operands [2, 3] and [3, 2]');
    expect(() => b.alloc('float32', b.limits.maxStorageBufferBindingSize)).toThrow(/exceed the device's largest storage binding/);
  });

  it('a GPU validation error (here a shader that does not compile) surfaces at the next read, labelled with the op', async () => {
    b.encoder.scoped('myKernel float32 [7, 9]', () => b.context.device.createShaderModule({ code: 'fn main( {' }));
    const x = b.upload('float32', new Float32Array(4));
    await expect(b.read(x, 'float32', 4)).rejects.toThrow(/webgpu myKernel float32 \[7, 9\]: error: .*WGSL/s);
    // Reported once: the next read works.
    expect(Array.from(await b.read(x, 'float32', 4))).toEqual([0, 0, 0, 0]);
  });

  it('a lost device makes every later op throw, naming the op', async () => {
    const other = await WebGpuBackend.create();
    const x = other.upload('float32', new Float32Array(3));
    other.context.device.destroy();
    await other.context.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(() => other.unary('exp', { storage: x, dtype: 'float32', shape: [3], strides: [1], offset: 0 })).toThrow(/webgpu exp float32 \[3\]: the device was lost/);
    await expect(other.read(x, 'float32', 3)).rejects.toThrow(/device was lost/);
  });
});
