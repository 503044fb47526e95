import { defineConfig } from 'tsup';
import base from '../../tsup.base.js';

// Three entries: the library (index), the `sift` executable (bin, which keeps its shebang) and what a browser
// page uses (browser).
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/bin.ts', 'src/browser.ts'] });
