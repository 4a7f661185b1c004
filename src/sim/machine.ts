import type { InvocationRecord, Ns, Workload } from '../core/index.js';
import { Balancer } from './balance.js';
import type { MachineApi, SchedulerModel } from './model.js';
import { Rng } from '../core/prng.js';
import { SimTask, TaskState, taskRecord } from './task.js';
import { EventQueue } from './event-queue.js';

const EV_RUN_END = 1;
const EV_WAKE = 2;
const EV_TICK = 3;
const EV_MODEL = 4;
const EV_PERIODIC = 5;

export interface MachineConfig {
  ncpus: number;
  hz: number;
  ctxSwitchNs: Ns;
  seed: number;
  /** Throw when a CPU idles while work waits that it could run (property tests). */
  checkInvariants?: 'per-cpu' | 'global' | false;
  onProgress?: (fractionDone: number) => void;
}

/** A callback the machine runs every `periodNs` of virtual time while work remains. */
export interface Periodic {
  periodNs: Ns;
  run(nowNs: Ns): void;
}

/**
 * The simulated multicore machine: a discrete-event loop over arrivals, run-ends, wake-ups,
 * ticks and model events. It owns virtual time, per-CPU state, accounting and the load
 * balancer; every scheduling decision is delegated to the SchedulerModel at the points Linux
 * would make it (enqueue, check_preempt, tick, __schedule/pick_next, put_prev).
 *
 * Hot-path rules: no allocation per event (typed-array heap, preallocated tasks), ticks only
 * on busy CPUs (NOHZ idle), stale run-end events dropped by a per-CPU generation number.
 */
export class Machine implements MachineApi {
  now: Ns = 0;
  readonly ncpus: number;
  readonly tickNs: Ns;
  readonly tasks: SimTask[];
  readonly busyNs: Float64Array;
  events = 0;
  contextSwitches = 0;
  completed = 0;
  makespanNs: Ns = 0;
  /** Tasks completed since the last drain (the ALPS learner's feed), when collecting. */
  readonly finishedSinceDrain: SimTask[] = [];
  collectFinished = false;

  private readonly q = new EventQueue(4096);
  private readonly currT: (SimTask | null)[];
  /** 1 while a CPU runs (or switches to) a task. */
  private readonly busyFlags: Uint8Array;
  private readonly gen: Int32Array;
  private readonly tickArmed: Uint8Array;
  private readonly reschedFlag: Uint8Array;
  private readonly reschedList: Int32Array;
  private nResched = 0;
  private readonly busySince: Float64Array;
  private readonly idleAt: Float64Array;
  private readonly balancer: Balancer;
  private readonly rng: Rng;
  private readonly tickPhase: Ns;
  private readonly periodics: Periodic[] = [];
  private lruClock = 0;
  private nextArrival = 0;
  private readonly progressEvery: number;

  constructor(
    private readonly workload: Workload,
    private readonly model: SchedulerModel,
    private readonly cfg: MachineConfig,
  ) {
    const n = cfg.ncpus;
    this.ncpus = n;
    this.tickNs = Math.round(1e9 / cfg.hz);
    this.tasks = workload.invocations.map((s, i) => new SimTask(s, i));
    this.currT = new Array<SimTask | null>(n).fill(null);
    this.busyFlags = new Uint8Array(n);
    this.gen = new Int32Array(n);
    this.tickArmed = new Uint8Array(n);
    this.reschedFlag = new Uint8Array(n);
    this.reschedList = new Int32Array(n);
    this.busyNs = new Float64Array(n);
    this.busySince = new Float64Array(n);
    this.idleAt = new Float64Array(n);
    this.rng = new Rng(cfg.seed, 'sim:machine');
    // Where virtual time 0 falls inside a jiffy.
    this.tickPhase = this.rng.below(this.tickNs);
    this.balancer = new Balancer(this, model, model.lb);
    this.progressEvery = Math.max(1, Math.floor(this.tasks.length / 100));
  }

  // ---- MachineApi ----
  curr(cpu: number): SimTask | null {
    return this.currT[cpu]!;
  }
  task(index: number): SimTask {
    return this.tasks[index]!;
  }
  idleSince(cpu: number): Ns {
    return this.currT[cpu] ? -Infinity : this.idleAt[cpu]!;
  }
  resched(cpu: number): void {
    if (this.reschedFlag[cpu]) return;
    this.reschedFlag[cpu] = 1;
    this.reschedList[this.nResched++] = cpu;
  }
  post(atNs: Ns, cpu: number, tag: number): void {
    this.q.push(Math.max(atNs, this.now), EV_MODEL, cpu, tag);
  }
  remainingCpu(t: SimTask): Ns {
    if (t.state === TaskState.running && this.now > t.runFromNs) return t.remainingCpuNs - (this.now - t.runFromNs);
    return t.remainingCpuNs;
  }
  placeNew(_t: SimTask): number {
    // The invoker thread that forks the sandbox runs on some CPU; which one is random.
    return this.balancer.placeNew(this.rng.below(this.ncpus));
  }
  placeWakeup(t: SimTask): number {
    return this.balancer.placeWakeup(t.cpu);
  }
  updateCurr(cpu: number): void {
    const t = this.currT[cpu];
    if (!t) return;
    const d = this.now - t.runFromNs;
    if (d <= 0) return;
    t.runFromNs = this.now;
    t.lastRanNs = this.now;
    t.sumExecNs += d;
    t.phaseLeftNs -= d;
    t.remainingCpuNs -= d;
    this.model.account(cpu, t, d);
  }

