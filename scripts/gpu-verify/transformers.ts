/**
 * Phase 4: the proofs only the GPU machine's Python can give. transformers itself writes tiny random GPT-2, BERT and
 * LLaMA checkpoints (save_pretrained, safetensors) with their logits, loss and gradients, and our fromPretrained models
 * are compared with them on each path; PEFT's PeftModel.from_pretrained loads the adapters our exportPeftAdapter
 * writes, and its merge_and_unload() weights are compared with our mergeInto's. Where transformers or peft is missing
 * (this CI machine: Debian's torch alone) those checks say "skipped: … not installed"; in a dry run our side still runs:
 * the PEFT export, and the comparison code against the committed goldens of tests/golden/*.py.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJson, runChild, tsArgs, whyFailed } from './child.js';
import type { Check, Status } from './phase.js';
import { type PathPlan, type Plan, ROOT } from './plan.js';
import type { PythonInfo } from './python.js';

/** Bounds on max |ours − theirs| / max |theirs|, float32 on every path. */
const TOLERANCE = { logits: 1e-4, loss: 1e-4, grads: 1e-3, merged: 1e-6 };

/** The committed goldens the comparison code is exercised on when transformers is missing. */
const COMMITTED = { gpt2: 'tests/golden/gpt2-tiny', bert: 'tests/golden/bert-tiny-mlm', llama: 'tests/golden/llama-tiny' };

type Compared = { logits: number; loss: number; grads: Record<string, number>; absent: string[] } | { error: string };

function judge(family: string, c: Compared): { status: Status; detail: string } {
  if ('error' in c) return { status: 'fail', detail: `${family}: ${c.error}` };
  const worstGrad = Math.max(0, ...Object.values(c.grads));
  const ok = c.logits <= TOLERANCE.logits && c.loss <= TOLERANCE.loss && worstGrad <= TOLERANCE.grads && c.absent.length === 0 && Object.keys(c.grads).length > 0;
  const absent = c.absent.length ? `; no gradient for ${c.absent.join(', ')}` : '';
  return { status: ok ? 'pass' : 'fail', detail: `logits ${c.logits.toExponential(1)}, loss ${c.loss.toExponential(1)}, ${Object.keys(c.grads).length} gradients ≤ ${worstGrad.toExponential(1)} (relative)${absent}` };
}

