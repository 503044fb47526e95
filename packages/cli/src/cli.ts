import { Command, InvalidArgumentError, Option } from 'commander';
import { METHODS, type MethodName } from '@siftjs/sift-optimizer';
import { useBackend } from './backend.js';
import { COMPARE_DEFAULTS } from './compare.js';
import { analyzeCommand } from './commands/analyze.js';
import { benchCommand } from './commands/bench.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/evaluate.js';
import { finetune } from './commands/finetune.js';
import { generateCommand } from './commands/generate.js';
import { mergeCommand } from './commands/merge.js';
import { isInputError } from './errors.js';
import { PRETRAIN_DEFAULTS, pretrain } from './pretrain.js';

const num = (what: string, { integer = false, min = -Infinity } = {}) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new InvalidArgumentError(`${what} must be ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, got '${v}'`);
  }
  return n;
};
const int = (what: string, min = 1) => num(what, { integer: true, min });
const fractionList = (v: string) => v.split(',').map((x) => num('each fraction')(x));

const backendOption = () => new Option('--backend <name>', 'cpu, webgpu or cuda').default('cpu');
const dataOptions = (c: Command) =>
  c
    .option('--text-field <name>', 'the field (JSONL) or column (CSV) holding the text', 'text')
    .option('--label-field <name>', 'the field or column holding the label', 'label')
    .option('--max-length <n>', 'tokens kept per example', int('--max-length'), 128);

