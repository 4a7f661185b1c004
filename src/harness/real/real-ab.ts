/**
 * Real A/B on a sched_ext kernel (the qemu VM): the same trace replayed by real processes
 * (alps-invoke forks one process per invocation) once under the kernel's default scheduler and once under ALPS on
 * sched_ext, in one boot. The ALPS policy is learned offline by the ALPS learner from the same
 * trace's CPU demands (as the artifact learns from a profiled window) and installed with
 * alps-loader. Turnaround = exit time − intended arrival, taken by the invoker.
 */
import { cpuDemandNs, groupOf } from '../../core/workload.js';
import type { Workload } from '../../core/workload.js';
import type { InvocationRecord } from '../../core/records.js';
import type { RunOutcome } from '../report.js';
import type { WorkloadBundle } from '../../workload/bundle.js';
import type { Policy } from '../../core/policy.js';
import { createLearner } from '../../learner/index.js';
import { denseRanks } from '../../agent/scx/policy-writer.js';
import { percentileSorted } from '../stats.js';
// The agent pins its tag map here (agent --scx); the invoker tags invocations through it.
const DEFAULT_TAGS_PIN = '/sys/fs/bpf/ghost-alps/alps_tags';

export interface RealTrace {
  /** alps-invoke input: "<arrival_us> <func_id> <cpu_us>" per line. */
  text: string;
  /** Dense 1..k function ids used in the trace, by original funcId. */
  funcIds: Map<number, number>;
  cpuNs: number[];
}

/** The workload as an alps-invoke trace, times multiplied by `scale` (load is unchanged). */
export function toRealTrace(w: Workload, scale = 1): RealTrace {
  const funcIds = new Map<number, number>();
  const t0 = w.invocations[0]?.arrivalNs ?? 0;
  const cpuNs: number[] = [];
  const lines = w.invocations.map((inv) => {
    if (!funcIds.has(inv.funcId)) funcIds.set(inv.funcId, funcIds.size + 1);
    const cpu = Math.max(1000, Math.round(cpuDemandNs(inv) * scale));
    cpuNs.push(cpu);
    return `${Math.round(((inv.arrivalNs - t0) * scale) / 1000)} ${funcIds.get(inv.funcId)} ${Math.round(cpu / 1000)}`;
  });
  return { text: lines.join('\n') + '\n', funcIds, cpuNs };
}

/** ALPS policy learned from the trace itself; returned as alps-loader --policy arguments. */
export function learnLoaderPolicy(w: Workload, trace: RealTrace, cpus: number, scale = 1): { policy: Policy; args: string[] } {
  const t0 = w.invocations[0]?.arrivalNs ?? 0;
  const recs = w.invocations.map((inv, i) => {
    const arrivalNs = Math.round((inv.arrivalNs - t0) * scale);
    const cpu = trace.cpuNs[i]!;
    return { funcId: trace.funcIds.get(inv.funcId)!, arrivalNs, endNs: arrivalNs + cpu, cpuNs: cpu };
  });
  const span = Math.max(...recs.map((r) => r.endNs)) + 1;
  const learner = createLearner({ cpus, windowNs: span + 1, maxRecords: recs.length + 1 });
  learner.observe(recs);
  const policy = learner.learn(span, 90);
  const dense = denseRanks(policy.entries.map((e) => e.rank));
  // FUNC:RANK:SLICE_US:EXPECTED_CPU_US — E[CPU] sets the ALPS rule's escape deadline in the kernel.
  const args = policy.entries.flatMap((e) => ['--policy', `${e.funcId}:${dense.get(e.rank)}:${Math.ceil(e.sliceNs / 1000)}:${Math.round((e.expectedCpuNs ?? 0) / 1000)}`]);
  return { policy, args };
}

