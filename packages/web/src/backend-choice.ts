import '@siftjs/backend-cpu';
import { describeAdapter, isAvailable } from '@siftjs/backend-webgpu';
import { getBackend, setBackend } from '@siftjs/tensor';

export type BackendWish = 'auto' | 'webgpu' | 'cpu';

export interface BackendChoice {
  name: 'webgpu' | 'cpu';
  /** Why this one, in a sentence for the page. */
  reason: string;
}

/**
 * Picks and starts the backend. Automatic: WebGPU on a GPU; the CPU (WebAssembly on Web Workers) where there is no
 * WebGPU or only a software adapter (SwiftShader, llvmpipe: a CPU emulating a GPU, slower than the CPU backend) —
 * the rule `sift`'s automatic choice follows.
 */
export async function chooseBackend(wish: BackendWish): Promise<BackendChoice> {
  if (wish === 'cpu') return startCpu('chosen by you');
  const gpu = await isAvailable();
  if (wish === 'webgpu') {
    if (!gpu.available) throw new Error(`WebGPU was chosen, but there is none here: ${gpu.reason}`);
    await setBackend('webgpu');
    return { name: 'webgpu', reason: `chosen by you: ${gpu.adapter ? describeAdapter(gpu.adapter) : gpu.reason}` };
  }
  if (gpu.available && !gpu.software) {
    await setBackend('webgpu');
    return { name: 'webgpu', reason: `a GPU is here: ${gpu.reason}` };
  }
  return startCpu(gpu.available ? `WebGPU here is ${gpu.reason}` : `no WebGPU here (${gpu.reason})`);
}

async function startCpu(why: string): Promise<BackendChoice> {
  await setBackend('cpu');
  const info = getBackend().info();
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}${isolated ? '' : ' (the page is not cross-origin isolated, so no shared memory for workers)'}`;
  return { name: 'cpu', reason: `${why}; the CPU backend runs ${String(info.kernels)} kernels on ${threads}` };
}
