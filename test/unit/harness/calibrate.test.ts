/**
 * Load calibration for real A/B runs, without a VM: /proc/stat parsing, the overhead and
 * background the calibration run implies, the gap factor that reaches a target utilisation,
 * the A/B script, and the report pieces `compare --real` prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table1Workload } from '../../../src/workload/index.js';
import { cpuDemandNs } from '../../../src/core/workload.js';
import { InputError } from '../../../src/core/errors.js';
import { calibrationPlan, cpuUse, gapFactor, NS_PER_JIFFY, parseCalibration, parseStatLines, stretchArrivals, withOverhead, type Calibration } from '../../../src/harness/real/calibrate.js';
import { formatSimVsReal, measuredAbScript, scaleBundle, simRealStats, toRealTrace, toRunOutcome } from '../../../src/harness/real/real-ab.js';
import { compareOutcomes } from '../../../src/harness/ab.js';

const bundle = table1Workload({ mix: 'huawei', invocations: 200, cpus: 2, load: 0.9, seed: 5 });

/** "stat LABEL PHASE cpu…" lines as /proc/stat prints them (user nice system idle iowait irq softirq steal). */
function stat(label: string, phase: string, cpus: [number, number][]): string[] {
  // busy split over user, nice, system, irq, softirq, steal; idle over idle, iowait.
  const line = (name: string, busy: number, idle: number): string => `stat ${label} ${phase} ${name} ${busy - 6} 1 2 ${idle - 1} 1 1 1 1 0 0`;
  const all = cpus.reduce((a, [b, i]) => [a[0]! + b, a[1]! + i], [0, 0]);
  return [line('cpu ', all[0]!, all[1]!), ...cpus.map(([b, i], k) => line(`cpu${k}`, b, i))];
}

test('parseStatLines/cpuUse: busy = user+nice+system+irq+softirq+steal, idle = idle+iowait, per CPU too', () => {
  const lines = [...stat('x', 'begin', [[100, 900], [50, 950]]), ...stat('x', 'end', [[400, 1000], [150, 1250]])];
  const u = cpuUse(parseStatLines(lines), 'x')!;
  assert.equal(u.busyNs, 400 * NS_PER_JIFFY);
  assert.equal(u.totalNs, 800 * NS_PER_JIFFY);
  assert.equal(u.utilisation, 0.5);
  assert.deepEqual(u.busyNsPerCpu, [300 * NS_PER_JIFFY, 100 * NS_PER_JIFFY]);
  assert.equal(cpuUse(parseStatLines(lines), 'missing'), undefined);
});

test('parseCalibration: overhead = (busy − background·total − Σ demand) / n', () => {
  const trace = toRealTrace(bundle.workload, 0.5);
  const plan = calibrationPlan(trace, 2, 0.9, 40);
  assert.equal(plan.invocations, 40);
  assert.equal(plan.text.trim().split('\n').length, 40);
  // Guest: 2 s idle at 2% busy; the calibration run lasts 4 s of 2 CPUs (800 jiffies) and is
  // busy for Σdemand + 40 × 5 ms + 2% of 800 jiffies.
  const demandJ = plan.demandNs / NS_PER_JIFFY;
  const busyJ = 2 * Math.ceil((demandJ + (40 * 5e6) / NS_PER_JIFFY + 0.02 * 800) / 2); // whole jiffies per CPU
  const wantOverheadNs = ((busyJ - 0.02 * 800) * NS_PER_JIFFY - plan.demandNs) / 40;
  assert.ok(wantOverheadNs >= 5e6 && wantOverheadNs < 5.6e6);
  const out = [
    ...stat('idle', 'begin', [[10, 10], [10, 10]]),
    ...stat('idle', 'end', [[14, 206], [14, 206]]),
    ...stat('cal', 'begin', [[10, 10], [10, 10]]),
    ...stat('cal', 'end', [[10 + busyJ / 2, 410 - busyJ / 2], [10 + busyJ / 2, 410 - busyJ / 2]]),
    ...Array.from({ length: 40 }, (_, i) => `inv ${i} 1 1000 5000000 10 0`),
  ].join('\n');
  const cal = parseCalibration(out, plan);
  assert.ok(Math.abs(cal.background - 0.02) < 1e-9, `background ${cal.background}`);
  assert.ok(Math.abs(cal.overheadNs - wantOverheadNs) < 1, `overhead ${cal.overheadNs} want ${wantOverheadNs}`);
  assert.equal(cal.failed, 0);
  assert.throws(() => parseCalibration(out.replace(/^inv 39 .*$/m, ''), plan), /39 of 40 invocations/);
  assert.throws(() => parseCalibration('inv 0 1 1 1 1 0', plan), /missing \/proc\/stat/);
});