export interface RealRow {
  scheduler: string;
  invocations: number;
  meanTurnaroundMs: number;
  p99TurnaroundMs: number;
  /** Per CPU-demand group (1..4): count, mean and p99 turnaround. */
  groups: Record<string, { n: number; meanMs: number; p99Ms: number }>;
  failed: number;
  /**
   * How late the invoker forked invocations (fork time − intended arrival, ms): mean and p99.
   * The invoker is ordinary work in the guest; under a scheduler that makes it wait, arrivals
   * start late and their turnaround (taken from the intended arrival) grows by that much.
   */
  launchLateMeanMs?: number;
  launchLateP99Ms?: number;
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
};

/** Parses alps-invoke output lines ("inv …") into a report row. */
export function summarise(scheduler: string, lines: string[]): RealRow {
  const rows = lines.flatMap((l) => {
    const m = /^inv (\d+) (\d+) (\d+) (-?\d+) (-?\d+) (\d+)$/.exec(l);
    return m ? [{ cpuNs: Number(m[3]) * 1000, tNs: Number(m[4]), lateNs: Number(m[5]), status: Number(m[6]) }] : [];
  });
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const all = rows.map((r) => r.tNs);
  const groups: RealRow['groups'] = {};
  for (const g of [1, 2, 3, 4]) {
    const t = rows.filter((r) => groupOf(r.cpuNs) === g).map((r) => r.tNs);
    if (t.length) groups[String(g)] = { n: t.length, meanMs: ms(t.reduce((a, b) => a + b, 0) / t.length), p99Ms: ms(q(t, 0.99)) };
  }
  return {
    scheduler,
    invocations: rows.length,
    meanTurnaroundMs: ms(all.reduce((a, b) => a + b, 0) / Math.max(1, all.length)),
    p99TurnaroundMs: ms(q(all, 0.99)),
    groups,
    failed: rows.filter((r) => r.status !== 0).length,
    ...(rows.length
      ? {
          launchLateMeanMs: ms(rows.reduce((a, r) => a + r.lateNs, 0) / rows.length),
          launchLateP99Ms: ms(q(rows.map((r) => r.lateNs), 0.99)),
        }
      : {}),
  };
}

/** The in-guest shell script: default first, then ALPS; sections "== default" / "== alps-scx". */
export function realAbScript(loaderPolicyArgs: string[]): string {
  const B = '/project/ghost-kernel/bpf/build';
  const P = '/sys/fs/bpf/alps_tags';
  const pol = loaderPolicyArgs.map((a) => `'${a}'`).join(' ');
  return [
    `echo "== default"`,
    `${B}/alps-invoke /tmp/trace.txt`,
    `echo "== alps-scx"`,
    `${B}/alps-loader --pin-tags ${P} ${pol} -- ${B}/alps-invoke /tmp/trace.txt ${P}`,
  ].join('\n');
}

/**
 * The workload with every time multiplied by `scale` (arrivals and phases; load unchanged),
 * so reports of a scaled real run describe what actually ran.
 */
export function scaleBundle(b: WorkloadBundle, scale: number): WorkloadBundle {
  if (scale === 1) return b;
  const workload: Workload = {
    ...b.workload,
    invocations: b.workload.invocations.map((inv) => ({
      ...inv,
      arrivalNs: Math.round(inv.arrivalNs * scale),
      phases: inv.phases.map((p) => ({ ...p, ns: Math.max(1000, Math.round(p.ns * scale)) })),
    })),
  };
  return { ...b, workload, description: `${b.description}, times x${scale}`, meanCpuNs: b.meanCpuNs * scale, ratePerSec: b.ratePerSec / scale };
}

/**
 * alps-invoke output as a harness RunOutcome (records matched to the workload's invocations by
 * trace order, so `compareOutcomes` builds the same report `simulate --json` prints).
 * Context switches are not measured by the invoker (reported as 0).
 */
