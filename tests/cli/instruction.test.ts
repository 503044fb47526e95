import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  batchTensors,
  BpeTokenizer,
  encodeInstruction,
  encodeInstructions,
  loadInstructionSet,
  loadTaskModel,
  makeBatches,
  packExamples,
  PLAIN_FORMAT,
  readInstructionData,
  renderPrompt,
} from '@siftjs/cli';
import { Gpt2Tokenizer } from '@siftjs/models';
import { noGrad } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import '@siftjs/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyChatLlama } from './instruct-fixture.js';

const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'siftjs-instruct-'));
const modelDir = join(root, 'chat-llama');
const data = join(root, 'qa.jsonl');

function sift(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SIFT_THREADS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  writeTinyChatLlama(modelDir);
  // 240 examples of the bundled set as prompt/response JSONL: the file path the command reads for users' data.
  const rows = loadInstructionSet().examples.filter((_, i) => i % 3 === 0).map((e) => JSON.stringify({ prompt: e.messages[0].content, response: e.messages[1].content }));
  writeFileSync(data, `${rows.join('\n')}\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('instruction data: formatting and the response mask', () => {
  it('without a chat template: the plain format, the prompt masked, the response and the end-of-text token trained', () => {
    const tok = new Gpt2Tokenizer();
    const ex = { messages: [{ role: 'user', content: 'Who wrote Moby-Dick?' }, { role: 'assistant', content: 'Herman Melville.' }] };
    const { ids, targetMask } = encodeInstruction(tok, ex);
    const prompt = tok.encode('### User:\nWho wrote Moby-Dick?\n\n### Assistant:\n');
    const reply = [...tok.encode('Herman Melville.'), 50256];
    expect(renderPrompt(tok, ex.messages.slice(0, 1))).toEqual({ text: `${PLAIN_FORMAT.header('user')}Who wrote Moby-Dick?\n\n${PLAIN_FORMAT.header('assistant')}`, templated: false });
    expect(ids).toEqual([...prompt, ...reply]);
    expect(targetMask).toEqual([...prompt.map(() => 0), ...reply.map(() => 1)]);
  });

  it("with a chat template: the reply is what the template adds after the generation prompt, its end-of-turn included", () => {
    const tok = BpeTokenizer.fromDir(modelDir);
    const ex = { messages: [{ role: 'user', content: 'Who wrote Moby-Dick?' }, { role: 'assistant', content: 'Herman Melville.' }] };
    const { ids, targetMask } = encodeInstruction(tok, ex);
    const sys = '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n';
    const prompt = tok.encode(`${sys}<|im_start|>user\nWho wrote Moby-Dick?<|im_end|>\n<|im_start|>assistant\n`);
    const reply = tok.encode('Herman Melville.<|im_end|>\n');
    expect(ids).toEqual([...prompt, ...reply]);
    expect(targetMask).toEqual([...prompt.map(() => 0), ...reply.map(() => 1)]);
    expect(reply.filter((t) => t === tok.eosId)).toHaveLength(1); // <|im_end|> is one token, and trained
  });

  it('the loss is the mean next-token cross-entropy over the response tokens only, as computed by hand in float64', async () => {
    const tm = loadTaskModel(modelDir, 'causal-lm');
    const exs = loadInstructionSet().examples.slice(40, 43);
    const { encoded } = encodeInstructions(tm.tokenizer, exs, 96);
    const [batch] = makeBatches(encoded, { batchSize: 3, padId: tm.tokenizer.padId });
    const [rows, width] = batch.shape;
    const t = batchTensors(batch);
    const { loss, logits } = noGrad(() => tm.forward(t.ids, t.mask, t.labels));
    const got = (await loss!.toArray())[0];
    const lg = Float64Array.from(await logits.toArray());
    const vocab = logits.shape[2];
    // By hand: position p predicts token p + 1; it counts when token p + 1 is a response token of its row.
    let sum = 0;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const m = encoded[batch.indices[r]].targetMask!;
      for (let p = 0; p + 1 < width; p++) {
        if (p + 1 >= m.length || !m[p + 1]) continue;
        const row = lg.subarray((r * width + p) * vocab, (r * width + p + 1) * vocab);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
        sum += lse - row[batch.inputIds[r * width + p + 1]];
        count++;
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(Math.abs(got - sum / count)).toBeLessThan(1e-5 * (sum / count));
    // The prompt is not in it: the loss over every real token differs.
    const { loss: all } = noGrad(() => tm.forward(t.ids, t.mask, null));
    expect(Math.abs((await all!.toArray())[0] - got)).toBeGreaterThan(1e-3);
    for (const x of [loss!, logits, all!]) x.dispose();
    t.dispose();
    tm.model.dispose();
  });

  test.prop([fc.array(fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 2, max: 9 })])(
    'packing keeps every token and its target flag, in order, in windows of exactly the length (the last may be shorter)',
    (flags, length) => {
      let next = 0;
      const encoded = flags.map((f) => ({ ids: Int32Array.from(f, () => next++), targetMask: Int32Array.from(f, (b) => (b ? 1 : 0)) }));
      const packed = packExamples(encoded, length);
      const allIds = encoded.flatMap((e) => Array.from(e.ids));
      const allMask = encoded.flatMap((e) => Array.from(e.targetMask));
      // Windows are cut every `length` tokens; a window is dropped only when it has nothing to predict.
      for (let s = 0, w = 0; s < allIds.length; s += length) {
        const ids = allIds.slice(s, s + length);
        const m = allMask.slice(s, s + length);
        if (!m.slice(1).includes(1)) continue;
        expect(Array.from(packed[w].ids)).toEqual(ids);
        expect(Array.from(packed[w].targetMask!)).toEqual(m);
        w++;
      }
      packed.forEach((p, i) => i < packed.length - 1 && expect(p.ids.length).toBe(length));
    },
  );

  it('reads prompt/response and messages rows; a bad row names the file, the line and the defect', () => {
    const f = join(root, 'mixed.jsonl');
    writeFileSync(f, `${JSON.stringify({ prompt: 'a', response: 'b', system: 's' })}\n${JSON.stringify({ messages: [{ role: 'user', content: 'c' }, { role: 'assistant', content: 'd' }] })}\n`);
    expect(readInstructionData(f).examples.map((e) => e.messages.map((m) => m.role))).toEqual([['system', 'user', 'assistant'], ['user', 'assistant']]);
    const bad = join(root, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ prompt: 'a', response: 'b' })}\n${JSON.stringify({ messages: [{ role: 'user', content: 'c' }, { role: 'user', content: 'd' }] })}\n`);
    expect(() => readInstructionData(bad)).toThrow(`${bad}: line 2: the last message must be the assistant's`);
    writeFileSync(bad, `${JSON.stringify({ question: 'a' })}\n`);
    expect(() => readInstructionData(bad)).toThrow(`${bad}: line 1 has no field 'prompt' and no 'messages'`);
  });
});

