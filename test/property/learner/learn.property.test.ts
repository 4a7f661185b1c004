import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InvocationRecord } from '../../../src/core/index.js';
import { AlpsLearner, learnPolicy, SLICE_LIMIT_NS, type AlpsParams } from '../../../src/learner/index.js';

const recordArb: fc.Arbitrary<InvocationRecord> = fc
  .record({
    funcId: fc.integer({ min: 1, max: 8 }),
    arrivalNs: fc.integer({ min: 0, max: 2e9 }),
    cpuNs: fc.integer({ min: 0, max: 400e6 }),
    extraNs: fc.integer({ min: 0, max: 300e6 }),
    blockedNs: fc.integer({ min: 0, max: 300e6 }),
    voluntarySwitches: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ extraNs, ...r }) => ({ ...r, endNs: r.arrivalNs + r.cpuNs + r.blockedNs + extraNs }));

const paramsArb: fc.Arbitrary<Partial<AlpsParams>> = fc.record({
  mode: fc.constantFrom('paper' as const, 'artifact' as const),
  model: fc.constantFrom('avg' as const, 'linreg' as const, 'forest' as const, 'ewma' as const),
  alpha: fc.double({ min: 0, max: 5, noNaN: true }),
  beta: fc.double({ min: 0, max: 3, noNaN: true }),
  gamma: fc.double({ min: 0.1, max: 3, noNaN: true }),
  theta: fc.integer({ min: 0, max: 100 }),
  cpus: fc.integer({ min: 1, max: 6 }),
  ioAware: fc.boolean(),
  monotoneCap: fc.constantFrom('off' as const, 'pre-penalty' as const, 'compounding' as const),
  stacking: fc.constantFrom('clip' as const, 'min-basic' as const, 'raw' as const),
  smoothing: fc.constantFrom(0, 0.3),
  seed: fc.integer({ min: 0, max: 1000 }),
});
const utilArb = fc.double({ min: 0, max: 100, noNaN: true });
const RUNS = { numRuns: 150, seed: 4242 };

test('learning is deterministic: same records, parameters and previous policy → same policy', () => {
  fc.assert(
    fc.property(fc.array(recordArb, { maxLength: 60 }), paramsArb, utilArb, (records, params, util) => {
      const a = learnPolicy(records, params, undefined, util);
      const b = learnPolicy(records.map((r) => ({ ...r })), { ...params }, undefined, util);
      assert.deepEqual(b, a);
      assert.deepEqual(learnPolicy(records, params, a, util), learnPolicy(records, params, b, util));
    }),
    RUNS,
  );
});

test('a learner never emits NaN, negative or oversized values, and generations only increase', () => {
  fc.assert(
    fc.property(fc.array(fc.array(recordArb, { maxLength: 30 }), { minLength: 1, maxLength: 4 }), paramsArb, fc.array(utilArb, { minLength: 4, maxLength: 4 }), (batches, params, utils) => {
      const l = new AlpsLearner({ ...params, windowNs: 3e9 });
      let gen = 0;
      batches.forEach((batch, i) => {
        l.observe(batch);
        const p = l.learn((i + 1) * 1e9, utils[i]!);
        assert.ok(p.generation > gen);
        gen = p.generation;
        for (const e of p.entries) {
          assert.ok(Number.isInteger(e.sliceNs) && e.sliceNs >= 0 && e.sliceNs <= SLICE_LIMIT_NS, `slice ${e.sliceNs}`);
          if (params.mode === 'paper') assert.ok(e.sliceNs <= l.params.maxSliceNs);
          assert.ok(Number.isInteger(e.rank) && e.rank >= 1 && e.rank <= 0xffff_ffff, `rank ${e.rank}`);
          assert.ok(Number.isInteger(e.funcId) && e.funcId >= 1);
        }
        const ids = p.entries.map((e) => e.funcId);
        assert.deepEqual(ids, [...new Set(ids)].sort((x, y) => x - y), 'entries sorted by funcId, no duplicates');
      });
    }),
    RUNS,
  );
});
