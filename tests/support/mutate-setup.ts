import * as fc from 'fast-check';

// `npm run mutate`: property tests are named with their seed, and Stryker re-runs a test by its name. A random seed
// per import would name every property test differently in each mutant's run than in the first run, so none of them
// would run against a mutant. One seed for the whole run (SIFT_MUTATE_SEED to try another).
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(process.env.SIFT_MUTATE_SEED ?? 20240521) });