  addPeriodic(p: Periodic): void {
    this.periodics.push(p);
    this.q.push(p.periodNs, EV_PERIODIC, this.periodics.length - 1, 0);
  }

  /** Run to completion of every invocation. */
  run(): void {
    const tasks = this.tasks;
    const total = tasks.length;
    this.model.attach(this);
    const q = this.q;
    while (this.completed < total) {
      const arr = this.nextArrival < total ? tasks[this.nextArrival]! : null;
      if (arr && arr.arrivalNs <= q.peekTime()) {
        this.now = arr.arrivalNs;
        this.nextArrival++;
        this.arrive(arr);
      } else {
        if (!q.pop()) throw new Error('simulator: event queue empty with work outstanding');
        this.now = q.popTime;
        const a = q.popA;
        switch (q.popKind) {
          case EV_RUN_END:
            // A run-end made stale by a preemption is dropped, not counted as an event.
            if (q.popB !== this.gen[a]) continue;
            this.runEnd(a);
            break;
          case EV_WAKE:
            this.wake(tasks[a]!);
            break;
          case EV_TICK:
            this.tick(a);
            break;
          case EV_MODEL:
            this.model.onEvent?.(a, q.popB);
            break;
          case EV_PERIODIC: {
            const p = this.periodics[a]!;
            p.run(this.now);
            if (this.completed < total) q.push(this.now + p.periodNs, EV_PERIODIC, a, 0);
            break;
          }
        }
      }
      this.events++;
      if (this.nResched > 0) this.processResched();
      if (this.cfg.checkInvariants) this.checkInvariants();
    }
  }

  private processResched(): void {
    // schedule() can resched further CPUs (a newidle pull); drain until quiet.
    while (this.nResched > 0) {
      const cpu = this.reschedList[--this.nResched]!;
      this.reschedFlag[cpu] = 0;
      this.schedule(cpu);
    }
  }

  // ---- task life ----
  private arrive(t: SimTask): void {
    this.model.onArrival?.(t);
    const k = this.advancePhase(t);
    if (k === 'cpu') this.makeRunnable(t, 'new');
    else if (k === 'block') this.block(t);
    else this.finish(t);
  }

  private wake(t: SimTask): void {
    const k = this.advancePhase(t);
    if (k === 'cpu') this.makeRunnable(t, 'wakeup');
    else if (k === 'block') this.block(t);
    else this.finish(t);
  }

  private makeRunnable(t: SimTask, kind: 'new' | 'wakeup'): void {
    t.state = TaskState.runnable;
    t.waitSinceNs = this.now;
    t.lru = ++this.lruClock;
    const cpu = this.model.selectCpu(t, kind);
    this.model.enqueue(cpu, t, kind);
    if (cpu < 0) return;
    const c = this.currT[cpu]!;
    if (c === null) this.resched(cpu);
    else if (this.model.wantsPreempt(cpu, c, t)) this.resched(cpu);
  }

  /** Move to the next non-empty phase. */
  private advancePhase(t: SimTask): 'cpu' | 'block' | 'done' {
    const ph = t.phases;
    while (++t.phaseIdx < ph.length) {
      const p = ph[t.phaseIdx]!;
      if (p.ns <= 0) continue;
      t.phaseLeftNs = p.ns;
      return p.kind;
    }
    return 'done';
  }

  private block(t: SimTask): void {
    t.state = TaskState.blocked;
    t.blockedNs += t.phaseLeftNs;
    this.q.push(this.now + t.phaseLeftNs, EV_WAKE, t.index, 0);
  }

  private finish(t: SimTask): void {
    t.state = TaskState.done;
    t.endNs = this.now;
    if (this.now > this.makespanNs) this.makespanNs = this.now;
    this.completed++;
    if (this.collectFinished) this.finishedSinceDrain.push(t);
    if (this.cfg.onProgress && this.completed % this.progressEvery === 0) {
      this.cfg.onProgress(this.completed / this.tasks.length);
    }
  }

  private runEnd(cpu: number): void {
    const t = this.currT[cpu]!;
    this.updateCurr(cpu);
    const k = this.advancePhase(t);
    if (k === 'cpu') {
      // Consecutive CPU phases: keep running.
      this.armRunEnd(cpu, t);
      return;
    }
    this.endSlice(t);
    this.currT[cpu] = null;
    t.voluntary++;
    this.model.dequeueCurr(cpu, t, k === 'block' ? 'sleep' : 'exit');
    if (k === 'block') this.block(t);
    else this.finish(t);
    this.resched(cpu);
  }

