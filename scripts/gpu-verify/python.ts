import { existsSync } from 'node:fs';
import { runChild } from './child.js';

export interface PythonInfo {
  python: string;
  torch: string | null;
  cuda: boolean;
  device: string | null;
  transformers: string | null;
  peft: string | null;
  safetensors: string | null;
  /** Its site-packages folders: where PyTorch's nvidia-* wheels put NVRTC and cuBLAS. */
  sites: string[];
}

const PROBE = `
import importlib, json
out = {}
for m in ("torch", "transformers", "peft", "safetensors"):
    try:
        out[m] = importlib.import_module(m).__version__
    except Exception:
        out[m] = None
try:
    import torch
    out["cuda"] = bool(torch.cuda.is_available())
    out["device"] = torch.cuda.get_device_name(0) if out["cuda"] else None
except Exception:
    out["cuda"], out["device"] = False, None
try:
    import site
    out["sites"] = site.getsitepackages() + [site.getusersitepackages()]
except Exception:
    out["sites"] = []
print(json.dumps(out))
`;

/**
 * The first Python with torch: SIFT_GPU_PYTHON, else `python3` on PATH (the GPU image's, with transformers and
 * peft), else /usr/bin/python3 (Debian's torch 1.13 on the CI machines). Null when none has torch.
 */
export async function findPython(): Promise<PythonInfo | null> {
  const candidates = [process.env.SIFT_GPU_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p && (!p.startsWith('/') || existsSync(p)));
  for (const python of [...new Set(candidates)]) {
    const r = await runChild(python, ['-c', PROBE], { timeoutS: 60 });
    if (r.code !== 0) continue;
    try {
      const info = JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<PythonInfo, 'python'>;
      if (info.torch) return { python, ...info };
    } catch {
      // not this one
    }
  }
  return null;
}
