import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CommitFlag,
  createClient,
  RunFlag,
  Target,
  TxnSlots,
  TxnState,
  txnStateName,
} from '../../../src/native/ghost.js';
import { admit, AGENT_PID, drainAll, makeRig, nativeSkipReason, type Rig } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();
const INLINE = CommitFlag.AT_TXN_COMMIT;

function commitOne(rig: Rig, cpu: number, target: number, barrier: number, runFlags = 0, commitFlags = INLINE, agentBarrier = 0): string {
  rig.txns.clear();
  rig.txns.add(cpu, target, barrier, agentBarrier, runFlags, commitFlags);
  rig.txns.commitWith(rig.client);
  return txnStateName(rig.txns.state(0));
}

function barrierOf(rig: Rig, task: number): number {
  return rig.sw.barrier(rig.client.taskSwIndex(task));
}

test('txn: success latches the task; it runs at the next scheduling point; cpu_seqnum/commit_time set', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  rig.emu.advance(5000);
  assert.equal(commitOne(rig, 2, handle, seq), 'COMPLETE');
  assert.equal(rig.emu.cpu(2)?.latched, 300);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, 2);
  const slots = new TxnSlots(rig.client.cpuDataView());
  assert.equal(slots.state(2), TxnState.COMPLETE);
  assert.ok(slots.cpuSeqnum(2) > 0);
});

test('txn: TARGET_STALE, TARGET_NOT_FOUND, TARGET_NOT_RUNNABLE, TARGET_ONCPU (and ALLOW_TASK_ONCPU)', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  assert.equal(commitOne(rig, 1, handle, seq - 1), 'TARGET_STALE');
  assert.equal(commitOne(rig, 1, handle, seq), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(commitOne(rig, 2, handle, seq), 'TARGET_ONCPU');
  assert.equal(commitOne(rig, 1, handle, seq, 0, INLINE | CommitFlag.ALLOW_TASK_ONCPU), 'COMPLETE');
  rig.emu.block(300);
  const blockedSeq = barrierOf(rig, handle);
  drainAll(rig);
  assert.equal(commitOne(rig, 1, handle, blockedSeq), 'TARGET_NOT_RUNNABLE');
  rig.emu.exit(300);
  drainAll(rig);
  assert.equal(commitOne(rig, 1, handle, blockedSeq + 1), 'TARGET_NOT_FOUND');
});

test('txn: INVALID_FLAGS, INVALID_TARGET, INVALID_CPU, UNSUPPORTED_VERSION', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  assert.equal(commitOne(rig, 1, handle, seq, 0, CommitFlag.AT_SCHEDULE | CommitFlag.AT_TXN_COMMIT), 'INVALID_FLAGS');
  assert.equal(commitOne(rig, 1, handle, seq, 0, INLINE | CommitFlag.ELIDE_AGENT_BARRIER_INC | CommitFlag.INC_AGENT_BARRIER_ON_FAILURE), 'INVALID_FLAGS');
  assert.equal(commitOne(rig, 1, handle, seq, RunFlag.NEED_CPU_NOT_IDLE), 'INVALID_FLAGS');
  assert.equal(commitOne(rig, 1, Target.AGENT, 0, RunFlag.RTLA_ON_BLOCKED), 'INVALID_FLAGS');
  assert.equal(commitOne(rig, 1, -3, 0), 'INVALID_TARGET');
  // Corrupt the slot's own fields through the (writable) cpu_data mapping.
  const i32 = new Int32Array(rig.client.cpuDataView());
  i32[3 * 1024 + 1] = 2; // txn.cpu of CPU 3's slot claims CPU 2
  assert.equal(commitOne(rig, 3, handle, seq), 'INVALID_CPU');
  i32[3 * 1024 + 1] = 3;
  i32[3 * 1024 + 0] = 1; // version
  assert.equal(commitOne(rig, 3, handle, seq), 'UNSUPPORTED_VERSION');
  i32[3 * 1024 + 0] = 0;
  assert.equal(commitOne(rig, 3, handle, seq), 'COMPLETE');
});

test('txn: CPU_UNAVAIL, CPU_OFFLINE, NO_AGENT, NOT_PERMITTED', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  rig.emu.setCpuBusy(1, true);
  assert.equal(commitOne(rig, 1, handle, seq), 'CPU_UNAVAIL');
  rig.emu.setCpuOffline(2, true);
  assert.equal(commitOne(rig, 2, handle, seq), 'CPU_OFFLINE');
  rig.emu.setCpuOffline(2, false);
  // CPU 3's agent dies: its CPU has no agent any more.
  rig.emu.killProcess(AGENT_PID + 99); // unrelated pid: nothing happens
  const noAgent = makeRig({ agents: false });
  const t = admit(noAgent, 400);
  assert.equal(noAgent.client.becomeAgent(0, noAgent.queue), 0);
  assert.equal(commitOne(noAgent, 3, t.handle, t.seq), 'NO_AGENT');
  // A thread that is not an agent may not schedule.
  const outsider = createClient({ emulator: rig.emu, pid: AGENT_PID, tid: 777 });
  outsider.attach(rig.enclaveId);
  const ops = new Int32Array(8);
  // (ALLOW_TASK_ONCPU: an IDLE target on an idle CPU would fail TARGET_ONCPU first.)
  ops.set([3, Target.IDLE, 0, 0, 0, INLINE | CommitFlag.ALLOW_TASK_ONCPU]);
  outsider.commit(ops, 1);
  assert.equal(txnStateName(ops[6] as number), 'NOT_PERMITTED');
});

