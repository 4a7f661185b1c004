/**
 * A calibrated real A/B: measure the guest (calibrate.ts), stretch the trace's arrival gaps so
 * the guest really runs at the target utilisation, then replay it under each scheduler in one
 * boot with /proc/stat samples around each arm. Used by `ghost-alps compare --real` and
 * `npm run bench -- bpf --real`.
 *
 * Two guest runs: the calibration needs its own boot because the trace (and the policy learned
 * from it) is built on the host from the calibration's result. On the host each run is a VM
 * boot (`runInVm`); inside a sched_ext guest (GHOST_ALPS_IN_VM=1) the scripts run directly.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { WorkloadBundle } from '../../workload/bundle.js';
import type { Policy } from '../../core/policy.js';
import type { RunOutcome } from '../report.js';
import { calibrationPlan, calibrationScript, cpuUse, gapFactor, parseCalibration, parseStatLines, stretchArrivals, STAT_HELPER, type Calibration, type CpuUse } from './calibrate.js';
import { agentFigures, GHOST_ARMS, ghostFigures, learnLoaderPolicy, measuredAbScript, scaleBundle, splitSections, summarise, toRealTrace, taggedCounters, toRunOutcome, type GhostFigures, type RealRow, type RealScheduler } from './real-ab.js';

export interface GuestFile {
  guestPath: string;
  content: string;
}

export interface GuestResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Kernel log tail, for errors (VM runs only). */
  console?: string;
}

/** Runs one shell script in a sched_ext guest. */
export type GuestRunner = (script: string, files: GuestFile[], timeoutMs: number) => Promise<GuestResult>;

/**
 * Host side: one VM boot per script, with the guest clock `clock` (docs/vm.md, "Clock").
 * Default 'host' (multi-threaded TCG): under the icount clock an idle guest's measured busy
 * share follows the host's load (0.39 quiet vs 0.54 with two host CPU hogs), and the
 * calibration's background term with it, so calibrated runs miss their target load; until the
 * calibration measures around that, the A/B keeps guest time = host time. In that mode the
 * kernel can oops on an int3 while live-patching its text (a multi-threaded-TCG race, not a
 * scheduler fault): such a run, and only such a run, is retried (up to 3 boots in all).
 */
export async function vmRunner(cpus: number, clockOpt?: 'auto' | 'icount' | 'host'): Promise<GuestRunner> {
  const { runInVm, VmError } = await import('../../vm/index.js');
  const env = process.env['GHOST_ALPS_VM_CLOCK'];
  const clock = clockOpt ?? (env === 'icount' || env === 'host' ? env : 'host');
  const racy = (accel: string | undefined, c: string | undefined): boolean => accel === 'tcg' && c === 'host';
  return async (script, files, timeoutMs) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await runInVm({ command: ['sh', '-c', script], cpus, timeoutMs, files, clock });
        if (attempt < 2 && r.exitCode !== 0 && racy(r.accel, r.clock) && /Oops: int3/.test(r.console)) continue;
        return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, wallMs: r.wallMs, console: r.console };
      } catch (e) {
        if (attempt < 2 && e instanceof VmError && racy(e.accel, e.clock) && e.diagnosis?.kind === 'oops' && /Oops: int3/.test(e.console)) continue;
        throw e;
      }
    }
  };
}

/** Inside the guest: write the files, run the script with sh. */
export const directRunner: GuestRunner = async (script, files, timeoutMs) => {
  for (const f of files) {
    mkdirSync(dirname(f.guestPath), { recursive: true });
    writeFileSync(f.guestPath, f.content);
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (code, sig) => resolve({ exitCode: code ?? (sig ? 124 : 1), stdout, stderr, wallMs: performance.now() - t0 }));
  });
};

