/**
 * The ALPS scheduling rule: how every enforcer (the simulator's in-kernel model, the simulated
 * ghOSt agent, the ghOSt agent on a real or emulated kernel, and the sched_ext BPF scheduler)
 * turns a `Policy` into decisions. One specification, here; docs/scx.md "The ALPS rule" explains
 * it in prose, and `ghost-kernel/bpf/alps_rule.h` is generated from these constants
 * (`scripts/gen-alps-rule-h.mjs`; test/unit/core/alps-rule.test.ts checks they agree).
 *
 * 1. Level. Every runnable task has a level, lower first:
 *    - 0, *ordinary*: untagged work (rank 0: not an invocation of any function);
 *    - 1, *overdue*: a function task whose escape deadline has passed;
 *    - 1 + rank: a function task (rank 1 = served first). A function the policy does not know
 *      (not learned yet, or expired) gets UNKNOWN_FUNCTION_RANK, behind every learned rank, and
 *      the default E[CPU] for its deadline (`functionRank`). Cold start: while the policy knows
 *      no function at all, function work is ordinary (fair, as the kernel's default would run it;
 *      a single unknown rank would be FCFS, 1.5× EEVDF in the first window of an Azure trace).
 *    Function work never runs ahead of the host's own (untagged) work: the invoker that forks
 *    arrivals, the agent that learns the policy, the platform's daemons. With overdue work first
 *    (the rule before), a loaded host made nearly every invocation overdue (729 escapes in 846
 *    tagged enqueues in one real run) and starved the invoker and the agent behind them
 *    (docs/scx.md, "The verdict runs").
 * 2. Order within a level (the ordering key):
 *    - overdue: by rank, then earliest escape deadline. Plain EDF here collapses under overload:
 *      a burst makes most queued work overdue and EDF over it is FCFS by deadline (measured in
 *      docs/simulator.md "Tail rules": bursty Huawei mean ×1.9);
 *    - ordinary: fair, by (weighted) virtual runtime;
 *    - ranked: oldest invocation first (arrival), i.e. FCFS within a rank class: its jobs are of
 *      similar length, so the oldest is the closest to SRPT's choice and the largest wait stays
 *      small where processor sharing would make a burst of long jobs all finish late.
 * 3. Preemption: a newly runnable task (or one that just turned overdue) preempts a running task
 *    at once iff its level is strictly lower. Equal or worse levels never preempt on arrival.
 * 4. Slice protection: a running task keeps its CPU until it has run its slice in this pick (the
 *    function's learned slice, else the enforcer's default slice) against everything but a
 *    strictly lower level. At slice end it keeps the CPU for another slice iff it still orders
 *    before every queued task it could yield to (`keepsCpu`), else it is queued again.
 * 5. Tail bound (the escape deadline): d = arrival + ESCAPE_SLOWDOWN × E[CPU of its function]
 *    (E from the policy's `expectedCpuNs`; ESCAPE_DEFAULT_EXPECTED_CPU_NS when the policy does not
 *    know it, or does not know the function). Until d the learned rank orders the task; from d on it is overdue and runs ahead
 *    of all ranked work that is not (never of ordinary work). A queued task turning overdue is
 *    noticed within one tick. The bound does not depend on the number of ranks: a task of a
 *    typical-length invocation finishes by about d plus the ordinary and overdue work ahead of
 *    it, whatever its rank.
 *
 * Enforcement details that are not part of the rule (and why): the sched_ext scheduler also runs
 * a safety net (STARVE_NS, below) because the kernel ejects a scheduler whose task waits past the
 * watchdog timeout; the simulated enforcers have no watchdog.
 */
import type { Ns } from './time.js';

/** S of the escape deadline d = arrival + S × E[CPU]. Chosen by measurement: docs/simulator.md. */
export const ESCAPE_SLOWDOWN = 2;
/**
 * E[CPU] assumed for a function whose expectation the policy does not carry (no entry, or an
 * entry without `expectedCpuNs`). Long on purpose, chosen by measurement (docs/simulator.md,
 * "Functions the policy does not know"): a function not seen yet is as likely to be a rare long
 * one as a short one, and an underestimate makes a long invocation overdue early, where it runs
 * ahead of every ranked task with a degree that keeps growing. 100 ms (the value before) cost the
 * closed loop its gain on a 30-s Huawei trace (1.16× EEVDF in the model; 1 s: 0.68×).
 */
