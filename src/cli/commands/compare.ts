import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import { InputError, UnsupportedError } from '../../core/errors.js';
import type { CalibratedAbResult, runCalibratedAb } from '../../harness/real/calibrated-ab.js';
import type { RealScheduler, SimRealPair } from '../../harness/real/real-ab.js';
import { UsageError } from '../errors.js';
import { prepareOutDir } from '../flags.js';
import { checkReplayFlags, replayOptions, type ReplayArgs } from '../replay-options.js';
import type { CliCommand } from '../program.js';


interface CompareArgs extends ReplayArgs {
  real: boolean;
  schedulers: string;
  calibrate: boolean;
  'with-sim': boolean;
  machine?: string;
  json: boolean;
  out?: string;
}

/** Which simulator model stands for each real scheduler in the sim-vs-real table. */
const simModel = (s: RealScheduler): 'eevdf' | 'alps' | 'fifo' => (s === 'default' ? 'eevdf' : s === 'ghost-fifo' ? 'fifo' : 'alps');

const EXAMPLES: [string, string][] = [
  ['ghost-alps compare --real', 'Huawei mix, 1,000 invocations, calibrated to 90% real load on 2 vCPUs: default vs ALPS on sched_ext (2 VM boots, ~2 min)'],
  ['ghost-alps compare --real --invocations 300 --json', 'a shorter run; the simulate --json report plus .real (utilisation, calibration) and .simVsReal'],
  ['ghost-alps compare --real --workload azure --invocations 400 --scale 0.25 --out /tmp/real-ab', 'Azure mix; report.json, charts and per-invocation CSVs in /tmp/real-ab'],
];

function parseSchedulers(s: string, REAL_SCHEDULERS: readonly string[]): RealScheduler[] {
  const list = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (!list.length) throw new InputError('--schedulers', 'empty list');
  for (const x of list) {
    if (!REAL_SCHEDULERS.includes(x)) throw new InputError('--schedulers', `unknown real scheduler "${x}" (known: ${REAL_SCHEDULERS.join(', ')})`);
  }
  if (new Set(list).size !== list.length) throw new InputError('--schedulers', 'a scheduler is listed twice');
  return list as RealScheduler[];
}

/** Inside a sched_ext guest the scripts run directly; on a host each run boots the VM. */
async function guestRunner(cpus: number): Promise<Parameters<typeof runCalibratedAb>[0]['run']> {
  const { directRunner, vmRunner } = await import('../../harness/real/calibrated-ab.js');
  if (process.env.GHOST_ALPS_IN_VM === '1' && existsSync('/sys/kernel/sched_ext')) return directRunner;
  const { vmAvailability } = await import('../../vm/index.js');
  const vm = await vmAvailability();
  // No kernel image or no qemu here: the environment's limit (exit 4), one line with the fix.
  if (!vm.ok) throw new UnsupportedError('compare --real', `needs the sched_ext VM: ${vm.reason}`);
  return vmRunner(cpus);
}

/** Flag checks before any VM boots (also the fuzz suite's entry point). */
async function checkCompareArgs(argv: CompareArgs): Promise<RealScheduler[]> {
  if (!argv.real) throw new UsageError('compare runs real kernels only; pass --real (for simulated schedulers use `ghost-alps simulate`)');
  // The list lives with the real A/B harness (imported here, not at start-up: it is heavy).
  const schedulers = parseSchedulers(argv.schedulers, (await import('../../harness/real/real-ab.js')).REAL_SCHEDULERS);
  checkReplayFlags(argv, 16);
  return schedulers;
}

