#!/usr/bin/env node
// The `sift` executable. It lives outside dist/ so that `npm install` can link it before the first build.
try {
  await import('../dist/bin.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/bin.js')) {
    console.error('sift: @siftjs/cli is not built yet; run `npm run build` in the repository first');
    process.exit(2);
  }
  throw e;
}
