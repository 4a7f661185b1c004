import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Phase, Workload } from '../../../src/core/index.js';
import { cpuDemandNs } from '../../../src/core/index.js';
import { simulate, SCHEDULERS } from '../../../src/sim/index.js';
import { fixedLearner } from '../../support/sim.js';

const MS = 1_000_000;

const phasesArb: fc.Arbitrary<Phase[]> = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 20 * MS }), fc.integer({ min: 1, max: 10 * MS })), { minLength: 1, maxLength: 3 })
  .chain((pairs) =>
    fc.boolean().map((endsWithBlock) => {
      const out: Phase[] = [];
      pairs.forEach(([c, b], i) => {
        out.push({ kind: 'cpu', ns: c });
        if (i < pairs.length - 1 || endsWithBlock) out.push({ kind: 'block', ns: b });
      });
      return out;
    }),
  );

const workloadArb: fc.Arbitrary<Workload> = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 40 * MS }), phasesArb, fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 25 })
  .map((xs) => {
    const sorted = [...xs].sort((a, b) => a[0] - b[0]);
    return {
      name: 'prop',
      functions: [],
      invocations: sorted.map(([at, phases, f], i) => ({ id: i, funcId: f, arrivalNs: at, phases })),
    };
  });

const learner = fixedLearner(
  [
    { funcId: 1, rank: 2, sliceNs: 5 * MS },
    { funcId: 2, rank: 1, sliceNs: 0 },
    { funcId: 3, rank: 3, sliceNs: 12 * MS },
  ],
  3 * MS,
);

test('every invocation completes with exact accounting: turnaround = cpu + wait + blocked (no switch cost)', () => {
  fc.assert(
    fc.property(workloadArb, fc.integer({ min: 1, max: 4 }), fc.constantFrom(...SCHEDULERS), fc.integer(), (w, cpus, scheduler, seed) => {
      const r = simulate(w, { cpus, scheduler, seed, ctxSwitchNs: 0 }, { learner });
      assert.equal(r.records.length, w.invocations.length);
      r.records.forEach((rec, i) => {
        const spec = w.invocations[i]!;
        assert.equal(rec.id, spec.id);
        assert.equal(rec.cpuNs, cpuDemandNs(spec));
        assert.equal(rec.endNs - rec.arrivalNs, rec.cpuNs + rec.waitNs! + rec.blockedNs!, `${scheduler} invocation ${i}`);
        assert.equal(rec.slicesNs!.reduce((a, b) => a + b, 0), rec.cpuNs);
      });
      const busy = r.busyNsPerCpu.reduce((a, b) => a + b, 0);
      assert.equal(busy, r.records.reduce((a, x) => a + x.cpuNs, 0), 'busy time = CPU time without switch costs');
      for (const b of r.busyNsPerCpu) assert.ok(b <= r.makespanNs);
    }),
    { numRuns: 150 },
  );
});

test('switch costs only add time: turnaround ≥ cpu + wait + blocked', () => {
  fc.assert(
    fc.property(workloadArb, fc.integer({ min: 1, max: 3 }), fc.constantFrom(...SCHEDULERS), (w, cpus, scheduler) => {
      const r = simulate(w, { cpus, scheduler, seed: 1, ctxSwitchNs: 5_000 }, { learner });
      for (const rec of r.records) assert.ok(rec.endNs - rec.arrivalNs >= rec.cpuNs + rec.waitNs! + rec.blockedNs!);
      assert.ok(r.contextSwitches >= w.invocations.length);
    }),
    { numRuns: 60 },
  );
});

test('deterministic per seed', () => {
  fc.assert(
    fc.property(workloadArb, fc.integer({ min: 1, max: 4 }), fc.constantFrom(...SCHEDULERS), fc.integer(), (w, cpus, scheduler, seed) => {
      const a = simulate(w, { cpus, scheduler, seed }, { learner });
      const b = simulate(w, { cpus, scheduler, seed }, { learner });
      assert.deepEqual(a, b);
    }),
    { numRuns: 60 },
  );
});

test('work conservation: no CPU idles while work it could run waits (all but the delegated model)', () => {
  const models = SCHEDULERS.filter((s) => s !== 'alps-delegated');
  fc.assert(
    fc.property(workloadArb, fc.integer({ min: 1, max: 4 }), fc.constantFrom(...models), fc.integer(), (w, cpus, scheduler, seed) => {
      // The machine throws on the first violation (per-CPU queues for CFS-family models,
      // the machine-wide queue for FIFO/RR/SRPT).
      simulate(w, { cpus, scheduler, seed, tunables: { checkInvariants: true } }, { learner });
    }),
    { numRuns: 200 },
  );
});

test('SRPT on one CPU minimises mean turnaround (Schrage): never worse than FIFO, RR, CFS, EEVDF', () => {
  const cpuOnly = workloadArb.map((w) => ({
    ...w,
    invocations: w.invocations.map((s) => ({ ...s, phases: [{ kind: 'cpu' as const, ns: cpuDemandNs(s) }] })),
  }));
  fc.assert(
    fc.property(cpuOnly, (w) => {
      const mean = (scheduler: string): number => {
        const r = simulate(w, { cpus: 1, scheduler, seed: 1, ctxSwitchNs: 0 });
        return r.records.reduce((a, x) => a + (x.endNs - x.arrivalNs), 0) / r.records.length;
      };
      const srpt = mean('srpt');
      for (const other of ['fifo', 'rr', 'cfs', 'eevdf']) assert.ok(srpt <= mean(other) + 1e-6, `${other} beat SRPT`);
    }),
    { numRuns: 100 },
  );
});
