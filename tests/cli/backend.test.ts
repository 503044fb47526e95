import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAvailable as cudaStatus } from '@siftjs/backend-cuda';
import { isAvailable as webgpuStatus } from '@siftjs/backend-webgpu';
import { preferredBackend } from '@siftjs/cli';
import '@siftjs/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyFixture } from './fixture.js';
import { runSift } from './run-sift.js';

/**
 * `sift` says what it runs on: a software WebGPU adapter (SwiftShader, llvmpipe — a CPU emulation, slower than
 * the CPU backend) is named when `--backend webgpu` selects it, and `--backend auto` never picks it over the CPU.
 */
const webgpu = await webgpuStatus();
const cuda = cudaStatus();
const ci = process.env.CI === 'true';
if (!webgpu.available) console.log(`[cli backend] the --backend webgpu notice is ${ci ? 'required under CI=true' : 'not checked'}: ${webgpu.reason}`);

let root = '';
const evalArgs = (backend: string) => ['eval', '--model', 'model', '--data', 'mails.jsonl', '--max-length', '16', '--backend', backend];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'siftjs-cli-backend-'));
  writeTinyFixture(join(root, 'model'), join(root, 'mails.jsonl'), 16);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sift names the backend it runs on', () => {
  it.runIf(webgpu.available || ci)('--backend webgpu on a software adapter says so in one notice, and runs', async () => {
    const r = await runSift(evalArgs('webgpu'), { cwd: root, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const notices = r.stderr.split('\n').filter((l) => l.startsWith('sift: '));
    if (webgpu.software) {
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/^sift: webgpu runs on a software adapter \(a CPU emulation of a GPU, slower than the CPU backend\): .+; --backend cpu is faster here$/);
      expect(notices[0]).toContain(webgpu.adapter!.description || webgpu.adapter!.device);
    } else {
      expect(notices).toHaveLength(0);
    }
  }, 150_000);

  it('--backend auto never takes a software adapter over the CPU, says what it chose, and computes what that backend does', async () => {
    const pick = await preferredBackend();
    if (cuda.available) expect(pick.name).toBe('cuda');
    else if (webgpu.available && !webgpu.software) expect(pick.name).toBe('webgpu');
    else expect(pick.name).toBe('cpu');
    if (webgpu.available && webgpu.software) expect(pick.why).toContain('webgpu has only a software adapter (a CPU emulation of a GPU');

    const auto = await runSift(evalArgs('auto'), { cwd: root, timeoutMs: 120_000 });
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toContain(`sift: --backend auto: ${pick.name} (`);
    if (pick.name === 'cpu') {
      const cpu = await runSift(evalArgs('cpu'), { cwd: root, timeoutMs: 120_000 });
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(auto.stdout).toBe(cpu.stdout);
    }
  }, 300_000);
});
