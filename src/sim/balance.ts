import type { Ns } from '../core/index.js';
import { fairTunables, LB } from './linux.js';
import type { LoadBalanceOps, SchedulerModel } from './model.js';
import type { SimTask } from './task.js';

/** What the balancer reads and pokes on the machine. */
export interface BalancerHost {
  readonly ncpus: number;
  readonly now: Ns;
  curr(cpu: number): SimTask | null;
  idleSince(cpu: number): Ns;
  resched(cpu: number): void;
}

/** PELT's utilisation half-life (32 ms), used for the LLC utilisation behind SIS_UTIL. */
const UTIL_HALF_LIFE_NS = 32_000_000;

/**
 * Linux-like task placement and load balancing over one flat LLC domain (all CPUs share a
 * cache, one MC domain of single-CPU groups, no SMT, no NUMA):
 *
 * - fork/exec placement (find_idlest_cpu): the parent's CPU if idle, else the idle CPU that
 *   went idle most recently, else the least-loaded CPU;
 * - wake-up placement (select_idle_sibling with target = prev, as for timer/IRQ wake-ups):
 *   prev if idle, else the first idle CPU scanning from prev+1, the scan depth limited by
 *   SIS_UTIL (no scan once the LLC is ~85% utilised), else prev;
 * - newidle balance: a CPU about to go idle pulls from the busiest runqueue at once;
 * - periodic balance every sd_weight ms (×16 while busy) and nohz idle balance kicked from
 *   the tick of a CPU with ≥2 runnable tasks; imbalance rules of calculate_imbalance for
 *   single-CPU groups (idle local: half the difference; busy local: load-based, none for
 *   2-vs-1); cache-hot tasks (ran < 0.5 ms ago) stay unless balancing failed repeatedly.
 *
 * Load is counted in runnable tasks (all tasks are nice 0), not PELT load averages.
 */
export class Balancer {
  private readonly lastBalance: Float64Array;
  private readonly intervalNs: Float64Array;
  private readonly failed: Int32Array;
  private readonly minIntervalNs: Ns;
  private nohzNextBalance = 0;
  private readonly migrationCostNs: Ns;
  private readonly scratch: SimTask[] = [];
  // SIS_UTIL state
  private util = 0;
  private utilAt = 0;
  private busyCpus = 0;
  private nrIdleScan: number;

  constructor(
    private readonly host: BalancerHost,
    private readonly model: SchedulerModel,
    private readonly lb: LoadBalanceOps | undefined,
  ) {
    const n = host.ncpus;
    this.lastBalance = new Float64Array(n);
    this.intervalNs = new Float64Array(n);
    this.failed = new Int32Array(n);
    // sd->min_interval = sd_weight ms for the LLC domain.
    this.minIntervalNs = n * 1_000_000;
    this.intervalNs.fill(this.minIntervalNs);
    this.migrationCostNs = fairTunables(n).migrationCostNs;
    this.nrIdleScan = n;
  }

  private nr(cpu: number): number {
    if (this.lb) return this.lb.nrRunning(cpu);
    return this.host.curr(cpu) ? 1 : 0;
  }

  private isIdle(cpu: number): boolean {
    return this.host.curr(cpu) === null && this.nr(cpu) === 0;
  }

  /** Keep the LLC utilisation average current; call on every busy/idle transition. */
  noteBusy(delta: number): void {
    const now = this.host.now;
    const dt = now - this.utilAt;
    if (dt > 0) {
      const decay = Math.pow(0.5, dt / UTIL_HALF_LIFE_NS);
      this.util = this.util * decay + (this.busyCpus / this.host.ncpus) * (1 - decay);
      this.utilAt = now;
    }
    this.busyCpus += delta;
  }

  /** update_idle_cpu_scan: nr_scan = llc_weight × (1 − (util × pct/100)²), ≥ 0. */
  private updateIdleScan(): void {
    this.noteBusy(0);
    const x = (this.util * LB.imbalancePct) / 100;
    this.nrIdleScan = Math.max(0, Math.floor(this.host.ncpus * (1 - x * x)));
  }

