/** What every phase returns, and how a phase's status follows from its checks. */
export type Status = 'pass' | 'fail' | 'skipped' | 'timeout';

export interface Check {
  name: string;
  status: Status;
  /** One line: the figure, the count, or why it failed or was skipped. */
  detail: string;
  /** What stood in for the GPU-machine path in a dry run (absent on the real path). */
  standIn?: string;
  data?: unknown;
}

export interface PhaseResult {
  phase: 'device' | 'suites' | 'benchmarks' | 'transformers';
  status: Status;
  seconds: number;
  checks: Check[];
}

/** fail (or timeout) if any check did; pass if one passed; skipped only when every check was skipped. */
export function phaseStatus(checks: readonly Check[]): Status {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'timeout')) return 'timeout';
  if (checks.some((c) => c.status === 'pass')) return 'pass';
  return checks.length > 0 ? 'skipped' : 'fail';
}

export async function timedPhase(phase: PhaseResult['phase'], run: () => Promise<Check[]>): Promise<PhaseResult> {
  const t0 = performance.now();
  let checks: Check[];
  try {
    checks = await run();
  } catch (e) {
    // A phase that breaks is recorded as failed with its reason; the phases after it still run.
    checks = [{ name: `${phase} phase`, status: 'fail', detail: (e as Error).message.split('\n')[0] }];
  }
  return { phase, status: phaseStatus(checks), seconds: (performance.now() - t0) / 1000, checks };
}
