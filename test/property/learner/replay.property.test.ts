import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { srptReplay, type ReplayJob, type ReplayResult } from '../../../src/learner/index.js';

const jobArb = fc.record({
  funcId: fc.integer({ min: 1, max: 5 }),
  arrivalNs: fc.integer({ min: 0, max: 300 }),
  burstNs: fc.integer({ min: 0, max: 80 }),
});
const instanceArb = fc.record({
  jobs: fc.array(jobArb, { minLength: 1, maxLength: 30 }),
  cpus: fc.integer({ min: 1, max: 4 }),
  quantumNs: fc.integer({ min: 0, max: 12 }),
});
const RUNS = { numRuns: 300, seed: 20261122 };

function meanTurnaround(jobs: readonly ReplayJob[], r: ReplayResult): number {
  return r.outcomes.reduce((s, o, i) => s + o.endNs - jobs[i]!.arrivalNs, 0) / jobs.length;
}

test('SRPT replay conserves work and accounts every ns of each job', () => {
  fc.assert(
    fc.property(instanceArb, ({ jobs, cpus, quantumNs }) => {
      const r = srptReplay(jobs, { cpus, quantumNs });
      jobs.forEach((j, i) => {
        const o = r.outcomes[i]!;
        assert.equal(o.slicesNs.reduce((a, b) => a + b, 0), j.burstNs, 'slices sum to the burst');
        assert.equal(o.endNs - j.arrivalNs, j.burstNs + o.waitNs, 'turnaround = burst + total wait');
        assert.ok(o.firstWaitNs >= 0 && o.firstWaitNs <= o.waitNs, 'first wait is part of the total wait');
        assert.ok(o.slicesNs.every((s) => s > 0), 'no empty slices');
        let t = j.arrivalNs;
        o.slicesNs.forEach((s, k) => {
          assert.ok(o.sliceStartsNs[k]! >= t, 'slices are ordered and never before arrival');
          t = o.sliceStartsNs[k]! + s;
        });
        if (o.slicesNs.length > 0) assert.equal(t, o.endNs, 'the last slice ends at completion');
        // Minimum quantum: only a job's last slice may be shorter than the quantum.
        o.slicesNs.slice(0, -1).forEach((s) => assert.ok(s >= quantumNs, `a preempted slice ${s} is shorter than q=${quantumNs}`));
      });
    }),
    RUNS,
  );
});

test('SRPT replay never leaves a CPU idle while work waits, and never overbooks a CPU', () => {
  fc.assert(
    fc.property(instanceArb, ({ jobs, cpus, quantumNs }) => {
      const r = srptReplay(jobs, { cpus, quantumNs });
      const points = new Set<number>();
      const runs: { s: number; e: number; cpu: number; job: number }[] = [];
      r.outcomes.forEach((o, i) => {
        points.add(jobs[i]!.arrivalNs);
        points.add(o.endNs);
        o.slicesNs.forEach((len, k) => {
          const s = o.sliceStartsNs[k]!;
          runs.push({ s, e: s + len, cpu: o.sliceCpus[k]!, job: i });
          points.add(s);
          points.add(s + len);
        });
      });
      for (const t of points) {
        const active = runs.filter((x) => x.s <= t && t < x.e);
        const cpusBusy = new Set(active.map((x) => x.cpu));
        assert.equal(cpusBusy.size, active.length, `two slices on one CPU at ${t}`);
        assert.equal(new Set(active.map((x) => x.job)).size, active.length, `one job on two CPUs at ${t}`);
        const present = jobs.filter((j, i) => j.arrivalNs <= t && t < r.outcomes[i]!.endNs).length;
        assert.equal(active.length, Math.min(cpus, present), `at ${t}: ${active.length} running, ${present} present, ${cpus} CPUs`);
      }
    }),
    RUNS,
  );
});

test('SRPT mean turnaround is ≤ FIFO and ≤ round-robin on one CPU', () => {
  fc.assert(
    fc.property(instanceArb, ({ jobs, quantumNs }) => {
      const srpt = meanTurnaround(jobs, srptReplay(jobs, { cpus: 1, quantumNs }));
      const fifo = meanTurnaround(jobs, srptReplay(jobs, { cpus: 1, quantumNs, discipline: 'fifo' }));
      const rr = meanTurnaround(jobs, srptReplay(jobs, { cpus: 1, quantumNs: Math.max(1, quantumNs), discipline: 'rr' }));
      assert.ok(srpt <= fifo + 1e-9, `SRPT ${srpt} > FIFO ${fifo}`);
      assert.ok(srpt <= rr + 1e-9, `SRPT ${srpt} > RR ${rr}`);
    }),
    RUNS,
  );
});

/*
 * On several CPUs SRPT is not optimal (a known result for parallel machines), so the per-instance
 * claim is false: fast-check finds rare instances where FIFO or RR wins, two of which are pinned
 * below. What holds, and what the learner relies on, is the aggregate: over many random instances
 * SRPT's mean turnaround is below both.
 */
test('SRPT mean turnaround is ≤ FIFO and ≤ round-robin on several CPUs, in aggregate', () => {
  const instances = fc.sample(instanceArb.filter((x) => x.cpus > 1), { numRuns: 400, seed: 7 });
  let srpt = 0;
  let fifo = 0;
  let rr = 0;
  let srptWorseThanFifo = 0;
  for (const { jobs, cpus, quantumNs } of instances) {
    const s = meanTurnaround(jobs, srptReplay(jobs, { cpus, quantumNs }));
    const f = meanTurnaround(jobs, srptReplay(jobs, { cpus, quantumNs, discipline: 'fifo' }));
    srpt += s;
    fifo += f;
    rr += meanTurnaround(jobs, srptReplay(jobs, { cpus, quantumNs: Math.max(1, quantumNs), discipline: 'rr' }));
    if (s > f + 1e-9) srptWorseThanFifo++;
  }
  assert.ok(srpt < fifo, `aggregate SRPT ${srpt} ≥ FIFO ${fifo}`);
  assert.ok(srpt < rr, `aggregate SRPT ${srpt} ≥ RR ${rr}`);
  assert.ok(srptWorseThanFifo <= instances.length / 50, `SRPT lost to FIFO on ${srptWorseThanFifo} of ${instances.length}`);
});

test('pinned: on 2 CPUs SRPT can lose to RR (q=4) and to FIFO (q=0)', () => {
  const mk = (xs: [number, number][]): ReplayJob[] => xs.map(([a, b]) => ({ funcId: 1, arrivalNs: a, burstNs: b }));
  const a = mk([[1, 1], [67, 5], [0, 5], [71, 1], [1, 67], [0, 4]]);
  assert.equal(meanTurnaround(a, srptReplay(a, { cpus: 2, quantumNs: 4 })) * a.length, 91);
  assert.equal(meanTurnaround(a, srptReplay(a, { cpus: 2, quantumNs: 4, discipline: 'rr' })) * a.length, 90);
  const b = mk([[54, 63], [118, 3], [120, 1], [112, 4], [112, 4]]);
  const s = meanTurnaround(b, srptReplay(b, { cpus: 2, quantumNs: 0 }));
  const f = meanTurnaround(b, srptReplay(b, { cpus: 2, quantumNs: 0, discipline: 'fifo' }));
  assert.ok(s > f, `expected FIFO (${f}) to beat SRPT (${s}) here`);
});
