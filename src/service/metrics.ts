/**
 * Prometheus metrics of a running agent (`--metrics HOST:PORT`), with prom-client on a private
 * registry. Names follow Prometheus conventions: `ghost_alps_` prefix, base units (`_seconds`),
 * `_total` for counters. The kernel's and the agent's counters are cumulative; they are turned
 * into counter increments here (a reset — a new scheduler — counts from zero again), so
 * `rate()` works on all of them. Per-function series are labelled `function` with the name
 * when the agent knows it (config / Kubernetes / exec registry), else `id:<funcId>`; their
 * number is bounded by the policy table (the kernel holds at most a few thousand functions).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Policy } from '../core/policy.js';
import type { InvocationRecord } from '../core/records.js';

/** Turnaround buckets: 1 ms … ~65 s, FaaS invocations span that range. */
const TURNAROUND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Learner rounds take ~1–10 ms at 5,000 records (README), up to seconds for huge windows. */
const ROUND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** sched_ext scheduler states of /sys/kernel/sched_ext/state, plus our own. */
export const SCHEDULER_STATES = ['enabled', 'enabling', 'disabling', 'disabled', 'attached', 'detached', 'unknown'] as const;

export interface ScxCounters {
  scheduler: Record<string, number>;
  profiler: { switches: number; records: number; dropped: number; trackFail: number };
  utilisationPct: number;
}

export interface GhostCounters {
  decisions: number;
  failures: Record<string, number>;
  preemptions: number;
  messages: number;
  overflows: number;
}

/** Turns successive cumulative readings into increments (a drop means the source restarted). */
class Cumulative {
  private readonly last = new Map<string, number>();
  delta(key: string, value: number): number {
    const prev = this.last.get(key);
    this.last.set(key, value);
    if (prev === undefined || value < prev) return value;
    return value - prev;
  }
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly cum = new Cumulative();
  private readonly invocations: Counter<'function'>;
  private readonly turnaround: Histogram<'function'>;
  private readonly cpu: Counter<'function'>;
  private readonly rank: Gauge<'function'>;
  private readonly slice: Gauge<'function'>;
  private readonly generation: Gauge;
  private readonly generations: Counter;
  private readonly param: Gauge<'name'>;
  private readonly round: Histogram;
  private readonly state: Gauge<'state'>;
  private readonly exitInfo: Gauge<'reason'>;
  private readonly reloads: Counter<'result'>;
  private readonly schedEvents: Counter<'event'>;
  private readonly utilisation: Gauge;
  private readonly decisions: Counter;
  private readonly decisionRate: Gauge;
  private readonly failedTxns: Counter<'reason'>;
  private readonly profEvents: Counter;
  private readonly profRecords: Counter;
  private readonly profDrops: Counter;
  private readonly profTrackFail: Counter;
  private lastGhost: { atS: number; decisions: number } | undefined;

