import type { Argv } from 'yargs';
import { InputError } from '../../core/errors.js';
import type { LiveRunOptions } from './run.js';

/** Flags shared by `repl --sim` and `dashboard --sim`: the simulated machine and its workload. */
export interface LiveArgs {
  sim?: string;
  cpus: number;
  load: number;
  invocations: number;
  seed: number;
  scheduler: string;
  step: number;
  alpha?: number;
}

export function liveOptions<T>(y: Argv<T>): Argv<T & LiveArgs> {
  return y
    .option('sim', { type: 'string', describe: 'run an embedded simulated machine on this workload: huawei | azure | io-mix | trace file' })
    .option('cpus', { type: 'number', default: 8, describe: 'simulated CPUs' })
    .option('load', { type: 'number', default: 0.9, describe: 'offered CPU load of the generated arrivals' })
    .option('invocations', { type: 'number', default: 3000, describe: 'invocations in the session (3000 ≈ 30 virtual seconds at the defaults)' })
    .option('seed', { type: 'number', default: 1, describe: 'seed of the workload, machine and learner' })
    .option('scheduler', { type: 'string', default: 'alps', describe: 'scheduler model: alps | alps-delegated (learner-driven) or cfs, eevdf, srpt, sfs, fifo, rr' })
    .option('step', { type: 'number', default: 1, describe: 'virtual seconds the machine advances per step' })
    .option('alpha', { type: 'number', describe: 'initial learner α (the paper’s default is 2)' }) as unknown as Argv<T & LiveArgs>;
}

export function liveRunOptions(a: LiveArgs): Omit<LiveRunOptions, 'listen' | 'publisher'> {
  if (!a.sim) throw new InputError('--sim', 'needs a workload name or trace file');
  if (!(Number.isInteger(a.cpus) && a.cpus >= 1 && a.cpus <= 1024)) throw new InputError('--cpus', `must be an integer in 1..1024, got ${a.cpus}`);
  if (!(Number.isInteger(a.invocations) && a.invocations >= 1 && a.invocations <= 1_000_000)) throw new InputError('--invocations', `must be an integer in 1..1000000, got ${a.invocations}`);
  if (!(a.load > 0 && a.load <= 4)) throw new InputError('--load', `must be in (0, 4], got ${a.load}`);
  return {
    workload: a.sim,
    cpus: a.cpus,
    load: a.load,
    invocations: a.invocations,
    seed: a.seed,
    scheduler: a.scheduler,
    stepS: a.step,
    ...(a.alpha !== undefined ? { learner: { alpha: a.alpha } } : {}),
  };
}

/** `--listen`/`--ws-port` value: a port number, 0 for any free port. */
export function checkPort(p: number, flag: string): number {
  if (!(Number.isInteger(p) && p >= 0 && p <= 65535)) throw new InputError(flag, `must be a port number 0..65535, got ${p}`);
  return p;
}

/** Resolve when the process is asked to stop (Ctrl-C, kill). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
