import type { Ns } from '../core/index.js';

/**
 * Linux scheduler constants and how the kernel scales them with the CPU count
 * (kernel/sched/fair.c, SCHED_TUNABLESCALING_LOG: factor = 1 + ilog2(min(ncpus, 8))).
 */
export function tunableFactor(ncpus: number): number {
  const n = Math.max(1, Math.min(ncpus, 8));
  return 1 + Math.floor(Math.log2(n));
}

export interface FairTunables {
  /** sysctl_sched_latency: 6 ms × factor. */
  latencyNs: Ns;
  /** sysctl_sched_min_granularity: 0.75 ms × factor (EEVDF's sysctl_sched_base_slice). */
  minGranularityNs: Ns;
  /** sysctl_sched_wakeup_granularity: 1 ms × factor. */
  wakeupGranularityNs: Ns;
  /** sched_nr_latency = latency / min_granularity = 8. */
  nrLatency: number;
  /** sysctl_sched_migration_cost: a task that ran this recently is cache-hot. */
  migrationCostNs: Ns;
}

/** The kernel's normalized sysctl_sched_base_slice / min_granularity before 6.12 (one CPU). */
export const DEFAULT_BASE_SLICE_NS: Ns = 750_000;

/**
 * The fair class's tunables on `ncpus` CPUs for a one-CPU base slice `baseSliceNs` (a machine
 * file's `baseSliceNs`). Latency and wake-up granularity keep their kernel ratios to the base
 * slice (6 ms : 1 ms : 0.75 ms), so the default reproduces the kernel's constants exactly.
 */
export function fairTunables(ncpus: number, baseSliceNs: Ns = DEFAULT_BASE_SLICE_NS): FairTunables {
  const f = tunableFactor(ncpus);
  const slice = Math.round(baseSliceNs * f);
  return {
    latencyNs: slice * 8,
    minGranularityNs: slice,
    wakeupGranularityNs: Math.round((slice * 4) / 3),
    nrLatency: 8,
    migrationCostNs: 500_000,
  };
}

/** Linux SCHED_RR timeslice (RR_TIMESLICE = 100 ms). */
export const RR_TIMESLICE_NS: Ns = 100_000_000;
/** Load-balancer constants of an LLC (MC) domain. */
export const LB = {
  /** sd->imbalance_pct of an MC domain. */
  imbalancePct: 117,
  /** sd->busy_factor: busy CPUs balance this many times less often. */
  busyFactor: 16,
  /** sd->cache_nice_tries: failed balances before cache-hot tasks may move. */
  cacheNiceTries: 1,
  /** sysctl_sched_nr_migrate: most tasks one balance pass moves. */
  nrMigrate: 32,
} as const;
