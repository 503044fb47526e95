/**
 * `npm run gpu:verify -- --dry-run` end to end on this machine (the CPU backend standing in for CUDA, SwiftShader for
 * the GPU's Vulkan, CPU PyTorch for cuBLAS), at the quick scope, and the bundle `npm run gpu:pack` makes for the GPU
 * machine. What a GPU run would write is checked here for shape and honesty: every phase present with a status, every
 * stand-in named, the checks that need transformers said to be skipped when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'gpu-verify-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The variables this vitest run was started with must not steer the nested runs.
const env = { ...process.env };
for (const k of ['SIFT_BACKENDS', 'SIFT_TEST_REPORT', 'SIFT_NUM_RUNS_MAX', 'SIFT_WEBGPU_ADAPTER']) delete env[k];

const tsx = (script: string, args: string[], timeout: number) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(ROOT, 'scripts', 'gpu-verify', script), ...args], { cwd: ROOT, encoding: 'utf8', timeout, maxBuffer: 1 << 26, env });

const PHASES = ['device', 'suites', 'benchmarks', 'transformers'];
const STATUSES = ['pass', 'fail', 'skipped', 'timeout'];

interface Report {
  dryRun: boolean;
  status: string;
  standIns: string[];
  phases: { phase: string; status: string; checks: { name: string; status: string; detail: string; standIn?: string; data?: { transformers?: string | null } }[] }[];
}

describe('gpu:verify --dry-run', () => {
  // About 70 s on a quiet 2-core machine; SwiftShader can be 50 times slower on a busy one, so the limits are wide.
  it('runs every phase end to end, says what stood in for the GPU, and writes gpu-dryrun-*.{json,md} where it is told', { timeout: 1_200_000 }, () => {
    const out = join(tmp, 'results');
    const r = tsx('main.ts', ['--dry-run', '--scope', 'quick', '--out', out], 1_150_000);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const files = readdirSync(out);
    const json = files.find((f) => /^gpu-dryrun-.*\.json$/.test(f));
    expect(json, files.join(', ')).toBeDefined();
    expect(files).toContain(json!.replace(/\.json$/, '.md'));
    const report = JSON.parse(readFileSync(join(out, json!), 'utf8')) as Report;

    expect(report.dryRun).toBe(true);
    expect(report.status).toBe('pass');
    expect(report.phases.map((p) => p.phase)).toEqual(PHASES);
    for (const p of report.phases) {
      expect(STATUSES, p.phase).toContain(p.status);
      expect(p.checks.length, p.phase).toBeGreaterThan(0);
      for (const c of p.checks) {
        expect(STATUSES, `${p.phase}: ${c.name}`).toContain(c.status);
        expect(c.detail.length, `${p.phase}: ${c.name}`).toBeGreaterThan(0);
        // Nothing counts as a GPU result in a dry run without saying what stood in, unless it ran no GPU path at all.
        if (c.status === 'pass' && / on (cuda|webgpu)$/.test(c.name)) expect(c.standIn, c.name).toBeTruthy();
      }
    }
    expect(report.standIns).toEqual(expect.arrayContaining(['the CPU backend stood in for CUDA', "SwiftShader (a CPU Vulkan) stood in for the GPU's Vulkan adapter"]));

    // Both paths ran the suites and the benchmarks (or the phase would hide a path that never started).
    const checks = (phase: string) => report.phases.find((p) => p.phase === phase)!.checks;
    for (const path of ['cuda', 'webgpu']) {
      expect(checks('suites').filter((c) => c.name.endsWith(`on ${path}`) && c.status === 'pass').length, path).toBe(2);
      expect(checks('benchmarks').some((c) => c.name === `matmul f32 on ${path}` && c.status === 'pass'), path).toBe(true);
    }

    // transformers / peft missing is said, never silent.
    const python = checks('device').find((c) => c.name === 'Python with torch')?.data;
    const golden = checks('transformers').find((c) => c.name.startsWith('transformers goldens'))!;
    if (python && !python.transformers) {
      expect(golden.status).toBe('skipped');
      expect(golden.detail).toBe('skipped: transformers not installed');
      expect(checks('transformers').find((c) => c.name.startsWith('PeftModel'))!.detail).toMatch(/^skipped: (transformers|peft) not installed$/);
    } else expect(golden.status).not.toBe('skipped');

    const md = readFileSync(join(out, json!.replace(/\.json$/, '.md')), 'utf8');
    expect(md).toContain('DRY RUN (no GPU)');
    for (const p of report.phases) for (const c of p.checks) expect(r.stdout, 'the printed summary table').toContain(`| ${p.phase} | ${c.name.replace(/\|/g, '\\|')} | ${c.status} |`);
  });

  it.each([
    [['--bogus'], "unknown flag '--bogus'"],
    [['--scope', 'wide'], "--scope must be full or quick, got 'wide'"],
    [['--num-runs', '0'], "--num-runs must be a positive integer, got '0'"],
    [['--out'], '--out needs a value'],
  ])('a bad flag (%j) is one line on stderr and exit 2', (args, message) => {
    const r = tsx('main.ts', args, 60_000);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});

describe('gpu:pack', () => {
  it('packs Node, the Linux x64 node_modules the run needs and boot.sh, and with the working tree it travels in under 64 MiB', { timeout: 300_000 }, () => {
    const out = join(tmp, 'bundle');
    // xz -1, no Vulkan download: quicker and larger than the real pack (xz -9), so under the limit here means under it there.
    const r = tsx('pack.ts', ['--out', out, '--fast', '--no-debs'], 280_000);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const sizes = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bundleBytes: number; treeBytes: number; totalBytes: number; limitBytes: number };
    expect(sizes.limitBytes).toBe(64 * 2 ** 20);
    expect(sizes.totalBytes).toBe(sizes.bundleBytes + sizes.treeBytes);
    expect(sizes.totalBytes).toBeLessThan(64 * 2 ** 20);
    for (const f of ['node.xz', 'modules.tar.xz', 'boot.sh']) expect(existsSync(join(out, f)), f).toBe(true);
    // What is inside: the pieces the run loads on Linux x64, and no other platform's binaries.
    const names = spawnSync('tar', ['-tJf', join(out, 'modules.tar.xz')], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout.split('\n');
    for (const needed of ['node_modules/vitest/vitest.mjs', 'node_modules/tsx/package.json', 'node_modules/webgpu/dist/linux-x64/dawn.node', 'node_modules/@koromix/koffi-linux-x64/package.json', 'node_modules/@siftjs/backend-cuda', 'node_modules/fast-check/package.json', 'node_modules/gpt-tokenizer/esm/encoding/r50k_base.js'])
      expect(names, needed).toContain(needed);
    expect(names.filter((n) => /webgpu\/dist\/(darwin|win32|linux-arm64)|@siftjs\/cli|@tensorflow|typescript\//.test(n))).toEqual([]);
  });

  it('a bad flag is one line on stderr and exit 2', () => {
    const r = tsx('pack.ts', ['--bogus'], 60_000);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("unknown flag '--bogus'");
  });
});
