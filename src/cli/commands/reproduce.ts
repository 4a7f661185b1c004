import type { Argv } from 'yargs';
import { intFlag, LIMITS, prepareOutDir, seedFlag } from '../flags.js';
import type { CliCommand } from '../program.js';

interface ReproduceArgs {
  out: string;
  seed: number;
  invocations: number;
  only?: string;
  machine?: string;
  json: boolean;
}

/** The paper's size (FULL_SCALE.invocations in src/harness/reproduce; kept here so --help loads nothing heavy). */
const PAPER_INVOCATIONS = 15000;

function checkReproduceArgs(argv: ReproduceArgs): void {
  seedFlag(argv.seed);
  intFlag('--invocations', argv.invocations, 100, LIMITS.invocations);
}

export const reproduceCommand: CliCommand<ReproduceArgs> = {
  command: 'reproduce',
  describe: 'run the ALPS paper’s experiments in simulation and write results.md (paper value beside ours)',
  builder: (y: Argv) =>
    y
      .usage(
        `ghost-alps reproduce --out DIR [options]\n\nRuns Fig. 1, 2, 5/6, 7, 9, 10–14, 15 of the ALPS paper and the I/O study's Table 1 on the\n` +
          `simulated machine, plus the simulator issue's acceptance check, and writes DIR/results.md,\nDIR/results.json and DIR/charts/*.svg.`,
      )
      .example([
        ['ghost-alps reproduce --out /tmp/repro', 'everything at the paper\'s sizes (about a minute on 2 cores)'],
        ['ghost-alps reproduce --out /tmp/repro-quick --invocations 3000 --only acceptance,fig5-6', 'a quick subset'],
      ])
      .option('out', { type: 'string', demandOption: true, describe: 'output directory' })
      .option('seed', { type: 'number', default: 1, describe: 'seed of every workload and machine' })
      .option('invocations', { type: 'number', default: PAPER_INVOCATIONS, describe: `invocations per run (the paper: 15,000), 100..${LIMITS.invocations}` })
      .option('only', { type: 'string', describe: 'comma-separated experiment ids (e.g. acceptance,fig5-6; an unknown id lists them all)' })
      .option('machine', { type: 'string', describe: 'run every experiment on this machine file (from `ghost-alps calibrate`) instead of the ideal host' })
      .option('json', { type: 'boolean', default: false, describe: 'print the sections as JSON on stdout' }),
  check: checkReproduceArgs,
  handler: async (argv) => {
    checkReproduceArgs(argv);
    const out = prepareOutDir(argv.out);
    const [{ terminalProgress }, { FULL_SCALE, runReproduction }, { simulate, readMachineFile, profileOf }] = await Promise.all([
      import('../../harness/progress.js'),
      import('../../harness/reproduce/index.js'),
      import('../../sim/index.js'),
    ]);
    // A machine file applies to every run (explicit hz/ctxSwitchNs of an experiment still win).
    const machine = argv.machine !== undefined ? profileOf(readMachineFile(argv.machine)) : undefined;
    const only = argv.only?.split(',').map((s) => s.trim()).filter(Boolean);
    const progress = terminalProgress(!argv.json);
    const summary = await runReproduction({
      simulate,
      out,
      seed: argv.seed,
      ...(machine ? { machine, machineFile: argv.machine } : {}),
      scale: { ...FULL_SCALE, invocations: argv.invocations },
      ...(only ? { only } : {}),
      ...(progress ? { progress } : {}),
      log: argv.json ? undefined : (l) => process.stderr.write(`${l}\n`),
    });
    if (argv.json) process.stdout.write(`${JSON.stringify({ wallMs: summary.wallMs, sections: summary.sections }, null, 2)}\n`);
    else {
      const rows = summary.sections.flatMap((s) => s.rows);
      const yes = rows.filter((r) => r.agrees === true).length;
      const judged = rows.filter((r) => r.agrees !== null).length;
      process.stdout.write(`wrote ${summary.resultsPath} (${summary.simulatedRuns} runs, ${(summary.wallMs / 1000).toFixed(1)} s; ${yes}/${judged} judged rows agree with the paper's claims)\n`);
    }
  },
};

export default reproduceCommand;
