/**
 * Load calibration for real A/B runs in the TCG guest.
 *
 * A trace generated for "load U" assumes an invocation costs exactly its CPU demand. Inside the
 * qemu guest every invocation also costs a fork, an exit, page faults and the invoker's own
 * work, all emulated (≈ 15–25 ms of guest CPU each, measured), and the idle guest burns some CPU
 * on timers. With the Huawei mix (mean demand ≈ 38 ms at times ×0.5) a nominal 0.9 is then far
 * past saturation. Calibration measures both costs in the guest and stretches (or compresses)
 * the arrival gaps so that the CPU the guest really spends is U of its capacity:
 *
 *   U · cpus · span = Σ demand + n · overhead + background · cpus · span
 *   ⇒ span = (Σ demand + n · overhead) / (cpus · (U − background))
 *
 * Guest CPU time is read from /proc/stat (USER_HZ = 100 on every Linux architecture the VM
 * runs: 1 jiffy = 10 ms), which is also how the measured utilisation of each arm is reported.
 */
import { InputError } from '../../core/errors.js';
import type { Workload } from '../../core/workload.js';
import type { WorkloadBundle } from '../../workload/bundle.js';
import type { RealTrace } from './real-ab.js';

/** /proc/stat reports in USER_HZ ticks; 100 Hz is fixed by the kernel ABI (x86, arm64). */
export const NS_PER_JIFFY = 10_000_000;

/** CPU time of one /proc/stat line (all CPUs, or one CPU). */
export interface CpuTimes {
  busyNs: number;
  idleNs: number;
}

/**
 * The shell helper the guest scripts call: `st LABEL PHASE` prints every `cpu*` line of
 * /proc/stat prefixed by "stat LABEL PHASE ".
 */
export const STAT_HELPER = `#!/bin/sh\ngrep '^cpu' /proc/stat | sed "s/^/stat $1 $2 /"\n`;

/**
 * Parses "stat LABEL PHASE cpuX user nice system idle iowait irq softirq steal …" lines into
 * label → phase → cpu name ("cpu", "cpu0", …) → times. Busy = user+nice+system+irq+softirq+steal;
 * idle = idle+iowait (the kernel's own split, as top(1) uses it).
 */
export function parseStatLines(lines: readonly string[]): Map<string, Map<string, Map<string, CpuTimes>>> {
  const out = new Map<string, Map<string, Map<string, CpuTimes>>>();
  for (const l of lines) {
    const m = /^stat (\S+) (\S+) (cpu\d*) +([\d ]+)$/.exec(l.trim());
    if (!m) continue;
    const v = m[4]!.trim().split(/ +/).map(Number);
    const j = (i: number): number => v[i] ?? 0;
    const times = { busyNs: (j(0) + j(1) + j(2) + j(5) + j(6) + j(7)) * NS_PER_JIFFY, idleNs: (j(3) + j(4)) * NS_PER_JIFFY };
    let byPhase = out.get(m[1]!);
    if (!byPhase) out.set(m[1]!, (byPhase = new Map()));
    let byCpu = byPhase.get(m[2]!);
    if (!byCpu) byPhase.set(m[2]!, (byCpu = new Map()));
    byCpu.set(m[3]!, times);
  }
  return out;
}

/** CPU use between two phases of one label: total busy/idle and busy per CPU. */
export interface CpuUse {
  busyNs: number;
  totalNs: number;
  /** busy / (busy + idle) over all CPUs. */
  utilisation: number;
  busyNsPerCpu: number[];
}

export function cpuUse(stats: ReturnType<typeof parseStatLines>, label: string, from = 'begin', to = 'end'): CpuUse | undefined {
  const a = stats.get(label)?.get(from);
  const b = stats.get(label)?.get(to);
  const all0 = a?.get('cpu');
  const all1 = b?.get('cpu');
  if (!a || !b || !all0 || !all1) return undefined;
  const busyNs = all1.busyNs - all0.busyNs;
  const totalNs = busyNs + all1.idleNs - all0.idleNs;
  const busyNsPerCpu: number[] = [];
  for (let i = 0; b.has(`cpu${i}`); i++) busyNsPerCpu.push(b.get(`cpu${i}`)!.busyNs - (a.get(`cpu${i}`)?.busyNs ?? 0));
  return { busyNs, totalNs, utilisation: totalNs > 0 ? busyNs / totalNs : NaN, busyNsPerCpu };
}