function measuredLines(r: CalibratedAbResult, cpus: number): string {
  const out: string[] = [];
  const c = r.calibration;
  if (c) {
    out.push(
      `calibration: guest background ${(100 * c.background).toFixed(1)}% CPU, ${(c.overheadNs / 1e6).toFixed(2)} ms guest CPU per invocation beyond its demand ` +
        `(fork, exit, invoker; ${c.invocations} invocations) -> arrival gaps x${r.gapFactor.toFixed(3)}, predicted ${(100 * r.predictedUtilisation).toFixed(1)}% on ${cpus} CPUs`,
    );
  } else out.push('calibration: off (arrival gaps as generated)');
  for (const a of r.arms) {
    out.push(`measured utilisation (/proc/stat over the run) ${a.scheduler.padEnd(8)} ${(100 * a.cpu.utilisation).toFixed(1)}%  failed invocations ${a.row.failed}`);
  }
  const base = r.arms[0];
  for (const a of r.arms) {
    const ms = a.repetitionMeansMs;
    const spread = ms.length > 1 ? `, runs ${ms.map((x) => x.toFixed(0)).join(' / ')} ms (spread ${(Math.max(...ms) - Math.min(...ms)).toFixed(0)} ms)` : '';
    const ratio = base && a !== base ? `, median mean / ${base.scheduler} ${(a.row.meanTurnaroundMs / base.row.meanTurnaroundMs).toFixed(3)}` : '';
    const loop = a.agentCpuShare !== undefined ? `, ${a.policyGenerations} policy generations, agent ${(100 * a.agentCpuShare).toFixed(2)}% of guest CPU` : '';
    const g = a.ghost;
    const ghost = g
      ? `, ${g.decisions} decisions (${g.decisionsPerSec.toFixed(0)}/s), commit -> running ${g.commitToRunMeanNs !== undefined ? `${(g.commitToRunMeanNs / 1000).toFixed(0)} us mean over ${g.commitToRunN} commits` : 'not reported'}, sched_ext ${g.stateAtEnd} at the end`
      : '';
    out.push(`${a.scheduler}: median mean ${a.row.meanTurnaroundMs.toFixed(1)} ms${spread}${ratio}${loop}${ghost}`);
  }
  return out.join('\n');
}