  /** find_idlest_cpu for a new task forked by a thread on `parent`. */
  placeNew(parent: number): number {
    if (this.isIdle(parent)) return parent;
    const n = this.host.ncpus;
    let best = -1;
    let bestIdleAt = -Infinity;
    for (let i = 0; i < n; i++) {
      if (!this.isIdle(i)) continue;
      const at = this.host.idleSince(i);
      if (at > bestIdleAt) {
        bestIdleAt = at;
        best = i;
      }
    }
    if (best >= 0) return best;
    let minNr = this.nr(parent);
    best = parent;
    for (let k = 1; k < n; k++) {
      const i = (parent + k) % n;
      const v = this.nr(i);
      if (v < minNr) {
        minNr = v;
        best = i;
      }
    }
    return best;
  }

  /** select_idle_sibling(p, prev, target = prev). */
  placeWakeup(prev: number): number {
    if (prev < 0) return this.placeNew(0);
    if (this.isIdle(prev)) return prev;
    const n = this.host.ncpus;
    let budget = this.nrIdleScan;
    for (let k = 1; k < n && budget > 0; k++, budget--) {
      const i = (prev + k) % n;
      if (this.isIdle(i)) return i;
    }
    return prev;
  }

  /** newidle_balance: `dst` has nothing to run. Returns true if it pulled something. */
  newidle(dst: number): boolean {
    if (!this.lb) return false;
    return this.loadBalance(dst, 'newidle');
  }

  /** trigger_load_balance from the tick of busy `cpu`. */
  tick(cpu: number): void {
    if (!this.lb) return;
    const now = this.host.now;
    if (now >= this.lastBalance[cpu]! + this.intervalNs[cpu]! * LB.busyFactor) {
      this.updateIdleScan();
      this.rebalance(cpu, 'busy');
    }
    // nohz_balancer_kick: an overloaded CPU wakes an idle one to balance for all idle CPUs.
    if (this.nr(cpu) >= 2 && now >= this.nohzNextBalance) {
      let next = Infinity;
      let any = false;
      for (let i = 0; i < this.host.ncpus; i++) {
        if (!this.isIdle(i)) continue;
        any = true;
        if (now >= this.lastBalance[i]! + this.intervalNs[i]!) this.rebalance(i, 'idle');
        next = Math.min(next, this.lastBalance[i]! + this.intervalNs[i]!);
      }
      if (any) this.nohzNextBalance = next;
    }
  }

  private rebalance(cpu: number, kind: 'busy' | 'idle'): void {
    const moved = this.loadBalance(cpu, kind);
    this.lastBalance[cpu] = this.host.now;
    // Balanced domains back off (balance_interval doubles up to max_interval = 2 × min).
    this.intervalNs[cpu] = moved ? this.minIntervalNs : Math.min(this.intervalNs[cpu]! * 2, 2 * this.minIntervalNs);
  }

  private loadBalance(dst: number, kind: 'newidle' | 'idle' | 'busy'): boolean {
    const lb = this.lb!;
    const n = this.host.ncpus;
    let src = -1;
    let b = 1;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = lb.nrRunning(i);
      total += v;
      if (i !== dst && v > b) {
        b = v;
        src = i;
      }
    }
    if (src < 0) return false;
    const l = lb.nrRunning(dst);
    let k: number;
    if (l === 0) {
      k = (b - l) >> 1;
    } else {
      // Local busy: load-based imbalance (migrate_load), balanced within imbalance_pct.
      if (100 * b <= LB.imbalancePct * l) return false;
      const avg = total / n;
      k = Math.floor(Math.min(b - avg, avg - l));
    }
    if (k < 1) return false;
    const cand = this.scratch;
    cand.length = 0;
    lb.migratable(src, cand);
    const now = this.host.now;
    const hotOk = kind !== 'newidle' && this.failed[dst]! > LB.cacheNiceTries;
    let moved = 0;
    const loopMax = Math.min(LB.nrMigrate, cand.length);
    for (let j = 0; j < loopMax && moved < k; j++) {
      const t = cand[j]!;
      if (!hotOk && now - t.lastRanNs < this.migrationCostNs) continue;
      lb.detach(src, t);
      lb.attach(dst, t);
      moved++;
      // A newly idle CPU picks right after pulling; others need a reschedule.
      if (kind !== 'newidle') {
        const c = this.host.curr(dst);
        if (c === null || this.model.wantsPreempt(dst, c, t)) this.host.resched(dst);
      }
    }
    if (moved === 0) {
      if (kind !== 'newidle') this.failed[dst] = this.failed[dst]! + 1;
      return false;
    }
    this.failed[dst] = 0;
    return true;
  }
}
