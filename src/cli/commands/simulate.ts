import { join } from 'node:path';
import type { Argv } from 'yargs';
import type { InvocationRecord } from '../../core/records.js';
import { usToNs } from '../../core/time.js';
import type { Workload } from '../../core/workload.js';
import type { AbVariant } from '../../harness/ab.js';
import { parseSchedulerList } from '../../harness/variants.js';
import type { Simulate } from '../../core/sim.js';
import { ARRIVAL_LAWS, parseArrivalLaw } from '../../workload/arrivals.js';
import { intFlag, LIMITS, numFlag, prepareOutDir, seedFlag } from '../flags.js';
import type { CliCommand } from '../program.js';

export const DEFAULT_SCHEDULERS = 'cfs,eevdf,sfs,srpt,alps';

interface SimulateArgs {
  workload: string;
  cpus: number;
  load: number;
  invocations: number;
  schedulers: string;
  seed: number;
  arrivals: string;
  'io-aware': boolean;
  hz?: number;
  'ctx-switch-us'?: number;
  'ms-per-unit'?: number;
  machine?: string;
  out?: string;
  json: boolean;
}

const EXAMPLES: [string, string][] = [
  ['ghost-alps simulate', 'Huawei mix, 15,000 invocations, 90% load on 8 CPUs: CFS, EEVDF, SFS, SRPT and ALPS side by side'],
  ['ghost-alps simulate --workload azure --invocations 3000 --schedulers cfs,srpt,alps --json', 'the JSON report scripts read'],
  ['ghost-alps simulate --workload azure --invocations 3000 --schedulers cfs,alps,alps-ghost,ghost-cfs', 'in-kernel ALPS beside the real ghOSt agent on the emulated kernel (Fig. 15)'],
  ['ghost-alps simulate --workload io-mix --schedulers cfs,alps,alps:io-aware --invocations 4000', 'the I/O study\'s mix, with per-class results'],
  ['ghost-alps simulate --workload huawei --cpus 2 --schedulers eevdf,alps --machine vm-2cpu.json', 'the simulated machine calibrated to a real host (`ghost-alps calibrate --out vm-2cpu.json`)'],
  ['ghost-alps simulate --workload ../shared/data/alps-artifact/exp --cpus 24 --out /tmp/sim-exp', 'replay the artifact trace; JSON + SVG charts in /tmp/sim-exp'],
  ['ghost-alps simulate --invocations 3000 --schedulers cfs --out /tmp/sim && ghost-alps learn --trace /tmp/sim/records-cfs.jsonl', 'learn a policy from the records a simulated run wrote'],
];

/** Flag checks, before any work (also the fuzz suite's entry point). */
export function checkSimulateArgs(argv: SimulateArgs): AbVariant[] {
  seedFlag(argv.seed);
  intFlag('--invocations', argv.invocations, 1, LIMITS.invocations);
  intFlag('--cpus', argv.cpus, 1, LIMITS.simCpus);
  numFlag('--load', argv.load, 0, 4);
  if (argv.hz !== undefined) intFlag('--hz', argv.hz, 10, 10000);
  if (argv['ctx-switch-us'] !== undefined) numFlag('--ctx-switch-us', argv['ctx-switch-us'], 0, 1e6, true);
  if (argv['ms-per-unit'] !== undefined) numFlag('--ms-per-unit', argv['ms-per-unit'], 0, 1e6);
  parseArrivalLaw(argv.arrivals, '--arrivals');
  return parseSchedulerList(argv.schedulers, argv['io-aware']);
}

/** File name part of a run label (as the per-invocation CSVs use). */
const fileLabel = (label: string): string => label.replace(/[^A-Za-z0-9_.=-]+/g, '_');

