import { Command, Option } from 'commander';
import { METHODS, type MethodName } from '@siftjs/sift-optimizer';
import { checkBenchName, checkPretrainSize, commanderLine, fraction, fractionList, int, nameList, need, needOptions, num } from './arguments.js';
import { BACKENDS, useBackend } from './backend.js';
import { checkDtypeOnBackend, MODEL_DTYPES } from './model-dtype.js';
import { COMPARE_DEFAULTS } from './compare.js';
import { analyzeCommand } from './commands/analyze.js';
import { benchCommand } from './commands/bench.js';
import { compareCommand } from './commands/compare.js';
import { evalCommand } from './commands/evaluate.js';
import { exportCommand } from './commands/export.js';
import { finetune } from './commands/finetune.js';
import { generateCommand } from './commands/generate.js';
import { mergeCommand } from './commands/merge.js';
import { inputErrorLine, UsageError } from './errors.js';
import { PRETRAIN_DEFAULTS, pretrain } from './pretrain.js';
import { checkDelta, checkFile, checkModelDir, checkOutDir, contextLength, fitMaxLength } from './validate.js';

const backendOption = () =>
  new Option('--backend <name>', 'where tensors live; auto: CUDA, else WebGPU on a GPU, else the CPU (never a software WebGPU adapter)').choices(BACKENDS).default('cpu');
/** --task: classification or causal-lm; instruction (decoders: the loss on the response tokens only) where the command takes it. */
const taskOption = ({ instruction = false } = {}) =>
  new Option('--task <task>', instruction ? 'classification, causal-lm or instruction (decoders: the loss on the response tokens only)' : 'what the model is for')
    .choices(instruction ? ['classification', 'causal-lm', 'instruction'] : ['classification', 'causal-lm'])
    .default('classification');
/** --dtype: how the model's weights are stored (frozen base weights half; activations float32 either way). */
const dtypeOption = () =>
  new Option('--dtype <dtype>', "the dtype the model's weights are stored in: float16 / bfloat16 halve their memory (the trained parts and the arithmetic stay float32)")
    .choices(MODEL_DTYPES)
    .default('float32');
const dataOptions = (c: Command) =>
  c
    .option('--text-field <name>', 'the field (JSONL) or column (CSV) holding the text', 'text')
    .option('--label-field <name>', 'the field or column holding the label', 'label')
    .option('--prompt-field <name>', 'instruction data: the field holding the prompt (rows without messages)', 'prompt')
    .option('--response-field <name>', 'instruction data: the field holding the response', 'response')
    .option('--max-length <n>', 'tokens kept per example', int('--max-length'), 128);

/** `--max-length` as given (it must fit the model) or its default (cut to the model's context). */
const maxLengthFor = (command: Command, modelDir: string): number =>
  fitMaxLength('--max-length', command.getOptionValue('maxLength') as number, command.getOptionValueSource('maxLength') !== 'default', modelDir);

/**
 * The `sift` program. Every action first checks what its flags name (files, directories, the model's config)
 * and only then starts a backend and works: input errors print one line and exit with code 2 (see `main`).
 */
