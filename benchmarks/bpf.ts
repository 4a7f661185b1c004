/**
 * `npm run bench -- bpf [--json] [--runs N] [--tasks N]`: cost of the BPF profiler per event on
 * this host's kernel, from the kernel's own BPF run-time statistics (BPF_ENABLE_STATS:
 * run_time_ns / run_cnt per program). Each run attaches the profiler, runs N tagged
 * invocations that alternate 1 ms of CPU with 1 ms of sleep 100 times (many switches and
 * wakeups of tagged tasks, amid the host's own untagged ones), and divides the programs'
 * run-time growth by their run-count growth. Median over runs. Needs root + BTF.
 * The same run also attaches empty programs on the same hooks (ghost-kernel/bpf/bench_empty.bpf.o):
 * `baselineNsPerEvent` is their cost under the same load, `ratio` = profiler / baseline, the
 * figure that carries between machines.
 *
 * `npm run bench -- bpf --real [--json] [--invocations N] [--load U] [--scale S] [--seed N] [--no-calibrate]`:
 * real A/B in the sched_ext VM (2 vCPUs): a Huawei-mix Table 1 trace, calibrated to U of the
 * guest's measured CPU capacity, replayed by real processes under the default scheduler and
 * under ALPS on sched_ext (policy learned from the trace). Same engine as `compare --real`.
 */
import { spawn } from 'node:child_process';
import { bpfArtifact, bpfAvailability, loadBpf, type ProgStats } from '../src/native/bpf.js';
import { Profiler } from '../src/agent/scx/profiler.js';
import { launchTagged } from '../src/agent/scx/launch.js';
import { median } from './stats.js';
import { table1Workload } from '../src/workload/index.js';
import type { RealRow } from '../src/harness/real/real-ab.js';
import { runCalibratedAb, vmRunner } from '../src/harness/real/calibrated-ab.js';
import { compareOutcomes, formatComparison } from '../src/harness/index.js';

interface Run {
  nsPerEvent: number;
  events: number;
  records: number;
  perProgram: Record<string, { events: number; nsPerEvent: number }>;
  baselineNsPerEvent: number;
  baselinePerProgram: Record<string, { events: number; nsPerEvent: number }>;
}

