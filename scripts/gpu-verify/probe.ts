/**
 * Child of the device phase: whether one compute path starts here, and what it runs on. Prints one JSON line.
 *   node --conditions=source --import tsx scripts/gpu-verify/probe.ts cuda|webgpu|cpu
 * WebGPU's adapter is picked by SIFT_WEBGPU_ADAPTER, as in the test suites.
 */
export {}; // a module: top-level await

const which = process.argv[2];
const line = (o: object) => console.log(JSON.stringify(o));

if (which === 'cuda') {
  const { isAvailable } = await import('@siftjs/backend-cuda');
  const a = isAvailable();
  line({ available: a.available, reason: a.reason ?? null, devices: a.devices ?? null, driverVersion: a.driverVersion ?? null, libraries: a.libraries ?? {} });
} else if (which === 'webgpu') {
  const { isAvailable } = await import('@siftjs/backend-webgpu');
  const a = await isAvailable();
  line({ available: a.available, reason: a.reason, software: a.software ?? null, adapter: a.adapter ? { path: a.adapter.path, vendor: a.adapter.vendor, architecture: a.adapter.architecture, device: a.adapter.device, description: a.adapter.description } : null });
} else if (which === 'cpu') {
  const { getBackend, setBackend } = await import('@siftjs/tensor');
  await import('@siftjs/backend-cpu');
  await setBackend('cpu');
  line({ available: true, reason: null, info: getBackend().info() });
} else {
  console.error(`probe: cuda|webgpu|cpu, got '${which}'`);
  process.exit(2);
}
process.exit(0);
