import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SearchFs, isAvailable, locate, searchDirs, sitePackages } from '../src/libraries.js';

/** A fake file system: a set of files; folders are implied by them. */
function fakeFs(files: string[]): SearchFs {
  const set = new Set(files);
  return {
    exists: (p) => set.has(p),
    list: (d) => {
      const prefix = d.endsWith('/') ? d : `${d}/`;
      const names = new Set<string>();
      for (const f of set) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]);
      return [...names];
    },
  };
}

describe('library search', () => {
  it('finds nothing in an empty file system and says so, naming the override variable', () => {
    const a = isAvailable({}, fakeFs([]));
    expect(a.available).toBe(false);
    expect(a.reason).toMatch(/driver: no libcuda/);
    expect(a.reason).toMatch(/SIFT_CUDA_DRIVER/);
    expect(a.reason).toMatch(/nvrtc: no libnvrtc/);
    expect(a.reason).toMatch(/cublas: no libcublas/);
  });

  it('an override that points nowhere is reported as such', () => {
    const l = locate('nvrtc', { SIFT_NVRTC: '/nope/libnvrtc.so.12' }, fakeFs([]));
    expect(l.path).toBeNull();
    expect(l.via).toMatch(/SIFT_NVRTC.*does not exist/);
  });

  it('an override wins over every folder', () => {
    const fs = fakeFs(['/opt/x/libcublas.so.12', '/usr/local/cuda/lib64/libcublas.so.12']);
    expect(locate('cublas', { SIFT_CUBLAS: '/opt/x/libcublas.so.12' }, fs).path).toBe('/opt/x/libcublas.so.12');
  });

  it('CUDA_HOME comes before /usr/local/cuda, and the newest versioned soname is chosen', () => {
    const fs = fakeFs(['/opt/cuda/lib64/libnvrtc.so.12', '/opt/cuda/lib64/libnvrtc.so.13', '/opt/cuda/lib64/libnvrtc-builtins.so.13', '/usr/local/cuda/lib64/libnvrtc.so.13']);
    expect(locate('nvrtc', { CUDA_HOME: '/opt/cuda' }, fs).path).toBe('/opt/cuda/lib64/libnvrtc.so.13');
    expect(locate('nvrtc', {}, fs).path).toBe('/usr/local/cuda/lib64/libnvrtc.so.13');
  });

  it('versioned toolkit folders are searched newest first', () => {
    const fs = fakeFs(['/usr/local/cuda-11.8/lib64/libcublas.so.11', '/usr/local/cuda-12.4/lib64/libcublas.so.12']);
    expect(locate('cublas', {}, fs).path).toBe('/usr/local/cuda-12.4/lib64/libcublas.so.12');
  });

  it("finds PyTorch's nvidia wheels under a virtualenv's site-packages", () => {
    const site = '/venv/lib/python3.11/site-packages';
    const fs = fakeFs([
      `${site}/nvidia/cuda_nvrtc/lib/libnvrtc.so.12`,
      `${site}/nvidia/cublas/lib/libcublas.so.12`,
      `${site}/nvidia/cublas/lib/libcublasLt.so.12`,
    ]);
    const env = { VIRTUAL_ENV: '/venv' };
    expect(sitePackages(env, fs, '/home/u')).toContain(site);
    expect(searchDirs('nvrtc', env, fs)).toContain(`${site}/nvidia/cuda_nvrtc/lib`);
    expect(locate('nvrtc', env, fs).path).toBe(`${site}/nvidia/cuda_nvrtc/lib/libnvrtc.so.12`);
    expect(locate('cublas', env, fs).path).toBe(`${site}/nvidia/cublas/lib/libcublas.so.12`);
    expect(locate('cublasLt', env, fs).path).toBe(`${site}/nvidia/cublas/lib/libcublasLt.so.12`);
    // cuBLAS's pattern must not take cuBLASLt's file, nor NVRTC's the builtins.
    expect(locate('cublas', env, fakeFs([`${site}/nvidia/cublas/lib/libcublasLt.so.12`])).path).toBeNull();
  });

  it('a driver file that cannot be loaded makes isAvailable false with the load error, not a throw', () => {
    const fs = fakeFs(['/fake/libcuda.so.1', '/fake/libnvrtc.so.12', '/fake/libcublas.so.12']);
    const env = { SIFT_CUDA_DRIVER: '/fake/libcuda.so.1', SIFT_NVRTC: '/fake/libnvrtc.so.12', SIFT_CUBLAS: '/fake/libcublas.so.12' };
    const a = isAvailable(env, fs);
    expect(a.available).toBe(false);
    expect(a.reason).toMatch(/driver: \/fake\/libcuda\.so\.1 could not be loaded/);
  });
});

describe('on this machine', () => {
  it('isAvailable() answers without throwing, with a reason when unavailable', () => {
    const a = isAvailable();
    if (!a.available) expect(a.reason).toBeTruthy();
    else expect(a.devices).toBeGreaterThan(0);
  });

  it('importing the package does not throw, and registers cuda only when available', async () => {
    const mod = await import('../src/index.js');
    const tensor = await import('@siftjs/tensor');
    expect(typeof mod.isAvailable).toBe('function');
    expect(tensor.registeredBackends().includes('cuda')).toBe(mod.isAvailable().available);
  });

  it('a plain Node process imports the built package even with a bogus driver override', () => {
    const root = join(__dirname, '..', '..', '..');
    const program = `
      const m = await import('@siftjs/backend-cuda');
      const t = await import('@siftjs/tensor');
      console.log(JSON.stringify({ a: m.isAvailable(), cuda: t.registeredBackends().includes('cuda') }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, SIFT_CUDA_DRIVER: '/nonexistent/libcuda.so.1' },
    });
    const r = JSON.parse(out);
    expect(r.a.available).toBe(false);
    expect(r.a.reason).toMatch(/SIFT_CUDA_DRIVER/);
    expect(r.cuda).toBe(false);
  });

  it("setBackend('cuda') where CUDA cannot run gives the package's reason, not 'not registered'", () => {
    // The driver override pointing nowhere makes CUDA unavailable on every machine, a GPU one included.
    const root = join(__dirname, '..', '..', '..');
    const program = `
      const m = await import('@siftjs/backend-cuda');
      const t = await import('@siftjs/tensor');
      const message = await t.setBackend('cuda').then(() => 'started', (e) => e.name + ': ' + e.message);
      console.log(JSON.stringify({ reason: m.isAvailable().reason, message, unavailable: t.unavailableBackends().cuda }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, SIFT_CUDA_DRIVER: '/nonexistent/libcuda.so.1' },
    });
    const r = JSON.parse(out);
    expect(r.message).toBe(`BackendError: setBackend: backend 'cuda' is not available here: ${r.reason}`);
    expect(r.message).toMatch(/libcuda\.so\.1/);
    expect(r.message).not.toMatch(/is registered|import its package/);
    expect(r.unavailable).toBe(r.reason);
  });
});