/** The `sift` program. Errors in the user's input print one line and exit with code 2. */
export function program(): Command {
  const p = new Command('sift').description('Sparse Increment Fine-Tuning of transformers, in TypeScript');
  p.configureOutput({ outputError: (s, write) => write(s) });
  p.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

  dataOptions(
    p
      .command('finetune')
      .description('fine-tune a model on a dataset with SIFT or a baseline, evaluating each epoch')
      .requiredOption('--model <dir>', 'a Hugging Face model directory (config.json, model.safetensors, tokenizer)')
      .requiredOption('--data <file>', 'JSONL / CSV / TSV with text and label fields, or a bundled corpus: spam-assassin, sotu, moby-dick')
      .option('--task <task>', 'classification or causal-lm', 'classification')
      .option('--method <method>', METHODS.join(' | '), 'sift')
      .option('--density <x>', 'share of each targeted matrix that trains (sift, random)', num('--density', { min: 0 }), 0.01)
      .option('--lora-rank <r>', 'LoRA rank (default: equal trainable parameters to SIFT at --density)', int('--lora-rank'))
      .addOption(backendOption())
      .option('--epochs <n>', 'passes over the training split', int('--epochs'), 3)
      .option('--lr <lr>', 'peak learning rate (linear warm-up over 6%, then linear decay)', num('--lr', { min: 0 }), 1e-3)
      .option('--batch-size <n>', 'examples per step', int('--batch-size'), 16)
      .option('--held-out <x>', 'share of each class held out for evaluation', num('--held-out', { min: 0 }), 0.1)
      .option('--seed <n>', 'seeds the split, shuffling and initialisation', int('--seed', 0), 0)
      .requiredOption('--out <dir>', 'where the logs, checkpoints and result go')
      .option('--resume', 'continue from the checkpoint in --out', false)
      .option('--stop-after <epochs>', 'stop after this many epochs, leaving a checkpoint to --resume', int('--stop-after'))
      .option('--allow-divergence', 'go on when the training loss passes 100× its starting value (a NaN or an infinity stops the run regardless)', false),
  ).action(async (o) => {
    await useBackend(o.backend);
    await finetune({ ...o, heldOut: o.heldOut, batchSize: o.batchSize, maxLength: o.maxLength, textField: o.textField, labelField: o.labelField });
  });

  dataOptions(
    p
      .command('eval')
      .description('loss and accuracy of a model (and optionally a sparse delta) on a dataset')
      .requiredOption('--model <dir>', 'model directory')
      .requiredOption('--data <file>', 'dataset file or bundled corpus')
      .option('--task <task>', 'classification or causal-lm', 'classification')
      .option('--delta <file>', 'a sparse delta to apply first')
      .option('--batch-size <n>', 'examples per batch', int('--batch-size'), 32)
      .addOption(backendOption()),
  ).action(async (o) => {
    await useBackend(o.backend);
    await evalCommand(o);
  });

  p.command('generate')
    .description('continue a prompt with a causal language model')
    .requiredOption('--model <dir>', 'model directory')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--max-new-tokens <n>', 'tokens to add', int('--max-new-tokens'), 40)
    .option('--temperature <t>', '0 is greedy', num('--temperature', { min: 0 }), 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens', int('--top-k'))
    .option('--seed <n>', 'seeds the sampler', int('--seed', 0), 0)
    .option('--delta <file>', 'a sparse delta to apply first')
    .addOption(backendOption())
    .action(async (o) => {
      await useBackend(o.backend);
      await generateCommand(o);
    });

  p.command('merge')
    .description('write base + sparse delta(s) as a plain Hugging Face checkpoint')
    .requiredOption('--base <dir>', 'the base checkpoint directory')
    .requiredOption('--delta <file...>', 'one or more delta files, applied in order')
    .option('--scale <x>', 'multiplies every increment', num('--scale'), 1)
    .requiredOption('--out <dir>', 'the new checkpoint directory (must not exist)')
    .action(async (o) => {
      await useBackend('cpu');
      mergeCommand(o);
    });

  dataOptions(
    p
      .command('analyze')
      .description("share of the gradient norm in the top x% of components, pretrained vs random init (the paper's Figure 3(d))")
      .requiredOption('--model <dir>', 'model directory')
      .requiredOption('--data <file>', 'dataset file or bundled corpus')
      .option('--task <task>', 'classification or causal-lm', 'classification')
      .option('--fractions <list>', 'comma-separated fractions of components', fractionList, [0.001, 0.01, 0.05, 0.1])
      .option('--batches <n>', 'batches whose gradients are summed', int('--batches'), 4)
      .option('--batch-size <n>', 'examples per batch', int('--batch-size'), 16)
      .option('--seed <n>', 'seeds the batches and the random initialisation', int('--seed', 0), 0)
      .option('--out <dir>', 'where the SVG and JSON go', 'analysis')
      .addOption(backendOption()),
  ).action(async (o) => {
    await useBackend(o.backend);
    await analyzeCommand(o);
  });

  const d = PRETRAIN_DEFAULTS;
  p.command('pretrain')
    .description('pretrain a small GPT-2 (and its BPE tokenizer) on the bundled State of the Union + Moby-Dick corpora')
    .requiredOption('--out <dir>', 'the model directory to write')
    .option('--vocab-size <n>', 'BPE vocabulary', int('--vocab-size', 300), d.vocabSize)
    .option('--layers <n>', 'transformer blocks', int('--layers'), d.nLayer)
    .option('--width <n>', 'embedding width', int('--width'), d.nEmbd)
    .option('--heads <n>', 'attention heads', int('--heads'), d.nHead)
    .option('--context <n>', 'tokens per window (n_positions)', int('--context'), d.context)
    .option('--batch-size <n>', 'windows per step', int('--batch-size'), d.batchSize)
    .option('--steps <n>', 'optimizer steps', int('--steps'), d.steps)
    .option('--lr <lr>', 'peak learning rate', num('--lr', { min: 0 }), d.lr)
    .option('--seed <n>', 'seed', int('--seed', 0), d.seed)
    .addOption(backendOption())
    .action(async (o) => {
      await useBackend(o.backend);
      const command = `sift ${process.argv.slice(2).join(' ')}`;
      const r = await pretrain({ ...d, out: o.out, vocabSize: o.vocabSize, nLayer: o.layers, nEmbd: o.width, nHead: o.heads, context: o.context, batchSize: o.batchSize, steps: o.steps, lr: o.lr, seed: o.seed, command });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });

  p.command('bench')
    .description('run the benchmark suite of this checkout (as npm run bench): siftjs beside tfjs, jax-js and PyTorch')
    .option('--quick', 'small sizes only')
    .option('--out <name>', 'results file name under benchmarks/results/')
    .action((o) => benchCommand([...(o.quick ? ['--quick'] : []), ...(o.out ? ['--out', o.out] : [])]));

  const c = COMPARE_DEFAULTS;
  p.command('compare')
    .description('the main job: fine-tune a model on SpamAssassin spam vs ham with every method; print one table, write an HTML report')
    .requiredOption('--model <dir>', 'model directory')
    .option('--out <dir>', 'where the report, logs and saved fine-tunes go', 'sift-report')
    .option('--methods <list>', `comma-separated, of ${METHODS.join(', ')}`, (v) => v.split(',') as MethodName[], c.methods)
    .option('--density <x>', 'SIFT and random-index density', num('--density', { min: 0 }), c.density)
    .option('--targets <list>', 'comma-separated parameter names SIFT and random-index train sparsely', (v) => v.split(','), c.targets)
    .option('--epochs <n>', 'epochs per method', int('--epochs'), c.epochs)
    .option('--train-per-class <n>', 'training emails per class', int('--train-per-class'), c.trainPerClass)
    .option('--held-out-per-class <n>', 'held-out emails per class', int('--held-out-per-class'), c.heldOutPerClass)
    .option('--max-length <n>', 'tokens kept per email', int('--max-length'), c.maxLength)
    .option('--seed <n>', 'seed', int('--seed', 0), c.seed)
    .addOption(backendOption())
    .action(async (o) => {
      for (const m of o.methods) if (!(METHODS as readonly string[]).includes(m)) throw new InvalidArgumentError(`unknown method '${m}' in --methods`);
      await useBackend(o.backend);
      await compareCommand({ ...c, model: o.model, out: o.out, methods: o.methods, density: o.density, targets: o.targets, epochs: o.epochs, trainPerClass: o.trainPerClass, heldOutPerClass: o.heldOutPerClass, maxLength: o.maxLength, seed: o.seed });
    });
  return p;
}

/** Runs the program; input errors become one line on stderr and exit code 2. */
export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (isInputError(e) || e instanceof InvalidArgumentError) {
      process.stderr.write(`sift: ${(e as Error).message}\n`);
      process.exit(2);
    }
    throw e;
  }
}
