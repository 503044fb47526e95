export * from './common.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './rows.js';
export * from './indexing.js';
export * from './adamw.js';
export * from './philox.js';
