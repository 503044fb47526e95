import { adamwJob } from '../kernels/adamw.js';
import { sampledDotsJob } from '../kernels/sampledMatmul.js';
import { softmaxJob } from '../kernels/softmax.js';
import { softmaxBackwardJob } from '../kernels/softmaxBackward.js';
import { normBackwardJob } from '../kernels/support/norm-backward.js';
import { normForwardJob } from '../kernels/support/norm-forward.js';
import { sumJob } from '../kernels/reduce.js';
import { copyJob } from '../kernels/copy.js';
import { unaryJob } from '../kernels/unary.js';
import type { RowJob } from './row-job.js';


/**
 * Every row job (threads/row-job.ts); a job's id is its index here, on this thread and in the workers. backend.ts
 * hands the list to the context and the pool, which build the workers from it: nothing below imports it back.
 */
export const ROW_JOBS: readonly RowJob[] = [softmaxJob, softmaxBackwardJob, unaryJob, normForwardJob, adamwJob, normBackwardJob, sampledDotsJob, sumJob, copyJob];
