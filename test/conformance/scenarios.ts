/**
 * The ALPS rule's conformance table (src/core/alps-rule.ts, docs/scx.md "The ALPS rule"): scripted
 * scenarios on one CPU — task arrivals with ranks, learned slices, blocking, an overdue task, a
 * better-rank arrival mid-slice, a flood of untagged work — each with the completion order the
 * rule implies. Every task is CPU-bound between its blocking phases, so the completion order is
 * the rule's pick order. Each enforcer replays the table its own way: the simulator model
 * (sim.test.ts), the ghOSt agent on the emulated kernel (ghost.test.ts) and the BPF scheduler in
 * the VM with real processes pinned to one CPU (bpf.test.ts), and prints
 * `conformance <enforcer>: <passed>/<total> scenarios`.
 *
 * Times are in ms and coarse (≥ 100 ms apart) so a TCG guest's fork/exec cost (a few ms) cannot
 * reorder arrivals.
 */
import type { InvocationRecord, Policy, PolicyEntry, Workload } from '../../src/core/index.js';

export const MS = 1_000_000;

export interface ScenarioTask {
  name: string;
  /** Arrival (ms from the scenario start). */
  at: number;
  /** CPU ms, or alternating [cpu, block, cpu, …] ms. */
  work: number | number[];
  /** Learned rank; absent = untagged (ordinary) unless `unknown`. */
  rank?: number;
  /** A function task (tagged) whose function the policy does not know: UNKNOWN_FUNCTION_RANK. */
  unknown?: boolean;
  /** Learned slice (ms); 0/absent = the enforcer's default slice. */
  sliceMs?: number;
  /** E[CPU] of its function (ms): the escape deadline is arrival + S × this. Default: 10 s (no escape). */
  expectedMs?: number;
}

export interface Scenario {
  name: string;
  what: string;
  tasks: ScenarioTask[];
  /** Completion order: groups in order; names within a group may finish in any order. */
  expect: string[][];
}

const NO_ESCAPE = 10_000;

export const SCENARIOS: Scenario[] = [
  {
    name: 'rank-order',
    what: 'a strictly better rank preempts on arrival; a better rank queued behind it waits; then rank order',
    tasks: [
      { name: 'A3', at: 0, work: 400, rank: 3 },
      { name: 'B1', at: 100, work: 200, rank: 1 },
      { name: 'C2', at: 200, work: 200, rank: 2 },
    ],
    expect: [['B1'], ['C2'], ['A3']],
  },
  {
    name: 'fcfs-within-rank',
    what: 'equal ranks run oldest first, each to completion (no rotation at slice ends)',
    tasks: [
      { name: 'A', at: 0, work: 300, rank: 2 },
      { name: 'B', at: 100, work: 300, rank: 2 },
      { name: 'C', at: 200, work: 300, rank: 2 },
    ],
    expect: [['A'], ['B'], ['C']],
  },
  {
    name: 'slice-protection',
    what: 'a better rank arriving mid-slice preempts; a worse one waits for the learned slice',
    tasks: [
      { name: 'A3', at: 0, work: 300, rank: 3, sliceMs: 300 },
      { name: 'B4', at: 100, work: 100, rank: 4 },
      { name: 'C1', at: 150, work: 100, rank: 1 },
    ],
    expect: [['C1'], ['A3'], ['B4']],
  },
  {
    name: 'blocking',
    what: 'a better-ranked task waking from a block preempts the worse one that ran meanwhile',
    tasks: [
      { name: 'A1', at: 0, work: [100, 200, 100], rank: 1 },
      { name: 'B2', at: 50, work: 400, rank: 2 },
    ],
    expect: [['A1'], ['B2']],
  },
  {
    name: 'overdue',
    what: 'a worst-ranked task past its escape deadline runs ahead of better-ranked work',
    tasks: [
      { name: 'A5', at: 0, work: 300, rank: 5, expectedMs: 50 },
      { name: 'B1', at: 20, work: 150, rank: 1 },
      { name: 'B2', at: 170, work: 150, rank: 1 },
      { name: 'B3', at: 320, work: 150, rank: 1 },
      { name: 'B4', at: 470, work: 150, rank: 1 },
    ],
    expect: [['A5'], ['B1'], ['B2'], ['B3'], ['B4']],
  },
  {
    name: 'untagged-flood',
    what: 'untagged work (the host: invoker, agent, daemons) outranks functions, overdue ones too: the function finishes last',
    // F2 turns overdue at 100 ms, while U1–U3 still run; it waits for them all (600 ms of
    // untagged work, well inside the BPF safety net's 1 s, which is not part of the rule).
    tasks: [
      { name: 'F2', at: 0, work: 200, rank: 2, expectedMs: 50 },
      { name: 'U1', at: 20, work: 200 },
      { name: 'U2', at: 30, work: 200 },
      { name: 'U3', at: 40, work: 200 },
    ],
    expect: [['U1', 'U2', 'U3'], ['F2']],
  },
  {
    name: 'unknown-function',
    what: 'a function the policy does not know runs behind every learned rank, not ahead of them as untagged work does',
    // X runs alone first; K2 preempts it (a learned rank is a better level); K9 waits for K2 but
    // not for X. Had X been ordinary (the rule before), it would have finished first. The order
    // does not depend on how long the burns take (no arrival races a completion): under two
    // host CPU hogs an untagged arrival placed 100 ms after K2's nominal end still met K2 running.
    tasks: [
      { name: 'X', at: 0, work: 200, unknown: true },
      { name: 'K2', at: 50, work: 200, rank: 2 },
      { name: 'K9', at: 100, work: 200, rank: 9 },
    ],
    expect: [['K2'], ['K9'], ['X']],
  },
];

