export * from './time.js';
export * from './ids.js';
export * from './errors.js';
export * from './records.js';
export * from './policy.js';
export * from './workload.js';
export * from './sim.js';
export * from './prng.js';
