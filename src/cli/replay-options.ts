import type { Argv } from 'yargs';
import { intFlag, LIMITS, numFlag, seedFlag } from './flags.js';

/**
 * The flags of a real replay of a generated Table 1 trace, shared by `compare --real` and
 * `calibrate`: which mix, how many invocations at what real load on how many CPUs, the seed and
 * time scale of the trace, and how many repetitions in the one boot.
 */
export interface ReplayArgs {
  workload: string;
  invocations: number;
  load: number;
  cpus: number;
  seed: number;
  scale: number;
  repeat: number;
}

export interface ReplayOptionText {
  invocations: { default: number; describe: string };
  cpus: string;
  load: string;
  repeat: string;
}

export function replayOptions<T>(y: Argv<T>, text: ReplayOptionText): Argv<T & ReplayArgs> {
  return y
    .option('workload', { type: 'string', default: 'huawei', choices: ['huawei', 'azure'], describe: 'Table 1 mix' })
    .option('invocations', { type: 'number', default: text.invocations.default, describe: text.invocations.describe })
    .option('load', { type: 'number', default: 0.9, describe: text.load })
    .option('cpus', { type: 'number', default: 2, describe: text.cpus })
    .option('seed', { type: 'number', default: 1, describe: 'seed of the workload' })
    .option('scale', { type: 'number', default: 0.5, describe: 'multiply every CPU demand and gap of the generated trace (keeps runs short)' })
    .option('repeat', { type: 'number', default: 3, describe: text.repeat }) as unknown as Argv<T & ReplayArgs>;
}

/** Range checks of the replay flags (before any VM boots); `maxCpus` is the caller's limit. */
export function checkReplayFlags(argv: ReplayArgs, maxCpus: number): void {
  intFlag('--invocations', argv.invocations, 20, LIMITS.realInvocations);
  numFlag('--load', argv.load, 0, 0.99);
  intFlag('--cpus', argv.cpus, 1, maxCpus);
  intFlag('--repeat', argv.repeat, 1, 9);
  seedFlag(argv.seed);
  numFlag('--scale', argv.scale, 0, 10);
}