export async function transformersChecks(plan: Plan, python: PythonInfo | null, missing: Partial<Record<'cuda' | 'webgpu', string>>): Promise<Check[]> {
  const deadline = performance.now() + plan.limits.transformers * 1000;
  const limit = () => Math.max(1, (deadline - performance.now()) / 1000);
  const script = fileURLToPath(new URL('hf_golden.py', import.meta.url));
  const work = mkdtempSync(join(tmpdir(), 'gpu-verify-hf-'));
  const checks: Check[] = [];
  const absentWhy = !python ? 'no python3 with torch' : !python.transformers ? 'transformers not installed' : null;
  // A real run needs them: the image is meant to have them. A dry run says it skipped them.
  const absentStatus: Status = plan.dryRun ? 'skipped' : 'fail';
  try {
    const compareOn = async (path: PathPlan, dirs: Record<string, string>, label: string, standIn?: string) => {
      if (missing[path.role]) {
        checks.push({ name: `${label} on ${path.role}`, status: 'skipped', detail: `${path.role} is missing: ${missing[path.role]}` });
        return;
      }
      const r = await runChild(process.execPath, tsArgs('scripts/gpu-verify/hf-compare.ts', path.backend, ...Object.entries(dirs).map(([f, d]) => `${f}=${d}`)), { cwd: ROOT, env: path.env, timeoutS: limit() });
      const got = lastJson<{ results: Record<string, Compared> }>(r.stdout);
      if (!got) {
        checks.push({ name: `${label} on ${path.role}`, status: r.timedOut ? 'timeout' : 'fail', detail: whyFailed(r, 'hf-compare'), standIn: standIn ?? path.standIn });
        return;
      }
      for (const [family, c] of Object.entries(got.results)) checks.push({ name: `${label}: ${family} on ${path.role}`, ...judge(family, c), standIn: standIn ?? path.standIn, data: c });
    };

    // 1. Goldens written by transformers.
    if (absentWhy) {
      checks.push({ name: 'transformers goldens (GPT2LMHeadModel, BertForMaskedLM, LlamaForCausalLM)', status: absentStatus, detail: `skipped: ${absentWhy}` });
      if (plan.dryRun)
        for (const path of plan.paths)
          await compareOn(path, Object.fromEntries(Object.entries(COMMITTED).map(([f, d]) => [f, join(ROOT, d)])), 'committed torch goldens', `${path.standIn ? `${path.standIn}; ` : ''}goldens written by tests/golden/*.py (torch from the architecture), not by transformers`);
    } else {
      const dir = join(work, 'hf');
      const w = await runChild(python!.python, [script, 'write', dir], { timeoutS: limit() });
      const wrote = lastJson<{ transformers: string; families: Record<string, { class: string }> }>(w.stdout);
      if (!wrote) checks.push({ name: 'transformers goldens written', status: w.timedOut ? 'timeout' : 'fail', detail: whyFailed(w, 'hf_golden.py write') });
      else {
        checks.push({ name: 'transformers goldens written', status: 'pass', detail: `transformers ${wrote.transformers}: ${Object.values(wrote.families).map((f) => f.class).join(', ')} (save_pretrained, safetensors)` });
        for (const path of plan.paths) await compareOn(path, Object.fromEntries(Object.keys(wrote.families).map((f) => [f, join(dir, f)])), 'transformers golden');
      }
    }

    // 2. Our PEFT export, loaded and merged by PEFT.
    const peftDir = join(work, 'peft');
    const p = await runChild(process.execPath, tsArgs('scripts/gpu-verify/peft-prepare.ts', peftDir), { cwd: ROOT, timeoutS: limit() });
    const prepared = lastJson<{ written: Record<string, unknown> }>(p.stdout);
    checks.push(
      prepared
        ? { name: 'PEFT adapters exported (exportPeftAdapter) and merged (mergeInto)', status: 'pass', detail: Object.keys(prepared.written).join(', '), data: prepared.written }
        : { name: 'PEFT adapters exported (exportPeftAdapter) and merged (mergeInto)', status: p.timedOut ? 'timeout' : 'fail', detail: whyFailed(p, 'peft-prepare') },
    );
    const peftWhy = absentWhy ?? (python!.peft ? null : 'peft not installed');
    if (peftWhy) checks.push({ name: 'PeftModel.from_pretrained merge vs our mergeInto', status: absentStatus, detail: `skipped: ${peftWhy}` });
    else if (prepared) {
      const m = await runChild(python!.python, [script, 'peft', peftDir], { timeoutS: limit() });
      const merged = lastJson<{ peft: string; adapters: Record<string, { compared?: number; maxRelDiff?: number; worst?: string; absentInPeft?: string[]; error?: string }> }>(m.stdout);
      if (!merged) checks.push({ name: 'PeftModel.from_pretrained merge vs our mergeInto', status: m.timedOut ? 'timeout' : 'fail', detail: whyFailed(m, 'hf_golden.py peft') });
      else
        for (const [name, a] of Object.entries(merged.adapters)) {
          const ok = !a.error && (a.compared ?? 0) > 0 && (a.maxRelDiff ?? 1) <= TOLERANCE.merged && (a.absentInPeft ?? []).length === 0;
          const detail = a.error ?? `peft ${merged.peft}: ${a.compared} tensors, max relative difference ${a.maxRelDiff?.toExponential(1)}${a.worst ? ` (${a.worst})` : ''}${a.absentInPeft?.length ? `; absent in PEFT's model: ${a.absentInPeft.join(', ')}` : ''}`;
          checks.push({ name: `PEFT merge of ${name} vs ours`, status: ok ? 'pass' : 'fail', detail, data: a });
        }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return checks;
}