export function toRunOutcome(scheduler: string, w: Workload, lines: string[], wallMs: number): RunOutcome {
  const t0 = w.invocations[0]?.arrivalNs ?? 0;
  const records: InvocationRecord[] = [];
  for (const l of lines) {
    const m = /^inv (\d+) (\d+) (\d+) (-?\d+) (-?\d+) (\d+)$/.exec(l);
    const inv = m ? w.invocations[Number(m[1])] : undefined;
    if (!m || !inv) continue;
    const arrivalNs = inv.arrivalNs - t0;
    records.push({ id: inv.id, funcId: inv.funcId, arrivalNs, endNs: arrivalNs + Number(m[4]), cpuNs: cpuDemandNs(inv) });
  }
  const makespanNs = records.reduce((a, r) => Math.max(a, r.endNs), 0);
  return { scheduler, records, contextSwitches: 0, makespanNs, wallMs };
}

/**
 * The schedulers a real A/B can run: the guest kernel's own; `alps-scx`, the product — `agent
 * --scx --learn` in the guest (BPF profiler → online learner over its window → policy
 * generations into the scheduler's maps), learning only from what it observes; and
 * `alps-scx:oracle`, a reference: the policy learned offline from the very trace it replays,
 * installed once with alps-loader.
 */
export const REAL_SCHEDULERS = ['default', 'alps-scx', 'alps-scx:oracle', 'alps-ghost', 'ghost-fifo'] as const;
export type RealScheduler = (typeof REAL_SCHEDULERS)[number];

/**
 * The delegated arms (Fig. 15): `ghost-alps agent --ghost --backend scx` — the TypeScript ghOSt
 * agent over the ghOSt ABI carried by ghost.bpf.c — with the ALPS policy learned online from the
 * agent's own accounting (`alps-ghost`), or ghOSt's FIFO policy (`ghost-fifo`). Each invocation
 * enters the enclave itself (alps-invoke --sched-ext) and is placed by the agent's transactions.
 */
export const GHOST_ARMS: Readonly<Record<string, { policy: 'alps' | 'fifo'; learn: boolean }>> = {
  'alps-ghost': { policy: 'alps', learn: true },
  'ghost-fifo': { policy: 'fifo', learn: false },
};

/**
 * How long the global agent sleeps when a pass has nothing to do (µs). The agent sleeps rather
 * than spins so that on the 2-vCPU guest it does not take one of the two CPUs from the workload
 * (every other arm has both); its CPU runs tasks while it sleeps, and its own CPU time is
 * reported as `agentCpuShare`.
 */
export const GHOST_IDLE_SLEEP_US = 1000;

/**
 * The closed-loop arm: start the agent, wait for its tag map, sample its CPU time (utime +
 * stime ticks, /proc/<pid>/stat fields 14-15) around the invoker run, stop it with SIGINT and
 * report the last policy generation it installed ("agentcpu begin|end U S", "agentgen N").
 */
function closedLoopArm(arm: (pin: string) => string, P: string = DEFAULT_TAGS_PIN): string {
  return [
    `rm -f ${P}; ghost-alps agent --scx --learn --json --policy-log /tmp/agent-policies.jsonl > /tmp/agent.out 2> /tmp/agent.err & A=$!`,
    `i=0; while [ ! -e ${P} ] && [ $i -lt 6000 ] && kill -0 $A 2>/dev/null; do sleep 0.01; i=$((i+1)); done`,
    `[ -e ${P} ] || { echo "agent did not start" >&2; cat /tmp/agent.err >&2; exit 1; }`,
    `echo "agentcpu begin $(cut -d' ' -f14,15 /proc/$A/stat)"`,
    arm(` ${P}`),
    `echo "agentcpu end $(cut -d' ' -f14,15 /proc/$A/stat)"`,
    `kill -INT $A; wait $A`,
    `echo "agentgen $(grep -o '"generation":[0-9]*' /tmp/agent.out | tail -1 | cut -d: -f2)"`,
    // Where the agent's CPU went (its own accounting since attach: learner rounds, ring-buffer
    // deliveries, ticks, total), from its last state line.
    `echo "agentcost $(grep -o '"cost":{[^}]*}' /tmp/agent.out | tail -1 | cut -c8-)"`,
    // The scheduler's counters at the agent's last round (escaped = turned overdue, starved = safety-net rescues).
    `echo "agentsched $(grep -o '"scheduler":{[^}]*}' /tmp/agent.out | tail -1 | cut -c13-)"`,
  ].join('\n');
}

