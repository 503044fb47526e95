/** Items per chunk of a row job: about this many float32 elements, so a chunk is worth a trip through the shared counter. */
const CHUNK_ELEMENTS = 1 << 15;

/** The chunk (in items) of a job over rows of `cols` elements (cols = 1: an elementwise job). */
export function chunkItems(cols: number): number {
  return Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(1, cols)));
}

/**
 * Elements per item of the streaming jobs (long copies and sums), which do a few instructions per element: an item
 * of 8 makes their chunks 256K elements (1 MiB of float32), so threads are woken only for work that repays it.
 */
export const STREAM_ITEM = 8;
