// @siftjs/safetensors — the safetensors format: reading, writing, sharded indexes and the checkpoint weight map.
export { SafetensorsFile, loadSafetensors } from './file.js';
export { type HostTensor, type Saveable, safetensorsBytes, saveSafetensors, saveSafetensorsAsync, type SaveOptions } from './save.js';
export { SafetensorsError, type TensorInfo, type StDType } from './format.js';
export { halfToFloat, floatToHalf, bf16ToFloat, floatToBf16 } from './convert.js';
export { weightMap, type Located } from './weight-map.js';
export { checkShardContents, parseShardIndex, type ShardIndex } from './shard-index.js';