export interface CalibrationPlan {
  /** alps-invoke trace of the calibration run. */
  text: string;
  invocations: number;
  /** Σ CPU demand the calibration run burns. */
  demandNs: number;
  /** Seconds of idle baseline measured first. */
  idleSeconds: number;
}

/**
 * The calibration run: the first `n` invocations of the real trace (same functions, same
 * demands, so the same fork/exit pattern), evenly spaced at the target load with a guessed
 * 5 ms overhead. The invoker's own cost depends on how busy the guest is (its reaper polls
 * while no child exists), so the overhead is measured at about the density of the A/B run: a
 * calibration at half load measured 2–4× the overhead the A/B run then showed.
 */
export function calibrationPlan(trace: RealTrace, cpus: number, target: number, n = 100, idleSeconds = 2): CalibrationPlan {
  const lines = trace.text.trim().split('\n').slice(0, n);
  const demands = trace.cpuNs.slice(0, lines.length);
  const demandNs = demands.reduce((a, b) => a + b, 0);
  const guessOverheadNs = 5e6;
  const gapUs = Math.round((demandNs / demands.length + guessOverheadNs) / (cpus * target) / 1000);
  const text = lines.map((l, i) => {
    const [, f, c] = l.split(' ');
    return `${i * gapUs} ${f} ${c}`;
  });
  return { text: text.join('\n') + '\n', invocations: lines.length, demandNs, idleSeconds };
}

/**
 * Kernel facts the simulator's machine file needs, printed as "probe …" lines: the tick rate
 * (jiffies counted over the idle sleep against /proc/uptime) and the fair class's base slice
 * as the kernel scaled it (debugfs sched/base_slice_ns; absent on kernels without debugfs).
 */
const PROBE = {
  clock: (phase: string): string => `echo "probe clock ${phase} $(cut -d' ' -f1 /proc/uptime) $(grep -m1 '^jiffies' /proc/timer_list 2>/dev/null | tr -dc 0-9)"`,
  slice: `(mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null; echo "probe base_slice_ns $(cat /sys/kernel/debug/sched/base_slice_ns 2>/dev/null)")`,
};

/** Guest script of the calibration boot: idle baseline, then the calibration trace. */
export function calibrationScript(plan: CalibrationPlan, build = '/project/ghost-kernel/bpf/build'): string {
  return [
    PROBE.slice,
    PROBE.clock('begin'),
    `sh /tmp/st.sh idle begin`,
    `sleep ${plan.idleSeconds}`,
    `sh /tmp/st.sh idle end`,
    PROBE.clock('end'),
    `sh /tmp/st.sh cal begin`,
    `${build}/alps-invoke /tmp/cal.txt`,
    `sh /tmp/st.sh cal end`,
  ].join('\n');
}

export interface Calibration {
  /** Share of guest CPU busy while idle (timers, kernel threads). */
  background: number;
  /** Guest CPU per invocation beyond its demand (fork, exit, tagging, invoker), ns. */
  overheadNs: number;
  /** Invocations of the calibration run (and how many failed). */
  invocations: number;
  failed: number;
  /** Utilisation the calibration run itself reached. */
  calibrationUtilisation: number;
  /** Tick rate measured over the idle sleep (jiffies per second, rounded to a CONFIG_HZ choice); absent when the guest has no /proc/timer_list. */
  hz?: number;
  /** The fair class's base slice as the kernel set it for this CPU count (debugfs), ns; absent without debugfs. */
  baseSliceNs?: number;
}

/** The CONFIG_HZ choices Linux offers; a measured rate is snapped to the nearest. */
const HZ_CHOICES = [100, 250, 300, 1000];

