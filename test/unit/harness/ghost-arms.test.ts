/**
 * The delegated arms of the real A/B without a VM: what their guest script asks for, and how
 * the agent's and the kernel side's figures are read back from the guest output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ghostFigures, measuredAbScript } from '../../../src/harness/real/real-ab.js';
import { funcOfComm } from '../../../src/agent/ghost/comm-funcs.js';

test('alps-ghost / ghost-fifo scripts start the sched_ext ghOSt agent and enter invocations into the enclave', () => {
  const s = measuredAbScript(['alps-ghost', 'ghost-fifo'], []);
  const [alps, fifo] = s.split('echo "== ghost-fifo"');
  assert.match(alps!, /agent --ghost --backend scx .*--policy alps --learn --comm-funcs --idle-sleep-us \d+/);
  assert.match(fifo!, /agent --ghost --backend scx .*--policy fifo --comm-funcs/);
  assert.doesNotMatch(fifo!, /--learn/);
  for (const part of [alps!, fifo!]) {
    assert.match(part, /alps-invoke --sched-ext \/tmp\/trace\.txt;/);
    assert.match(part, /agentcpu begin[\s\S]*alps-invoke[\s\S]*agentcpu end[\s\S]*ghoststate[\s\S]*kill -INT/);
    assert.match(part, /agentthread begin[\s\S]*alps-invoke[\s\S]*agentthread end/);
  }
});

test('ghostFigures reads the agent stats line and the kernel-side counters', () => {
  const lines = [
    'inv 0 1 5000 100 0 0',
    'agentthread begin 200 node 10 2 5 1 100000000',
    'agentthread begin 231 node 0 0 0 0 0',
    'ghoststate enabled',
    'ghoststats {"generation":3,"passes":10,"messages":40,"decisions":12,"failures":{"CPU_UNAVAIL":2},"loop":{"runs":7,"woken":5}}',
    'agentthread end 200 node 12 2 9 1 130000000',
    'agentthread end 231 node 50 0 400 3 500000000',
    'ghostkernel commits=12 failed=2 commit_to_run_n=11 commit_to_run_mean_ns=75000 commit_to_run_max_ns=900000 new=4 wakeup=0' +
      ' tick=0 wakes=41 unavail_self=1 unavail_other=1 avail_pings=2 stale_doorbells=3',
  ];
  const g = ghostFigures(lines);
  assert.deepEqual(g, {
    decisions: 12,
    messages: 40,
    passes: 10,
    failures: { CPU_UNAVAIL: 2 },
    stateAtEnd: 'enabled',
    kernelCommits: 12,
    kernelFailed: 2,
    commitToRunN: 11,
    commitToRunMeanNs: 75000,
    commitToRunMaxNs: 900000,
    kernelMessages: { new: 4, wakeup: 0 },
    wakes: 41,
    ticks: 0,
    unavailSelf: 1,
    unavailOther: 1,
    availPings: 2,
    staleDoorbells: 3,
    loop: { runs: 7, woken: 5 },
    // schedstat's exact run time between the begin and end samples, per thread in start order
    threads: { 'node#0': { cpuMs: 30, voluntary: 4, involuntary: 0, n: 1 }, 'node#1': { cpuMs: 500, voluntary: 400, involuntary: 3, n: 1 } },
  });
  assert.equal(ghostFigures(['ghoststate enabled']), undefined, 'no stats line: no figures');
  assert.equal(ghostFigures(['ghoststats {not json']), undefined);
});

test('funcOfComm: only "alps-f<ID>" names a function', () => {
  assert.equal(funcOfComm('alps-f7\n'), 7);
  assert.equal(funcOfComm('alps-f123456789'), 123456789);
  for (const c of ['alps-f', 'alps-fx', 'node', 'alps-f7 extra', 'xalps-f7']) assert.equal(funcOfComm(c), undefined, c);
});
