/**
 * Phase 1: what this machine is. The NVIDIA driver and CUDA version (nvidia-smi), whether the CUDA backend finds
 * its libraries and a device, which Vulkan adapter Dawn picks for WebGPU (and whether it is a software one), and the
 * Python with torch. On a GPU machine a missing path fails the phase; in a dry run each check says what stood in.
 */
import { lastJson, runChild, tsArgs, whyFailed } from './child.js';
import type { Check } from './phase.js';
import type { Plan } from './plan.js';
import { ROOT } from './plan.js';
import type { PythonInfo } from './python.js';

export interface DeviceFacts {
  /** A short name for the results' file names (the GPU's, or the dry run's stand-ins). */
  slug: string;
  gpu: string | null;
  /** Paths that cannot run here: their later checks are skipped, and the run fails. */
  missing: Partial<Record<'cuda' | 'webgpu', string>>;
  webgpuAdapter: string | null;
}

async function nvidiaSmi(): Promise<{ gpu: string; driver: string; cuda: string | null; memory: string } | string> {
  const q = await runChild('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { timeoutS: 20 });
  if (q.code !== 0) return q.code === null ? 'nvidia-smi not found' : whyFailed(q, 'nvidia-smi');
  const [gpu, driver, memory] = q.stdout.trim().split('\n')[0].split(',').map((s) => s.trim());
  // The CUDA version the driver supports is in nvidia-smi's banner only.
  const banner = await runChild('nvidia-smi', [], { timeoutS: 20 });
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(banner.stdout)?.[1] ?? null;
  return { gpu, driver, cuda, memory };
}

export async function deviceChecks(plan: Plan, python: PythonInfo | null, facts: DeviceFacts): Promise<Check[]> {
  const checks: Check[] = [];
  const smi = await nvidiaSmi();
  if (typeof smi === 'string') {
    checks.push(plan.dryRun ? { name: 'NVIDIA driver', status: 'skipped', detail: `${smi} (dry run)`, standIn: 'no GPU: the CPU stood in' } : { name: 'NVIDIA driver', status: 'fail', detail: smi });
  } else {
    facts.gpu = smi.gpu;
    checks.push({ name: 'NVIDIA driver', status: 'pass', detail: `${smi.gpu}, driver ${smi.driver}, CUDA ${smi.cuda ?? '?'}, ${smi.memory}`, data: smi });
  }

  for (const path of plan.paths) {
    const probeName = path.role === 'cuda' ? path.backend : 'webgpu';
    const r = await runChild(process.execPath, tsArgs('scripts/gpu-verify/probe.ts', probeName), { cwd: ROOT, env: path.env, timeoutS: plan.limits.device });
    const got = lastJson<{ available: boolean; reason: string | null; software?: boolean | null; devices?: number; driverVersion?: number; libraries?: object; info?: object }>(r.stdout);
    const name = path.role === 'cuda' ? 'CUDA backend' : 'WebGPU adapter (Dawn)';
    if (!got || !got.available) {
      const why = got?.reason ?? whyFailed(r, `the ${probeName} probe`);
      facts.missing[path.role] = why;
      checks.push({ name, status: 'fail', detail: why, standIn: path.standIn });
      continue;
    }
    if (path.role === 'cuda') {
      checks.push(
        path.standIn
          ? { name, status: 'pass', detail: `${path.backend} backend started (${String((got.info as { description?: string }).description ?? '').slice(0, 60)}…)`, standIn: path.standIn, data: got }
          : { name, status: 'pass', detail: `${got.devices} device(s), driver API ${got.driverVersion}, ${JSON.stringify(got.libraries)}`, data: got },
      );
    } else {
      facts.webgpuAdapter = got.reason;
      if (got.software && !path.standIn) {
        // Dawn fell back to a CPU emulation: the GPU's Vulkan driver (ICD) was not found.
        facts.missing.webgpu = `Dawn picked a software adapter (${got.reason}): no Vulkan driver for the GPU`;
        checks.push({ name, status: 'fail', detail: facts.missing.webgpu, data: got });
      } else {
        checks.push({ name, status: 'pass', detail: `${got.reason}${got.software ? ' — a software adapter' : ''}`, standIn: path.standIn, data: got });
      }
    }
  }

  if (!python) checks.push({ name: 'Python with torch', status: plan.dryRun ? 'skipped' : 'fail', detail: 'no python3 with torch found (SIFT_GPU_PYTHON names one)' });
  else
    checks.push({
      name: 'Python with torch',
      status: plan.dryRun || python.cuda ? 'pass' : 'fail',
      detail: `${python.python}: torch ${python.torch} (${python.cuda ? `CUDA: ${python.device}` : 'no CUDA'}), transformers ${python.transformers ?? 'not installed'}, peft ${python.peft ?? 'not installed'}`,
      standIn: python.cuda ? undefined : plan.dryRun ? 'CPU PyTorch stood in for PyTorch on CUDA' : undefined,
      data: python,
    });
  const slug = (s: string) => s.toLowerCase().replace(/nvidia/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  facts.slug = plan.dryRun ? `dryrun-${slug(facts.gpu ?? 'cpu-swiftshader')}` : slug(facts.gpu ?? 'unknown-gpu');
  return checks;
}