  private endSlice(t: SimTask): void {
    const len = this.now - t.sliceStartNs;
    if (len > 0) t.slices.push(len);
  }

  private tick(cpu: number): void {
    const t = this.currT[cpu];
    if (!t) {
      this.tickArmed[cpu] = 0; // NOHZ: idle CPUs stop ticking
      return;
    }
    this.updateCurr(cpu);
    if (this.model.tick(cpu, t)) this.resched(cpu);
    this.balancer.tick(cpu);
    this.q.push(this.now + this.tickNs, EV_TICK, cpu, 0);
  }

  private armTick(cpu: number): void {
    if (this.tickArmed[cpu]) return;
    this.tickArmed[cpu] = 1;
    const p = this.tickNs;
    const k = Math.floor((this.now - this.tickPhase) / p) + 1;
    this.q.push(this.tickPhase + k * p, EV_TICK, cpu, 0);
  }

  private armRunEnd(cpu: number, t: SimTask): void {
    const g = this.gen[cpu]! + 1;
    this.gen[cpu] = g;
    this.q.push(t.runFromNs + t.phaseLeftNs, EV_RUN_END, cpu, g);
  }

  /** __schedule() on `cpu`. The running task, if any, is still runnable (preemption). */
  private schedule(cpu: number): void {
    const prev = this.currT[cpu]!;
    if (prev) {
      this.updateCurr(cpu);
      if (this.model.keepPrev?.(cpu, prev)) return;
      prev.state = TaskState.runnable;
      prev.waitSinceNs = this.now;
      this.currT[cpu] = null;
      this.model.putPrev(cpu, prev);
    }
    let next = this.model.pickNext(cpu, prev);
    if (!next && this.model.lb && this.balancer.newidle(cpu)) next = this.model.pickNext(cpu, null);
    if (next === prev && prev) {
      // Re-picked the running task: no switch; the run continues.
      this.currT[cpu] = prev;
      prev.state = TaskState.running;
      this.armRunEnd(cpu, prev);
      return;
    }
    if (prev) {
      prev.involuntary++;
      this.endSlice(prev);
      prev.lru = ++this.lruClock;
    }
    if (next) this.switchIn(cpu, next);
    else this.goIdle(cpu);
  }

  private switchIn(cpu: number, t: SimTask): void {
    const now = this.now;
    if (!this.busyFlags[cpu]) {
      this.busyFlags[cpu] = 1;
      this.busySince[cpu] = now;
      this.balancer.noteBusy(1);
    }
    // Every switch to a different task (idle → task included, as Linux's nr_switches counts)
    // costs ctxSwitchNs before the task's code runs.
    this.contextSwitches++;
    const start = now + this.cfg.ctxSwitchNs + (this.model.switchCostNs?.(cpu, t) ?? 0);
    this.currT[cpu] = t;
    t.state = TaskState.running;
    t.cpu = cpu;
    const w = now - t.waitSinceNs;
    t.waitNs += w;
    if (t.firstWaitNs < 0) t.firstWaitNs = w;
    t.prevSumExecNs = t.sumExecNs;
    t.runFromNs = start;
    t.sliceStartNs = start;
    t.lru = ++this.lruClock;
    this.model.onSwitchIn?.(cpu, t);
    this.armRunEnd(cpu, t);
    this.armTick(cpu);
  }

  private goIdle(cpu: number): void {
    this.gen[cpu] = this.gen[cpu]! + 1;
    if (this.busyFlags[cpu]) {
      this.busyNs[cpu] = this.busyNs[cpu]! + (this.now - this.busySince[cpu]!);
      this.busyFlags[cpu] = 0;
      this.balancer.noteBusy(-1);
      this.idleAt[cpu] = this.now;
    }
  }

  /** Total busy ns of all CPUs up to now (for utilisation). */
  totalBusyNs(): Ns {
    let s = 0;
    for (let i = 0; i < this.ncpus; i++) {
      s += this.busyNs[i]!;
      if (this.busyFlags[i]) s += this.now - this.busySince[i]!;
    }
    return s;
  }

  private checkInvariants(): void {
    const mode = this.cfg.checkInvariants;
    const m = this.model;
    for (let i = 0; i < this.ncpus; i++) {
      if (this.currT[i]) continue;
      if (mode === 'per-cpu' && m.queuedOn(i) > 0) {
        throw new Error(`invariant: CPU ${i} idle at ${this.now} ns with ${m.queuedOn(i)} queued tasks`);
      }
      if (mode === 'global' && m.queuedTotal() > 0) {
        throw new Error(`invariant: CPU ${i} idle at ${this.now} ns with ${m.queuedTotal()} tasks waiting`);
      }
    }
  }

  /** One record per invocation, in workload order. */
  records(): InvocationRecord[] {
    const names = new Map(this.workload.functions.map((f) => [f.funcId, f.name]));
    return this.tasks.map((t) => {
      const rec = taskRecord(t);
      const name = names.get(t.funcId);
      if (name !== undefined) rec.name = name;
      return rec;
    });
  }
}
