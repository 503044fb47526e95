export { DataError } from './errors.js';
export { parseCsv, CsvSyntaxError, type CsvRecord } from './csv.js';
export { labelExamples, relabel, type Dataset, type Example, type RawExample, type RawLabel } from './dataset.js';
export { type DataFormat, parseDataset, readDataset, type ReadDatasetOptions } from './read.js';
export {
  loadSpamAssassin,
  loadSotu,
  loadMobyDick,
  passages,
  subjectAndBody,
  SPAM_ASSASSIN_GROUPS,
  type SpamAssassinGroup,
  type SpamAssassinOptions,
  type SotuAddress,
  type MobyDickSection,
} from './corpora.js';
export { SeededRandom } from './random.js';
export { shuffle, permutation, splitHeldOut, type SplitOptions } from './split.js';
export { trainBpe, tokenizerConfigFor, type TrainBpeOptions, type TokenizerJson } from './bpe.js';
export { BYTE_TO_CHAR, GPT2_SPLIT } from './byte-level.js';
export { BpeTokenizer } from './bpe-tokenizer.js';
export { saveTokenizer, writeFileAtomic } from './save.js';
export { makeBatches, type EncodedExample, type MakeBatchesOptions, type TokenBatch } from './batches.js';
export { encodeExamples, encodePrefix, type EncodeOptions } from './encode.js';
export { readInstructionData, type InstructionDataset, type InstructionExample, type ReadInstructionOptions } from './instruction.js';
export { encodeInstruction, encodeInstructions, type EncodeInstructionsResult, packExamples, PLAIN_FORMAT, renderPrompt } from './instruction-encode.js';
export { INSTRUCTION_SET, loadInstructionSet } from './instruction-set.js';
