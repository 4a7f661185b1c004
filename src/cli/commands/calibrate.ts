import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Argv } from 'yargs';
import { UnsupportedError } from '../../core/errors.js';
import type { GuestRunner } from '../../harness/real/calibrated-ab.js';
import { checkReplayFlags, replayOptions, type ReplayArgs } from '../replay-options.js';
import type { CliCommand } from '../program.js';

interface CalibrateArgs extends ReplayArgs {
  out: string;
  here: boolean;
  json: boolean;
}

const EXAMPLES: [string, string][] = [
  ['ghost-alps calibrate --out vm-2cpu.json', 'calibrate the simulator to the sched_ext VM at 2 vCPUs (Huawei mix, 2 VM boots, a few minutes under TCG)'],
  ['ghost-alps simulate --cpus 2 --schedulers eevdf,alps --machine vm-2cpu.json', 'then simulate on the calibrated machine'],
  ['ghost-alps calibrate --here --cpus 8 --out host.json', 'calibrate to this host directly (the default scheduler needs no sched_ext; run as root)'],
];

/** Flag checks before any VM boots. */
function checkCalibrateArgs(argv: CalibrateArgs): void {
  // The VM takes up to 16 vCPUs; with --here the trace is for this host, so up to its CPU count.
  checkReplayFlags(argv, argv.here ? Math.max(16, availableParallelism()) : 16);
}

/**
 * Where the measurement runs: inside a sched_ext guest directly; with --here on this host, the
 * guest scripts' /project paths pointing at this checkout; otherwise one VM boot per script.
 */
async function runner(argv: CalibrateArgs): Promise<{ run: GuestRunner; where: string }> {
  const { directRunner, vmRunner } = await import('../../harness/real/calibrated-ab.js');
  if (process.env.GHOST_ALPS_IN_VM === '1' && existsSync('/sys/kernel/sched_ext')) return { run: directRunner, where: 'inside the sched_ext guest' };
  if (argv.here) {
    const { projectRoot } = await import('../../vm/paths.js');
    const root = projectRoot();
    return { run: (script, files, t) => directRunner(script.replaceAll('/project/', `${root}/`), files, t), where: 'this host (--here)' };
  }
  const { vmAvailability } = await import('../../vm/index.js');
  const vm = await vmAvailability();
  if (!vm.ok) throw new UnsupportedError('calibrate', `needs the sched_ext VM: ${vm.reason}`, 'or pass --here to measure this host');
  return { run: await vmRunner(argv.cpus), where: `the sched_ext VM (${argv.cpus} vCPUs, qemu)` };
}

export const calibrateCommand: CliCommand<CalibrateArgs> = {
  command: 'calibrate',
  describe: "measure a real host and write the simulator's machine file (simulate --machine)",
  builder: (y: Argv) =>
    replayOptions(
      y
        .usage(
          'ghost-alps calibrate --out FILE [options]\n\nMeasure the host (the sched_ext VM by default): background CPU, CPU per invocation beyond its\n' +
            'demand, tick rate and base slice; replay a small Table 1 trace under the default scheduler; fit the\n' +
            "simulator's context-switch cost and CPU capacity to that replay's mean turnaround (overall and per\n" +
            'group); write the machine file. The same file then serves every scheduler model (docs/simulator.md).',
        )
        .example(EXAMPLES)
        .option('out', { type: 'string', demandOption: true, describe: 'machine file to write (JSON)' }),
      {
        invocations: { default: 600, describe: 'invocations of the replay' },
        load: 'real CPU utilisation of the replay (0..1)',
        cpus: 'vCPUs of the VM (with --here: CPUs the trace is generated for)',
        repeat: 'replays in the one boot; the median run is fitted (1..9)',
      },
    )
      .option('here', { type: 'boolean', default: false, describe: 'measure this host directly instead of booting the VM' })
      .option('json', { type: 'boolean', default: false, describe: 'print the calibration (file, real and simulated statistics) as JSON' }),
  check: (argv) => {
    checkCalibrateArgs(argv);
  },
  handler: async (argv) => {
    checkCalibrateArgs(argv);
    const [{ calibrateMachine }, { formatMachineFile }, { MAX_STATIONARY_GROWTH, onGridEdge }] = await Promise.all([
      import('../../harness/real/calibrate-machine.js'),
      import('../../sim/index.js'),
      import('../../harness/real/fit-machine.js'),
    ]);
    const { run, where } = await runner(argv);
    const say = (s: string): void => {
      if (!argv.json) process.stderr.write(`calibrate: ${s}\n`);
    };
    const c = await calibrateMachine({
      mix: argv.workload as 'huawei' | 'azure',
      invocations: argv.invocations,
      cpus: argv.cpus,
      load: argv.load,
      scale: argv.scale,
      seed: argv.seed,
      repetitions: argv.repeat,
      run,
      onPhase: say,
    });
    const text = formatMachineFile(c.fit.machine, `calibrated on ${where}: ${argv.workload} replay at ${argv.load} real load`, { ...c.provenance, where });
    writeFileSync(argv.out, text);
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ file: argv.out, machine: JSON.parse(text), real: c.real, sim: c.sim, fitError: c.fit.error, unfittedError: c.fit.unfittedError, turnaroundGrowth: c.growth }, null, 2)}\n`);
      return;
    }
    const m = c.fit.machine;
    const cal = c.calibration;
    const edges = onGridEdge(c.fit);
    process.stdout.write(
      [
        `measured: background ${(100 * m.backgroundLoad).toFixed(1)}% CPU, ${(m.launchCpuNs / 1e6).toFixed(2)} ms CPU per invocation beyond its demand, ` +
          `HZ ${m.hz}${cal.hz === undefined ? ' (default: not measurable here)' : ''}, base slice ${(m.baseSliceNs / 1e3).toFixed(0)} µs per CPU${cal.baseSliceNs === undefined ? ' (default: no debugfs)' : ''}`,
        `fitted:   context switch ${(m.ctxSwitchNs / 1e3).toFixed(0)} µs, CPU capacity ${m.cpuCapacity.toFixed(2)}`,
        `replay:   real default mean ${c.real.meanMs.toFixed(1)} ms (runs ${c.repetitionMeansMs.map((x) => x.toFixed(0)).join(' / ')}), ` +
          `EEVDF model ${c.sim.meanMs.toFixed(1)} ms on the fitted machine; error (RMS ln sim/real over mean and groups) ${c.fit.error.toFixed(3)}, ${c.fit.unfittedError.toFixed(3)} unfitted`,
        ...edges.map((f) => `warning: the fitted ${f} is on the edge of its grid; the real host may lie beyond it`),
        ...(c.growth > MAX_STATIONARY_GROWTH
          ? [`warning: turnaround grew ${c.growth.toFixed(1)}x from the first to the last third of the replay: the host was overloaded (queue not stationary), so this machine will not predict other runs; calibrate on a quieter host or at a lower --load`]
          : []),
        `wrote ${argv.out}`,
      ].join('\n') + '\n',
    );
  },
};

export default calibrateCommand;
