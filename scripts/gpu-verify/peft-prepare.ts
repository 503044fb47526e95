/**
 * Child of the transformers phase, on the CPU: our side of the PEFT check, written fresh by the code under test.
 *   node --conditions=source --import tsx scripts/gpu-verify/peft-prepare.ts DIR
 * For LLaMA and BERT (the committed tiny bases and SIFT deltas of tests/golden/peft, from peft-fixture.mts):
 * DIR/<family>-base (the base, copied by our savePretrained), DIR/<family>-{supertuning,shira} (exportPeftAdapter) and
 * DIR/<family>-merged (mergeInto). hf_golden.py then has PEFT load and merge each adapter. Prints one JSON line.
 */
import '@siftjs/backend-cpu';
import { join } from 'node:path';
import { BertForSequenceClassification, LlamaForCausalLM } from '@siftjs/models';
import { exportPeftAdapter, loadDelta, mergeInto } from '@siftjs/sift-optimizer';
import { setBackend } from '@siftjs/tensor';
import { ROOT } from './plan.js';

const out = process.argv[2];
if (!out) {
  console.error('peft-prepare: DIR');
  process.exit(2);
}
await setBackend('cpu');
const fixtures = join(ROOT, 'tests', 'golden', 'peft');
const families = [
  { family: 'llama', load: (d: string) => LlamaForCausalLM.fromPretrained(d), taskType: 'CAUSAL_LM' as const, config: {} },
  { family: 'bert', load: (d: string) => BertForSequenceClassification.fromPretrained(d), taskType: 'SEQ_CLS' as const, config: { num_labels: 3 } },
];
const written: Record<string, unknown> = {};
for (const f of families) {
  const model = f.load(join(fixtures, `${f.family}-base`));
  const base = join(out, `${f.family}-base`);
  model.savePretrained(base);
  const delta = loadDelta(join(fixtures, `${f.family}-sift.delta.safetensors`));
  for (const tuner of ['supertuning', 'shira'] as const) {
    const r = exportPeftAdapter(model, delta, join(out, `${f.family}-${tuner}`), { tuner, baseModelNameOrPath: base, taskType: f.taskType });
    written[`${f.family}-${tuner}`] = { exact: r.exact, layers: r.layers.length };
  }
  mergeInto({ base, deltas: [{ delta }], out: join(out, `${f.family}-merged`), config: f.config });
  model.dispose();
}
console.log(JSON.stringify({ written }));
process.exit(0);
