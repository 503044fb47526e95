import { existsSync } from 'node:fs';
import {
  BertForSequenceClassification,
  bertConfig,
  ConfigError,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  gpt2Config,
  LlamaForCausalLM,
  llamaConfig,
  readConfig,
  RobertaForSequenceClassification,
} from '@siftjs/models';
import type { Module } from '@siftjs/nn';
import { exportPeftAdapter, loadDelta, PEFT_TUNERS, PeftError, type PeftTuner } from '@siftjs/sift-optimizer';
import { UsageError } from '../errors.js';

/**
 * `sift export --format peft`: a sparse delta as a Hugging Face PEFT adapter directory (Super-Tuning or SHiRA),
 * for `PeftModel.from_pretrained(base, dir)`. The model directory gives the layers' types (PEFT's sparse tuners
 * take Linear layers only) and becomes base_model_name_or_path; its weights are not read.
 */
export function exportCommand(a: { format: string; model: string; delta: string; out: string; tuner: string }): void {
  if (a.format !== 'peft') throw new UsageError(`unknown --format '${a.format}' (peft)`);
  if (!(PEFT_TUNERS as readonly string[]).includes(a.tuner)) throw new UsageError(`unknown --tuner '${a.tuner}' (${PEFT_TUNERS.join(', ')})`);
  if (existsSync(a.out)) throw new UsageError(`${a.out}: already exists; export writes a new directory`);
  const { file, raw } = readConfig(a.model);
  const type = String(raw.model_type ?? '');
  const delta = loadDelta(a.delta);
  // A delta with a dense head was a classification fine-tune; its head's first dimension is the label count.
  const head = Object.values(delta.dense).find((e) => e.shape.length === 2);
  const task = head ? 'classification' : 'causal-lm';
  const model = architecture(type, file, { ...raw, num_labels: head ? head.shape[0] : 2, id2label: undefined, label2id: undefined }, task);
  try {
    const r = exportPeftAdapter(model, delta, a.out, { tuner: a.tuner as PeftTuner, baseModelNameOrPath: a.model, taskType: task === 'classification' ? 'SEQ_CLS' : 'CAUSAL_LM' });
    const setting = r.tuner === 'supertuning' ? `sparsity ${r.sparsity}` : `r ${r.r}`;
    const padded = r.layers.filter((l) => l.stored > l.k);
    process.stderr.write(
      `sift export: ${r.layers.length} ${type} layers as a PEFT ${r.tuner} adapter (${setting}); ${
        r.exact ? 'every layer stores exactly its k increments' : `${padded.length} layer(s) padded with zero increments to the size PEFT gives them (one ${r.tuner === 'supertuning' ? 'sparsity' : 'r'} for all layers)`
      }\n`,
    );
    process.stdout.write(`${JSON.stringify({ out: a.out, ...r })}\n`);
  } catch (e) {
    if (e instanceof PeftError) throw new UsageError(e.message);
    throw e;
  } finally {
    model.dispose();
  }
}

/** The model's modules as the delta was trained on them (names and layer types; the weights are not read). */
function architecture(type: string, file: string, raw: Record<string, unknown>, task: 'classification' | 'causal-lm'): Module {
  if (type === 'gpt2') return task === 'causal-lm' ? new GPT2LMHeadModel(gpt2Config(raw, file)) : new GPT2ForSequenceClassification(gpt2Config(raw, file));
  if (type === 'llama') return new LlamaForCausalLM(llamaConfig(raw, file));
  if (type === 'bert') return new BertForSequenceClassification(bertConfig(raw, file));
  if (type === 'roberta') return new RobertaForSequenceClassification(bertConfig({ pad_token_id: 1, type_vocab_size: 1, ...raw }, file));
  throw new ConfigError(file, `model_type '${type}' is not supported (gpt2, bert, roberta, llama)`);
}