/** ns/event per program and over all of them, from two progStats snapshots. */
function delta(before: ProgStats[], after: ProgStats[]): { nsPerEvent: number; events: number; perProgram: Run['perProgram'] } {
  const perProgram: Run['perProgram'] = {};
  let dt = 0;
  let dn = 0;
  after.forEach((a, i) => {
    const b = before[i]!;
    const n = a.runCnt - b.runCnt;
    const t = a.runTimeNs - b.runTimeNs;
    perProgram[a.name] = { events: n, nsPerEvent: n > 0 ? t / n : 0 };
    dt += t;
    dn += n;
  });
  return { nsPerEvent: dn > 0 ? dt / dn : 0, events: dn, perProgram };
}

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: expected a positive integer`);
  return v;
}

async function oneRun(tasks: number): Promise<Run> {
  let records = 0;
  const bpf = loadBpf();
  const base = new bpf.BpfObject(bpfArtifact('bench_empty.bpf.o'));
  const baseLinks: { destroy(): void }[] = [];
  const prof = Profiler.start({ onRecords: (r) => (records += r.length) });
  try {
    base.load();
    for (const p of base.programs()) baseLinks.push(base.attachProgram(p.name));
    const baseStats = (): ProgStats[] => base.programs().map((p) => bpf.progStats(p.fd));
    const before = prof.progStats();
    const baseBefore = baseStats();
    const children = Array.from({ length: tasks }, (_, i) =>
      launchTagged({ funcId: 100 + i, argv: [bpfArtifact('alps-burn'), '1', '1', '100'], tagMaps: [prof.tags] }),
    );
    // An untagged neighbour too: the common case on a host is "event for somebody else".
    const untagged = spawn(bpfArtifact('alps-burn'), ['1', '1', '100'], { stdio: 'ignore' });
    await Promise.all([...children, untagged].map((c) => new Promise((r) => c.on('exit', r))));
    await new Promise((r) => setTimeout(r, 50));
    prof.drain();
    const p = delta(before, prof.progStats());
    const b = delta(baseBefore, baseStats());
    return { ...p, records, baselineNsPerEvent: b.nsPerEvent, baselinePerProgram: b.perProgram };
  } finally {
    prof.close();
    for (const l of baseLinks) l.destroy();
    base.close();
  }
}

function num(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}

async function realBench(argv: string[], json: boolean): Promise<void> {
  const { vmAvailability } = await import('../src/vm/index.js');
  const vm = await vmAvailability();
  if (!vm.ok) {
    process.stdout.write(json ? JSON.stringify({ skipped: vm.reason }) + '\n' : `bpf --real: skipped: ${vm.reason}\n`);
    return;
  }
  const invocations = arg(argv, 'invocations', 1000);
  const load = num(argv, 'load', 0.9);
  const scale = num(argv, 'scale', 0.5);
  const seed = arg(argv, 'seed', 1);
  const cpus = 2;
  const bundle = table1Workload({ mix: 'huawei', invocations, cpus, load, seed });
  // Calibrated to the guest's measured capacity, so `load` is the utilisation it really sees
  // (--no-calibrate: the nominal trace, far past saturation under TCG).
  const r = await runCalibratedAb({ bundle, schedulers: ['default', 'alps-scx'], cpus, load, scale, seed, run: await vmRunner(cpus), noCalibration: argv.includes('--no-calibrate') });
  const rows: RealRow[] = r.arms.map((a) => a.row);
  const [d, a] = rows as [RealRow, RealRow];
  // The same report `simulate --json` prints, built from the real runs.
  const comparison = compareOutcomes(r.bundle, seed, r.arms.map((x) => x.outcome)).report;
  const longest = String(Math.max(...Object.keys(d.groups).map(Number)));
  const out = {
    workload: r.bundle.description,
    scale,
    gapFactor: Math.round(r.gapFactor * 1000) / 1000,
    calibration: r.calibration,
    utilisation: Object.fromEntries(r.arms.map((x) => [x.scheduler, Math.round(x.cpu.utilisation * 1000) / 1000])),
    policyFunctions: r.policy.entries.length,
    rows,
    meanRatio: Math.round((a.meanTurnaroundMs / d.meanTurnaroundMs) * 1000) / 1000,
    longestGroup: Number(longest),
    longestGroupP99Ratio: Math.round(((a.groups[longest]?.p99Ms ?? NaN) / (d.groups[longest]?.p99Ms ?? NaN)) * 1000) / 1000,
    vmWallMs: Math.round(r.calibrationWallMs + r.abWallMs),
    report: comparison,
  };
  if (json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  process.stdout.write(`${out.workload}; VM wall ${(out.vmWallMs / 1000).toFixed(0)} s\n`);
  for (const [i, row] of rows.entries()) {
    const g = Object.entries(row.groups).map(([k, v]) => `G${k}: n=${v.n} mean ${v.meanMs} p99 ${v.p99Ms}`).join(' | ');
    process.stdout.write(`${row.scheduler.padEnd(9)} n=${row.invocations} failed=${row.failed} util ${(100 * r.arms[i]!.cpu.utilisation).toFixed(1)}% mean ${row.meanTurnaroundMs} ms p99 ${row.p99TurnaroundMs} ms | ${g}\n`);
  }
  process.stdout.write(`alps-scx / default: mean ${out.meanRatio}, longest group (G${longest}) p99 ${out.longestGroupP99Ratio}\n\n`);
  process.stdout.write(formatComparison(comparison, 'default') + '\n');
}

export async function bpfBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  if (argv.includes('--real')) return realBench(argv, json);
  const avail = bpfAvailability('profile.bpf.o');
  if (!avail.ok) {
    if (json) process.stdout.write(JSON.stringify({ profilerNsPerEvent: null, skipped: avail.reason }) + '\n');
    else process.stdout.write(`bpf: skipped: ${avail.reason}\n`);
    return;
  }
  const runs = arg(argv, 'runs', 3);
  const tasks = arg(argv, 'tasks', 4);
  const stats = new (loadBpf().StatsHandle)();
  const results: Run[] = [];
  try {
    for (let i = 0; i < runs; i++) results.push(await oneRun(tasks));
  } finally {
    stats.close();
  }
  const nsPerEvent = median(results.map((r) => r.nsPerEvent));
  const progs = Object.keys(results[0]!.perProgram);
  const perProgram = Object.fromEntries(
    progs.map((p) => [p, { nsPerEvent: median(results.map((r) => r.perProgram[p]!.nsPerEvent)), eventsPerRun: median(results.map((r) => r.perProgram[p]!.events)) }]),
  );
  const baselineNsPerEvent = median(results.map((r) => r.baselineNsPerEvent));
  const baselinePerProgram = Object.fromEntries(
    Object.keys(results[0]!.baselinePerProgram).map((p) => [p, { nsPerEvent: median(results.map((r) => r.baselinePerProgram[p]!.nsPerEvent)) }]),
  );
  // Ratio per run, then the median: both figures come from the same load.
  const ratio = median(results.map((r) => (r.baselineNsPerEvent > 0 ? r.nsPerEvent / r.baselineNsPerEvent : NaN)));
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  if (json) {
    process.stdout.write(
      JSON.stringify({
        profilerNsPerEvent: r1(nsPerEvent),
        baselineNsPerEvent: r1(baselineNsPerEvent),
        ratio: Math.round(ratio * 100) / 100,
        runs,
        tasks,
        perProgram,
        baselinePerProgram,
        recordsPerRun: median(results.map((r) => r.records)),
      }) + '\n',
    );
    return;
  }
  process.stdout.write(`BPF profiler cost per event (kernel BPF stats), median of ${runs} runs, ${tasks} tagged tasks:\n`);
  process.stdout.write(`  profiler / empty programs on the same hooks: ${ratio.toFixed(2)}x\n`);
  process.stdout.write(`  all programs   ${nsPerEvent.toFixed(1)} ns/event (empty baseline ${baselineNsPerEvent.toFixed(1)})\n`);
  for (const [p, v] of Object.entries(perProgram)) process.stdout.write(`  ${p.padEnd(16)}${v.nsPerEvent.toFixed(1)} ns/event  (${v.eventsPerRun} events/run)\n`);
}