/**
 * The numeric fields of the guest line `<tag> {json}`, rounded, if the guest printed one: the
 * closed-loop agent's CPU accounting (`agentcost`, ms since attach) and the scheduler's counters
 * at its last round (`agentsched`).
 */
export function taggedCounters(lines: readonly string[], tag: 'agentcost' | 'agentsched'): Record<string, number> | undefined {
  const l = lines.find((x) => x.startsWith(`${tag} {`));
  if (!l) return undefined;
  try {
    const j = JSON.parse(l.slice(tag.length + 1)) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(j).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [k, Math.round(v)]));
  } catch {
    return undefined;
  }
}

/**
 * A delegated arm: start the ghOSt agent on the sched_ext backend over every guest CPU, wait
 * until it schedules, sample its CPU time around the invoker run, then report its last stats
 * line ("ghoststats {json}"), whether sched_ext was still ours at the end ("ghoststate"), the
 * kernel side's commit counters printed as the agent goes offline ("ghostkernel …") and the last
 * policy generation ("agentgen N").
 */
/**
 * One line per thread of the agent process ($A): "agentthread <when> <tid> <comm> <utime> <stime>
 * <voluntary switches> <involuntary switches>" — where its CPU time goes (the worker's passes,
 * the main thread's learner, V8's helpers) and how often each thread woke.
 */
function agentThreads(when: 'begin' | 'end'): string {
  return (
    `for t in /proc/$A/task/*; do echo "agentthread ${when} \${t##*/} $(tr -d ' ' < $t/comm) $(sed 's/.*) //' $t/stat | cut -d' ' -f12,13)` +
    ` $(grep -h '^voluntary_ctxt' $t/status | cut -f2) $(grep -h '^nonvoluntary_ctxt' $t/status | cut -f2) $(cut -d' ' -f1 $t/schedstat)"; done`
  );
}

function ghostArm(s: string, arm: () => string): string {
  const g = GHOST_ARMS[s]!;
  const G = '/tmp/ghost-agent';
  return [
    `ghost-alps agent --ghost --backend scx --cpus 0-$(($(nproc)-1)) --policy ${g.policy}${g.learn ? ' --learn' : ''} --comm-funcs --idle-sleep-us ${GHOST_IDLE_SLEEP_US} --runnable-timeout-ms 30000 --json > ${G}.out 2> ${G}.err & A=$!`,
    // Up to 10 min of guest time: node starts slowly under TCG, and under the icount clock
    // guest time runs fast against it.
    `i=0; while ! grep -qs "scheduling enclave" ${G}.err && [ $i -lt 60000 ] && kill -0 $A 2>/dev/null; do sleep 0.01; i=$((i+1)); done`,
    `grep -q "scheduling enclave" ${G}.err || { echo "ghost agent did not start" >&2; cat ${G}.err >&2; exit 1; }`,
    `echo "agentcpu begin $(cut -d' ' -f14,15 /proc/$A/stat)"`,
    agentThreads('begin'),
    arm(),
    `echo "agentcpu end $(cut -d' ' -f14,15 /proc/$A/stat)"`,
    agentThreads('end'),
    `echo "ghoststate $(cat /sys/kernel/sched_ext/state)"`,
    `echo "ghoststats $(tail -1 ${G}.out)"`,
    `kill -INT $A; wait $A`,
    `i=0; while [ "$(cat /sys/kernel/sched_ext/state)" != disabled ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`,
    `sed -n 's/^ghost-scx stats /ghostkernel /p' ${G}.err`,
    `echo "agentgen $(grep -o 'policy generation [0-9]*' ${G}.err | tail -1 | cut -d' ' -f3)"`,
  ].join('\n');
}

