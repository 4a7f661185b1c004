import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bpfArtifact, bpfAvailability } from '../../../src/native/bpf.js';
import { projectRoot } from '../../../src/vm/index.js';

/** `bench bpf --json`: the profiler's cost with an empty-program baseline measured in the same run. */
const avail = bpfAvailability('profile.bpf.o');
const runner = join(projectRoot(), 'dist', 'benchmarks', 'run.js');
const skip = !avail.ok ? avail.reason : !existsSync(bpfArtifact('bench_empty.bpf.o')) ? 'bench_empty.bpf.o not built (make -C ghost-kernel/bpf)' : !existsSync(runner) ? `${runner} missing (npx tsc)` : false;

test('bench bpf --json reports baselineNsPerEvent and ratio = profiler / baseline, per program too', { skip, timeout: 120_000 }, () => {
  const out = execFileSync(process.execPath, [runner, 'bpf', '--json', '--runs', '1', '--tasks', '2'], { encoding: 'utf8' });
  const j = JSON.parse(out.trim().split('\n').at(-1)!) as { profilerNsPerEvent: number; baselineNsPerEvent: number; ratio: number; perProgram: Record<string, unknown>; baselinePerProgram: Record<string, unknown> };
  assert.ok(j.baselineNsPerEvent > 0, out);
  // The profiler does strictly more than an empty program on the same events.
  assert.ok(j.ratio > 1, out);
  assert.ok(Math.abs(j.ratio - j.profilerNsPerEvent / j.baselineNsPerEvent) / j.ratio < 0.5, 'ratio is the per-run profiler/baseline quotient');
  assert.deepEqual(Object.keys(j.perProgram).length, Object.keys(j.baselinePerProgram).length, 'one baseline program per profiler hook');
});