test('txn: AGENT_STALE for a local commit with an old agent barrier, and for DO_NOT_PREEMPT on a busy CPU', { skip }, () => {
  const rig = makeRig();
  const a = admit(rig, 300);
  const b = admit(rig, 301);
  assert.equal(commitOne(rig, 1, a.handle, a.seq), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(commitOne(rig, 1, b.handle, b.seq, RunFlag.DO_NOT_PREEMPT), 'AGENT_STALE');
  // Local commit by the satellite agent of CPU 2 with a stale barrier.
  const sat = rig.satellites[1];
  assert.ok(sat);
  const agentIdx = sat.agentSwIndex(2);
  const barrier = rig.sw.barrier(agentIdx);
  rig.emu.setCpuBusy(2, true); // any CPU event moves the agent barrier
  rig.emu.setCpuBusy(2, false);
  const ops = new Int32Array(8);
  const bOnSat = sat.internGtid(rig.client.gtidOf(b.handle));
  ops.set([2, bOnSat, b.seq, barrier, 0, 0]);
  sat.commit(ops, 1);
  assert.equal(txnStateName(ops[6] as number), 'COMPLETE', 'remote-style: CPU events without delivery do not move the barrier');
  // Move the barrier for real (a ping), then commit locally with the old value.
  const sat3 = rig.satellites[2];
  assert.ok(sat3);
  const old = rig.sw.barrier(sat3.agentSwIndex(3));
  assert.equal(rig.client.run(Target.AGENT, 0, 3), 0);
  assert.notEqual(rig.sw.barrier(sat3.agentSwIndex(3)), old);
  const c = admit(rig, 302);
  const cOnSat = sat3.internGtid(rig.client.gtidOf(c.handle));
  ops.set([3, cOnSat, c.seq, old, 0, 0]);
  sat3.commit(ops, 1);
  assert.equal(txnStateName(ops[6] as number), 'AGENT_STALE');
  ops.set([3, cOnSat, c.seq, rig.sw.barrier(sat3.agentSwIndex(3)), 0, 0]);
  sat3.commit(ops, 1);
  assert.equal(txnStateName(ops[6] as number), 'COMPLETE');
  assert.equal(rig.emu.thread(302)?.onCpu, 3, 'a local commit switches to the task at once');
});

test('txn: greedy remote commits complete at the target CPU; ABORTED before that; slots never reopened while READY', { skip }, () => {
  const rig = makeRig();
  const a = admit(rig, 300);
  assert.equal(commitOne(rig, 1, a.handle, a.seq, 0, CommitFlag.GREEDY), 'READY');
  assert.equal(commitOne(rig, 1, a.handle, a.seq, 0, CommitFlag.GREEDY), 'NOT_OPENED');
  assert.equal(rig.client.abortTxn(1), true);
  assert.equal(txnStateName(rig.client.txnState(1)), 'ABORTED');
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, -1);
  assert.equal(commitOne(rig, 1, a.handle, a.seq, 0, CommitFlag.GREEDY), 'READY');
  rig.emu.advance(0);
  assert.equal(txnStateName(rig.client.txnState(1)), 'COMPLETE');
  assert.equal(rig.emu.thread(300)?.onCpu, 1);
  assert.equal(rig.client.abortTxn(1), false, 'a committed txn cannot be aborted');
});

test('txn: batch commit of many CPUs in one call; a failing inline txn poisons the caller\'s own', { skip }, () => {
  const rig = makeRig();
  const ts = [300, 301, 302].map((tid) => admit(rig, tid));
  rig.txns.clear();
  ts.forEach((t, i) => rig.txns.add(i + 1, t.handle, t.seq, 0, 0, INLINE));
  assert.equal(rig.txns.commitWith(rig.client), 0);
  assert.deepEqual([0, 1, 2].map((i) => txnStateName(rig.txns.state(i))), ['COMPLETE', 'COMPLETE', 'COMPLETE']);
  rig.emu.advance(0);
  assert.deepEqual([300, 301, 302].map((t) => rig.emu.thread(t)?.onCpu), [1, 2, 3]);
  // Satellite of CPU 1 commits a bad remote txn and its own local one together.
  const sat = rig.satellites[0];
  assert.ok(sat);
  const d = admit(rig, 303);
  const ops = new Int32Array(16);
  ops.set([2, sat.internGtid(rig.client.gtidOf(d.handle)), d.seq - 1, 0, 0, INLINE], 0);
  ops.set([1, Target.IDLE, 0, rig.sw.barrier(sat.agentSwIndex(1)), 0, 0], 8);
  sat.commit(ops, 2);
  assert.equal(txnStateName(ops[6] as number), 'TARGET_STALE');
  assert.equal(txnStateName(ops[14] as number), 'POISONED');
});