export const simulateCommand: CliCommand<SimulateArgs> = {
  command: 'simulate',
  describe: 'compare schedulers on a simulated multicore host (no kernel needed)',
  builder: (y: Argv) =>
    y
      .usage(
        'ghost-alps simulate [options]\n\nRun one workload under several scheduler models with the same seed and report turnaround\n' +
          '(mean, p50/p90/p99/p99.9, per Table 1 group), slowdown, share slower than SRPT and context switches.\n' +
          '--out also writes each run\'s InvocationRecords (records-<scheduler>.jsonl), which `learn --trace`\n' +
          'and `simulate --workload` read back.',
      )
      .example(EXAMPLES)
      .option('workload', { type: 'string', default: 'huawei', describe: 'huawei | azure | io-mix | a trace file: InvocationRecords (.jsonl/.csv, e.g. from --out) or an artifact trace (id n app gap port)' })
      .option('cpus', { type: 'number', default: 8, describe: `simulated CPUs (1..${LIMITS.simCpus})` })
      .option('load', { type: 'number', default: 0.9, describe: 'target average CPU utilisation (arrival rate λ = load·cpus/E[cpu]), (0, 4]' })
      .option('invocations', { type: 'number', default: 15000, describe: `invocations to generate (for a trace file: rows to read at most), 1..${LIMITS.invocations}` })
      .option('schedulers', { type: 'string', default: DEFAULT_SCHEDULERS, describe: 'comma-separated: cfs,eevdf,fifo,rr,sfs,srpt,alps,alps-delegated, and the real ghOSt agent on the emulated kernel: alps-ghost,ghost-cfs,ghost-fifo; add :io-aware to an ALPS model' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the workload and the machine' })
      .option('arrivals', { type: 'string', default: 'exponential', choices: ARRIVAL_LAWS as unknown as string[], describe: 'inter-arrival law' })
      .option('io-aware', { type: 'boolean', default: false, describe: 'every ALPS model learns from blocking time too (I/O study §9)' })
      .option('hz', { type: 'number', describe: 'scheduler tick rate (default: the simulator’s, 250)' })
      .option('ctx-switch-us', { type: 'number', describe: 'cost of one context switch in µs (default: the simulator’s)' })
      .option('machine', { type: 'string', describe: 'machine file (from `ghost-alps calibrate`): launch cost, context switch, tick, capacity, background, base slice; --hz/--ctx-switch-us override it' })
      .option('ms-per-unit', { type: 'number', describe: 'artifact trace files: fixed ms per gap unit (0.21 = the artifact) instead of scaling to --load' })
      .option('out', { type: 'string', describe: 'directory for report.json, curves.json, SVG charts, one invocations-<scheduler>.csv (metrics) and one records-<scheduler>.jsonl (InvocationRecords) per run' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON on stdout (no table, no progress bar)' }),
  check: (argv) => {
    checkSimulateArgs(argv);
  },
  handler: async (argv) => {
    const variants = checkSimulateArgs(argv);
    const seed = argv.seed;
    const ctx = argv['ctx-switch-us'];
    // Checked before the (possibly long) runs: a bad --out fails now, not after them.
    const outDir = argv.out !== undefined ? prepareOutDir(argv.out) : undefined;
    // A bad machine file fails now too (exit 3, naming the file and the field).
    const machine = argv.machine !== undefined ? (await import('../../sim/index.js')).readMachineFile(argv.machine) : undefined;
    const [{ runAB }, { writeComparison }, { terminalProgress }, { formatComparison }, { attachGhostAgents }, { simulate, profileOf }, { loadWorkloadSource }, { writeInvocationRecords }] = await Promise.all([
      import('../../harness/ab.js'),
      import('../../harness/output.js'),
      import('../../harness/progress.js'),
      import('../../harness/table.js'),
      import('../../harness/variants.js'),
      import('../../sim/index.js'),
      import('../../workload/source.js'),
      import('../../workload/invocation-io/index.js'),
    ]);
    await attachGhostAgents(variants);
    const bundle = await loadWorkloadSource(argv.workload, {
      invocations: argv.invocations,
      cpus: argv.cpus,
      load: argv.load,
      seed,
      arrivals: parseArrivalLaw(argv.arrivals, '--arrivals'),
      ...(argv['ms-per-unit'] !== undefined ? { msPerUnit: argv['ms-per-unit'] } : {}),
    });
    // Keep each run's records for --out (the report keeps only per-invocation metrics).
    const records = new Map<string, readonly InvocationRecord[]>();
    if (outDir) {
      for (const v of variants) {
        const run = v.simulate ?? simulate;
        const label = v.label ?? v.scheduler;
        v.simulate = ((w: Workload, o: Parameters<Simulate>[1]) => {
          const r = run(w, o);
          records.set(label, r.records);
          return r;
        }) as Simulate;
      }
    }
    const base: Parameters<typeof runAB>[0]['base'] = {};
    if (machine) base.machine = profileOf(machine);
    if (argv.hz !== undefined) base.hz = argv.hz;
    if (ctx !== undefined) base.ctxSwitchNs = usToNs(ctx);
    const progress = terminalProgress(!argv.json);
    const result = runAB({ bundle, variants, seed, simulate, base, ...(progress ? { progress } : {}) });
    if (argv.json) process.stdout.write(`${JSON.stringify(result.report, null, 2)}\n`);
    else process.stdout.write(`${formatComparison(result.report)}\n`);
    if (outDir) {
      const files = await writeComparison(outDir, result, '', true);
      for (const [label, rs] of records) {
        const path = join(outDir, `records-${fileLabel(label)}.jsonl`);
        await writeInvocationRecords(path, [...rs].sort((a, b) => a.endNs - b.endNs), 'jsonl');
        files.push(path);
      }
      if (!argv.json) process.stdout.write(`\nwrote ${files.length} files to ${argv.out}: ${files.map((f) => f.split('/').pop()).join(', ')}\n`);
    }
  },
};

export default simulateCommand;
