import { InputError } from '../../core/errors.js';
import type { FuncId } from '../../core/ids.js';
import type { LearnerParams, Policy } from '../../core/policy.js';
import type { InvocationRecord } from '../../core/records.js';
import type { SchedulerName, SimOptions, SimResult } from '../../core/sim.js';
import type { Ns } from '../../core/time.js';
import { NS_PER_S } from '../../core/time.js';
import type { FunctionInfo, Workload } from '../../core/workload.js';
import { cpuDemandNs } from '../../core/workload.js';
import type { ControlTarget, TelemetryPublisher } from '../publisher.js';
import { nullPublisher } from '../publisher.js';
import type { FuncStat, GroupCdf, ParamsPatch, UtilMsg } from '../schema.js';
import { summarise } from '../stats.js';
import { applyEvent, ReplayLearner, type ControlEvent, type LiveLearnerFactory } from './replay-learner.js';

/** `simulate` with the learner seam of src/sim (SimDeps.learner). */
export type SimulateWithLearner = (workload: Workload, options: SimOptions, deps: { learner?: LiveLearnerFactory }) => SimResult;

export interface LiveSessionOptions {
  /** The whole arrival stream; the session reveals it step by step. */
  workload: Workload;
  cpus: number;
  scheduler: SchedulerName;
  seed: number;
  learner?: Partial<LearnerParams>;
  tunables?: Record<string, number | string | boolean>;
  /** Virtual time each step advances. Default 1 s. */
  stepNs?: Ns;
  simulate: SimulateWithLearner;
  /** Builds the ALPS learner (src/learner's AlpsLearner in the CLI). */
  learnerFactory: LiveLearnerFactory;
  /** Whether the scheduler is fed by the learner (src/sim's LEARNING_SCHEDULERS). */
  learning: boolean;
  publisher?: TelemetryPublisher;
}

export interface StepReport {
  nowNs: Ns;
  newPolicies: Policy[];
  completed: number;
  done: boolean;
  /** Wall time the step's simulation took, ms. */
  wallMs: number;
}

/**
 * A simulated machine you can watch and steer while it runs. src/sim runs a workload to
 * completion in one call, so the session advances by replay: step k simulates every arrival
 * before T = k·step on the real machine model with a fresh real learner, replaying the
 * operator's actions at the virtual times they were made, and publishes what happened before
 * T. Causality makes this exact: nothing before T depends on arrivals after T, so each step
 * extends the previous one (the tests check this against one whole-workload run). The cost is
 * one simulation of the prefix per step, fine for the interactive sizes it is meant for.
 */
export class LiveSession implements ControlTarget {
  private readonly opts: LiveSessionOptions;
  private readonly stepNs: Ns;
  private readonly log: ControlEvent[] = [];
  private readonly pub: TelemetryPublisher;
  private readonly demandPrefix: Ns[];
  private timer: NodeJS.Timeout | undefined;
  private effective: LearnerParams | undefined;
  private readonly pinMap = new Map<FuncId, { rank?: number; sliceNs?: Ns }>();

  nowNs: Ns = 0;
  paused = false;
  /** Every generation installed so far, with the virtual time it was installed at. */
  readonly policies: Array<{ policy: Policy; atNs: Ns }> = [];
  /** Invocations completed before `nowNs`. */
  records: InvocationRecord[] = [];
  done = false;
  lastStep: StepReport | undefined;
  /** The newest throughput/utilisation sample (what `util` published last). */
  lastUtil: Omit<UtilMsg, 'v' | 'type'> | undefined;

  constructor(opts: LiveSessionOptions) {
    if (opts.workload.invocations.length === 0) throw new InputError('workload', 'has no invocations');
    this.opts = opts;
    this.stepNs = opts.stepNs ?? NS_PER_S;
    if (!(Number.isInteger(this.stepNs) && this.stepNs > 0)) throw new InputError('step', `must be a positive number of ns, got ${this.stepNs}`);
    this.pub = opts.publisher ?? nullPublisher;
    // Cumulative CPU demand by arrival index, for the offered load of each step.
    let acc = 0;
    this.demandPrefix = [0, ...opts.workload.invocations.map((s) => (acc += cpuDemandNs(s)))];
    if (opts.learning) this.effective = { ...opts.learnerFactory(this.baseParams()).params };
    this.pub.functions(opts.workload.functions);
    this.publishState();
  }

