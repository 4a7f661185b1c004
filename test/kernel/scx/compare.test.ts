/**
 * Real A/B in the sched_ext VM at a *measured* ~90% load: 1,000 Huawei-mix invocations (times
 * x0.5) on 2 vCPUs, the trace calibrated to the guest's real CPU capacity, replayed under the
 * default scheduler and under the in-kernel enforcer with the policy learned offline from the
 * same trace (`alps-scx:oracle`): what the enforcer does with a given policy. The closed loop
 * (`alps-scx`: profiler + online learner in the guest) is measured by `compare --real` with its
 * median of 3 repetitions; its verdict is not asserted here (docs/scx.md, "Real A/B").
 *
 * The bar: the oracle arm's mean turnaround is below default's (median of 3 repetitions each).
 * The size of the gain is printed beside the simulator's prediction for the very trace that
 * ran (same arrivals, demands and policy, the guest's measured launch cost added to each
 * invocation), not asserted: for seed 1 the simulator predicts 0.61–0.65, while agreeing real
 * runs measured 0.39–0.72 on one machine and 0.90 on another (CI, issue 9) — the real gain
 * moves with the host by more than any fixed bar between "ALPS works" and "ALPS is broken"
 * could absorb; an enforcer that ignores or inverts the policy lands at or above 1.
 * Also asserted: the default arm really ran at ~90% utilisation (/proc/stat), no invocation
 * failed, the longest group's p99 <= 1.5 x default, and the report has the `simulate --json`
 * shape. Two VM boots, 4–8 min under TCG.
 *
 * The host is shared, so the guest's capacity moves between the calibration boot and the A/B
 * boot; when the default arm's measured utilisation lands outside 0.8–0.98 the run did not test
 * the claim at ~90% load, and it is repeated once (never on a threshold miss). Likewise when the
 * two arms' measured utilisations differ by more than ARM_UTIL_TOLERANCE: both replay the same
 * trace, so that gap means the host slowed the TCG guest during one arm (seen: 0.835 vs 0.915
 * while another VM ran on the host, giving a meaningless 1.7x), and the arms are not comparable.
 */
const ARM_UTIL_TOLERANCE = 0.04;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table1Workload } from '../../../src/workload/index.js';
import { compareOutcomes } from '../../../src/harness/ab.js';
import { vmAvailability } from '../../../src/vm/index.js';
import { bpfArtifact } from '../../../src/native/bpf.js';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { runCalibratedAb, vmRunner, type CalibratedAbResult } from '../../../src/harness/real/calibrated-ab.js';
import { simulate } from '../../../src/sim/index.js';
import type { Workload } from '../../../src/core/index.js';
import { fixedLearner } from '../../support/sim.js';
import { toRealTrace } from '../../../src/harness/real/real-ab.js';

const avail = await vmAvailability();
const invoke = join(dirname(bpfArtifact('alps-loader')), 'alps-invoke');
const skip = !avail.ok ? avail.reason : !existsSync(bpfArtifact('alps.bpf.o')) || !existsSync(invoke) ? 'ghost-kernel/bpf not built (make -C ghost-kernel/bpf)' : false;

/** Host CPU jiffies: busy and total over all CPUs (/proc/stat), and this process's own and its reaped children's (/proc/self/stat). */
function hostJiffies(): { busy: number; total: number; ours: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // fields 14-17 (utime, stime, cutime, cstime) are 12-15 after "pid (comm) "
  const ours = [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0);
  return { busy: total - idle, total, ours };
}

/**
 * Share of the host's CPU that went to other processes than this test and its VMs over a span:
 * under TCG with the host clock a starved vCPU loses guest time, so the guest's timing is not its
 * own when this is large (two CPU hogs on a 2-CPU host: ~0.5; a quiet host: a few percent).
 */
