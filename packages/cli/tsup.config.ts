import { defineConfig } from 'tsup';
import base from '../../tsup.base.js';

// Two entries: the library (index) and the `sift` executable (bin, which keeps its shebang).
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/bin.ts'] });
