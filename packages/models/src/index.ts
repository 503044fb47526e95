// @siftjs/models — Hugging Face checkpoints: safetensors, configs and the model zoo.
export { SafetensorsFile, loadSafetensors, saveSafetensors, type SaveOptions } from './safetensors/file.js';
export { SafetensorsError, type TensorInfo, type StDType } from './safetensors/format.js';
export { halfToFloat, floatToHalf, bf16ToFloat, floatToBf16 } from './safetensors/convert.js';
