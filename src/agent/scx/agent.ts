/**
 * The in-kernel ALPS backend (`ghost-alps agent --scx`): attaches the sched_ext scheduler,
 * attaches the profiler sharing the scheduler's tag map, pins that map so `alps-exec --pin`
 * (and `ghost-alps exec`) can tag invocations, installs an initial policy, and with `learn`
 * runs the ALPS learner every window on the profiler's records and writes each new policy
 * generation atomically. Stops on abort, or when the kernel ejects the scheduler (the exit
 * reason is reported). Every task returns to the default scheduler when it stops.
 */
import { existsSync, mkdirSync, readFileSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnsupportedError } from '../../core/errors.js';
import type { Policy, PolicyLearner } from '../../core/policy.js';
import type { InvocationRecord } from '../../core/records.js';
import { Profiler, type ProfilerCounters } from './profiler.js';
import { ScxScheduler, type ScxStats } from './scheduler.js';

export const DEFAULT_TAGS_PIN = '/sys/fs/bpf/ghost-alps/alps_tags';
const BPF_FS_MAGIC = 0xcafe4a11;

export interface ScxAgentOptions {
  learner?: PolicyLearner;
  initialPolicy?: Policy;
  /** Learning period (the learner's W by default). */
  windowNs?: number;
  defaultSliceNs?: number;
  timeoutMs?: number;
  /** cgroup-v2 directory → funcId (container sandboxes). */
  cgroupMap?: ReadonlyMap<string, number>;
  /** Where to pin the tag map ('' = do not pin). */
  tagsPin?: string;
  signal?: AbortSignal;
  onState?: (s: ScxAgentState) => void;
  /** Called once the scheduler is enabled, the tag map pinned and the profiler attached. */
  onAttached?: (tagsPin: string) => void;
  onRecords?: (r: InvocationRecord[]) => void;
  /** Each installed policy, as written (generation renumbered by this agent). */
  onPolicy?: (p: Policy) => void;
  /** Once attached: live controls for a service wrapper (config reload, pod mapping). */
  onControl?: (c: ScxAgentControl) => void;
}

/** What a running agent lets its owner change without detaching (src/service). */
export interface ScxAgentControl {
  /** Run one learner round now and install it as the next generation (undefined without a learner). */
  learnNow(): Policy | undefined;
  /** Learn every `ns` from now on. */
  setWindowNs(ns: number): void;
  /** Every task of cgroup-v2 directory `dir` is function `funcId`. */
  mapCgroup(dir: string, funcId: number): void;
}

export interface ScxAgentState {
  generation: number;
  functions: number;
  records: number;
  utilisationPct: number;
  scheduler: ScxStats;
  profiler: ProfilerCounters;
  /** Where the agent's own CPU went since it attached (process CPU time, ms). */
  cost?: ScxAgentCost;
}

/** The agent's own CPU by activity (process.cpuUsage deltas around each, user + system, ms). */
export interface ScxAgentCost {
  /** Learner rounds run and their CPU. */
  rounds: number;
  learnMs: number;
  /** Ring-buffer deliveries (profiler wakeups) and the CPU of handling them (decode, observe). */
  wakeups: number;
  recordsMs: number;
  /** Everything else of a tick: exit check, /proc/stat, counters, policy write, the state line. */
  tickMs: number;
  /** The whole process since attach (includes the above, GC and V8's threads). */
  totalMs: number;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Busy share of all CPUs since the previous call, from /proc/stat. */
function cpuMeter(): () => number {
  const read = (): [number, number] => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return [f.reduce((a, b) => a + b, 0), idle];
  };
  let [t0, i0] = read();
  return () => {
    const [t1, i1] = read();
    const dt = t1 - t0;
    const pct = dt > 0 ? (100 * (dt - (i1 - i0))) / dt : 0;
    [t0, i0] = [t1, i1];
    return pct;
  };
}

function pinTags(sched: ScxScheduler, path: string): void {
  const dir = dirname(path);
  let fsType = 0;
  try {
    fsType = Number(statfsSync('/sys/fs/bpf').type);
  } catch {
    fsType = 0;
  }
  if (fsType !== BPF_FS_MAGIC) {
    throw new UnsupportedError(`tag map pin ${path}`, '/sys/fs/bpf is not a bpffs mount', 'mount -t bpf bpf /sys/fs/bpf, or pass an empty pin path to disable `exec` tagging');
  }
  mkdirSync(dir, { recursive: true });
  if (existsSync(path)) unlinkSync(path); // a stale pin from an agent that was killed
  sched.tags.pin(path);
}

