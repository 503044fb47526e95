import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, parameter } from '@siftjs/nn';
import {
  AutoModelForCausalLM,
  AutoModelForSequenceClassification,
  BertForSequenceClassification,
  CheckpointError,
  ConfigError,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  LlamaForCausalLM,
  type LoadReport,
  loadWeights,
} from '@siftjs/models';
import { loadSafetensors, SafetensorsError, saveSafetensorsAsync } from '@siftjs/safetensors';
import { memoryStats, noGrad, ones, ShapeError, type Tensor, tensor } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { leakDelta } from '../support/memory.js';
import { relError } from '../support/golden.js';
import { read } from '../support/read.js';

/**
 * The loading rules themselves (packages/models/src/pretrained): strict except for a new head, every problem of a
 * checkpoint listed at once with nothing read, the half-built model freed, names compared as data.
 */
const golden = (name: string) => join(__dirname, '..', 'golden', name);
const tmp = mkdtempSync(join(tmpdir(), 'sift-loading-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of golden `name` with its tensors changed by `edit` (names → tensors), config.json as it is; written
 *  with the async save, which reads tensors from any backend. */
async function edited(name: string, as: string, edit: (all: Record<string, Tensor>) => Record<string, Tensor>): Promise<string> {
  const dir = join(tmp, as);
  mkdirSync(dir, { recursive: true });
  const all = loadSafetensors(join(golden(name), 'model.safetensors'));
  const out = edit({ ...all });
  await saveSafetensorsAsync(join(dir, 'model.safetensors'), out);
  copyFileSync(join(golden(name), 'config.json'), join(dir, 'config.json'));
  for (const t of new Set([...Object.values(all), ...Object.values(out)])) t.dispose();
  return dir;
}

function without(all: Record<string, Tensor>, ...names: string[]): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(all).filter(([k]) => !names.includes(k)));
}

/**
 * gpt2-tiny's file with one more float32 [2] tensor named `name` appended. Written byte by byte: the header is
 * parsed and extended as data (JSON.parse makes '__proto__' an own key), so any name is stored as it is.
 */