  constructor(
    private readonly names: (funcId: number) => string | undefined = () => undefined,
    opts: { backend?: string; defaultMetrics?: boolean } = {},
  ) {
    const r = [this.registry];
    this.invocations = new Counter({ name: 'ghost_alps_invocations_total', help: 'Completed function invocations seen by the agent.', labelNames: ['function'], registers: r });
    this.turnaround = new Histogram({ name: 'ghost_alps_turnaround_seconds', help: 'Invocation turnaround (arrival to end).', labelNames: ['function'], buckets: TURNAROUND_BUCKETS, registers: r });
    this.cpu = new Counter({ name: 'ghost_alps_cpu_seconds_total', help: 'CPU time consumed by completed invocations.', labelNames: ['function'], registers: r });
    this.rank = new Gauge({ name: 'ghost_alps_function_rank', help: 'Rank of each function in the installed policy (1 is served first).', labelNames: ['function'], registers: r });
    this.slice = new Gauge({ name: 'ghost_alps_function_slice_seconds', help: 'Learned time slice of each function in the installed policy (0 = default slice).', labelNames: ['function'], registers: r });
    this.generation = new Gauge({ name: 'ghost_alps_policy_generation', help: 'Generation of the installed policy.', registers: r });
    this.generations = new Counter({ name: 'ghost_alps_policy_generations_total', help: 'Policy generations installed since the agent started.', registers: r });
    this.param = new Gauge({ name: 'ghost_alps_policy_parameter', help: 'Learner parameters the installed policy was learned with (window in seconds).', labelNames: ['name'], registers: r });
    this.round = new Histogram({ name: 'ghost_alps_learner_round_duration_seconds', help: 'Wall time of one learner round.', buckets: ROUND_BUCKETS, registers: r });
    this.state = new Gauge({ name: 'ghost_alps_scheduler_state', help: 'Scheduler state: 1 for the current state, 0 for the others.', labelNames: ['state'], registers: r });
    this.exitInfo = new Gauge({ name: 'ghost_alps_scheduler_exit_info', help: 'Why the scheduler stopped (1 with the reason as a label; absent while it runs).', labelNames: ['reason'], registers: r });
    this.reloads = new Counter({ name: 'ghost_alps_config_reloads_total', help: 'Config reloads (SIGHUP) by result.', labelNames: ['result'], registers: r });
    this.schedEvents = new Counter({ name: 'ghost_alps_scheduler_events_total', help: 'sched_ext scheduler events by kind (enqueue, dispatch, preemptions, ...).', labelNames: ['event'], registers: r });
    this.utilisation = new Gauge({ name: 'ghost_alps_cpu_utilisation_ratio', help: 'Busy share of the CPUs over the last learning window (0-1).', registers: r });
    this.decisions = new Counter({ name: 'ghost_alps_agent_decisions_total', help: 'Scheduling decisions committed by the ghOSt agent.', registers: r });
    this.decisionRate = new Gauge({ name: 'ghost_alps_agent_decisions_per_second', help: 'ghOSt agent decisions per second over the last statistics sample.', registers: r });
    this.failedTxns = new Counter({ name: 'ghost_alps_agent_failed_transactions_total', help: 'ghOSt transactions the kernel refused, by reason.', labelNames: ['reason'], registers: r });
    this.profEvents = new Counter({ name: 'ghost_alps_profiler_events_total', help: 'Context switches the BPF profiler handled.', registers: r });
    this.profRecords = new Counter({ name: 'ghost_alps_profiler_records_total', help: 'Invocation records the BPF profiler emitted.', registers: r });
    this.profDrops = new Counter({ name: 'ghost_alps_profiler_dropped_total', help: 'Invocation records lost because the ring buffer was full.', registers: r });
    this.profTrackFail = new Counter({ name: 'ghost_alps_profiler_track_failures_total', help: 'Tasks the profiler could not track (storage allocation failed).', registers: r });
    const info = new Gauge({ name: 'ghost_alps_agent_info', help: 'Constant 1, labelled with the backend.', labelNames: ['backend'], registers: r });
    info.set({ backend: opts.backend ?? 'unknown' }, 1);
    this.schedulerState('unknown');
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names three gauges nodejs_active_*_total, which Prometheus reserves for
      // counters (promtool rejects them); the handle/request counts are not worth a bad name.
      for (const m of this.registry.getMetricsAsArray()) {
        if (String(m.type) === 'gauge' && m.name.endsWith('_total')) this.registry.removeSingleMetric(m.name);
      }
    }
  }

  private label(funcId: number): string {
    return this.names(funcId) ?? `id:${funcId}`;
  }

  records(recs: readonly InvocationRecord[]): void {
    for (const rec of recs) {
      const f = rec.name ?? this.label(rec.funcId);
      this.invocations.inc({ function: f });
      this.turnaround.observe({ function: f }, Math.max(0, rec.endNs - rec.arrivalNs) / 1e9);
      if (rec.cpuNs > 0) this.cpu.inc({ function: f }, rec.cpuNs / 1e9);
    }
  }

  /** A policy generation was installed. */
  policy(p: Policy): void {
    this.generation.set(p.generation);
    this.generations.inc();
    // Functions that left the policy must not keep their old rank.
    this.rank.reset();
    this.slice.reset();
    for (const e of p.entries) {
      const f = this.label(e.funcId);
      this.rank.set({ function: f }, e.rank);
      this.slice.set({ function: f }, e.sliceNs / 1e9);
    }
    const params = p.params as unknown as Record<string, unknown>;
    for (const k of ['alpha', 'beta', 'gamma', 'theta']) if (typeof params?.[k] === 'number') this.param.set({ name: k }, params[k] as number);
    if (typeof params?.windowNs === 'number') this.param.set({ name: 'window_seconds' }, (params.windowNs as number) / 1e9);
  }

  learnRound(seconds: number): void {
    this.round.observe(seconds);
  }

  schedulerState(state: string): void {
    const s = (SCHEDULER_STATES as readonly string[]).includes(state) ? state : 'unknown';
    for (const x of SCHEDULER_STATES) this.state.set({ state: x }, x === s ? 1 : 0);
  }

  schedulerExit(reason: string): void {
    this.exitInfo.reset();
    this.exitInfo.set({ reason }, 1);
  }

  reload(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'error' });
  }

  /** One learning window of the sched_ext backend (cumulative kernel counters). */
  scx(s: ScxCounters): void {
    for (const [k, v] of Object.entries(s.scheduler)) {
      this.schedEvents.inc({ event: k }, this.cum.delta(`sched.${k}`, v));
    }
    this.incFrom(this.profEvents, 'prof.switches', s.profiler.switches);
    this.incFrom(this.profRecords, 'prof.records', s.profiler.records);
    this.incFrom(this.profDrops, 'prof.dropped', s.profiler.dropped);
    this.incFrom(this.profTrackFail, 'prof.trackFail', s.profiler.trackFail);
    this.utilisation.set(Math.max(0, Math.min(1, s.utilisationPct / 100)));
  }

  /** One statistics sample of the ghOSt agent (cumulative), taken at `atS` seconds. */
  ghost(s: GhostCounters, atS: number): void {
    this.incFrom(this.decisions, 'ghost.decisions', s.decisions);
    for (const [reason, n] of Object.entries(s.failures)) {
      const d = this.cum.delta(`ghost.fail.${reason}`, n);
      this.failedTxns.inc({ reason }, d);
    }
    const prev = this.lastGhost;
    if (prev && atS > prev.atS && s.decisions >= prev.decisions) this.decisionRate.set((s.decisions - prev.decisions) / (atS - prev.atS));
    this.lastGhost = { atS, decisions: s.decisions };
  }

  private incFrom(c: Counter, key: string, value: number): void {
    c.inc(this.cum.delta(key, value));
  }

  /** The exposition text (what /metrics serves). */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (and 404 elsewhere) on host:port. */
export async function serveMetrics(m: AgentMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('ghost-alps: metrics are at /metrics\n');
      return;
    }
    m.text().then(
      (body) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    host,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
