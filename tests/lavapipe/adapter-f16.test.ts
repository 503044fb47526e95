import { create, globals } from 'webgpu';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The `webgpu-lavapipe` project only (vitest.config.ts): Dawn on Mesa's lavapipe through the
 * VK_LAYER_SIFTJS_compute_features layer (tools/vk-compute-layer) offers WebGPU's `shader-f16`, and a WGSL shader
 * with `enable f16;` computes in float16 there. The expected patterns are IEEE 754 binary16 by hand (round to nearest
 * even), each derived beside it; one of them differs from what float32 arithmetic rounded at the store would give,
 * so a device that widened the arithmetic would fail it.
 */

Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode

// The GPU object (Dawn's instance) is held for the whole file: the adapter and device do not keep it alive, and once
// it is garbage-collected their next wait on the device aborts the process ("The futex facility returned an
// unexpected error code") or hangs.
let gpu: GPU | null = null;
let adapter: GPUAdapter | null = null;
let device: GPUDevice | null = null;

beforeAll(async () => {
  gpu = create([]);
  adapter = await gpu.requestAdapter();
  if (adapter?.features.has('shader-f16')) device = await adapter.requestDevice({ requiredFeatures: ['shader-f16'] });
});

afterAll(() => {
  device?.destroy();
  gpu = null;
});

/** [a, b, c, (a + b) − c, a · b] as binary16 bit patterns. */
const CASES: [number, number, number, number, number][] = [
  // 1.5 + 2 − 0.5 = 3 = 1.5·2^1 (exponent 1 + 15 = 16, fraction .1000000000): 0x4200; 1.5 · 2 = 3 too.
  [0x3e00, 0x4000, 0x3800, 0x4200, 0x4200],
  // 0.1 and 0.2 as binary16 are 1638·2^-14 and 1638·2^-13 (0x2e66, 0x3266); their sum 4914·2^-14 = 1228.5·2^-12 is a
  // tie between 1228·2^-12 and 1229·2^-12 in [1/4, 1/2): to even, 1228·2^-12 = (1 + 204/1024)·2^-2 → 0x34cc.
  // Their product 1638·1638·2^-27 = 2683044·2^-27 lies in [2^-6, 2^-5), spacing 2^-16: 2683044/2048 = 1310.08 → 1310
  // = (1 + 286/1024)·2^-6 → (9 << 10) | 286 = 0x251e.
  [0x2e66, 0x3266, 0x0000, 0x34cc, 0x251e],
  // 1 + 2^-11 is the tie between 1 and 1 + 2^-10: to even, 1; minus 1 gives +0 (0x0000). In float32 the sum is exact
  // and the difference 2^-11 (0x1000): this case tells float16 arithmetic from float32. 1 · 2^-11 = 2^-11: 0x1000.
  [0x3c00, 0x1000, 0x3c00, 0x0000, 0x1000],
  // 65504 (the largest finite binary16) doubled: past the overflow threshold, +∞ (0x7c00) both ways.
  [0x7bff, 0x7bff, 0x0000, 0x7c00, 0x7c00],
  // −2 + 2^-14 (the smallest normal) is within half an ulp (2^-10) of −2: 0xc000. −2 · 2^-14 = −2^-13: 0x8800.
  [0xc000, 0x0400, 0x0000, 0xc000, 0x8800],
  // (1 + 2^-10)·2 = 2 + 2^-9, exact (0x4001); minus 1 + 2^-9 is 1 (0x3c00). (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20 → 1 + 2^-9
  // (0x3c02).
  [0x3c01, 0x3c01, 0x3c02, 0x3c00, 0x3c02],
];

const SHADER = `enable f16;
@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<f16>;
@group(0) @binding(2) var<storage, read> c: array<f16>;
@group(0) @binding(3) var<storage, read_write> sumMinus: array<f16>;
@group(0) @binding(4) var<storage, read_write> product: array<f16>;

@compute @workgroup_size(8)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= arrayLength(&a)) { return; }
  let s: f16 = a[i] + b[i];
  sumMinus[i] = s - c[i];
  product[i] = a[i] * b[i];
}`;

async function run(dev: GPUDevice): Promise<{ sumMinus: number[]; product: number[] }> {
  const n = CASES.length;
  const bytes = Math.ceil((n * 2) / 4) * 4;
  const input = (column: number) => {
    const buffer = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
    new Uint16Array(buffer.getMappedRange()).set(CASES.map((row) => row[column]));
    buffer.unmap();
    return buffer;
  };
  const output = () => dev.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const buffers = [input(0), input(1), input(2), output(), output()];
  const readbacks = [0, 1].map(() => dev.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
  try {
    const module = dev.createShaderModule({ code: SHADER });
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
    expect(errors.map((m) => m.message)).toEqual([]);
    const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = dev.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer, size: n * 2 } })),
    });
    const encoder = dev.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / 8));
    pass.end();
    encoder.copyBufferToBuffer(buffers[3], 0, readbacks[0], 0, bytes);
    encoder.copyBufferToBuffer(buffers[4], 0, readbacks[1], 0, bytes);
    dev.queue.submit([encoder.finish()]);
    const read = async (buffer: GPUBuffer) => {
      await buffer.mapAsync(GPUMapMode.READ);
      return [...new Uint16Array(buffer.getMappedRange()).slice(0, n)];
    };
    return { sumMinus: await read(readbacks[0]), product: await read(readbacks[1]) };
  } finally {
    for (const buffer of [...buffers, ...readbacks]) buffer.destroy();
  }
}

const hex = (bits: number[]) => bits.map((x) => `0x${x.toString(16).padStart(4, '0')}`);

describe('Dawn on lavapipe through VK_LAYER_SIFTJS_compute_features', () => {
  it('the layer builds and lavapipe is installed (tests/support/vk-compute-layer-setup.ts)', () => {
    const problem = inject('lavapipeProblem');
    expect(problem, problem ?? '').toBeNull();
  });

  it('gives the lavapipe adapter, with shader-f16 among its features', () => {
    expect(adapter, 'no adapter: is the layer built and named in VK_INSTANCE_LAYERS / VK_LAYER_PATH?').not.toBeNull();
    expect(`${adapter?.info.device} ${adapter?.info.description}`).toMatch(/llvmpipe/);
    expect([...(adapter?.features ?? [])]).toContain('shader-f16');
  });

  it('opens a device with shader-f16, whose f16 shader adds, subtracts and multiplies in binary16', async () => {
    expect(device, 'requestDevice({ requiredFeatures: [shader-f16] }) gave no device').not.toBeNull();
    expect(device?.features.has('shader-f16')).toBe(true);
    const got = await run(device as GPUDevice);
    expect(hex(got.sumMinus)).toEqual(hex(CASES.map((row) => row[3])));
    expect(hex(got.product)).toEqual(hex(CASES.map((row) => row[4])));
  });
});
