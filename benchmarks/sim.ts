/**
 * `npm run bench -- sim [--json] [--cpus N] [--invocations N] [--load U] [--mix huawei|azure]
 * [--runs N] [--schedulers a,b]`: simulator throughput (discrete events per second) per
 * scheduler model on a Table 1 workload, median of `runs` timed runs after one warm-up run.
 * ALPS models include their learner rounds (every W of virtual time) in the time.
 */
import { UnsupportedError } from '../src/core/index.js';
import type { PolicyLearner } from '../src/core/index.js';
import { simulate, SCHEDULERS, LEARNING_SCHEDULERS } from '../src/sim/index.js';
import { defaultLearnerFactory } from '../src/sim/learner-link.js';
import { table1Workload, type Table1Mix } from '../src/workload/index.js';
import { median, timeRuns } from './stats.js';

interface Row {
  scheduler: string;
  events: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  eventsPerSec: number;
  /** ALPS models: learner time inside the median run, and events/s of the machine without it. */
  learnerMs?: number;
  machineEventsPerSec?: number;
  skipped?: string;
}

/** Wrap the default learner so its rounds can be timed apart from the machine. */
function timedLearner(acc: { ms: number }): (p: Parameters<typeof defaultLearnerFactory>[0]) => PolicyLearner {
  return (params) => {
    const inner = defaultLearnerFactory(params);
    return {
      get params() {
        return inner.params;
      },
      get current() {
        return inner.current;
      },
      observe: (records) => {
        const t0 = performance.now();
        inner.observe(records);
        acc.ms += performance.now() - t0;
      },
      learn: (now, util) => {
        const t0 = performance.now();
        const p = inner.learn(now, util);
        acc.ms += performance.now() - t0;
        return p;
      },
      setParams: (patch) => inner.setParams(patch),
    };
  };
}

function flag(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  return v;
}

export async function simBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const cpus = Number(flag(argv, 'cpus', '56'));
  const invocations = Number(flag(argv, 'invocations', '15000'));
  const load = Number(flag(argv, 'load', '0.9'));
  const mix = flag(argv, 'mix', 'huawei') as Table1Mix;
  const runs = Number(flag(argv, 'runs', '5'));
  const schedulers = flag(argv, 'schedulers', SCHEDULERS.join(',')).split(',');
  const { workload, description } = table1Workload({ mix, invocations, cpus, load, seed: 1 });
  const rows: Row[] = [];
  for (const scheduler of schedulers) {
    let events = 0;
    const learnerMs: number[] = [];
    const learns = LEARNING_SCHEDULERS.has(scheduler);
    const run = (): void => {
      const acc = { ms: 0 };
      events = simulate(workload, { cpus, scheduler, seed: 1 }, learns ? { learner: timedLearner(acc) } : {}).events;
      learnerMs.push(acc.ms);
    };
    try {
      const ms = timeRuns(run, runs, 1);
      const med = median(ms);
      const row: Row = { scheduler, events, medianMs: med, minMs: Math.min(...ms), maxMs: Math.max(...ms), eventsPerSec: events / (med / 1000) };
      if (learns) {
        // Pair each timed run with its own learner time (the warm-up run is the first entry).
        const machineMs = ms.map((t, i) => t - learnerMs[i + 1]!);
        row.learnerMs = median(learnerMs.slice(1));
        row.machineEventsPerSec = events / (median(machineMs) / 1000);
      }
      rows.push(row);
    } catch (err) {
      if (!(err instanceof UnsupportedError)) throw err;
      rows.push({ scheduler, events: 0, medianMs: 0, minMs: 0, maxMs: 0, eventsPerSec: 0, skipped: err.message });
    }
    if (!json) {
      const r = rows[rows.length - 1]!;
      process.stdout.write(
        r.skipped
          ? `${scheduler.padEnd(15)} skipped: ${r.skipped}\n`
          : `${scheduler.padEnd(15)} ${(r.eventsPerSec / 1e6).toFixed(2).padStart(6)} M events/s  ` +
              `(${r.events} events, median ${r.medianMs.toFixed(0)} ms of ${runs} runs, ${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)})` +
              (r.machineEventsPerSec !== undefined
                ? `; learner ${r.learnerMs!.toFixed(0)} ms, machine alone ${(r.machineEventsPerSec / 1e6).toFixed(2)} M events/s`
                : '') +
              '\n',
      );
    }
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ suite: 'sim', workload: description, cpus, invocations, load, runs, results: rows }, null, 2)}\n`);
  }
}