export interface CalibratedAbOptions {
  /** The nominal workload (generated for `cpus` at the nominal load). */
  bundle: WorkloadBundle;
  schedulers: readonly RealScheduler[];
  cpus: number;
  /** Real utilisation to reach in the guest (0..1). */
  load: number;
  /** Every time × scale (demands and arrivals) before calibration. */
  scale: number;
  seed: number;
  run: GuestRunner;
  /** Invocations in the calibration run (default 100). */
  calibrationInvocations?: number;
  /** Skip calibration (gap factor 1): the uncalibrated nominal-load run, for comparison. */
  noCalibration?: boolean;
  /**
   * Repetitions of the whole arm sequence in the one A/B boot (default 1). With more, each arm
   * reports its median run (by mean turnaround) and the spread of its runs: one run is not a
   * verdict (three quiet runs of the same A/B gave ratios 0.60, 0.53, 0.39).
   */
  repetitions?: number;
  onPhase?: (what: string) => void;
}

export interface ArmResult {
  scheduler: RealScheduler;
  row: RealRow;
  outcome: RunOutcome;
  /** /proc/stat over the arm's invoker run. */
  cpu: CpuUse;
  lines: string[];
  /** Closed loop (`alps-scx`): policy generations the in-guest agent installed (0 for the others). */
  policyGenerations: number;
  /** Closed loop: the agent's own CPU time as a share of the guest's CPU over the run. */
  agentCpuShare?: number;
  /** Closed loop: the agent's own accounting of its CPU since attach (ms: learnMs, recordsMs, tickMs, totalMs; rounds, wakeups). */
  agentCost?: Record<string, number>;
  /** Closed loop: the sched_ext scheduler's counters at the agent's last round (ScxStats). */
  schedulerStats?: Record<string, number>;
  /** Mean turnaround (ms) of every repetition, in run order; the arm's figures are the median run's. */
  repetitionMeansMs: number[];
  /** Delegated arms (alps-ghost, ghost-fifo): the agent's decisions and the kernel side's commit figures. */
  ghost?: GhostFigures & { decisionsPerSec: number };
}

export interface CalibratedAbResult {
  /** The workload that really ran: scaled, arrival gaps stretched by `gapFactor`. */
  bundle: WorkloadBundle;
  calibration: Calibration | null;
  gapFactor: number;
  /** Utilisation the calibration predicts for the default arm. */
  predictedUtilisation: number;
  policy: Policy;
  arms: ArmResult[];
  calibrationWallMs: number;
  abWallMs: number;
}

const fail = (what: string, r: GuestResult): Error =>
  new Error(`${what} failed in the guest (exit ${r.exitCode}): ${r.stderr.slice(-1500)}\n${(r.console ?? '').slice(-1500)}`);