/** What a delegated arm's guest output says about the agent and the kernel side. */
export interface GhostFigures {
  decisions: number;
  messages: number;
  /** Commits that failed, by txn state (the agent's view). */
  failures: Record<string, number>;
  /** sched_ext state right after the invoker finished: "enabled" = the agent scheduled throughout. */
  stateAtEnd: string;
  /** Kernel side (ghost.bpf.c): commits, failed commits, commit → running (ops.running) mean and max. */
  kernelCommits?: number;
  kernelFailed?: number;
  commitToRunN?: number;
  commitToRunMeanNs?: number;
  commitToRunMaxNs?: number;
  /** Kernel side: messages produced, by type. */
  kernelMessages?: Record<string, number>;
  /** Kernel side: agent wakeups requested, CPU_TICK messages, CPU_UNAVAIL by the agent's own threads / others. */
  wakes?: number;
  ticks?: number;
  unavailSelf?: number;
  unavailOther?: number;
  /** Doorbells RUN slept through: their message was read before the agent's barrier read. */
  staleDoorbells?: number;
  /** Pings sent because a CPU that refused a commit (CPU_UNAVAIL) became free (ghost_dispatch). */
  availPings?: number;
  passes?: number;
  /** The agent loop's counters (worker.ts LoopStats). */
  loop?: Record<string, number>;
  /** Per agent thread (by name, summed): CPU time (ms) and context switches over the invoker run. */
  threads?: Record<string, { cpuMs: number; voluntary: number; involuntary: number; n: number }>;
}

/** Per-thread deltas of the "agentthread begin|end" lines (hz: USER_HZ). */
export function agentThreadFigures(lines: readonly string[], hz = 100): GhostFigures['threads'] {
  const at = (when: string): Map<string, { comm: string; ns: number; vol: number; invol: number }> => {
    const m = new Map<string, { comm: string; ns: number; vol: number; invol: number }>();
    for (const l of lines) {
      const x = new RegExp(`^agentthread ${when} (\\d+) (\\S*) (\\d+) (\\d+) (\\d+) (\\d+) ?(\\d*)$`).exec(l);
      // schedstat's run time (ns, exact) where the kernel has it, else utime + stime (ticks)
      if (x) m.set(x[1]!, { comm: x[2]!, ns: x[7] ? Number(x[7]) : ((Number(x[3]) + Number(x[4])) * 1e9) / hz, vol: Number(x[5]), invol: Number(x[6]) });
    }
    return m;
  };
  const b = at('begin');
  const e = at('end');
  if (e.size === 0) return undefined;
  const out: NonNullable<GhostFigures['threads']> = {};
  // Threads of one name (node's are all "node") are told apart by start order: #0 is the main
  // thread, the agent's worker is started last.
  const order = [...e.keys()].sort((x, y) => Number(x) - Number(y));
  for (const [tid, x] of e) {
    const y = b.get(tid) ?? { ns: 0, vol: 0, invol: 0 };
    const o = (out[`${x.comm}#${order.indexOf(tid)}`] ??= { cpuMs: 0, voluntary: 0, involuntary: 0, n: 0 });
    o.cpuMs += (x.ns - y.ns) / 1e6;
    o.voluntary += x.vol - y.vol;
    o.involuntary += x.invol - y.invol;
    o.n++;
  }
  return out;
}

