import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learnerBench, SIZES, syntheticRecords } from '../../../benchmarks/learner.js';

test('bench learner --json prints the documented array shape (scripts rely on it)', async () => {
  let out = '';
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await learnerBench(['--json', '--runs', '1']);
  } finally {
    process.stdout.write = orig;
  }
  const rows = JSON.parse(out) as { records: number; model: string; medianMs: number }[];
  assert.equal(rows.length, SIZES.length * 5);
  for (const n of SIZES) {
    const models = rows.filter((r) => r.records === n).map((r) => r.model).sort();
    assert.deepEqual(models, ['avg', 'ewma', 'forest', 'linreg', 'replay']);
  }
  for (const r of rows) assert.ok(Number.isFinite(r.medianMs) && r.medianMs >= 0);
});

test('the bench window is seeded and load-calibrated', () => {
  assert.deepEqual(syntheticRecords(50, 2, 9), syntheticRecords(50, 2, 9));
  const rs = syntheticRecords(5000, 1, 1);
  const span = rs[rs.length - 1]!.arrivalNs - rs[0]!.arrivalNs;
  const load = rs.reduce((s, r) => s + r.cpuNs, 0) / span;
  assert.ok(load > 0.7 && load < 0.9, `offered load ${load}`);
});