  get functions(): readonly FunctionInfo[] {
    return this.opts.workload.functions;
  }

  get cpus(): number {
    return this.opts.cpus;
  }

  get scheduler(): SchedulerName {
    return this.opts.scheduler;
  }

  /** The newest installed policy. */
  get policy(): Policy | undefined {
    return this.policies.at(-1)?.policy;
  }

  /** Learner parameters in force from now on (undefined for schedulers without a learner). */
  get params(): Readonly<LearnerParams> | undefined {
    return this.effective;
  }

  get pins(): Array<{ funcId: FuncId; rank?: number; sliceNs?: Ns }> {
    return [...this.pinMap].map(([funcId, p]) => ({ funcId, ...p }));
  }

  /** Per-function stats and per-group CDFs of everything completed so far. */
  stats(): { funcs: FuncStat[]; groups: GroupCdf[] } {
    return summarise(this.records, this.functions, this.policy);
  }

  /** Resolve a function by name or id (as typed at the REPL). */
  funcId(nameOrId: string | number): FuncId {
    const asNum = typeof nameOrId === 'number' ? nameOrId : /^\d+$/.test(nameOrId) ? Number(nameOrId) : NaN;
    const f = this.functions.find((x) => x.funcId === asNum || x.name === nameOrId);
    if (!f) throw new InputError(`function ${JSON.stringify(nameOrId)}`, `not in this workload (try .funcs)`);
    return f.funcId;
  }

  private baseParams(): Partial<LearnerParams> {
    return { ...this.opts.learner, cpus: this.opts.learner?.cpus ?? this.opts.cpus, seed: this.opts.learner?.seed ?? this.opts.seed };
  }

  // ------------------------------------------------------------ stepping

  /** Advance virtual time by one step and publish what happened. */
  step(): StepReport {
    if (this.done) return { nowNs: this.nowNs, newPolicies: [], completed: this.records.length, done: true, wallMs: 0 };
    const t0 = performance.now();
    const prevT = this.nowNs;
    const T = prevT + this.stepNs;
    const inv = this.opts.workload.invocations;
    const cut = lowerBound(inv, T);
    const prevCut = lowerBound(inv, prevT);
    const newPolicies: Policy[] = [];
    let replay: ReplayLearner | undefined;
    if (cut > 0) {
      const prefix: Workload = { ...this.opts.workload, invocations: inv.slice(0, cut) };
      const options: SimOptions = {
        cpus: this.opts.cpus,
        scheduler: this.opts.scheduler,
        seed: this.opts.seed,
        ...(this.opts.learner ? { learner: this.opts.learner } : {}),
        ...(this.opts.tunables ? { tunables: this.opts.tunables } : {}),
      };
      const res = this.opts.simulate(prefix, options, {
        learner: (params) => (replay = new ReplayLearner(this.opts.learnerFactory(params), this.log)),
      });
      // attachLearner installs one policy per round, in order: policies[i] came from rounds[i].
      // A paused round re-installs the policy in force, so only higher generations are new.
      const rounds = (replay as ReplayLearner | undefined)?.rounds ?? [];
      let lastGen = this.policy?.generation ?? 0;
      res.policies.forEach((p, i) => {
        const at = rounds[i]?.atNs;
        if (at === undefined || at >= T || p.generation <= lastGen) return;
        lastGen = p.generation;
        newPolicies.push(p);
        this.policies.push({ policy: p, atNs: at });
        this.pub.policy(p, at);
      });
      this.records = res.records.filter((r) => r.endNs < T);
      this.done = cut === inv.length && this.records.length === inv.length;
      this.publishUtil(prevT, T, prevCut, cut, rounds);
    } else {
      this.publishUtil(prevT, T, prevCut, cut, []);
    }
    this.nowNs = T;
    const s = this.stats();
    this.pub.stats(T, s.funcs, s.groups);
    const report = { nowNs: T, newPolicies, completed: this.records.length, done: this.done, wallMs: performance.now() - t0 };
    this.lastStep = report;
    return report;
  }

