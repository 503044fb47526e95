import type { MethodName } from '@siftjs/sift-optimizer';

// The main job's options and results, apart from compare.ts so the report can read them without importing the
// run that makes them (compare.ts writes the report: the two would import each other).

export interface CompareOptions {
  model: string;
  out: string;
  methods: MethodName[];
  density: number;
  epochs: number;
  batchSize: number;
  maxLength: number;
  /** Examples per class in training and in the held-out set. */
  trainPerClass: number;
  heldOutPerClass: number;
  lr: Partial<Record<MethodName, number>>;
  seed: number;
  /** Override the layers SIFT, random-index and LoRA target (default: the model's attention projections). */
  targets?: string[];
  /** Measure the gradient concentration (pretrained vs random init) for the report. Default true. */
  analyze?: boolean;
  /** A labelled JSONL/CSV file to use instead of the SpamAssassin task (tests, other tasks). */
  data?: string;
  quiet?: boolean;
  /** Recompute each transformer block in backward instead of keeping its activations (the same weights, less memory). */
  gradientCheckpointing?: boolean;
}

export interface MethodResult {
  method: MethodName;
  label: string;
  trainable: number;
  accuracy: number;
  heldOutLoss: number;
  /** Gradient + optimizer-state bytes the method keeps (plus SIFT's values and indices). */
  keptBytes: number;
  peakBytes: number;
  savedFile: string;
  savedBytes: number;
  seconds: number;
  tokensPerSecond: number;
  losses: number[];
  accuracies: number[];
}
