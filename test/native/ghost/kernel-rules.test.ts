/** Emulator rules that follow ghost-kernel's kernel/sched/ghost.c (one test per rule). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitFlag, DecFlag, MsgType, RunFlag, SwFlag, Target, txnStateName } from '../../../src/native/ghost.js';
import { admit, drainAll, makeRig, nativeSkipReason, type Rig } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();
const INLINE = CommitFlag.AT_TXN_COMMIT;

function commit(rig: Rig, cpu: number, target: number, barrier: number, runFlags = 0, commitFlags = INLINE): string {
  rig.txns.clear();
  rig.txns.add(cpu, target, barrier, 0, runFlags, commitFlags);
  rig.txns.commitWith(rig.client);
  return txnStateName(rig.txns.state(0));
}

test('rule: a latched task that departs first loses its latch with TASK_PREEMPT(was_latched), then TASK_DEPARTED', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  assert.equal(commit(rig, 1, handle, seq), 'COMPLETE');
  assert.equal(rig.emu.cpu(1)?.latched, 300);
  rig.emu.depart(300);
  const msgs = drainAll(rig);
  assert.deepEqual(msgs.map((m) => m.type), [MsgType.TASK_PREEMPT, MsgType.TASK_DEPARTED]);
  assert.ok((msgs[0]?.flags ?? 0) & DecFlag.WAS_LATCHED);
  assert.equal(rig.emu.cpu(1)?.latched, 0);
});

test('rule: on block and yield the message (barrier bump) is published before ONCPU is cleared', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  assert.equal(commit(rig, 1, handle, seq), 'COMPLETE');
  rig.emu.advance(0);
  const gtid = rig.emu.thread(300)?.gtid;
  for (const op of ['block', 'yield'] as const) {
    if (op === 'yield') {
      rig.emu.wake(300);
      drainAll(rig);
      assert.equal(commit(rig, 1, handle, rig.sw.barrier(rig.client.taskSwIndex(handle))), 'COMPLETE');
      rig.emu.advance(0);
    }
    const b0 = rig.sw.barrier(rig.client.taskSwIndex(handle));
    rig.emu.traceStatusWords(true);
    if (op === 'block') rig.emu.block(300);
    else rig.emu.yield(300);
    const tr = rig.emu.swTrace().filter(([g]) => g === gtid);
    rig.emu.traceStatusWords(false);
    const bumped = tr.findIndex(([, b]) => b === b0 + 1);
    const offCpu = tr.findIndex(([, , f]) => (f & SwFlag.TASK_ONCPU) === 0);
    assert.ok(bumped >= 0 && offCpu >= 0, `${op}: both published`);
    assert.ok(bumped < offCpu, `${op}: barrier bumped (event ${bumped}) before ONCPU cleared (event ${offCpu})`);
    assert.ok(((tr[bumped]?.[2] ?? 0) & SwFlag.TASK_ONCPU) !== 0, `${op}: still ONCPU when the message is visible`);
  }
});

test('rule: runnable_timeout is checked per CPU on the oldest waiter; an affinity change restarts its clock; destruction is deferred past the tick', { skip }, () => {
  const rig = makeRig({ tunables: { runnable_timeout: 10 } });
  admit(rig, 300); // waits on CPU 0's runqueue (never placed)
  rig.emu.advance(8_000_000);
  rig.emu.setAffinity(300); // SAVE/RESTORE re-enqueue: the clock starts again
  rig.emu.advance(8_000_000);
  assert.equal(rig.emu.enclave(rig.enclaveId)?.alive, true, '16 ms waited in total, but never 10 ms since the re-enqueue');
  rig.emu.advance(8_000_000);
  const e = rig.emu.enclave(rig.enclaveId);
  assert.equal(e?.alive, false);
  assert.equal(e?.destroyReason, 'runnable_timeout');
  assert.equal(rig.emu.thread(300)?.cls, 'cfs', 'the reaper returned the task to CFS');
});

test('rule: validation in the kernel\'s order — IDLE is CPU_UNAVAIL on a busy CPU and TARGET_ONCPU on an idle one; DO_NOT_PREEMPT only for real targets', { skip }, () => {
  const rig = makeRig();
  const { handle, seq } = admit(rig, 300);
  assert.equal(commit(rig, 2, Target.IDLE, 0), 'TARGET_ONCPU', 'the idle task already runs on an idle CPU');
  assert.equal(commit(rig, 2, Target.IDLE, 0, 0, INLINE | CommitFlag.ALLOW_TASK_ONCPU), 'COMPLETE');
  rig.emu.setCpuBusy(3, true);
  assert.equal(commit(rig, 3, Target.IDLE, 0, 0, INLINE | CommitFlag.ALLOW_TASK_ONCPU), 'CPU_UNAVAIL');
  assert.equal(commit(rig, 3, Target.NULL, 0), 'COMPLETE', 'unschedule is not a real target: no CPU_UNAVAIL');
  rig.emu.setCpuBusy(3, false);
  assert.equal(commit(rig, 1, handle, seq), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(commit(rig, 1, Target.NULL, 0, RunFlag.DO_NOT_PREEMPT), 'COMPLETE', 'DO_NOT_PREEMPT ignored for NULL');
  drainAll(rig);
  // A task that keeps running on its CPU (ALLOW_TASK_ONCPU): no agent-barrier bump.
  const s = rig.client.taskSwIndex(handle);
  assert.equal(commit(rig, 1, handle, rig.sw.barrier(s)), 'COMPLETE');
  rig.emu.advance(0);
  const ab = rig.emu.cpu(1)?.agentBarrier;
  assert.equal(commit(rig, 1, handle, rig.sw.barrier(s), 0, INLINE | CommitFlag.ALLOW_TASK_ONCPU), 'COMPLETE');
  assert.equal(rig.emu.cpu(1)?.agentBarrier, ab, 'the agent barrier does not move when the target is already on the CPU');
});

test('rule: parking in RUN sends no CPU_AGENT_BLOCKED; RTLA_ON_IDLE brings a parked agent back when its CPU has nothing to run', { skip }, () => {
  const rig = makeRig({ tunables: { deliver_agent_runnability: 1 } });
  const sat = rig.satellites[0];
  assert.ok(sat);
  assert.equal(rig.client.run(Target.AGENT, 0, 1), 0);
  rig.emu.setCpuBusy(1, true);
  assert.ok(rig.sw.flags(sat.agentSwIndex(1)) & SwFlag.BOOST_PRIO, 'agent on CPU while a CFS task waits: BOOST_PRIO');
  assert.equal(sat.run(0, rig.sw.barrier(sat.agentSwIndex(1)), 1, RunFlag.RTLA_ON_IDLE), 0);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, true, 'the CFS task runs, the agent is parked');
  assert.equal((rig.sw.flags(sat.agentSwIndex(1)) & SwFlag.BOOST_PRIO), 0);
  rig.emu.setCpuBusy(1, false);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, false, 'RTLA_ON_IDLE: the idle CPU runs the agent');
  assert.deepEqual(drainAll(rig).filter((m) => m.type === MsgType.CPU_AGENT_BLOCKED || m.type === MsgType.CPU_AGENT_WAKEUP), []);
});