test('gapFactor: the stretched trace spends exactly the target share of the guest', () => {
  const scaled = scaleBundle(bundle, 0.5);
  const inv = scaled.workload.invocations;
  const spanNs = inv[inv.length - 1]!.arrivalNs - inv[0]!.arrivalNs;
  const demandNs = inv.reduce((a, i) => a + cpuDemandNs(i), 0);
  const cal: Calibration = { background: 0.03, overheadNs: 12e6, invocations: 60, failed: 0, calibrationUtilisation: 0.5 };
  const k = gapFactor({ demandNs, invocations: inv.length, spanNs, cpus: 2, target: 0.9, cal });
  const stretched = stretchArrivals(scaled, k, 'test');
  const s = stretched.workload.invocations;
  const newSpan = s[s.length - 1]!.arrivalNs - s[0]!.arrivalNs;
  const predicted = (demandNs + inv.length * cal.overheadNs) / (2 * newSpan) + cal.background;
  assert.ok(Math.abs(predicted - 0.9) < 1e-3, `predicted utilisation ${predicted}`);
  // Overhead makes the nominal trace too dense: gaps must grow; demands are untouched.
  assert.ok(k > 1);
  assert.deepEqual(s.map(cpuDemandNs), inv.map(cpuDemandNs));
  assert.ok(Math.abs(newSpan / spanNs - k) < 1e-6);
  // With the overhead added as CPU, the demand alone fills target − background of the guest.
  const withOh = withOverhead(stretched, cal.overheadNs);
  const ohDemand = withOh.workload.invocations.reduce((a, i) => a + cpuDemandNs(i), 0);
  assert.ok(Math.abs(ohDemand / (2 * newSpan) - (0.9 - 0.03)) < 1e-3);
  assert.throws(() => gapFactor({ demandNs, invocations: inv.length, spanNs, cpus: 2, target: 0.02, cal }), InputError);
  assert.throws(() => gapFactor({ demandNs, invocations: inv.length, spanNs, cpus: 2, target: 1, cal }), InputError);
});

test('the A/B script samples /proc/stat inside each arm: the oracle arm inside the loader, the closed loop around the invoker while the agent runs', () => {
  const s = measuredAbScript(['default', 'alps-scx:oracle', 'alps-scx'], ['--policy', '1:1:5000']);
  const lines = s.split('\n');
  assert.equal(lines[0], 'echo "== default"');
  assert.match(lines[1]!, /^sh \/tmp\/st\.sh default begin; \S+alps-invoke \/tmp\/trace\.txt; sh \/tmp\/st\.sh default end$/);
  assert.equal(lines[2], 'echo "== alps-scx:oracle"');
  assert.match(lines[3]!, /alps-loader --pin-tags \S+ '--policy' '1:1:5000' -- sh -c 'sh \/tmp\/st\.sh alps-scx:oracle begin; \S+alps-invoke \/tmp\/trace\.txt \/sys\/fs\/bpf\/alps_tags; sh \/tmp\/st\.sh alps-scx:oracle end'$/);
  assert.equal(lines[4], 'echo "== alps-scx"');
  const loop = lines.slice(5).join('\n');
  assert.match(loop, /ghost-alps agent --scx --learn --json .*&/, 'the closed loop starts the agent in the background');
  assert.match(loop, /sh \/tmp\/st\.sh alps-scx begin; \S+alps-invoke \/tmp\/trace\.txt \S+alps_tags; sh \/tmp\/st\.sh alps-scx end/, 'and samples around the invoker');
  assert.doesNotMatch(loop, /alps-loader/, 'no offline policy in the closed loop');
  assert.deepEqual(measuredAbScript(['alps-scx'], []).split('\n')[0], 'echo "== alps-scx"');
});

test('real runs become the simulate --json report; measured busy time fills utilisation', () => {
  const w = scaleBundle(bundle, 0.5);
  const lines = w.workload.invocations.map((inv, i) => `inv ${i} 1 ${Math.round(cpuDemandNs(inv) / 1000)} ${cpuDemandNs(inv) * 3} 100 0`);
  const busy = w.workload.invocations.reduce((a, i) => a + cpuDemandNs(i), 0);
  const o = { ...toRunOutcome('default', w.workload, lines, 1000), busyNsPerCpu: [busy / 2, busy / 2] };
  const { report } = compareOutcomes(w, 5, [o]);
  assert.deepEqual(Object.keys(report).sort(), ['runs', 'workload']);
  assert.equal(report.runs[0]!.count, 200);
  assert.equal(report.runs[0]!.scheduler, 'default');
  assert.ok(Math.abs(report.runs[0]!.meanSlowdown - 3) < 0.01, `slowdown ${report.runs[0]!.meanSlowdown}`);
  const u = report.runs[0]!.utilisation!;
  assert.ok(u > 0 && u <= 1, `utilisation ${u}`);
  // Sim-vs-real: groups come from the trace's demand, so added overhead does not move them.
  const st = simRealStats(w.workload, o.records);
  const oh = withOverhead(w, 50e6);
  const shifted = o.records.map((r) => ({ ...r, cpuNs: r.cpuNs + 50e6 }));
  assert.deepEqual(simRealStats(w.workload, shifted), st);
  assert.deepEqual(simRealStats(oh.workload, shifted), st);
  // …and are the harness report's groups.
  for (const [g, v] of Object.entries(st.groups)) assert.equal(report.runs[0]!.groups[g]!.count, v.n, `group ${g}`);
  const table = formatSimVsReal([{ sim: 'eevdf', real: 'default', simStats: st, realStats: st }]);
  assert.match(table, /eevdf \(sim\)\s+default \(real\)\s+real\/sim/);
  assert.match(table, /^mean .* 1\.00$/m);
  assert.match(table, /^G1 p99 /m);
});
