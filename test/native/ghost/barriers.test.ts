import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSOC_ALREADY, CommitFlag, MessageBatch, MsgType, SwFlag, txnStateName } from '../../../src/native/ghost.js';
import { admit, drainAll, ESTALE, makeRig, nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

test('barrier race: a message produced after the drain makes the commit TARGET_STALE; the SW shows it first', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  // Race (§8.5 step 6): after draining, a third party changes the task's affinity.
  rig.emu.setAffinity(300);
  const idx = rig.client.taskSwIndex(handle);
  assert.notEqual(rig.sw.barrier(idx), seq, 'the status word is ahead of the agent token');
  rig.txns.clear();
  rig.txns.add(1, handle, seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  assert.equal(txnStateName(rig.txns.state(0)), 'TARGET_STALE');
  const m = drainAll(rig).find((x) => x.type === MsgType.TASK_AFFINITY_CHANGED);
  assert.ok(m);
  assert.equal(m.seq, rig.sw.barrier(idx));
  rig.txns.clear();
  rig.txns.add(1, handle, m.seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  assert.equal(txnStateName(rig.txns.state(0)), 'COMPLETE');
});

test('barrier race: RUN with an agent barrier older than a CPU message returns ESTALE, then blocks', { skip }, () => {
  const rig = makeRig({ tunables: { deliver_ticks: 1 } });
  const sat = rig.satellites[0];
  assert.ok(sat);
  const idx = sat.agentSwIndex(1);
  rig.client.run(-1, 0, 1); // wake CPU 1's agent, as a message wakeup would
  const before = rig.sw.barrier(idx);
  rig.emu.advance(4_000_000); // a tick: CPU_TICK for CPU 1 moves its agent barrier
  assert.notEqual(rig.sw.barrier(idx), before);
  assert.equal(sat.run(0, before, 1), -ESTALE);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, false);
  assert.equal(sat.run(0, rig.sw.barrier(idx), 1), 0);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, true);
});

test('barrier: ASSOC_QUEUE checks the task barrier; messages then go to the new queue', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  const q2 = rig.client.createQueue(64);
  assert.equal(rig.client.assocQueue(q2, handle, seq - 1), -ESTALE);
  assert.equal(rig.client.assocQueue(q2, handle, seq), 0);
  assert.equal(rig.client.assocQueue(q2, handle, seq), ASSOC_ALREADY);
  rig.emu.setNice(300, 3);
  assert.equal(rig.client.pending(rig.queue), 0);
  const b = new MessageBatch(8);
  assert.equal(b.drainFrom(rig.client, q2), 1);
  assert.equal(b.type(0), MsgType.TASK_PRIORITY_CHANGED);
  assert.equal(b.task(0), handle);
});

test('departure gates messages until SW_FREE; a re-entered task is announced only then', { skip }, () => {
  const rig = makeRig();
  const { handle } = admit(rig, 300);
  rig.emu.depart(300);
  const dep = drainAll(rig);
  assert.deepEqual(dep.map((m) => m.type), [MsgType.TASK_DEPARTED]);
  const idx = rig.client.taskSwIndex(handle);
  assert.ok(rig.sw.flags(idx) & SwFlag.TASK_MSG_GATED);
  assert.ok(rig.sw.flags(idx) & SwFlag.CAN_FREE);
  rig.client.enterTask(300);
  assert.equal(drainAll(rig).length, 0, 'TASK_NEW is held while the old status word is not freed');
  assert.equal(rig.client.swFree(handle), 0);
  const again = drainAll(rig);
  assert.deepEqual(again.map((m) => m.type), [MsgType.TASK_NEW]);
  assert.notEqual(again[0]?.task, 0);
});

test('SW_FREE refuses a live task (EINVAL keeps the handle) and a freed slot (EALREADY)', { skip }, () => {
  const rig = makeRig();
  const { handle } = admit(rig, 300);
  assert.equal(rig.client.swFree(handle), -22);
  assert.equal(rig.client.taskCount(), 1);
  rig.emu.depart(300);
  drainAll(rig);
  assert.equal(rig.client.swFree(handle), 0);
  assert.equal(rig.client.taskCount(), 0);
});

test('queue wakeups: a task message on a queue with a wakeup CPU wakes that CPU\'s blocked agent (per-CPU model)', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  const q1 = rig.client.createQueue(64);
  rig.client.configQueueWakeup(q1, [1]);
  const sat = rig.satellites[0];
  assert.ok(sat);
  const idx = sat.agentSwIndex(1);
  assert.equal(sat.run(0, rig.sw.barrier(idx), 1), 0);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, true);
  assert.equal(rig.client.assocQueue(q1, handle, seq), 0);
  const before = rig.sw.barrier(idx);
  rig.emu.setNice(300, 2);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, false, 'the agent of CPU 1 was woken');
  assert.ok(rig.sw.barrier(idx) !== before, 'waking bumps the agent barrier (a stale RUN would get ESTALE)');
  assert.equal(sat.run(0, before, 1), -ESTALE);
  assert.throws(() => rig.client.configQueueWakeup(q1, [1, 2, 3]), (e: NodeJS.ErrnoException) => e.code === 'EINVAL');
});

test('GET_CPU_TIME includes the running delta; the status word lags until the task leaves the CPU (§4.4)', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  rig.txns.clear();
  rig.txns.add(1, handle, seq, 0, 0, 2);
  rig.txns.commitWith(rig.client);
  rig.emu.advance(0);
  rig.emu.advance(3_000_000);
  assert.equal(rig.client.cpuTime(handle), 3_000_000);
  const idx = rig.client.taskSwIndex(handle);
  assert.equal(rig.sw.runtime(idx), 0);
  rig.emu.block(300);
  assert.equal(rig.sw.runtime(idx), 3_000_000);
});
