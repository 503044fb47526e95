import { KillSwitch } from './kill-switch.js';

/*
 * Loaded with `node --import tsx --import tests/cli/sigkill-preload.ts bin.js …`: the CLI as a user runs it, sent
 * a real SIGKILL by the kill switch at point SIFT_KILL_AT of the steps under SIFT_KILL_ROOT. The clock stands
 * still, as under the in-process tests' fake timers, so the two leave byte-identical files.
 */
const root = process.env.SIFT_KILL_ROOT;
if (!root) throw new Error('sigkill-preload: SIFT_KILL_ROOT is not set');
const ks = new KillSwitch(root);
ks.install();
ks.reset(Number(process.env.SIFT_KILL_AT ?? -1));
ks.realKill = true;

const fixed = Date.UTC(2026, 0, 1);
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args: ConstructorParameters<DateConstructor>) {
    super(...((args.length ? args : [fixed]) as [number]));
  }
  static override now(): number {
    return fixed;
  }
} as DateConstructor;
performance.now = () => 0;