describe('sift finetune --task instruction, end to end', () => {
  it('instruction-tunes a tiny LLaMA-family chat model: held-out response loss falls; eval and generate use the delta', () => {
    const out = join(root, 'run');
    const r = sift(['finetune', '--model', modelDir, '--data', data, '--task', 'instruction', '--method', 'sift', '--density', '0.05', '--lr', '0.01', '--epochs', '2', '--batch-size', '16', '--max-length', '96', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.task).toBe('instruction');
    expect(m.heldOut.loss).toBeLessThan(m.heldOutLossBefore - 0.2);
    expect(m.heldOut.perplexity).toBeCloseTo(Math.exp(m.heldOut.loss), 6);

    // eval with the delta scores the held-out responses the same way, and the base model worse.
    const withDelta = sift(['eval', '--model', modelDir, '--data', data, '--task', 'instruction', '--max-length', '96', '--delta', join(out, 'delta.safetensors')]);
    const base = sift(['eval', '--model', modelDir, '--data', data, '--task', 'instruction', '--max-length', '96']);
    expect(withDelta.status, withDelta.stderr).toBe(0);
    expect(JSON.parse(withDelta.stdout).loss).toBeLessThan(JSON.parse(base.stdout).loss - 0.2);

    // The delta as a PEFT adapter directory: eval --delta reads it and scores exactly as the delta file does.
    const peft = join(root, 'peft-adapter');
    const ex = sift(['export', '--format', 'peft', '--model', modelDir, '--delta', join(out, 'delta.safetensors'), '--out', peft]);
    expect(ex.status, ex.stderr).toBe(0);
    const viaPeft = sift(['eval', '--model', modelDir, '--data', data, '--task', 'instruction', '--max-length', '96', '--delta', peft]);
    expect(viaPeft.status, viaPeft.stderr).toBe(0);
    expect(JSON.parse(viaPeft.stdout).loss).toBe(JSON.parse(withDelta.stdout).loss);

    // generate --chat with the delta prints the reply only (greedy: deterministic); without the delta it differs.
    const gen = (extra: string[]) => sift(['generate', '--model', modelDir, '--chat', '--prompt', 'Who gave the State of the Union address of 1850?', '--temperature', '0', '--max-new-tokens', '8', ...extra]);
    const tuned = gen(['--delta', join(out, 'delta.safetensors')]);
    expect(tuned.status, tuned.stderr).toBe(0);
    expect(tuned.stdout).not.toContain('State of the Union address of 1850');
    expect(tuned.stdout).not.toBe(gen([]).stdout);
  }, 300_000);

  it('--packing and --task mistakes are one clear line and exit code 2', () => {
    const r = sift(['finetune', '--model', modelDir, '--data', data, '--task', 'causal-lm', '--packing', '--out', join(root, 'x')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('sift: --packing applies to --task instruction');
    mkdirSync(join(root, 'csv'), { recursive: true });
    writeFileSync(join(root, 'csv', 'd.csv'), 'prompt,response\na,b\n');
    const c = sift(['finetune', '--model', modelDir, '--data', join(root, 'csv', 'd.csv'), '--task', 'instruction', '--out', join(root, 'y')]);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain("instruction data must be JSONL");
  });
});
