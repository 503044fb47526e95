import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '@siftjs/backend-cpu';
import { DELTA_FORMAT, saveDelta, type SparseDelta } from '@siftjs/sift-optimizer';
import { writeTinyFixture } from './fixture.js';

/** The parameter every fixture delta touches, and its shape in the tiny GPT-2 ([n_embd, 3·n_embd], Conv1D layout). */
export const DELTA_PARAM = 'transformer.h.0.attn.c_attn.weight';
const SHAPE = [16, 48];

/**
 * Every file the bad-input cases name, under `root`: the tiny GPT-2 (`model/`) and its mails (`mails.jsonl`), then
 * broken copies of each — a model directory per config defect, data files that are empty, malformed, a directory,
 * a FIFO nobody writes to, /dev/zero, stdin, a 3 GiB sparse file, texts longer than the model's context, and sparse deltas that are missing pieces, made for
 * another model, or stored in a dtype deltas never use.
 */
export function writeBadInputFixtures(root: string): void {
  const model = join(root, 'model');
  writeTinyFixture(model, join(root, 'mails.jsonl'), 24);
  const fifo = (path: string) => execFileSync('mkfifo', [path]);
  writeFileSync(join(root, 'afile'), 'a plain file\n');

  // Data.
  writeFileSync(join(root, 'onelabel.jsonl'), '{"text":"a","label":"ham"}\n{"text":"b","label":"ham"}\n');
  writeFileSync(join(root, 'empty.jsonl'), '');
  writeFileSync(join(root, 'malformed.jsonl'), '{"text":"a","label":"ham"}\n{"text": oops}\n');
  writeFileSync(join(root, 'notes.txt'), 'free money\n');
  writeFileSync(join(root, 'ragged.csv'), 'text,label\nfree money,spam\nlunch\n');
  mkdirSync(join(root, 'datadir.jsonl'));
  symlinkSync('loop', join(root, 'loop')); // a symbolic link to itself
  fifo(join(root, 'fifo.jsonl'));
  symlinkSync('/dev/zero', join(root, 'zero.jsonl'));
  symlinkSync('/dev/stdin', join(root, 'stdin.jsonl'));
  const long = (label: string) => JSON.stringify({ text: 'free money offer click winner '.repeat(20), label });
  writeFileSync(join(root, 'long.jsonl'), `${Array.from({ length: 8 }, (_, i) => long(i % 2 ? 'spam' : 'ham')).join('\n')}\n`);
  writeFileSync(join(root, 'huge.jsonl'), '');
  truncateSync(join(root, 'huge.jsonl'), 3 * 2 ** 30); // sparse: no disk used, but stat says 3 GiB

  // Model directories, each with one defect.
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>;
  const variant = (name: string, edit: (dir: string) => void) => {
    const dir = join(root, name);
    cpSync(model, dir, { recursive: true });
    edit(dir);
  };
  const withConfig = (patch: Record<string, unknown>) => (dir: string) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...patch }));
  variant('m-nhead0', withConfig({ n_head: 0 }));
  variant('m-act', withConfig({ activation_function: 'swishy' }));
  variant('m-div', withConfig({ n_head: 3 }));
  variant('m-type', withConfig({ model_type: 'gpt5' }));
  variant('m-vocab', withConfig({ vocab_size: 400 }));
  variant('m-bert', withConfig({ model_type: 'bert', hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 32 }));
  variant('m-cfgjson', (dir) => writeFileSync(join(dir, 'config.json'), '{"model_type": "gpt2",'));
  variant('m-cfgdir', (dir) => {
    rmSync(join(dir, 'config.json'));
    mkdirSync(join(dir, 'config.json'));
  });
  variant('m-cfgfifo', (dir) => {
    rmSync(join(dir, 'config.json'));
    fifo(join(dir, 'config.json'));
  });
  variant('m-tokfifo', (dir) => {
    rmSync(join(dir, 'tokenizer.json'));
    fifo(join(dir, 'tokenizer.json'));
  });
  variant('m-noweights', (dir) => rmSync(join(dir, 'model.safetensors')));
  variant('m-shardfifo', (dir) => {
    rmSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { 'transformer.wte.weight': '../fifo.safetensors' } }));
  });
  variant('m-garbage', (dir) => writeFileSync(join(dir, 'model.safetensors'), 'not a safetensors file'));

  // Sparse deltas.
  const delta = (sparse: SparseDelta['sparse'], tensorFingerprints: Record<string, string> = {}): SparseDelta => ({
    sparse,
    dense: {},
    metadata: { density: 0.01, targets: ['attn.c_attn'], dense: [], selection: 'first-batch', fingerprint: '', tensorFingerprints },
  });
  const entry = (shape: number[]) => ({ shape, indices: Int32Array.from([0, 5]), values: Float32Array.from([0.5, -0.5]) });
  saveDelta(join(root, 'delta.safetensors'), delta({ [DELTA_PARAM]: entry(SHAPE) }));
  saveDelta(join(root, 'other-delta.safetensors'), delta({ [DELTA_PARAM]: entry([32, 96]) }));
  saveDelta(join(root, 'unknown-delta.safetensors'), delta({ 'transformer.h.7.attn.c_attn.weight': entry(SHAPE) }));
  saveDelta(join(root, 'wrongbase-delta.safetensors'), delta({ [DELTA_PARAM]: entry(SHAPE) }, { [DELTA_PARAM]: '0123456789abcdef' }));
  writeFileSync(join(root, 'i8-delta.safetensors'), i8Delta());
  writeFileSync(join(root, 'garbage.safetensors'), Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 123]));
  mkdirSync(join(root, 'deltadir.safetensors'));
  fifo(join(root, 'fifo.safetensors'));
}

/** A sparse delta whose increments are stored as I8, a dtype safetensors allows and deltas never use (by hand). */
function i8Delta(): Buffer {
  const meta = {
    format: DELTA_FORMAT,
    version: '1',
    shapes: JSON.stringify({ [DELTA_PARAM]: SHAPE }),
    density: '0.01',
    targets: '[]',
    dense: '[]',
    selection: 'first-batch',
    fingerprint: '',
    tensor_fingerprints: '{}',
  };
  const header = {
    __metadata__: meta,
    [`${DELTA_PARAM}.indices`]: { dtype: 'I32', shape: [2], data_offsets: [0, 8] },
    [`${DELTA_PARAM}.delta`]: { dtype: 'I8', shape: [2], data_offsets: [8, 10] },
  };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.alloc(10);
  data.writeInt32LE(0, 0);
  data.writeInt32LE(5, 4);
  data.writeInt8(3, 8);
  data.writeInt8(-3, 9);
  return Buffer.concat([size, Buffer.from(json), data]);
}