export async function runCalibratedAb(o: CalibratedAbOptions): Promise<CalibratedAbResult> {
  const scaled = scaleBundle(o.bundle, o.scale);
  const nominalTrace = toRealTrace(o.bundle.workload, o.scale);
  const inv = scaled.workload.invocations;
  const spanNs = (inv[inv.length - 1]?.arrivalNs ?? 0) - (inv[0]?.arrivalNs ?? 0);
  const demandNs = nominalTrace.cpuNs.reduce((a, b) => a + b, 0);
  const stFile = { guestPath: '/tmp/st.sh', content: STAT_HELPER };

  let calibration: Calibration | null = null;
  let k = 1;
  let calibrationWallMs = 0;
  if (!o.noCalibration) {
    o.onPhase?.('calibrating the guest');
    const plan = calibrationPlan(nominalTrace, o.cpus, o.load, o.calibrationInvocations ?? 100);
    const r = await o.run(calibrationScript(plan), [stFile, { guestPath: '/tmp/cal.txt', content: plan.text }], 300_000);
    if (r.exitCode !== 0) throw fail('calibration', r);
    calibrationWallMs = r.wallMs;
    calibration = parseCalibration(r.stdout, plan);
    k = gapFactor({ demandNs, invocations: inv.length, spanNs, cpus: o.cpus, target: o.load, cal: calibration });
  }
  const bundle = k === 1 ? scaled : stretchArrivals(scaled, k, `calibrated to ${o.load} real load`);
  // The trace is rebuilt from the stretched workload at scale 1: demands stay as scaled.
  const trace = toRealTrace(bundle.workload, 1);
  const { policy, args } = learnLoaderPolicy(bundle.workload, trace, o.cpus, 1);
  const predictedUtilisation = calibration
    ? (demandNs + inv.length * calibration.overheadNs) / (o.cpus * spanNs * k) + calibration.background
    : NaN;

  const reps = o.repetitions ?? 1;
  if (!Number.isInteger(reps) || reps < 1 || reps > 9) throw new Error(`repetitions must be an integer in 1..9, got ${reps}`);
  o.onPhase?.(`running ${o.schedulers.join(', ')}${reps > 1 ? ` (${reps} repetitions)` : ''}`);
  // Generous bound: every arm replays the whole span and drains its queue.
  const timeoutMs = Math.max(300_000, Math.round(((spanNs * k) / 1e6) * o.schedulers.length * reps * 6));
  // Repetition k > 0 renames its sections "<arm>#k" (arms alternate, so host drift hits all).
  const script = Array.from({ length: reps }, (_, rep) =>
    rep === 0 ? measuredAbScript(o.schedulers, args) : measuredAbScript(o.schedulers, args).replace(/^echo "== (\S+)"$/gm, `echo "== $1#${rep}"`).replace(/st\.sh (\S+) (begin|end)/g, `st.sh $1#${rep} $2`),
  ).join('\n');
  const r = await o.run(script, [stFile, { guestPath: '/tmp/trace.txt', content: trace.text }], timeoutMs);
  const sections = splitSections(r.stdout);
  const name = (s: string, rep: number): string => (rep === 0 ? s : `${s}#${rep}`);
  if (r.exitCode !== 0 || o.schedulers.some((s) => Array.from({ length: reps }, (_, i) => name(s, i)).some((n) => !sections.has(n)))) throw fail('the A/B run', r);
  const arms = o.schedulers.map((s): ArmResult => {
    const runs = Array.from({ length: reps }, (_, i) => ({ label: name(s, i), row: summarise(s, sections.get(name(s, i))!) }));
    const order = [...runs].sort((a, b) => a.row.meanTurnaroundMs - b.row.meanTurnaroundMs);
    const median = order[Math.floor((order.length - 1) / 2)]!;
    const lines = sections.get(median.label)!;
    const cpu = cpuUse(parseStatLines(lines), median.label);
    if (!cpu) throw new Error(`${median.label}: no /proc/stat samples in the guest output`);
    const outcome = { ...toRunOutcome(s, bundle.workload, lines, r.wallMs), busyNsPerCpu: cpu.busyNsPerCpu };
    const arm: ArmResult = {
      scheduler: s,
      row: median.row,
      outcome,
      cpu,
      lines,
      policyGenerations: s === 'alps-scx:oracle' ? 1 : 0,
      repetitionMeansMs: runs.map((x) => x.row.meanTurnaroundMs),
    };
    if (s === 'alps-scx' || GHOST_ARMS[s]) {
      const a = agentFigures(lines, cpu.totalNs);
      if (!a) throw new Error(`${s}: the in-guest agent reported no generations or CPU time: ${lines.filter((l) => l.startsWith('agent')).join(' | ')}`);
      arm.policyGenerations = a.policyGenerations;
      arm.agentCpuShare = a.agentCpuShare;
      const c = s === 'alps-scx' ? taggedCounters(lines, 'agentcost') : undefined;
      if (c) arm.agentCost = c;
      const k = s === 'alps-scx' ? taggedCounters(lines, 'agentsched') : undefined;
      if (k) arm.schedulerStats = k;
    }
    if (GHOST_ARMS[s]) {
      const g = ghostFigures(lines);
      if (!g) throw new Error(`${s}: the ghOSt agent printed no statistics: ${lines.filter((l) => l.startsWith('ghost')).join(' | ')}`);
      // The invoker run's wall time: the guest's CPU time over the run / its CPUs.
      const wallS = cpu.totalNs / Math.max(1, cpu.busyNsPerCpu.length) / 1e9;
      arm.ghost = { ...g, decisionsPerSec: wallS > 0 ? g.decisions / wallS : NaN };
    }
    return arm;
  });
  return { bundle, calibration, gapFactor: k, predictedUtilisation, policy, arms, calibrationWallMs, abWallMs: r.wallMs };
}