test('txn: sync group claims all, commits in order and poisons the rest; committed members stay COMPLETE but never run', { skip }, () => {
  const rig = makeRig();
  const a = admit(rig, 300);
  const b = admit(rig, 301);
  const c = admit(rig, 302);
  // The global agent is on CPU 0: the group commits CPUs 1, 2, 3 in that order.
  rig.txns.clear();
  rig.txns.add(1, a.handle, a.seq, 0, 0, 0);
  rig.txns.add(2, b.handle, b.seq - 1, 0, 0, 0); // stale: fails
  rig.txns.add(3, c.handle, c.seq, 0, 0, CommitFlag.INC_AGENT_BARRIER_ON_FAILURE);
  const agent3 = rig.emu.cpu(3)?.agentBarrier ?? -1;
  assert.equal(rig.txns.commitWith(rig.client, true), 0, 'a failed group returns 0');
  assert.deepEqual([0, 1, 2].map((i) => txnStateName(rig.txns.state(i))), ['COMPLETE', 'TARGET_STALE', 'POISONED']);
  assert.equal(rig.emu.cpu(3)?.agentBarrier, agent3 + 1, 'INC_AGENT_BARRIER_ON_FAILURE honoured for a poisoned member');
  assert.equal(rig.emu.cpu(3)?.latched, 0, 'nothing after the failure is latched');
  assert.equal(rig.emu.cpu(1)?.latched, 300, 'the member committed before the failure is latched');
  // Poisoned rendezvous: the committed member is kicked off as it switches in, with no message.
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, -1);
  assert.equal(rig.emu.thread(300)?.runnable, true);
  assert.deepEqual(drainAll(rig), [], 'no TASK_PREEMPT for a poisoned rendezvous');
  // A group whose members are all valid commits, returns 1 and releases ownership.
  rig.txns.clear();
  rig.txns.add(1, a.handle, barrierOf(rig, a.handle), 0, 0, 0);
  rig.txns.add(2, b.handle, b.seq, 0, 0, 0);
  assert.equal(rig.txns.commitWith(rig.client, true), 1);
  assert.deepEqual([txnStateName(rig.txns.state(0)), txnStateName(rig.txns.state(1))], ['COMPLETE', 'COMPLETE']);
  const i32 = new Int32Array(rig.client.cpuDataView());
  assert.equal(i32[1 * 1024 + 12], -1, 'sync_group_owner reset on success');
  rig.emu.advance(0);
  assert.deepEqual([300, 301].map((t) => rig.emu.thread(t)?.onCpu), [1, 2]);
});

test('txn: unschedule (NULL gtid) preempts the running task; ELIDE_PREEMPT suppresses the message', { skip }, () => {
  const rig = makeRig();
  const a = admit(rig, 300);
  assert.equal(commitOne(rig, 1, a.handle, a.seq), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(commitOne(rig, 1, Target.NULL, 0), 'COMPLETE');
  assert.equal(rig.emu.thread(300)?.onCpu, -1);
  const msgs = drainAll(rig);
  assert.equal(msgs.filter((m) => m.type === 68).length, 1, 'one TASK_PREEMPT');
  const seq = barrierOf(rig, a.handle);
  assert.equal(commitOne(rig, 1, a.handle, seq), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(commitOne(rig, 1, Target.IDLE, 0, RunFlag.ELIDE_PREEMPT), 'COMPLETE');
  assert.equal(drainAll(rig).length, 0, 'no TASK_PREEMPT with ELIDE_PREEMPT');
  assert.equal(rig.emu.thread(300)?.runnable, true);
  void TxnState;
});

test('txn: a remote commit displaces the running task only at the CPU\'s next scheduling point', { skip }, () => {
  const rig = makeRig();
  const u = admit(rig, 300);
  const t = admit(rig, 301);
  assert.equal(commitOne(rig, 1, u.handle, u.seq), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(commitOne(rig, 1, t.handle, t.seq), 'COMPLETE');
  assert.equal(rig.emu.cpu(1)?.current, 300, 'still running until the IPI lands');
  assert.equal(rig.emu.cpu(1)?.latched, 301);
  rig.emu.block(300); // it blocks on its own before that
  rig.emu.reschedule(1);
  assert.equal(rig.emu.cpu(1)?.current, 301);
  assert.deepEqual(drainAll(rig).map((m) => m.type), [65], 'BLOCKED, and no PREEMPT for the task that left by itself');
  const v = admit(rig, 302);
  assert.equal(commitOne(rig, 1, v.handle, v.seq), 'COMPLETE');
  rig.emu.reschedule(1);
  assert.equal(rig.emu.cpu(1)?.current, 302);
  assert.deepEqual(drainAll(rig).map((m) => m.type), [68], 'now the running task is preempted');
});
