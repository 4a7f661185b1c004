/**
 * The real A/B plumbing without a VM: trace encoding for alps-invoke, the learned policy as
 * alps-loader arguments, and the summary of alps-invoke output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table1Workload } from '../../../src/workload/index.js';
import { cpuDemandNs } from '../../../src/core/workload.js';
import { agentFigures, learnLoaderPolicy, measuredAbScript, realAbScript, summarise, toRealTrace } from '../../../src/harness/real/real-ab.js';

const bundle = table1Workload({ mix: 'huawei', invocations: 300, cpus: 2, load: 0.9, seed: 3 });

test('trace lines are "<arrival_us> <dense func id> <cpu_us>", scaled, arrivals non-decreasing', () => {
  const t = toRealTrace(bundle.workload, 0.5);
  const lines = t.text.trim().split('\n').map((l) => l.split(' ').map(Number));
  assert.equal(lines.length, 300);
  let last = -1;
  lines.forEach(([a, f, c], i) => {
    assert.ok(a! >= last, `line ${i} arrival ${a} after ${last}`);
    last = a!;
    assert.ok(f! >= 1 && f! <= t.funcIds.size);
    const want = Math.round(Math.max(1000, Math.round(cpuDemandNs(bundle.workload.invocations[i]!) * 0.5)) / 1000);
    assert.equal(c, want);
  });
  assert.equal(lines[0]![0], 0);
});

test('the learned policy becomes valid alps-loader --policy arguments', () => {
  const t = toRealTrace(bundle.workload, 0.5);
  const { policy, args } = learnLoaderPolicy(bundle.workload, t, 2, 0.5);
  assert.ok(policy.entries.length > 5);
  assert.equal(args.length, 2 * policy.entries.length);
  for (let i = 0; i < args.length; i += 2) {
    assert.equal(args[i], '--policy');
    const [f, r, s] = args[i + 1]!.split(':').map(Number);
    assert.ok(f! >= 1 && f! <= t.funcIds.size && r! >= 1 && r! <= 16383 && s! >= 0 && s! <= 10_000_000, args[i + 1]);
  }
  assert.match(realAbScript(args), /== default"\n\S*alps-invoke \/tmp\/trace\.txt\necho "== alps-scx"\n\S*alps-loader --pin-tags .* -- \S*alps-invoke \/tmp\/trace\.txt \/sys\/fs\/bpf\/alps_tags$/s);
});

test('summaries: mean, p99 and per-group numbers from alps-invoke output; failures counted', () => {
  const lines = [
    'inv 0 1 10000 20000000 5 0', // group 1, 20 ms
    'inv 1 1 10000 40000000 5 0', // group 1, 40 ms
    'inv 2 2 300000 900000000 5 0', // group 3, 900 ms
    'inv 3 2 300000 100000000 5 125', // failed
    'noise',
  ];
  const r = summarise('x', lines);
  assert.equal(r.invocations, 4);
  assert.equal(r.failed, 1);
  assert.equal(r.meanTurnaroundMs, 265);
  assert.equal(r.p99TurnaroundMs, 900);
  assert.deepEqual(r.groups, { '1': { n: 2, meanMs: 30, p99Ms: 40 }, '3': { n: 2, meanMs: 500, p99Ms: 900 } });
  // Field 5: how late the invoker forked (ns): 5 ns each here.
  assert.equal(r.launchLateMeanMs, 0);
  assert.deepEqual(summarise('y', ['inv 0 1 10000 20000000 3000000 0', 'inv 1 1 10000 20000000 1000000 0']).launchLateMeanMs, 2);
});

test('closed-loop arm: the agent runs in the guest around the invoker; its generations and CPU share are parsed', () => {
  const script = measuredAbScript(['default', 'alps-scx', 'alps-scx:oracle'], ['--policy', '1:1:0:5000']);
  const sec = (name: string): string => script.split(`echo "== ${name}"`)[1]!.split('echo "== ')[0]!;
  assert.match(sec('alps-scx'), /ghost-alps agent --scx --learn --json .*alps-invoke \/tmp\/trace\.txt \/sys\/fs\/bpf\/ghost-alps\/alps_tags.*kill -INT \$A/s);
  assert.doesNotMatch(sec('alps-scx'), /alps-loader/, 'the product arm learns online: no offline policy');
  assert.match(sec('alps-scx:oracle'), /alps-loader --pin-tags \S+ '--policy' '1:1:0:5000'/);
  const lines = ['agentcpu begin 10 5', 'inv 0 1 1 1 1 0', 'agentcpu end 60 15', 'agentgen 7'];
  // 60 ticks = 0.6 s of agent CPU over 2 CPUs x 10 s of guest time = 3 %.
  const a = agentFigures(lines, 2 * 10e9);
  assert.deepEqual(a, { policyGenerations: 7, agentCpuShare: 0.03 });
  assert.equal(agentFigures(['agentgen 3'], 1e9), undefined, 'no CPU samples: not a measurement');
});
