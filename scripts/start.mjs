// `npm start`: the main job (SIFT vs full fine-tuning vs LoRA on the bundled model) arrives with the `sift` CLI.
// Until then, a short run of the core: a tiny regression fitted by gradient descent on the CPU backend.
import { manualSeed, memoryStats, randn, scope, tensor, noGrad } from '@siftjs/tensor';
import '@siftjs/backend-cpu';

console.log('siftjs: the fine-tuning comparison arrives with the `sift` CLI. Meanwhile, the core at work:\n');
manualSeed(0);
const trueW = tensor([[2], [-3], [0.5]]);
const x = randn([256, 3]);
const y = x.matmul(trueW);
const w = randn([3, 1], { requiresGrad: true });
for (let step = 0; step <= 100; step++) {
  const loss = scope(() => x.matmul(w).sub(y).square().mean());
  loss.backward();
  noGrad(() => scope(() => w.copy_(w.sub(w.grad.mul(0.1)))));
  w.grad.dispose();
  w.grad = null;
  if (step % 25 === 0) console.log(`step ${String(step).padStart(3)}  loss ${(await loss.item()).toExponential(3)}`);
  loss.dispose();
}
console.log('\nlearned w:', Array.from(await w.toArray()).map((v) => v.toFixed(3)).join(', '), '(true: 2, -3, 0.5)');
console.log('memory:', memoryStats());
