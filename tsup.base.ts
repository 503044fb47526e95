import { defineConfig } from 'tsup';

/** Every package builds the same way: one ESM entry with declarations and source maps. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