function withExtraTensor(name: string): string {
  const dir = join(tmp, `extra-${Buffer.from(name).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const bytes = readFileSync(join(golden('gpt2-tiny'), 'model.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const data = bytes.subarray(8 + n);
  Object.defineProperty(header, name, { value: { dtype: 'F32', shape: [2], data_offsets: [data.length, data.length + 8] }, enumerable: true });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, Buffer.from(json), data, Buffer.from(new Float32Array([1, 2]).buffer)]));
  copyFileSync(join(golden('gpt2-tiny'), 'config.json'), join(dir, 'config.json'));
  return dir;
}

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

describe.each(backendsUnderTest())('loading rules on $name', (backend) => {
  beforeAll(() => backend.start());

  it('a checkpoint that does not fit lists every missing, unexpected and wrong-shape key at once, and nothing is read', async () => {
    const dir = await edited('gpt2-tiny', 'three-faults', (all) => ({
      ...without(all, 'transformer.ln_f.bias', 'transformer.wpe.weight'),
      'transformer.wpe.weight': ones([8, 32]),
      'transformer.h.0.attn.c_attn.scale': ones([3]),
    }));
    expect(() => GPT2LMHeadModel.fromPretrained(dir)).toThrow(CheckpointError);
    const message = (() => {
      try {
        GPT2LMHeadModel.fromPretrained(dir);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toContain(`${dir}: does not fit GPT2LMHeadModel`);
    expect(message).toContain('1 missing (transformer.ln_f.bias)');
    expect(message).toContain('1 unexpected (transformer.h.0.attn.c_attn.scale)');
    expect(message).toContain('1 wrong shape (transformer.wpe.weight: checkpoint [8, 32], model [16, 32])');
    // Into a loaded model: it keeps every value it had.
    const model = GPT2LMHeadModel.fromPretrained(golden('gpt2-tiny'));
    const before = await read(() => Object.values(model.stateDict()));
    expect(() => model.loadPretrainedWeights(dir)).toThrow(CheckpointError);
    expect(await read(() => Object.values(model.stateDict()))).toEqual(before);
    model.dispose();
  });

  it.each([
    ['gpt2-tiny', 'transformer.h.0.ln_1.weight', (d: string) => GPT2ForSequenceClassification.fromPretrained(d)],
    ['bert-tiny-cls', 'bert.encoder.layer.0.attention.self.query.weight', (d: string) => BertForSequenceClassification.fromPretrained(d)],
  ] as const)('a classification model from %s missing %s is refused: only the new head may be missing', async (name, dropped, load) => {
    const dir = await edited(name, `no-${dropped}`, (all) => without(all, dropped, 'classifier.weight', 'classifier.bias'));
    expect(() => load(dir)).toThrow(CheckpointError);
    expect(() => load(dir)).toThrow(`1 missing (${dropped})`);
  });

  it('a missing new head is initialised from the seed and named in one notice; strict: true refuses it', async () => {
    const reports: { initialised: string[] }[] = [];
    const notices: string[] = [];
    const model = GPT2ForSequenceClassification.fromPretrained(golden('gpt2-tiny'), {
      config: { num_labels: 4 },
      onNotice: (m, r) => {
        notices.push(m);
        reports.push(r);
      },
    });
    expect(notices).toEqual([`${golden('gpt2-tiny')} → GPT2ForSequenceClassification: initialised from the seed, not in the checkpoint (train before use): score.weight`]);
    expect(reports[0].initialised).toEqual(['score.weight']);
    expect(model.config.num_labels).toBe(4);
    model.dispose();
    expect(() => GPT2ForSequenceClassification.fromPretrained(golden('gpt2-tiny'), { strict: true })).toThrow('1 missing (score.weight)');
  });

  it('a bare checkpoint with a head stored beside it: the head keeps its name (used, or named as another task\'s)', async () => {
    const dir = await edited('gpt2-original', 'bare-with-head', (all) => ({ ...all, 'lm_head.weight': all['wte.weight'] }));
    const notices: string[] = [];
    const cls = GPT2ForSequenceClassification.fromPretrained(dir, { onNotice: (m) => notices.push(m) });
    expect(notices).toEqual([expect.stringMatching(/initialised from the seed.*: score\.weight; not used, another task's head: lm_head\.weight$/)]);
    cls.dispose();
    GPT2LMHeadModel.fromPretrained(dir, { strict: true }).dispose();
  });

  it('an untied LM head missing from the checkpoint is an error, not a random head (it is no new head)', async () => {
    const dir = await edited('llama2-tiny', 'llama2-no-head', (all) => without(all, 'lm_head.weight'));
    expect(() => LlamaForCausalLM.fromPretrained(dir)).toThrow('1 missing (lm_head.weight)');
  });

  it('a legacy name beside its modern one is refused: stored twice', async () => {
    const dir = await edited('bert-published', 'gamma-and-weight', (all) => ({ ...all, 'bert.embeddings.LayerNorm.weight': ones([32]) }));
    expect(() => BertForSequenceClassification.fromPretrained(dir)).toThrow(
      "1 stored twice ('bert.embeddings.LayerNorm.gamma' and 'bert.embeddings.LayerNorm.weight' are both bert.embeddings.LayerNorm.weight)",
    );
  });

  it.each(PROTOTYPE_NAMES)('a tensor named %j is an unexpected key like any other (fromPretrained, loadWeights, loadStateDict)', (name) => {
    const dir = withExtraTensor(name);
    expect(() => GPT2LMHeadModel.fromPretrained(dir)).toThrow(CheckpointError);
    expect(() => GPT2LMHeadModel.fromPretrained(dir)).toThrow(`1 unexpected (${name})`);
    const model = GPT2LMHeadModel.fromPretrained(golden('gpt2-tiny'));
    expect(() => loadWeights(model, dir)).toThrow(`1 unexpected (${name})`);
    const sd: Record<string, Tensor> = { ...model.stateDict() };
    const extra = tensor([1, 2]);
    Object.defineProperty(sd, name, { value: extra, enumerable: true });
    expect(() => model.loadStateDict(sd)).toThrow(ShapeError);
    expect(() => model.loadStateDict(sd)).toThrow(`unexpected keys: ${name}`);
    extra.dispose();
    model.dispose();
  });

  it('a module whose parameter is named like an Object.prototype member still finds it in the checkpoint', async () => {
    class Odd extends Module {
      constructor() {
        super();
        Object.defineProperty(this, 'constructor', { value: parameter(tensor([0, 0])), enumerable: true, writable: true });
      }
    }
    const dir = join(tmp, 'odd');
    mkdirSync(dir, { recursive: true });
    const stored = { constructor: tensor([3, 4]) }; // an own key, as a literal makes it
    await saveSafetensorsAsync(join(dir, 'model.safetensors'), stored);
    const odd = new Odd();
    loadWeights(odd, dir);
    expect(await read(() => odd.stateDict().constructor)).toEqual([3, 4]);
    // And the same module finds nothing of its own in a file that has no 'constructor'.
    const dir2 = join(tmp, 'odd-none');
    mkdirSync(dir2, { recursive: true });
    await saveSafetensorsAsync(join(dir2, 'model.safetensors'), { other: stored.constructor });
    expect(() => loadWeights(odd, dir2)).toThrow('1 missing (constructor); 1 unexpected (other)');
    odd.dispose();
    stored.constructor.dispose();
  });

  it('300 rejected loads (wrong shape, missing, unexpected, unreadable file) leave no tensor and no byte behind', async () => {
    const dirs = [
      await edited('gpt2-tiny', 'leak-shape', (all) => ({ ...without(all, 'transformer.ln_f.bias'), 'transformer.ln_f.bias': ones([3]) })),
      await edited('gpt2-tiny', 'leak-missing', (all) => without(all, 'transformer.h.1.mlp.c_fc.weight')),
      withExtraTensor('constructor'),
      join(tmp, 'leak-truncated'),
    ];
    mkdirSync(dirs[3], { recursive: true });
    copyFileSync(join(golden('gpt2-tiny'), 'config.json'), join(dirs[3], 'config.json'));
    writeFileSync(join(dirs[3], 'model.safetensors'), readFileSync(join(golden('gpt2-tiny'), 'model.safetensors')).subarray(0, 4000));
    const before = memoryStats();
    for (let i = 0; i < 300; i++) {
      const dir = dirs[i % dirs.length];
      expect(() => GPT2LMHeadModel.fromPretrained(dir)).toThrow(i % dirs.length === 3 ? SafetensorsError : CheckpointError);
    }
    expect(leakDelta(before, memoryStats())).toEqual({ liveTensors: 0, bytesInUse: 0 });
  });

  it('a failed load of each family frees what it built (llama, qwen2, mistral, bert, roberta)', async () => {
    const cases = [
      ['llama3-tiny', 'model.norm.weight', (d: string) => AutoModelForCausalLM.fromPretrained(d)],
      ['qwen2-tiny', 'model.layers.1.self_attn.v_proj.bias', (d: string) => AutoModelForCausalLM.fromPretrained(d)],
      ['mistral-tiny', 'lm_head.weight', (d: string) => AutoModelForCausalLM.fromPretrained(d)],
      ['bert-published', 'bert.pooler.dense.weight', (d: string) => AutoModelForSequenceClassification.fromPretrained(d)],
      ['roberta-published', 'roberta.encoder.layer.0.output.dense.bias', (d: string) => AutoModelForSequenceClassification.fromPretrained(d)],
    ] as const;
    const dirs: string[] = [];
    for (const [name, dropped] of cases) dirs.push(await edited(name, `leak-${name}`, (all) => without(all, dropped)));
    const before = memoryStats();
    for (let round = 0; round < 20; round++) cases.forEach(([, dropped, load], i) => expect(() => load(dirs[i])).toThrow(`1 missing (${dropped})`));
    expect(leakDelta(before, memoryStats())).toEqual({ liveTensors: 0, bytesInUse: 0 });
  });
});

/** One way bert-base-uncased's checkpoint may be stored, and at most one fault in it. */
interface Variant {
  prefixed: boolean;
  legacyNames: boolean[];
  positionIds: boolean;
  otherHeads: boolean;
  classifier: boolean;
  fault: null | { kind: 'drop' | 'junk' | 'reshape'; at: number };
}

const variant = fc.record<Variant>({
  prefixed: fc.boolean(),
  legacyNames: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  positionIds: fc.boolean(),
  otherHeads: fc.boolean(),
  classifier: fc.boolean(),
  fault: fc.option(fc.record({ kind: fc.constantFrom('drop' as const, 'junk' as const, 'reshape' as const), at: fc.nat() }), { nil: null }),
});

describe.each(backendsUnderTest())('loading any published arrangement on $name', (backend) => {
  beforeAll(() => backend.start());

  // The checkpoint is written from the variant (the oracle of which names mean what); the encoder's output is
  // checked against PyTorch's (tests/golden/bert_published.py), so a tensor loaded under the wrong name shows.
  // 25 arrangements; 10 on a GPU backend, where a software adapter takes ~1 s for each.
  test.prop([variant], { numRuns: backend.syncReads ? 25 : 10 })(
    'BERT stored bare or prefixed, with legacy or modern LayerNorm names, buffers, heads or not, loads the same encoder; one fault is named',
    async (v) => {
      const ref = loadSafetensors(join(golden('bert-published'), 'golden.safetensors'));
      const all = loadSafetensors(join(golden('bert-published'), 'model.safetensors'));
      const stored: Record<string, Tensor> = {};
      let norm = 0;
      for (const [key, t] of Object.entries(all)) {
        if (key.startsWith('cls.') && !(v.otherHeads && v.prefixed)) continue;
        if (key.endsWith('position_ids') || key === 'cls.predictions.decoder.weight') continue;
        let name = key.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
        if (name.endsWith('LayerNorm.weight') && v.legacyNames[norm++ % 12]) name = name.replace(/weight$/, 'gamma');
        else if (name.endsWith('LayerNorm.bias') && v.legacyNames[norm++ % 12]) name = name.replace(/bias$/, 'beta');
        stored[v.prefixed || !name.startsWith('bert.') ? name : name.slice('bert.'.length)] = t;
      }
      const prefix = v.prefixed ? 'bert.' : '';
      if (v.positionIds) stored[`${prefix}embeddings.position_ids`] = tensor([Array.from({ length: 16 }, (_, i) => i)], { dtype: 'int32' });
      if (v.classifier) {
        stored['classifier.weight'] = ones([2, 32]);
        stored['classifier.bias'] = ones([2]);
      }
      const encoderKeys = Object.keys(stored).filter((k) => k.startsWith(`${prefix}encoder.`));
      let faulty = '';
      if (v.fault) {
        faulty = v.fault.kind === 'junk' ? `${prefix}encoder.layer.0.junk` : encoderKeys[v.fault.at % encoderKeys.length];
        if (v.fault.kind === 'drop') delete stored[faulty];
        else stored[faulty] = ones([v.fault.kind === 'junk' ? 1 : 5]);
      }
      const dir = join(tmp, 'variant');
      mkdirSync(dir, { recursive: true });
      await saveSafetensorsAsync(join(dir, 'model.safetensors'), stored);
      copyFileSync(join(golden('bert-published'), 'config.json'), join(dir, 'config.json'));
      const made = Object.values(stored).filter((t) => !Object.values(all).includes(t));
      for (const t of [...Object.values(all), ...made]) t.dispose();

      const reports: LoadReport[] = [];
      const load = () => BertForSequenceClassification.fromPretrained(dir, { config: { num_labels: 2 }, onNotice: (_, r) => reports.push(r) });
      if (v.fault) {
        const what = { drop: 'missing', junk: 'unexpected', reshape: 'wrong shape' }[v.fault.kind];
        // Missing keys are named as the model names them; unexpected and wrong-shape ones as the file does.
        const named = v.fault.kind !== 'drop' ? faulty : `bert.${faulty.replace(/^bert\./, '').replace(/gamma$/, 'weight').replace(/beta$/, 'bias')}`;
        expect(load).toThrow(`1 ${what} (${named}`);
        for (const t of Object.values(ref)) t.dispose();
        return;
      }
      const model = load().eval();
      expect(reports.length).toBe(!v.classifier || (v.otherHeads && v.prefixed) ? 1 : 0);
      expect(reports[0]?.initialised ?? []).toEqual(v.classifier ? [] : ['classifier.weight', 'classifier.bias']);
      expect((reports[0]?.unused ?? []).length).toBe(v.otherHeads && v.prefixed ? 7 : 0);
      const got = await read(() => noGrad(() => model.bert.forward(ref.input_ids, { attentionMask: ref.attention_mask, tokenTypeIds: ref.token_type_ids })));
      const want = await read(() => ({ hidden: ref.hidden, pooled: ref.pooled }));
      expect(relError(got.hidden, want.hidden)).toBeLessThan(1e-5);
      expect(relError(got.pooled!, want.pooled)).toBeLessThan(1e-5);
      model.dispose();
      for (const t of Object.values(ref)) t.dispose();
    },
  );
});

describe('the model_type registry (AutoModel…)', () => {
  it.each([
    ['gpt2-original', AutoModelForCausalLM, 'GPT2LMHeadModel'],
    ['llama2-tiny', AutoModelForCausalLM, 'LlamaForCausalLM'],
    ['qwen2-tiny', AutoModelForCausalLM, 'Qwen2ForCausalLM'],
    ['mistral-tiny', AutoModelForCausalLM, 'MistralForCausalLM'],
    ['bert-published', AutoModelForSequenceClassification, 'BertForSequenceClassification'],
    ['roberta-published', AutoModelForSequenceClassification, 'RobertaForSequenceClassification'],
  ] as const)('%s → %s', (name, Auto, architecture) => {
    const model = Auto.fromPretrained(golden(name), { onNotice: () => {} });
    expect(model.architecture).toBe(architecture);
    expect(model.configJson().architectures).toEqual([architecture]);
    model.dispose();
  });

  it('a model_type with no class for the task, or none known, is a ConfigError naming the file and the choices', () => {
    const file = join(golden('bert-published'), 'config.json');
    expect(() => AutoModelForCausalLM.fromPretrained(golden('bert-published'))).toThrow(ConfigError);
    expect(() => AutoModelForCausalLM.fromPretrained(golden('bert-published'))).toThrow(`${file}: model_type 'bert' has no causal-lm model here (causal-lm: gpt2, llama, qwen2, mistral)`);
    const dir = join(tmp, 'unknown-type');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'toString' }));
    expect(() => AutoModelForCausalLM.fromPretrained(dir)).toThrow("model_type 'toString' has no causal-lm model here");
    writeFileSync(join(dir, 'config.json'), JSON.stringify({}));
    expect(() => AutoModelForCausalLM.fromPretrained(dir)).toThrow("missing field 'model_type'");
  });
});