export function ghostFigures(lines: readonly string[]): GhostFigures | undefined {
  const stats = lines.find((l) => l.startsWith('ghoststats '));
  if (!stats) return undefined;
  let j: { decisions?: number; messages?: number; passes?: number; failures?: Record<string, number>; loop?: Record<string, number> } = {};
  try {
    j = JSON.parse(stats.slice('ghoststats '.length)) as typeof j;
  } catch {
    return undefined;
  }
  const out: GhostFigures = {
    decisions: j.decisions ?? 0,
    messages: j.messages ?? 0,
    failures: j.failures ?? {},
    stateAtEnd: lines.find((l) => l.startsWith('ghoststate '))?.slice('ghoststate '.length) ?? '',
  };
  const k = lines.find((l) => l.startsWith('ghostkernel '));
  const num = (key: string): number | undefined => {
    const m = k ? new RegExp(`\\b${key}=(\\d+)`).exec(k) : null;
    return m ? Number(m[1]) : undefined;
  };
  const set = (f: keyof GhostFigures, key: string): void => {
    const v = num(key);
    if (v !== undefined) (out as unknown as Record<string, number>)[f] = v;
  };
  set('kernelCommits', 'commits');
  set('kernelFailed', 'failed');
  set('commitToRunN', 'commit_to_run_n');
  set('commitToRunMeanNs', 'commit_to_run_mean_ns');
  set('commitToRunMaxNs', 'commit_to_run_max_ns');
  const msgs: Record<string, number> = {};
  for (const key of ['new', 'wakeup', 'blocked', 'preempt', 'yield', 'dead', 'departed']) {
    const v = num(key);
    if (v !== undefined) msgs[key] = v;
  }
  if (Object.keys(msgs).length) out.kernelMessages = msgs;
  set('wakes', 'wakes');
  set('staleDoorbells', 'stale_doorbells');
  set('availPings', 'avail_pings');
  set('ticks', 'tick');
  set('unavailSelf', 'unavail_self');
  set('unavailOther', 'unavail_other');
  if (j.loop) out.loop = j.loop;
  if (j.passes !== undefined) out.passes = j.passes;
  const threads = agentThreadFigures(lines);
  if (threads) out.threads = threads;
  return out;
}

/**
 * The in-guest A/B script with /proc/stat samples around each arm's invoker run ("stat ARM
 * begin|end …", see calibrate.ts): sections "== <arm>" in the order given. For ALPS the samples
 * are taken after the scheduler is attached and before it detaches.
 */
export function measuredAbScript(schedulers: readonly RealScheduler[], loaderPolicyArgs: string[], build = '/project/ghost-kernel/bpf/build'): string {
  const P = '/sys/fs/bpf/alps_tags';
  const pol = loaderPolicyArgs.map((a) => `'${a}'`).join(' ');
  const arm = (s: RealScheduler, pin: string, opt = ''): string => `sh /tmp/st.sh ${s} begin; ${build}/alps-invoke${opt} /tmp/trace.txt${pin}; sh /tmp/st.sh ${s} end`;
  return schedulers
    .flatMap((s) => [
      `echo "== ${s}"`,
      s === 'default'
        ? arm(s, '')
        : s === 'alps-scx'
          ? closedLoopArm((pin) => arm(s, pin))
          : GHOST_ARMS[s]
            ? ghostArm(s, () => arm(s, '', ' --sched-ext'))
            : `${build}/alps-loader --pin-tags ${P} ${pol} -- sh -c '${arm(s, ` ${P}`).replace(/'/g, '')}'`,
    ])
    .join('\n');
}

/**
 * The closed-loop arm's agent figures: the last policy generation it installed, and its CPU time
 * (clock ticks, USER_HZ `hz`) as a share of the guest's CPU time over the run (`guestCpuNs`:
 * busy + idle over all CPUs, from /proc/stat).
 */
