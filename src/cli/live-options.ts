import type { Argv } from 'yargs';
import { InputError } from '../core/errors.js';
import { resolveParams } from '../learner/params.js';
import type { LiveRunOptions } from '../telemetry/live/run.js';
import { UsageError } from './errors.js';
import { intFlag, LIMITS, numFlag, seedFlag } from './flags.js';

/** Flags shared by `repl --sim` and `dashboard --sim`: the simulated machine and its workload. */
export interface LiveArgs {
  sim?: string;
  cpus?: number;
  load?: number;
  invocations?: number;
  seed?: number;
  scheduler?: string;
  step?: number;
  alpha?: number;
}

/** The simulation flags (no yargs defaults, so `--connect` can tell whether one was given). */
const SIM_FLAGS = ['cpus', 'load', 'invocations', 'seed', 'scheduler', 'step', 'alpha'] as const;

export const LIVE_DEFAULTS = { cpus: 8, load: 0.9, invocations: 3000, seed: 1, scheduler: 'alps', step: 1 } as const;

export function liveOptions<T>(y: Argv<T>): Argv<T & LiveArgs> {
  return y
    .option('sim', { type: 'string', describe: 'run an embedded simulated machine on this workload: huawei | azure | io-mix | trace file' })
    .option('cpus', { type: 'number', describe: `with --sim: simulated CPUs, 1..${LIMITS.simCpus} [default: 8]` })
    .option('load', { type: 'number', describe: 'with --sim: offered CPU load of the generated arrivals, (0, 4] [default: 0.9]' })
    .option('invocations', { type: 'number', describe: `with --sim: invocations in the session, 1..${LIMITS.invocations} (3000 ≈ 30 virtual seconds at the defaults) [default: 3000]` })
    .option('seed', { type: 'number', describe: 'with --sim: seed of the workload, machine and learner [default: 1]' })
    .option('scheduler', { type: 'string', describe: 'with --sim: scheduler model: alps | alps-delegated (learner-driven) or cfs, eevdf, srpt, sfs, fifo, rr [default: alps]' })
    .option('step', { type: 'number', describe: 'with --sim: virtual seconds the machine advances per step, (0, 3600] [default: 1]' })
    .option('alpha', { type: 'number', describe: 'with --sim: initial learner α (the paper’s default is 2)' }) as unknown as Argv<T & LiveArgs>;
}

/** `--connect` attaches to someone else's run: flags that shape a simulation make no sense there. */
export function refuseSimFlags(a: LiveArgs, mode = '--connect'): void {
  for (const k of SIM_FLAGS) if (a[k] !== undefined) throw new UsageError(`--${k} shapes an embedded simulation (--sim); it cannot be used with ${mode}`);
}

export function liveRunOptions(a: LiveArgs): Omit<LiveRunOptions, 'listen' | 'publisher'> {
  if (!a.sim) throw new UsageError('--sim needs a workload name or trace file');
  const cpus = intFlag('--cpus', a.cpus ?? LIVE_DEFAULTS.cpus, 1, LIMITS.simCpus);
  const invocations = intFlag('--invocations', a.invocations ?? LIVE_DEFAULTS.invocations, 1, LIMITS.invocations);
  const load = numFlag('--load', a.load ?? LIVE_DEFAULTS.load, 0, 4);
  const seed = seedFlag(a.seed ?? LIVE_DEFAULTS.seed);
  const stepS = numFlag('--step', a.step ?? LIVE_DEFAULTS.step, 0, 3600);
  if (a.alpha !== undefined) {
    // Checked here, before any socket or token file exists (the learner would refuse it later).
    try {
      resolveParams({ alpha: a.alpha });
    } catch (err) {
      if (err instanceof InputError) throw new InputError('--alpha', err.problem);
      throw err;
    }
  }
  return {
    workload: a.sim,
    cpus,
    load,
    invocations,
    seed,
    scheduler: a.scheduler ?? LIVE_DEFAULTS.scheduler,
    stepS,
    ...(a.alpha !== undefined ? { learner: { alpha: a.alpha } } : {}),
  };
}

/** `--listen`/`--ws-port`/`--port` value: a port number, 0 for any free port. */
export function checkPort(p: number | undefined, flag: string): number {
  return intFlag(flag, p, 0, 65535);
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