export const ESCAPE_DEFAULT_EXPECTED_CPU_NS: Ns = 1_000_000_000;
/** Highest rank an enforcer keeps; worse ranks are clamped to it (BPF key width). */
export const ALPS_MAX_RANK = 16383;
/**
 * Rank of a function task whose function the policy does not know: behind every learned rank.
 * Not ordinary: unknown functions used to run at the ordinary level, ahead of every ranked task,
 * so a rare long function absent from the learning window jumped the queue.
 */
export const UNKNOWN_FUNCTION_RANK = ALPS_MAX_RANK;
/** Level of ordinary work (untagged tasks, functions without a policy entry). */
export const LEVEL_ORDINARY = 0;
/** Level of an overdue task. */
export const LEVEL_OVERDUE = 1;

/**
 * BPF encoding of the ranked key on one 64-bit DSQ vtime: rank << RANK_KEY_SHIFT | arrival in
 * ARRIVAL_KEY_UNIT_NS units since the scheduler's epoch (50 bits of µs: 35 years of uptime).
 * Ties within a unit keep insertion order, which is arrival order.
 */
export const RANK_KEY_SHIFT = 50;
export const ARRIVAL_KEY_UNIT_NS = 1000;
/**
 * sched_ext safety net (BPF only): a queued task whose level keeps it waiting this long is moved
 * to the next CPU that dispatches, so no task reaches the kernel's watchdog timeout (which would
 * eject the scheduler). The watchdog timeout must be at least WATCHDOG_MIN_MS.
 */
export const STARVE_NS: Ns = 1_000_000_000;
export const WATCHDOG_MIN_MS = 5_000;

/**
 * The rule's rank of a task: 0 (ordinary) for untagged work (`funcId` 0) and for every task while
 * the policy has no entries (`policyFunctions` 0, the cold start), its function's learned rank
 * (clamped to ALPS_MAX_RANK), or UNKNOWN_FUNCTION_RANK when the policy has no entry for it.
 */
export function functionRank(funcId: number, entryRank: number | undefined, policyFunctions: number): number {
  if (!(funcId > 0) || policyFunctions === 0) return 0;
  if (entryRank === undefined || !(entryRank > 0)) return UNKNOWN_FUNCTION_RANK;
  return Math.min(entryRank, ALPS_MAX_RANK);
}

/** The escape deadline of an invocation that arrived at `arrivalNs`. */
export function escapeDeadlineNs(arrivalNs: Ns, expectedCpuNs: Ns | undefined, slowdown: number = ESCAPE_SLOWDOWN): Ns {
  const e = expectedCpuNs !== undefined && expectedCpuNs > 0 ? expectedCpuNs : ESCAPE_DEFAULT_EXPECTED_CPU_NS;
  return arrivalNs + Math.round(slowdown * e);
}

/** Level of a task of rank `rank` (0 = ordinary) whose escape deadline is `deadlineNs`, at `nowNs`. */
export function levelOf(rank: number, deadlineNs: Ns, nowNs: Ns): number {
  if (rank <= 0) return LEVEL_ORDINARY;
  if (nowNs >= deadlineNs) return LEVEL_OVERDUE;
  return LEVEL_OVERDUE + Math.min(rank, ALPS_MAX_RANK);
}

/** Highest overdue degree kept apart (BPF key width). */
export const MAX_OVERDUE_DEGREE = 255;

/**
 * How overdue a task is: ⌊(now − arrival) / (d − arrival)⌋, i.e. how many times its slowdown
 * budget S × E[CPU] it has been in the system (≥ 1 once overdue, 0 before d).
 */
export function overdueDegree(arrivalNs: Ns, deadlineNs: Ns, nowNs: Ns): number {
  if (!(nowNs >= deadlineNs)) return 0;
  const budget = Math.max(1, deadlineNs - arrivalNs);
  return Math.min(MAX_OVERDUE_DEGREE, Math.floor((nowNs - arrivalNs) / budget));
}