  private publishUtil(prevT: Ns, T: Ns, prevCut: number, cut: number, rounds: ReadonlyArray<{ atNs: Ns; utilisationPct: number }>): void {
    const span = (T - prevT) / NS_PER_S;
    const completedInStep = this.records.filter((r) => r.endNs >= prevT).length;
    const offered = (this.demandPrefix[cut]! - this.demandPrefix[prevCut]!) / (this.opts.cpus * (T - prevT));
    // The machine measures utilisation per learning round; show the round that closed in this step.
    const round = [...rounds].reverse().find((r) => r.atNs >= prevT && r.atNs < T);
    this.lastUtil = {
      atNs: T,
      cpus: this.opts.cpus,
      throughputPerS: completedInStep / span,
      offeredPct: 100 * offered,
      ...(round ? { utilisationPct: round.utilisationPct } : {}),
      completed: this.records.length,
    };
    this.pub.util(this.lastUtil);
  }

  /** Step every `intervalMs` of wall time until the workload is done or `stop()`. */
  start(intervalMs = 500, onStep?: (r: StepReport) => void, onError?: (err: unknown) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      let r: StepReport;
      try {
        r = this.step();
      } catch (err) {
        // A failing step must not take the process (and its socket and page) down with it.
        this.stop();
        (onError ?? ((e: unknown) => process.stderr.write(`ghost-alps: live session stopped: ${(e as Error).stack ?? String(e)}\n`)))(err);
        return;
      }
      onStep?.(r);
      if (r.done) this.stop();
    }, intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  // ------------------------------------------------------------ control (ControlTarget)

  private requireLearner(op: string): LearnerParams {
    if (!this.effective) throw new InputError(op, `scheduler '${this.opts.scheduler}' has no learner to control`);
    return this.effective;
  }

  /**
   * Try `events` on a learner rebuilt with everything applied so far; only if that succeeds
   * do they join the log. A refused change leaves the session exactly as it was.
   */
  private commit(events: ControlEvent[]): void {
    const probe = this.opts.learnerFactory(this.baseParams());
    for (const ev of [...this.log, ...events]) applyEvent(probe, ev);
    this.log.push(...events);
    this.effective = { ...probe.params };
  }

  setParams(patch: ParamsPatch): void {
    this.requireLearner('set-params');
    this.commit([{ atNs: this.nowNs, kind: 'set-params', patch: { ...patch } }]);
    this.publishState();
  }

  pause(): void {
    this.requireLearner('pause');
    if (this.paused) return;
    this.log.push({ atNs: this.nowNs, kind: 'pause' });
    this.paused = true;
    this.publishState();
  }

  resume(): void {
    this.requireLearner('resume');
    if (!this.paused) return;
    this.log.push({ atNs: this.nowNs, kind: 'resume' });
    this.paused = false;
    this.publishState();
  }

  pin(funcId: FuncId, pin: { rank?: number; sliceNs?: Ns }): void {
    this.requireLearner('pin');
    this.funcId(funcId);
    if (!this.opts.learnerFactory(this.baseParams()).pin) throw new InputError('pin', 'this learner cannot pin functions');
    this.commit([{ atNs: this.nowNs, kind: 'pin', funcId, pin: { ...pin } }]);
    this.pinMap.set(funcId, { ...this.pinMap.get(funcId), ...pin });
    this.publishState();
  }

  unpin(funcId: FuncId): void {
    this.requireLearner('unpin');
    if (!this.pinMap.has(funcId)) throw new InputError(`funcId ${funcId}`, 'is not pinned');
    this.commit([{ atNs: this.nowNs, kind: 'unpin', funcId }]);
    this.pinMap.delete(funcId);
    this.publishState();
  }

  snapshot(): unknown {
    return {
      atNs: this.nowNs,
      scheduler: this.opts.scheduler,
      cpus: this.opts.cpus,
      params: this.effective ?? null,
      learning: this.paused ? 'paused' : 'running',
      pins: this.pins,
      policy: this.policy ?? null,
      completed: this.records.length,
      invocations: this.opts.workload.invocations.length,
      stats: this.stats().funcs,
    };
  }

  private publishState(): void {
    this.pub.state({ atNs: this.nowNs, learning: this.paused ? 'paused' : 'running', pins: this.pins });
  }
}

/** First index whose arrival is ≥ t (invocations are sorted by arrival). */
function lowerBound(inv: Workload['invocations'], t: Ns): number {
  let lo = 0;
  let hi = inv.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (inv[mid]!.arrivalNs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