function othersShare(a: ReturnType<typeof hostJiffies>, b: ReturnType<typeof hostJiffies>): number {
  const total = b.total - a.total;
  return total > 0 ? Math.max(0, b.busy - a.busy - (b.ours - a.ours)) / total : 0;
}
/** Above this share of the host's CPU going elsewhere, the A/B reports no verdict. */
const HOST_BUSY_LIMIT = 0.25;

/**
 * The simulator's ALPS/EEVDF mean-turnaround ratio on the workload that really ran, under the
 * policy the oracle arm installed (its function ids mapped back from the trace's), in force
 * from the start; every invocation's first CPU phase carries the guest's measured launch cost,
 * which the guest pays as CPU work too.
 */
function predictedRatio(r: CalibratedAbResult, cpus: number): number {
  const launch = Math.round(r.calibration?.overheadNs ?? 0);
  const traceIds = toRealTrace(r.bundle.workload, 1).funcIds;
  const workloadId = new Map([...traceIds].map(([w, t]) => [t, w]));
  const entries = r.policy.entries.map((e) => ({ ...e, funcId: workloadId.get(e.funcId) ?? e.funcId }));
  const w: Workload = {
    ...r.bundle.workload,
    invocations: r.bundle.workload.invocations.map((inv) => {
      const i = inv.phases.findIndex((p) => p.kind === 'cpu');
      return i < 0 ? inv : { ...inv, phases: inv.phases.map((p, j) => (j === i ? { ...p, ns: p.ns + launch } : p)) };
    }),
  };
  const mean = (scheduler: 'eevdf' | 'alps'): number => {
    const res = simulate(w, { cpus, scheduler, seed: 1 }, scheduler === 'alps' ? { learner: fixedLearner(entries, 1_000_000) } : {});
    return res.records.reduce((a, x) => a + (x.endNs - x.arrivalNs), 0) / res.records.length;
  };
  return mean('alps') / mean('eevdf');
}