/** What the rule needs to order one runnable task. */
export interface RuleTask {
  /** levelOf(...) at the time of the comparison. */
  level: number;
  /** Escape deadline (orders overdue tasks). */
  deadlineNs: Ns;
  /** Weighted virtual runtime (orders ordinary tasks). */
  fairKey: number;
  /** Overdue degree (overdueDegree; 0 when not overdue). */
  degree: number;
  /** Learned rank (orders overdue tasks of one degree). */
  rank: number;
  /** Invocation arrival (orders ranked tasks). */
  arrivalNs: Ns;
  /** Unique id: the last tie-break, so the order is total. */
  id: number;
}

/** Ordering key: true when `a` runs before `b`. A strict total order. */
export function before(a: RuleTask, b: RuleTask): boolean {
  if (a.level !== b.level) return a.level < b.level;
  let ka: number;
  let kb: number;
  if (a.level === LEVEL_OVERDUE) {
    if (a.degree !== b.degree) return a.degree > b.degree;
    if (a.rank !== b.rank) return a.rank < b.rank;
    ka = a.deadlineNs;
    kb = b.deadlineNs;
  } else if (a.level === LEVEL_ORDINARY) {
    ka = a.fairKey;
    kb = b.fairKey;
  } else {
    ka = a.arrivalNs;
    kb = b.arrivalNs;
  }
  return ka < kb || (ka === kb && a.id < b.id);
}

/** Preemption: a task at `level` that becomes runnable preempts a running task at `currLevel` iff strictly lower. */
export function preempts(level: number, currLevel: number): boolean {
  return level < currLevel;
}

/**
 * Slice protection: may `curr`, which has run `ranInPickNs` of its slice `sliceNs` in this pick,
 * be displaced by the best queued task `head` (null = none)? Inside the slice only a strictly
 * lower level displaces it; at or past the slice end any task ordered before it does.
 */
export function displaces(head: RuleTask | null, curr: RuleTask, ranInPickNs: Ns, sliceNs: Ns): boolean {
  if (!head) return false;
  if (preempts(head.level, curr.level)) return true;
  return ranInPickNs >= sliceNs && before(head, curr);
}

/** At slice end: `curr` keeps its CPU for another slice iff it still orders before the best queued task. */
export function keepsCpu(curr: RuleTask, head: RuleTask | null): boolean {
  return !head || before(curr, head);
}

/** The constants the BPF scheduler compiles in (ghost-kernel/bpf/alps_rule.h), by C macro name. */
export const ALPS_RULE_C_CONSTANTS: Readonly<Record<string, number>> = {
  ALPS_ESCAPE_SLOWDOWN: ESCAPE_SLOWDOWN,
  ALPS_ESCAPE_DEFAULT_EXPECTED_CPU_NS: ESCAPE_DEFAULT_EXPECTED_CPU_NS,
  ALPS_MAX_RANK: ALPS_MAX_RANK,
  ALPS_UNKNOWN_FUNCTION_RANK: UNKNOWN_FUNCTION_RANK,
  ALPS_MAX_OVERDUE_DEGREE: MAX_OVERDUE_DEGREE,
  ALPS_LEVEL_OVERDUE: LEVEL_OVERDUE,
  ALPS_LEVEL_ORDINARY: LEVEL_ORDINARY,
  ALPS_RANK_KEY_SHIFT: RANK_KEY_SHIFT,
  ALPS_ARRIVAL_KEY_UNIT_NS: ARRIVAL_KEY_UNIT_NS,
  ALPS_STARVE_NS: STARVE_NS,
  ALPS_WATCHDOG_MIN_MS: WATCHDOG_MIN_MS,
};

/** The text of ghost-kernel/bpf/alps_rule.h for these constants. */
export function alpsRuleHeader(): string {
  const lines = [
    '/* GENERATED from src/core/alps-rule.ts by scripts/gen-alps-rule-h.mjs: do not edit.',
    ' * The ALPS rule\'s constants, shared by every enforcer (docs/scx.md, "The ALPS rule"). */',
    '#ifndef GHOST_ALPS_RULE_H',
    '#define GHOST_ALPS_RULE_H',
    '',
  ];
  for (const [k, v] of Object.entries(ALPS_RULE_C_CONSTANTS)) lines.push(`#define ${k} ${v}ULL`);
  lines.push('', '#endif', '');
  return lines.join('\n');
}