export function program(): Command {
  const p = new Command('sift').description('Sparse Increment Fine-Tuning of transformers, in TypeScript');
  // Commander's own errors (an unknown option, a value a parser refused) as one 'sift: ' line, exit code 2.
  p.configureOutput({ outputError: (s, write) => write(`${commanderLine(s)}\n`) });
  p.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  // Required options are checked once commander has reported unknown ones (see `need`).
  p.hook('preAction', (_program, action) => needOptions(action));

  dataOptions(
    p
      .command('finetune')
      .description('fine-tune a model on a dataset with SIFT or a baseline, evaluating each epoch')
      .addOption(need('--model <dir>', 'a Hugging Face model directory (config.json, model.safetensors, tokenizer)'))
      .addOption(need('--data <file>', 'JSONL / CSV / TSV with text and label fields (instruction: JSONL with prompt/response or messages), or a bundled set: spam-assassin, sotu, moby-dick, sift-instruct'))
      .addOption(taskOption({ instruction: true }))
      .option('--packing', 'instruction: pack examples into full windows of --max-length tokens instead of padding each', false)
      .addOption(new Option('--method <method>', 'how to fine-tune').choices(METHODS).default('sift'))
      .option('--density <x>', 'share of each targeted matrix that trains (sift, random), in (0, 1]', fraction('--density'), 0.01)
      .option('--lora-rank <r>', 'LoRA rank (default: equal trainable parameters to SIFT at --density)', int('--lora-rank'))
      .addOption(backendOption())
      .addOption(dtypeOption())
      .option('--epochs <n>', 'passes over the training split', int('--epochs'), 3)
      .option('--lr <lr>', 'peak learning rate (linear warm-up over 6%, then linear decay)', num('--lr', { gt: 0 }), 1e-3)
      .option('--batch-size <n>', 'examples per step', int('--batch-size'), 16)
      .option('--held-out <x>', 'share of each class held out for evaluation, in (0, 1)', num('--held-out', { gt: 0, lt: 1 }), 0.1)
      .option('--seed <n>', 'seeds the split, shuffling and initialisation', int('--seed', 0), 0)
      .addOption(need('--out <dir>', 'where the logs, checkpoints and result go'))
      .option('--resume', 'continue from the checkpoint in --out', false)
      .option('--stop-after <epochs>', 'stop after this many epochs, leaving a checkpoint to --resume', int('--stop-after'))
      .option('--allow-divergence', 'go on when the training loss passes 100× its starting value (a NaN or an infinity stops the run regardless)', false)
      .option('--gradient-checkpointing', 'recompute each transformer block in backward instead of keeping its activations: far less memory, about one more forward per step, the same weights', false),
  ).action(async (o, command: Command) => {
    checkModelDir('--model', o.model);
    o.maxLength = maxLengthFor(command, o.model);
    checkOutDir('--out', o.out);
    await useBackend(o.backend);
    checkDtypeOnBackend(o.dtype);
    await finetune({ ...o, heldOut: o.heldOut, batchSize: o.batchSize, maxLength: o.maxLength, textField: o.textField, labelField: o.labelField, promptField: o.promptField, responseField: o.responseField, packing: o.packing, gradientCheckpointing: o.gradientCheckpointing });
  });

  dataOptions(
    p
      .command('eval')
      .description('loss and accuracy of a model (and optionally a sparse delta) on a dataset')
      .addOption(need('--model <dir>', 'model directory'))
      .addOption(need('--data <file>', 'dataset file or bundled corpus'))
      .addOption(taskOption({ instruction: true }))
      .option('--delta <path>', 'a sparse delta, or a PEFT adapter directory (Super-Tuning, SHiRA, LoRA), to apply first')
      .option('--batch-size <n>', 'examples per batch', int('--batch-size'), 32)
      .addOption(backendOption())
      .addOption(dtypeOption()),
  ).action(async (o, command: Command) => {
    checkModelDir('--model', o.model);
    o.maxLength = maxLengthFor(command, o.model);
    if (o.delta !== undefined) checkDelta('--delta', o.delta);
    await useBackend(o.backend);
    checkDtypeOnBackend(o.dtype);
    await evalCommand(o);
  });

  p.command('generate')
    .description('continue a prompt with a causal language model')
    .addOption(need('--model <dir>', 'model directory'))
    .addOption(need('--prompt <text>', 'the text to continue'))
    .option('--max-new-tokens <n>', 'tokens to add', int('--max-new-tokens'), 40)
    .option('--temperature <t>', '0 is greedy', num('--temperature', { ge: 0 }), 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens', int('--top-k'))
    .option('--seed <n>', 'seeds the sampler', int('--seed', 0), 0)
    .option('--delta <path>', 'a sparse delta, or a PEFT adapter directory (Super-Tuning, SHiRA, LoRA), to apply first')
    .option('--chat', "the prompt is a user message: put it in the model's chat template (or the plain instruction format) and print the reply only", false)
    .addOption(backendOption())
    .addOption(dtypeOption())
    .action(async (o) => {
      if (o.prompt === '') throw new UsageError('--prompt is empty: give the text to continue');
      checkModelDir('--model', o.model);
      const ctx = contextLength(o.model);
      // The prompt takes at least one of the model's positions.
      if (ctx && o.maxNewTokens >= ctx.tokens) throw new UsageError(`--max-new-tokens ${o.maxNewTokens} leaves no room for the prompt in the model's ${ctx.tokens} positions (${ctx.field})`);
      if (o.delta !== undefined) checkDelta('--delta', o.delta);
      await useBackend(o.backend);
      checkDtypeOnBackend(o.dtype);
      await generateCommand(o);
    });

  p.command('merge')
    .description('write base + sparse delta(s) as a plain Hugging Face checkpoint')
    .addOption(need('--base <dir>', 'the base checkpoint directory'))
    .addOption(need('--delta <file...>', 'one or more delta files, applied in order'))
    .option('--scale <x>', 'multiplies every increment', num('--scale'), 1)
    .addOption(need('--out <dir>', 'the new checkpoint directory (must not exist)'))
    .action(async (o) => {
      checkModelDir('--base', o.base);
      for (const file of o.delta) checkFile('--delta', file);
      checkOutDir('--out', o.out, { mustNotExist: true });
      await useBackend('cpu');
      mergeCommand(o);
    });

  p.command('export')
    .description('write a sparse delta as a Hugging Face PEFT adapter directory (Super-Tuning or SHiRA; Linear layers: BERT, RoBERTa, LLaMA family)')
    .requiredOption('--format <format>', 'peft')
    .requiredOption('--model <dir>', 'the base model directory the delta was trained from')
    .requiredOption('--delta <file>', 'the sparse delta (delta.safetensors)')
    .option('--tuner <name>', 'supertuning (flat indices) or shira ([2, K] indices)', 'supertuning')
    .requiredOption('--out <dir>', 'the adapter directory to write (must not exist)')
    .action(async (o) => {
      await useBackend('cpu');
      exportCommand(o);
    });

  dataOptions(
    p
      .command('analyze')
      .description("share of the gradient norm in the top x% of components, pretrained vs random init (the paper's Figure 3(d))")
      .addOption(need('--model <dir>', 'model directory'))
      .addOption(need('--data <file>', 'dataset file or bundled corpus'))
      .addOption(taskOption())
      .option('--fractions <list>', 'comma-separated fractions of components, each in (0, 1]', fractionList('--fractions'), [0.001, 0.01, 0.05, 0.1])
      .option('--batches <n>', 'batches whose gradients are summed', int('--batches'), 4)
      .option('--batch-size <n>', 'examples per batch', int('--batch-size'), 16)
      .option('--seed <n>', 'seeds the batches and the random initialisation', int('--seed', 0), 0)
      .option('--out <dir>', 'where the SVG and JSON go', 'analysis')
      .addOption(backendOption()),
  ).action(async (o, command: Command) => {
    checkModelDir('--model', o.model);
    o.maxLength = maxLengthFor(command, o.model);
    checkOutDir('--out', o.out);
    await useBackend(o.backend);
    await analyzeCommand(o);
  });

  const d = PRETRAIN_DEFAULTS;
  p.command('pretrain')
    .description('pretrain a small GPT-2 (and its BPE tokenizer) on the bundled State of the Union + Moby-Dick corpora')
    .addOption(need('--out <dir>', 'the model directory to write'))
    .option('--vocab-size <n>', 'BPE vocabulary', int('--vocab-size', 300), d.vocabSize)
    .option('--layers <n>', 'transformer blocks', int('--layers'), d.nLayer)
    .option('--width <n>', 'embedding width', int('--width'), d.nEmbd)
    .option('--heads <n>', 'attention heads', int('--heads'), d.nHead)
    .option('--context <n>', 'tokens per window (n_positions)', int('--context'), d.context)
    .option('--batch-size <n>', 'windows per step', int('--batch-size'), d.batchSize)
    .option('--steps <n>', 'optimizer steps', int('--steps'), d.steps)
    .option('--lr <lr>', 'peak learning rate', num('--lr', { gt: 0 }), d.lr)
    .option('--seed <n>', 'seed', int('--seed', 0), d.seed)
    .option('--gradient-checkpointing', 'recompute each transformer block in backward instead of keeping its activations: far less memory, about one more forward per step, the same weights', false)
    .addOption(backendOption())
    .action(async (o) => {
      const size = { vocabSize: o.vocabSize, nLayer: o.layers, nEmbd: o.width, nHead: o.heads, context: o.context, batchSize: o.batchSize };
      checkPretrainSize(size);
      checkOutDir('--out', o.out);
      await useBackend(o.backend);
      const command = `sift ${process.argv.slice(2).join(' ')}`;
      const r = await pretrain({ ...d, ...size, out: o.out, steps: o.steps, lr: o.lr, seed: o.seed, gradientCheckpointing: o.gradientCheckpointing, command });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });

  p.command('bench')
    .description('run the benchmark suite of this checkout (as npm run bench): siftjs beside tfjs, jax-js and PyTorch')
    .option('--quick', 'small sizes only')
    .option('--out <name>', 'results file name under benchmarks/results/')
    .action((o) => {
      checkBenchName(o.out);
      benchCommand([...(o.quick ? ['--quick'] : []), ...(o.out ? ['--out', o.out] : [])]);
    });

  const c = COMPARE_DEFAULTS;
  p.command('compare')
    .description('the main job: fine-tune a model on SpamAssassin spam vs ham with every method; print one table, write an HTML report')
    .addOption(need('--model <dir>', 'model directory'))
    .option('--out <dir>', 'where the report, logs and saved fine-tunes go', 'sift-report')
    .option('--methods <list>', `comma-separated, of ${METHODS.join(', ')}`, nameList('--methods'), c.methods)
    .option('--density <x>', 'SIFT and random-index density, in (0, 1]', fraction('--density'), c.density)
    .option('--targets <list>', 'comma-separated parameter names SIFT and random-index train sparsely', nameList('--targets'), c.targets)
    .option('--epochs <n>', 'epochs per method', int('--epochs'), c.epochs)
    .option('--train-per-class <n>', 'training emails per class', int('--train-per-class'), c.trainPerClass)
    .option('--held-out-per-class <n>', 'held-out emails per class', int('--held-out-per-class'), c.heldOutPerClass)
    .option('--max-length <n>', 'tokens kept per email', int('--max-length'), c.maxLength)
    .option('--seed <n>', 'seed', int('--seed', 0), c.seed)
    .option('--gradient-checkpointing', 'recompute each transformer block in backward instead of keeping its activations: far less memory, about one more forward per step, the same weights', false)
    .addOption(backendOption())
    .action(async (o, command: Command) => {
      for (const m of o.methods) if (!(METHODS as readonly string[]).includes(m)) throw new UsageError(`unknown method '${m}' in --methods (one of ${METHODS.join(', ')})`);
      checkModelDir('--model', o.model);
      o.maxLength = maxLengthFor(command, o.model);
      checkOutDir('--out', o.out);
      await useBackend(o.backend);
      await compareCommand({ ...c, model: o.model, out: o.out, methods: o.methods as MethodName[], density: o.density, targets: o.targets, epochs: o.epochs, trainPerClass: o.trainPerClass, heldOutPerClass: o.heldOutPerClass, maxLength: o.maxLength, seed: o.seed, gradientCheckpointing: o.gradientCheckpointing });
    });
  return p;
}

/**
 * Runs the program. An error that is the user's input (a flag, a file, a directory, the environment) becomes one
 * line on stderr and exit code 2; anything else is a bug and keeps its stack trace (exit code 1). SIFT_DEBUG=1
 * prints the stack of input errors too.
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    const line = inputErrorLine(e);
    if (line === null) throw e;
    if (process.env.SIFT_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.stderr.write(`sift: ${line}\n`);
    process.exit(2);
  }
}
