/**
 * Phase 2: the shared suites on each compute path, by the mechanism the tests themselves use: vitest's `cpu` project
 * with SIFT_BACKENDS naming the backend (tests/support/backends.ts) and SIFT_NUM_RUNS_MAX capping every property's
 * runs (tests/support/fast-check-capped.ts). The two paths run at the same time; each path's suites one after another.
 * Counts come from vitest's JSON report (SIFT_TEST_REPORT, as CI reads it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild, whyFailed } from './child.js';
import type { Check } from './phase.js';
import { type PathPlan, type Plan, ROOT } from './plan.js';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

export interface SuiteCounts {
  passed: number;
  failed: number;
  skipped: number;
  failedFiles: number;
  /** The first failures: test name and the first line of its message. */
  failures: string[];
}

export function countReport(r: VitestReport): SuiteCounts {
  const failures: string[] = [];
  for (const file of r.testResults) {
    // A file whose beforeAll threw (a backend that did not start) has no failed test, only skipped ones and a message.
    if (file.status === 'failed' && file.message) failures.push(`${file.name.replace(`${ROOT}`, '')}: ${file.message.split('\n')[0]}`);
    for (const a of file.assertionResults) if (a.status === 'failed') failures.push(`${a.fullName}: ${(a.failureMessages[0] ?? '').split('\n')[0]}`);
  }
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests, failedFiles: r.numFailedTestSuites, failures: failures.slice(0, 5) };
}

/** The test files vitest reported done (✓ passed, ❯ or × with failures) before it was stopped. */
const filesDone = (stdout: string) => stdout.split('\n').filter((l) => /^\s*[✓❯×]\s.*\.test\.ts/.test(l.replace(/\x1b\[[0-9;]*m/g, ''))).length;

async function runSuite(plan: Plan, path: PathPlan, suite: Plan['suites'][number], timeoutS: number): Promise<Check> {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-verify-vitest-'));
  const report = join(dir, 'report.json');
  const name = `${suite.name} on ${path.role}`;
  const args = ['node_modules/vitest/vitest.mjs', 'run', ...suite.files, '--project', 'cpu', ...(suite.testNamePattern ? ['-t', suite.testNamePattern] : [])];
  const r = await runChild(process.execPath, args, {
    cwd: ROOT,
    timeoutS,
    // SIFT_TEST_WEBGPU=0: vitest.config.ts need not probe for an adapter to define projects this run does not use.
    env: { ...path.env, SIFT_BACKENDS: path.backend, SIFT_NUM_RUNS_MAX: String(plan.numRuns), SIFT_TEST_REPORT: report, SIFT_TEST_WEBGPU: '0' },
  });
  try {
    let parsed: VitestReport;
    try {
      parsed = JSON.parse(readFileSync(report, 'utf8')) as VitestReport;
    } catch {
      // No report: vitest writes it at the end. Say how far it got.
      const detail = r.timedOut ? `ran past its ${timeoutS.toFixed(0)} s limit with ${filesDone(r.stdout)} test file(s) done` : whyFailed(r, 'vitest');
      return { name, status: r.timedOut ? 'timeout' : 'fail', detail, standIn: path.standIn };
    }
    const c = countReport(parsed);
    const ok = c.failed === 0 && c.failedFiles === 0 && c.passed > 0 && !r.timedOut;
    const detail = `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped or left out by name${c.failedFiles ? `, ${c.failedFiles} file(s) failed` : ''} in ${r.seconds.toFixed(0)} s (numRuns ≤ ${plan.numRuns})${c.failures.length ? ` — first: ${c.failures[0]}` : ''}`;
    return { name, status: r.timedOut ? 'timeout' : ok ? 'pass' : 'fail', detail, standIn: path.standIn, data: { ...c, files: suite.files, testNamePattern: suite.testNamePattern ?? null, backend: path.backend } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function suiteChecks(plan: Plan, missing: Partial<Record<'cuda' | 'webgpu', string>>): Promise<Check[]> {
  // The paths run side by side; each path's suites share what is left of the phase's time.
  const deadline = performance.now() + plan.limits.suites * 1000;
  const perPath = await Promise.all(
    plan.paths.map(async (path) => {
      const out: Check[] = [];
      for (const suite of plan.suites) {
        const why = missing[path.role];
        out.push(why ? { name: `${suite.name} on ${path.role}`, status: 'skipped', detail: `${path.role} is missing: ${why}` } : await runSuite(plan, path, suite, Math.max(1, (deadline - performance.now()) / 1000)));
      }
      return out;
    }),
  );
  return perPath.flat();
}