/** Tick rate and base slice from the "probe" lines (either may be missing). */
export function parseProbes(lines: readonly string[]): { hz?: number; baseSliceNs?: number } {
  const out: { hz?: number; baseSliceNs?: number } = {};
  const clock = (phase: string): [number, number] | undefined => {
    const m = lines.map((l) => new RegExp(`^probe clock ${phase} ([\\d.]+) (\\d+)$`).exec(l.trim())).find((x) => x);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  };
  const a = clock('begin');
  const b = clock('end');
  if (a && b && b[0] > a[0]) {
    const rate = (b[1] - a[1]) / (b[0] - a[0]);
    out.hz = HZ_CHOICES.reduce((best, h) => (Math.abs(Math.log(h / rate)) < Math.abs(Math.log(best / rate)) ? h : best));
  }
  const s = lines.map((l) => /^probe base_slice_ns (\d+)$/.exec(l.trim())).find((x) => x);
  if (s) out.baseSliceNs = Number(s[1]);
  return out;
}

/** Reads the calibration boot's output; throws if a phase is missing. */
export function parseCalibration(stdout: string, plan: CalibrationPlan): Calibration {
  const lines = stdout.split('\n');
  const stats = parseStatLines(lines);
  const idle = cpuUse(stats, 'idle');
  const cal = cpuUse(stats, 'cal');
  if (!idle || !cal) throw new Error(`calibration: missing /proc/stat samples in the guest output:\n${stdout.slice(-1500)}`);
  const inv = lines.filter((l) => /^inv \d+ /.test(l));
  const failed = inv.filter((l) => !/ 0$/.test(l.trim())).length;
  if (inv.length !== plan.invocations) throw new Error(`calibration: ${inv.length} of ${plan.invocations} invocations reported`);
  const background = idle.utilisation;
  const overheadNs = Math.max(0, (cal.busyNs - background * cal.totalNs - plan.demandNs) / plan.invocations);
  return { background, overheadNs, invocations: inv.length, failed, calibrationUtilisation: cal.utilisation, ...parseProbes(lines) };
}

/**
 * Factor for the arrival gaps that makes the real utilisation `target`: required span over the
 * trace's span. Throws an InputError when the target is not above the background.
 */
export function gapFactor(o: { demandNs: number; invocations: number; spanNs: number; cpus: number; target: number; cal: Calibration }): number {
  const { demandNs, invocations, spanNs, cpus, target, cal } = o;
  if (!(target > cal.background && target < 1)) {
    throw new InputError('--load', `must lie between the guest's measured background use (${cal.background.toFixed(3)}) and 1, got ${target}`);
  }
  if (!(spanNs > 0)) throw new InputError('--invocations', 'the trace needs at least two distinct arrival times');
  const needSpan = (demandNs + invocations * cal.overheadNs) / (cpus * (target - cal.background));
  return needSpan / spanNs;
}

/** The workload with arrival gaps multiplied by `k` (demands unchanged): load divides by k. */
export function stretchArrivals(b: WorkloadBundle, k: number, why: string): WorkloadBundle {
  const t0 = b.workload.invocations[0]?.arrivalNs ?? 0;
  const workload: Workload = {
    ...b.workload,
    invocations: b.workload.invocations.map((inv) => ({ ...inv, arrivalNs: Math.round(t0 + (inv.arrivalNs - t0) * k) })),
  };
  return { ...b, workload, description: `${b.description}, gaps x${k.toFixed(3)} (${why})`, offeredLoad: b.offeredLoad / k, ratePerSec: b.ratePerSec / k };
}

/**
 * The same workload with `extraNs` of CPU added to every invocation: what the guest really
 * spends per invocation, so the simulator sees the real offered load.
 */
export function withOverhead(b: WorkloadBundle, extraNs: number): WorkloadBundle {
  if (extraNs <= 0) return b;
  const workload: Workload = {
    ...b.workload,
    invocations: b.workload.invocations.map((inv) => ({ ...inv, phases: [...inv.phases, { kind: 'cpu' as const, ns: Math.round(extraNs) }] })),
  };
  const n = workload.invocations.length || 1;
  return { ...b, workload, meanCpuNs: b.meanCpuNs + extraNs, offeredLoad: b.offeredLoad * ((b.meanCpuNs + extraNs) / b.meanCpuNs), description: `${b.description}, +${(extraNs / 1e6).toFixed(1)} ms guest overhead per invocation (${n})` };
}
