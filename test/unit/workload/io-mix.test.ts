import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuDemandNs } from '../../../src/core/workload.js';
import { offeredLoad } from '../../../src/workload/bundle.js';
import { IO_CLASSES, ioMixWorkload } from '../../../src/workload/io-mix.js';

test('io-mix: four classes in their shares; I/O classes are cpu burst, block, cpu burst; CPU classes one burst', () => {
  const b = ioMixWorkload({ invocations: 8000, cpus: 16, load: 0.9, seed: 4 });
  assert.ok(b.classes);
  const count: Record<string, number> = {};
  for (const s of b.workload.invocations) {
    const cls = b.classes.of.get(s.funcId)!;
    count[cls] = (count[cls] ?? 0) + 1;
    if (cls === '1' || cls === '2') {
      assert.deepEqual(s.phases.map((p) => p.kind), ['cpu', 'block', 'cpu']);
      assert.ok(s.phases[1]!.ns > s.phases[0]!.ns + s.phases[2]!.ns, 'I/O functions are dominated by the block');
    } else {
      assert.deepEqual(s.phases.map((p) => p.kind), ['cpu']);
    }
  }
  for (const c of IO_CLASSES) assert.ok(Math.abs(count[c.key]! / 8000 - c.share) < 0.02, `class ${c.key}`);
  assert.ok(Math.abs(offeredLoad(b.workload, 16) - 0.9) < 0.05);
});

test('io-mix: class sizes increase 1 < 2 (I/O) and 3 < 4 (CPU), class 4 ≈ 3.4 × class 3 as in the study', () => {
  const b = ioMixWorkload({ invocations: 6000, cpus: 8, load: 0.8, seed: 5 });
  const sum: Record<string, [number, number, number]> = {};
  for (const s of b.workload.invocations) {
    const c = b.classes!.of.get(s.funcId)!;
    const acc = (sum[c] ??= [0, 0, 0]);
    acc[0] += cpuDemandNs(s);
    acc[1] += s.phases.reduce((a, p) => a + p.ns, 0);
    acc[2]++;
  }
  const m = (c: string, i: 0 | 1): number => sum[c]![i] / sum[c]![2];
  assert.ok(m('1', 1) < m('2', 1));
  assert.ok(m('3', 0) < m('4', 0));
  const r = m('4', 0) / m('3', 0);
  assert.ok(r > 2.8 && r < 4, String(r));
});

test('io-mix is deterministic per seed', () => {
  const a = ioMixWorkload({ invocations: 500, cpus: 4, load: 0.9, seed: 8 });
  assert.deepEqual(a.workload, ioMixWorkload({ invocations: 500, cpus: 4, load: 0.9, seed: 8 }).workload);
});