export const compareCommand: CliCommand<CompareArgs> = {
  command: 'compare',
  describe: 'real A/B on a sched_ext kernel (the qemu VM): default scheduler vs ALPS on sched_ext',
  builder: (y: Argv) =>
    replayOptions(
      y
        .usage(
          'ghost-alps compare --real [options]\n\nReplay one Table 1 workload with real processes (alps-invoke) under each scheduler in the\n' +
            'sched_ext VM (or directly when already inside a sched_ext guest), after calibrating the trace\n' +
            "to the guest's real CPU capacity so --load is the utilisation the guest really sees. Prints the\n" +
            'same report as `simulate`, the measured utilisation of each arm, and a sim-vs-real table\n' +
            '(the EEVDF model vs the real default, the ALPS model vs ALPS on sched_ext).',
        )
        .example(EXAMPLES)
        .option('real', { type: 'boolean', default: false, describe: 'run on a real kernel (required: simulated comparisons are `ghost-alps simulate`)' })
        .option('schedulers', { type: 'string', default: 'default,alps-scx', describe: 'comma-separated, in run order: default, alps-scx (and the other ALPS variants an unknown name lists)' }),
      {
        invocations: { default: 1000, describe: 'invocations per scheduler' },
        load: 'real guest CPU utilisation to calibrate to (0..1)',
        cpus: 'vCPUs of the VM (and of the simulated machine)',
        repeat: 'repetitions of every arm in the one A/B boot; each arm reports its median run and the spread (1..9)',
      },
    )
      .option('calibrate', { type: 'boolean', default: true, describe: 'calibrate the arrival gaps to the measured guest capacity (--no-calibrate: nominal load)' })
      .option('with-sim', { type: 'boolean', default: true, describe: 'also simulate the same workload and print the sim-vs-real table (--no-with-sim to skip)' })
      .option('machine', { type: 'string', describe: 'simulate on this machine file (from `ghost-alps calibrate`) instead of adding the run\'s own measured overhead to each invocation' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON (simulate --json shape, plus .real and .simVsReal)' })
      .option('out', { type: 'string', describe: 'directory for report.json, curves.json, SVG charts and per-invocation CSVs' }),
  check: async (argv) => {
    await checkCompareArgs(argv);
  },
  handler: async (argv) => {
    const schedulers = await checkCompareArgs(argv);
    const outDir = argv.out !== undefined ? prepareOutDir(argv.out) : undefined;
    // A bad machine file fails before any VM boots (exit 3, naming the file and the field).
    const machine = argv.machine !== undefined ? (await import('../../sim/index.js')).readMachineFile(argv.machine) : undefined;
    const [{ compareOutcomes, runVariant }, { writeComparison }, { formatComparison }, { simulate, profileOf }, { table1Workload }, { withOverhead }, { runCalibratedAb }, { formatSimVsReal, simRealStats }] = await Promise.all([
      import('../../harness/ab.js'),
      import('../../harness/output.js'),
      import('../../harness/table.js'),
      import('../../sim/index.js'),
      import('../../workload/index.js'),
      import('../../harness/real/calibrate.js'),
      import('../../harness/real/calibrated-ab.js'),
      import('../../harness/real/real-ab.js'),
    ]);
    const mix = argv.workload as 'huawei' | 'azure';
    const bundle = table1Workload({ mix, invocations: argv.invocations, cpus: argv.cpus, load: argv.load, seed: argv.seed });
    const say = (s: string): void => {
      if (!argv.json) process.stderr.write(`compare: ${s}\n`);
    };
    const r = await runCalibratedAb({
      bundle,
      schedulers,
      cpus: argv.cpus,
      load: argv.load,
      scale: argv.scale,
      seed: argv.seed,
      run: await guestRunner(argv.cpus),
      noCalibration: !argv.calibrate,
      repetitions: argv.repeat,
      onPhase: say,
    });
    // The simulator sees what the guest really spent per invocation (demand + measured overhead),
    // or, with --machine, runs the real trace on the calibrated machine (its own launch cost).
    const simBundle = machine ? r.bundle : withOverhead(r.bundle, r.calibration?.overheadNs ?? 0);
    const simBase = machine ? { machine: profileOf(machine) } : {};
    const srpt = runVariant(simulate, simBundle, { scheduler: 'srpt' }, argv.seed, simBase);
    const result = compareOutcomes(r.bundle, argv.seed, r.arms.map((a) => a.outcome), srpt.records);
    let simVsReal: SimRealPair[] = [];
    if (argv['with-sim']) {
      say('simulating the same workload');
      simVsReal = schedulers.map((s, i) => {
        const model = simModel(s);
        const sim = runVariant(simulate, simBundle, { scheduler: model }, argv.seed, simBase);
        return {
          sim: model,
          real: s,
          simStats: simRealStats(r.bundle.workload, sim.records),
          realStats: simRealStats(r.bundle.workload, r.arms[i]!.outcome.records),
        };
      });
    }
    const real = {
      calibration: r.calibration,
      gapFactor: r.gapFactor,
      predictedUtilisation: r.predictedUtilisation,
      utilisation: Object.fromEntries(r.arms.map((a) => [a.scheduler, a.cpu.utilisation])),
      // One row per arm: the closed loop's generations and the agent's own CPU share of the guest.
      arms: r.arms.map((a) => ({
        scheduler: a.scheduler,
        meanTurnaroundMs: a.row.meanTurnaroundMs,
        utilisation: a.cpu.utilisation,
        policyGenerations: a.policyGenerations,
        repetitionMeansMs: a.repetitionMeansMs,
        groups: a.row.groups,
        failed: a.row.failed,
        ...(a.row.launchLateMeanMs !== undefined ? { launchLateMeanMs: a.row.launchLateMeanMs, launchLateP99Ms: a.row.launchLateP99Ms } : {}),
        ...(a.agentCpuShare !== undefined ? { agentCpuShare: a.agentCpuShare } : {}),
        ...(a.agentCost ? { agentCost: a.agentCost } : {}),
        ...(a.schedulerStats ? { schedulerStats: a.schedulerStats } : {}),
        ...(a.ghost ? { ghost: a.ghost } : {}),
      })),
      failed: Object.fromEntries(r.arms.map((a) => [a.scheduler, a.row.failed])),
      policyFunctions: r.policy.entries.length,
      scale: argv.scale,
      ...(argv.machine !== undefined ? { machineFile: argv.machine } : {}),
      vmWallMs: Math.round(r.calibrationWallMs + r.abWallMs),
    };
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ ...result.report, real, simVsReal }, null, 2)}\n`);
    } else {
      process.stdout.write(`${formatComparison(result.report, schedulers[0])}\n\n${measuredLines(r, argv.cpus)}\n`);
      if (simVsReal.length) {
        const how = machine ? `on the machine file ${argv.machine}` : "each invocation's demand + the measured overhead";
        process.stdout.write(`\nsim vs real (same workload, ${argv.cpus} CPUs; the simulator runs ${how}):\n${formatSimVsReal(simVsReal)}\n`);
      }
    }
    if (outDir) {
      const files = await writeComparison(outDir, result, '', true);
      if (!argv.json) process.stdout.write(`\nwrote ${files.length} files to ${argv.out}: ${files.map((f) => f.split('/').pop()).join(', ')}\n`);
    }
  },
};

export default compareCommand;
