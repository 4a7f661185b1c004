import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table1Workload } from '../../../src/workload/index.js';
import { runCalibratedAb, type GuestRunner } from '../../../src/harness/real/calibrated-ab.js';

/**
 * Real A/B repetitions without a VM: a fake guest answers the A/B script with made-up invoker
 * output whose turnaround depends on the repetition, so the arm's median run and its spread can
 * be checked.
 */
test('repetitions: every arm runs N times in one boot; its figures are the median run, the spread is kept', async () => {
  const bundle = table1Workload({ mix: 'huawei', invocations: 40, cpus: 2, load: 0.9, seed: 1 });
  const scripts: string[] = [];
  const perRep = [30, 10, 20]; // ms of turnaround added per repetition: median = the 20 ms run
  const run: GuestRunner = async (script) => {
    scripts.push(script);
    const out: string[] = [];
    for (const m of script.matchAll(/^echo "== (\S+)"$/gm)) {
      const label = m[1]!;
      const rep = Number(label.split('#')[1] ?? 0);
      out.push(`== ${label}`);
      out.push(`stat ${label} begin cpu 0 0 0 1000 0 0 0 0`);
      for (let i = 0; i < 40; i++) out.push(`inv ${i} 1 1000 ${(perRep[rep]! + (label.startsWith('default') ? 100 : 0)) * 1e6} 0 0`);
      out.push(`stat ${label} end cpu 900 0 0 1100 0 0 0 0`);
      if (label.startsWith('alps-scx') && !label.includes('oracle')) out.push('agentcpu begin 1 1', 'agentcpu end 3 1', 'agentgen 4');
    }
    return { exitCode: 0, stdout: out.join('\n'), stderr: '', wallMs: 1 };
  };
  const r = await runCalibratedAb({ bundle, schedulers: ['default', 'alps-scx', 'alps-scx:oracle'], cpus: 2, load: 0.9, scale: 1, seed: 1, run, noCalibration: true, repetitions: 3 });
  assert.equal(scripts.length, 1, 'one boot');
  assert.equal((scripts[0]!.match(/== alps-scx"/g) ?? []).length, 1);
  assert.match(scripts[0]!, /== alps-scx#2"/);
  const alps = r.arms.find((a) => a.scheduler === 'alps-scx')!;
  assert.deepEqual(alps.repetitionMeansMs, [30, 10, 20]);
  assert.equal(alps.row.meanTurnaroundMs, 20, 'median run');
  assert.equal(alps.policyGenerations, 4);
  assert.ok(alps.agentCpuShare! > 0);
  assert.equal(r.arms.find((a) => a.scheduler === 'default')!.row.meanTurnaroundMs, 120);
  assert.equal(r.arms.find((a) => a.scheduler === 'alps-scx:oracle')!.policyGenerations, 1);
});
