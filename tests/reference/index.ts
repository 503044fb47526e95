// The float64 reference the property tests compare against. Nothing here imports the packages under test.
export * from './core.js';
export * from './elementwise.js';
export * from './gradcheck.js';
export * from './linalg.js';
export * from './nn.js';
export * from './reduce.js';
export * from './shape-ops.js';