/** funcId of a task: one function per ranked or unknown task (1-based); 0 = untagged. */
export function funcIdOf(s: Scenario, t: ScenarioTask): number {
  return t.rank === undefined && !t.unknown ? 0 : 1 + s.tasks.indexOf(t);
}

/** The policy a scenario installs (unknown functions are absent from it). */
export function scenarioPolicy(s: Scenario): Policy {
  const entries: PolicyEntry[] = s.tasks
    .filter((t) => t.rank !== undefined)
    .map((t) => ({ funcId: funcIdOf(s, t), rank: t.rank!, sliceNs: (t.sliceMs ?? 0) * MS, expectedCpuNs: (t.expectedMs ?? NO_ESCAPE) * MS }))
    .sort((a, b) => a.funcId - b.funcId);
  return { generation: 1, params: {} as Policy['params'], entries };
}

/** The scenario as a Workload (one invocation per task, id = index). */
export function scenarioWorkload(s: Scenario): Workload {
  return {
    name: `conformance:${s.name}`,
    functions: [],
    invocations: s.tasks.map((t, i) => {
      const parts = typeof t.work === 'number' ? [t.work] : t.work;
      return {
        id: i,
        funcId: funcIdOf(s, t),
        arrivalNs: t.at * MS,
        phases: parts.map((ms, k) => ({ kind: k % 2 === 0 ? ('cpu' as const) : ('block' as const), ns: ms * MS })),
      };
    }),
  };
}

/** Task names in completion order, from (name, end) pairs. */
export function completionOrder(ends: readonly { name: string; endNs: number }[]): string[] {
  return [...ends].sort((a, b) => a.endNs - b.endNs).map((e) => e.name);
}

/** Completion order from records whose `id` is the task index. */
export function orderFromRecords(s: Scenario, records: readonly InvocationRecord[]): string[] {
  return completionOrder(records.map((r) => ({ name: s.tasks[r.id ?? -1]?.name ?? `?${r.id}`, endNs: r.endNs })));
}

/** Does `order` match the expected groups? Returns '' or what differs. */
export function checkOrder(s: Scenario, order: readonly string[]): string {
  const want = s.expect.flat();
  if (order.length !== want.length || want.some((n) => !order.includes(n))) return `finished ${order.join(',')}; expected the tasks ${want.join(',')}`;
  let i = 0;
  for (const g of s.expect) {
    const got = order.slice(i, i + g.length);
    if (got.some((n) => !g.includes(n))) return `finished ${order.join(',')}; expected ${s.expect.map((x) => x.join('|')).join(' then ')}`;
    i += g.length;
  }
  return '';
}

/** Runs every scenario through `run`, reports per scenario, returns the summary line. */
export function conformance(enforcer: string, run: (s: Scenario) => string[], report: (s: Scenario, problem: string) => void): { passed: number; total: number; line: string } {
  let passed = 0;
  for (const s of SCENARIOS) {
    let problem: string;
    try {
      problem = checkOrder(s, run(s));
    } catch (e) {
      problem = `failed to run: ${(e as Error).message}`;
    }
    if (!problem) passed++;
    report(s, problem);
  }
  return { passed, total: SCENARIOS.length, line: `conformance ${enforcer}: ${passed}/${SCENARIOS.length} scenarios` };
}