test('real A/B at a measured ~90% load: ALPS on sched_ext (offline policy) mean below default (gain printed beside the simulator\'s prediction), longest group p99 <= 1.5x', { skip, timeout: 1_500_000 }, async (t) => {
  const bundle = table1Workload({ mix: 'huawei', invocations: 1000, cpus: 2, load: 0.9, seed: 1 });
  const run = await vmRunner(2);
  let r: CalibratedAbResult | undefined;
  const tries: string[] = [];
  const j0 = hostJiffies();
  for (let attempt = 0; attempt < 2; attempt++) {
    r = await runCalibratedAb({ bundle, schedulers: ['default', 'alps-scx:oracle'], cpus: 2, load: 0.9, scale: 0.5, seed: 1, run, repetitions: 3 });
    const u = r.arms[0]!.cpu.utilisation;
    const ua = r.arms[1]!.cpu.utilisation;
    tries.push(`gaps x${r.gapFactor.toFixed(3)}, overhead ${(r.calibration!.overheadNs / 1e6).toFixed(1)} ms, utilisation default ${u.toFixed(3)} / alps-scx ${ua.toFixed(3)}`);
    if (u >= 0.8 && u <= 0.98 && Math.abs(ua - u) <= ARM_UTIL_TOLERANCE) break;
  }
  const others = othersShare(j0, hostJiffies());
  const [d, a] = r!.arms;
  // The standard report (what `compare --real` prints): groups are the Table 1 groups.
  const { report } = compareOutcomes(r!.bundle, 1, r!.arms.map((x) => x.outcome));
  const [rd, ra] = report.runs;
  const longest = String(Math.max(...Object.keys(rd!.groups).map(Number)));
  const meanRatio = ra!.meanMs / rd!.meanMs;
  const p99Ratio = ra!.groups[longest]!.p99Ms / rd!.groups[longest]!.p99Ms;
  const predicted = predictedRatio(r!, 2);
  const desc =
    `${tries.join('; ')} | host CPU to other processes ${(others * 100).toFixed(0)}% | simulator predicts ratio ${predicted.toFixed(3)} | default mean ${rd!.meanMs.toFixed(1)} ms G${longest} (n=${rd!.groups[longest]!.count}) p99 ${rd!.groups[longest]!.p99Ms.toFixed(0)} ms (util ${d!.cpu.utilisation.toFixed(3)}) | ` +
    `alps-scx mean ${ra!.meanMs.toFixed(1)} ms G${longest} p99 ${ra!.groups[longest]!.p99Ms.toFixed(0)} ms (util ${a!.cpu.utilisation.toFixed(3)}) | ratios ${meanRatio.toFixed(3)} / ${p99Ratio.toFixed(3)}`;
  process.stderr.write(`# compare: ${desc}\n`);
  // The verdict is the median run of each arm (3 repetitions in one boot, arms alternating so
  // host drift hits both); the spread is printed because one run is not a verdict.
  const spread = (ms: number[]): string => `${ms.map((m) => m.toFixed(0)).join(' / ')} ms`;
  process.stderr.write(`# compare: repetitions default ${spread(d!.repetitionMeansMs)}; alps-scx:oracle ${spread(a!.repetitionMeansMs)}\n`);
  assert.equal(d!.repetitionMeansMs.length, 3, desc);
  assert.equal(d!.row.invocations, 1000, desc);
  assert.equal(a!.row.invocations, 1000, desc);
  assert.equal(d!.row.failed + a!.row.failed, 0, desc);
  assert.ok(d!.cpu.utilisation >= 0.8 && d!.cpu.utilisation <= 0.98, `default arm not at ~90% measured load: ${desc}`);
  assert.ok(Math.abs(a!.cpu.utilisation - d!.cpu.utilisation) <= ARM_UTIL_TOLERANCE, `arms ran at different host speeds (not comparable): ${desc}`);
  assert.equal(longest, '4', desc);
  // The test measures its own noise: when one arm's three runs of the same trace differ by more
  // than 2x (seen with host CPU hogs: default 243 / 617 / 1318 ms in one boot), the host, not the
  // scheduler, set the figures, and no ratio of them is a verdict. That is reported as a todo
  // with the numbers, never as a pass; with runs that agree, the thresholds decide.
  const spreadOf = (ms: number[]): number => Math.max(...ms) / Math.min(...ms);
  const noisy = Math.max(spreadOf(d!.repetitionMeansMs), spreadOf(a!.repetitionMeansMs));
  if (noisy > 2) {
    t.todo(`no verdict: an arm's repetitions differ by ${noisy.toFixed(1)}x (host interference under TCG): ${desc}`);
  } else if (others > HOST_BUSY_LIMIT) {
    // Seen with two host CPU hogs: runs that agree (default 1127 / 1003 / 975 ms, oracle 2434 /
    // 2291 / 1852) but a guest whose clock ran while its vCPUs were starved; the ratio (2.28) was
    // then the host's, not the scheduler's. Reported, never passed.
    t.todo(`no verdict: ${(others * 100).toFixed(0)}% of the host's CPU went to other processes during the A/B (limit ${HOST_BUSY_LIMIT * 100}%): ${desc}`);
  } else {
    assert.ok(meanRatio < 1, `mean ratio: ${desc}`);
    assert.ok(p99Ratio <= 1.5, `longest group p99 ratio: ${desc}`);
  }

  // The simulate --json shape, with the measured utilisation filled in.
  assert.deepEqual(report.runs.map((x) => x.label), ['default', 'alps-scx:oracle']);
  assert.equal(report.workload.invocations, 1000);
  assert.equal(report.workload.cpus, 2);
  for (const run of report.runs) {
    assert.ok(run.utilisation !== null && run.utilisation > 0.5 && run.utilisation <= 1.05, `${run.label} utilisation ${run.utilisation}`);
    assert.equal(run.count, 1000);
  }
});