/** Runs until aborted or the scheduler is ejected; resolves with why it stopped. */
export async function runScxAgent(o: ScxAgentOptions): Promise<string> {
  const sched = ScxScheduler.attach({
    ...(o.defaultSliceNs !== undefined ? { defaultSliceNs: o.defaultSliceNs } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  });
  const pin = o.tagsPin ?? DEFAULT_TAGS_PIN;
  let profiler: Profiler | undefined;
  let timer: NodeJS.Timeout | undefined;
  let records = 0;
  const cost: ScxAgentCost = { rounds: 0, learnMs: 0, wakeups: 0, recordsMs: 0, tickMs: 0, totalMs: 0 };
  let attachedAtMs = 0;
  try {
    for (const [dir, id] of o.cgroupMap ?? []) sched.mapCgroup(dir, id);
    profiler = Profiler.start({
      tags: sched.tags,
      cgfuncs: sched.cgfuncs,
      onRecords: (recs) => {
        const c0 = cpuMs();
        records += recs.length;
        o.learner?.observe(recs);
        o.onRecords?.(recs);
        cost.wakeups++;
        cost.recordsMs += cpuMs() - c0;
      },
    });
    let generation = 0;
    let functions = 0;
    const install = (p: Policy): void => {
      const written = { ...p, generation: ++generation };
      const r = sched.writePolicy(written);
      functions = r.entries;
      o.onPolicy?.(written);
    };
    if (o.initialPolicy) install(o.initialPolicy);
    // Pinned last: a launcher that waits for the pin (the real A/B's closed-loop arm) starts its
    // clock once the profiler is attached (BPF load and verification are done) and any initial
    // policy is in, not while the agent is still loading.
    if (pin) pinTags(sched, pin);
    o.onAttached?.(pin);
    attachedAtMs = cpuMs();
    const util = cpuMeter();
    const learnRound = (u: number): void => {
      const c0 = cpuMs();
      install(o.learner!.learn(Number(process.hrtime.bigint()), u));
      cost.rounds++;
      cost.learnMs += cpuMs() - c0;
    };
    let windowNs = o.windowNs ?? o.learner?.params.windowNs ?? 5e9;
    return await new Promise<string>((resolve) => {
      const finish = (why: string): void => {
        if (timer) clearInterval(timer);
        resolve(why);
      };
      if (o.signal?.aborted) return finish('stopped');
      o.signal?.addEventListener('abort', () => finish('stopped'), { once: true });
      const tick = (): void => {
        const x = sched.exitInfo();
        if (x) return finish(`the kernel ejected the scheduler: ${x.reason}${x.msg ? ` (${x.msg})` : ''} [kind ${x.kind}]${x.dump ? `\n--- scheduler dump ---\n${x.dump.trimEnd()}` : ''}`);
        const c0 = cpuMs();
        const u = util();
        const learnBefore = cost.learnMs;
        if (o.learner) learnRound(u);
        const state = { generation, functions, records, utilisationPct: u, scheduler: sched.stats(), profiler: profiler!.counters() };
        const now = cpuMs();
        cost.tickMs += now - c0 - (cost.learnMs - learnBefore);
        cost.totalMs = now - attachedAtMs;
        o.onState?.({ ...state, cost: { ...cost } });
      };
      const arm = (): void => {
        if (timer) clearInterval(timer);
        timer = setInterval(tick, Math.max(1, Math.round(windowNs / 1e6)));
      };
      arm();
      o.onControl?.({
        learnNow: () => {
          if (!o.learner) return undefined;
          learnRound(util());
          return o.learner.current;
        },
        setWindowNs: (ns) => {
          windowNs = ns;
          arm();
        },
        mapCgroup: (dir, id) => sched.mapCgroup(dir, id),
      });
    });
  } finally {
    if (timer) clearInterval(timer);
    profiler?.close();
    if (pin && existsSync(pin)) unlinkSync(pin);
    sched.detach();
  }
}