export function agentFigures(lines: readonly string[], guestCpuNs: number, hz = 100): { policyGenerations: number; agentCpuShare: number } | undefined {
  const gen = lines.map((l) => /^agentgen (\d*)$/.exec(l)).find((m) => m);
  const cpu = (k: string): number | undefined => {
    const m = lines.map((l) => new RegExp(`^agentcpu ${k} (\\d+) (\\d+)$`).exec(l)).find((x) => x);
    return m ? Number(m[1]) + Number(m[2]) : undefined;
  };
  const b = cpu('begin');
  const e = cpu('end');
  if (!gen || b === undefined || e === undefined) return undefined;
  return { policyGenerations: Number(gen[1] || 0), agentCpuShare: guestCpuNs > 0 ? (((e - b) / hz) * 1e9) / guestCpuNs : NaN };
}

/** Splits guest output into "== <name>" sections. */
export function splitSections(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let cur = '';
  for (const line of stdout.split('\n')) {
    const m = /^== (\S+)$/.exec(line);
    if (m) sections.set((cur = m[1]!), []);
    else if (cur) sections.get(cur)!.push(line);
  }
  return sections;
}

/** Turnaround statistics of one run over the same invocations, grouped by trace demand. */
export interface SimRealStats {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  groups: Record<string, { n: number; meanMs: number; p99Ms: number }>;
}

/** One pair of the sim-vs-real table: a simulator model against the real scheduler it models. */
export interface SimRealPair {
  sim: string;
  real: string;
  simStats: SimRealStats;
  realStats: SimRealStats;
}

/**
 * Statistics of `records` grouped as the harness report groups them: by the Table 1 group of
 * the function's deployment (else by the invocation's demand in `w`), so that a simulated run
 * with extra per-invocation CPU keeps the real run's groups.
 */
export function simRealStats(w: Workload, records: readonly InvocationRecord[]): SimRealStats {
  const demand = new Map(w.invocations.map((inv) => [inv.id, cpuDemandNs(inv)]));
  const funcGroup = new Map(w.functions.map((f) => [f.funcId, f.group]));
  const all: number[] = [];
  const byGroup = new Map<number, number[]>();
  for (const r of records) {
    const t = r.endNs - r.arrivalNs;
    all.push(t);
    const g = funcGroup.get(r.funcId) ?? groupOf(demand.get(r.id ?? -1) ?? r.cpuNs);
    byGroup.set(g, [...(byGroup.get(g) ?? []), t]);
  }
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const groups: SimRealStats['groups'] = {};
  // The harness's percentile (interpolated), so the table agrees with the report above it.
  const pct = (xs: number[], p: number): number => percentileSorted([...xs].sort((a, b) => a - b), p);
  for (const g of [...byGroup.keys()].sort()) {
    const t = byGroup.get(g)!;
    groups[String(g)] = { n: t.length, meanMs: ms(mean(t)), p99Ms: ms(pct(t, 99)) };
  }
  return { meanMs: ms(mean(all)), p50Ms: ms(pct(all, 50)), p99Ms: ms(pct(all, 99)), groups };
}

/** The sim-vs-real table: per pair, simulated and real turnaround and their ratio. */
export function formatSimVsReal(pairs: readonly SimRealPair[]): string {
  const rows: [string, (s: SimRealStats) => number | undefined][] = [
    ['mean', (s) => s.meanMs],
    ['p50', (s) => s.p50Ms],
    ['p99', (s) => s.p99Ms],
  ];
  const groups = [...new Set(pairs.flatMap((p) => Object.keys(p.realStats.groups)))].sort();
  for (const g of groups) {
    rows.push([`G${g} mean`, (s) => s.groups[g]?.meanMs], [`G${g} p99`, (s) => s.groups[g]?.p99Ms]);
  }
  const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const header = ['turnaround (ms)', ...pairs.flatMap((p) => [`${p.sim} (sim)`, `${p.real} (real)`, 'real/sim'])];
  const body = rows.map(([name, get]) => [
    name,
    ...pairs.flatMap((p) => {
      const s = get(p.simStats);
      const r = get(p.realStats);
      return [f(s), f(r), s && r ? (r / s).toFixed(2) : '–'];
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
