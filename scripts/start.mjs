// `npm start`: the main job. Fine-tunes the bundled model (models/sift-gpt2-mini) on SpamAssassin spam vs ham with
// SIFT, full fine-tuning, LoRA at equal trainable parameters, random-index sparse and head-only, on the CPU; prints
// one table and writes sift-report/report.html. The same as `npx sift compare --model models/sift-gpt2-mini`.
import { main } from '@siftjs/cli';

const extra = process.argv.slice(2);
await main(['node', 'sift', 'compare', '--model', 'models/sift-gpt2-mini', '--out', 'sift-report', ...extra]);
