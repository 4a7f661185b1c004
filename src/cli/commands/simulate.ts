import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../core/errors.js';
import { usToNs } from '../../core/time.js';
import { runAB } from '../../harness/ab.js';
import { writeComparison } from '../../harness/output.js';
import { terminalProgress } from '../../harness/progress.js';
import { formatComparison } from '../../harness/table.js';
import { attachGhostAgents, parseSchedulerList } from '../../harness/variants.js';
import { simulate } from '../../sim/index.js';
import { ARRIVAL_LAWS, parseArrivalLaw } from '../../workload/arrivals.js';
import { loadWorkload } from '../../workload/source.js';

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
  out?: string;
  json: boolean;
}

const EXAMPLES: [string, string][] = [
  ['ghost-alps simulate', 'Huawei mix, 15,000 invocations, 90% load on 8 CPUs: CFS, EEVDF, SFS, SRPT and ALPS side by side'],
  ['ghost-alps simulate --workload azure --invocations 3000 --schedulers cfs,srpt,alps --json', 'the JSON report scripts read'],
  ['ghost-alps simulate --workload azure --invocations 3000 --schedulers cfs,alps,alps-ghost,ghost-cfs', 'in-kernel ALPS beside the real ghOSt agent on the emulated kernel (Fig. 15)'],
  ['ghost-alps simulate --workload io-mix --schedulers cfs,alps,alps:io-aware --invocations 4000', 'the I/O study\'s mix, with per-class results'],
  ['ghost-alps simulate --workload ../shared/data/alps-artifact/exp --cpus 24 --out /tmp/sim-exp', 'replay the artifact trace; JSON + SVG charts in /tmp/sim-exp'],
];

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate',
  describe: 'compare schedulers on a simulated multicore host (no kernel needed)',
  builder: (y: Argv) =>
    y
      .usage(
        'ghost-alps simulate [options]\n\nRun one workload under several scheduler models with the same seed and report turnaround\n' +
          '(mean, p50/p90/p99/p99.9, per Table 1 group), slowdown, share slower than SRPT and context switches.',
      )
      .example(EXAMPLES)
      .option('workload', { type: 'string', default: 'huawei', describe: 'huawei | azure | io-mix | path to an artifact trace file (id n app gap port)' })
      .option('cpus', { type: 'number', default: 8, describe: 'simulated CPUs' })
      .option('load', { type: 'number', default: 0.9, describe: 'target average CPU utilisation (arrival rate λ = load·cpus/E[cpu])' })
      .option('invocations', { type: 'number', default: 15000, describe: 'invocations to generate (for a trace file: rows to read at most)' })
      .option('schedulers', { type: 'string', default: DEFAULT_SCHEDULERS, describe: 'comma-separated: cfs,eevdf,fifo,rr,sfs,srpt,alps,alps-delegated, and the real ghOSt agent on the emulated kernel: alps-ghost,ghost-cfs,ghost-fifo; add :io-aware to an ALPS model' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of the workload and the machine' })
      .option('arrivals', { type: 'string', default: 'exponential', choices: ARRIVAL_LAWS as unknown as string[], describe: 'inter-arrival law' })
      .option('io-aware', { type: 'boolean', default: false, describe: 'every ALPS model learns from blocking time too (I/O study §9)' })
      .option('hz', { type: 'number', describe: 'scheduler tick rate (default: the simulator’s, 250)' })
      .option('ctx-switch-us', { type: 'number', describe: 'cost of one context switch in µs (default: the simulator’s)' })
      .option('ms-per-unit', { type: 'number', describe: 'trace files: fixed ms per gap unit (0.21 = the artifact) instead of scaling to --load' })
      .option('out', { type: 'string', describe: 'directory for report.json, curves.json, SVG charts and one invocations-<scheduler>.csv per run' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON on stdout (no table, no progress bar)' }),
  handler: async (argv) => {
    const seed = argv.seed;
    if (!Number.isInteger(seed) || seed < 0) throw new InputError('--seed', `must be a non-negative integer, got ${seed}`);
    if (argv.hz !== undefined && !(Number.isInteger(argv.hz) && argv.hz >= 10 && argv.hz <= 10000)) {
      throw new InputError('--hz', `must be an integer in 10..10000, got ${argv.hz}`);
    }
    const ctx = argv['ctx-switch-us'];
    if (ctx !== undefined && !(ctx >= 0 && Number.isFinite(ctx))) throw new InputError('--ctx-switch-us', `must be ≥ 0, got ${ctx}`);
    const variants = parseSchedulerList(argv.schedulers, argv['io-aware']);
    await attachGhostAgents(variants);
    const bundle = loadWorkload(argv.workload, {
      invocations: argv.invocations,
      cpus: argv.cpus,
      load: argv.load,
      seed,
      arrivals: parseArrivalLaw(argv.arrivals, '--arrivals'),
      ...(argv['ms-per-unit'] !== undefined ? { msPerUnit: argv['ms-per-unit'] } : {}),
    });
    const base: Parameters<typeof runAB>[0]['base'] = {};
    if (argv.hz !== undefined) base.hz = argv.hz;
    if (ctx !== undefined) base.ctxSwitchNs = usToNs(ctx);
    const progress = terminalProgress(!argv.json);
    const result = runAB({ bundle, variants, seed, simulate, base, ...(progress ? { progress } : {}) });
    if (argv.json) process.stdout.write(`${JSON.stringify(result.report, null, 2)}\n`);
    else process.stdout.write(`${formatComparison(result.report)}\n`);
    if (argv.out) {
      const files = await writeComparison(argv.out, result, '', true);
      if (!argv.json) process.stdout.write(`\nwrote ${files.length} files to ${argv.out}: ${files.map((f) => f.split('/').pop()).join(', ')}\n`);
    }
  },
};

export default simulateCommand;
