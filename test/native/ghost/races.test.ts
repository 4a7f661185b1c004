/**
 * The barrier rules of ghOSt, raced deterministically through the emulator's driver API, with
 * satellite agents on real threads (native satellites parked in RUN, blocking). The interleavings
 * that need "read the barrier, then something happens, then call" use an agent on the driver's
 * thread, where the order is fixed by the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitFlag, Target, txnStateName } from '../../../src/native/ghost.js';
import { admit, drainAll, ESTALE, makeRig, nativeSkipReason, waitFor, type Rig } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

/** Rig: CPU 0 global agent, CPU 1 an agent on this thread, CPUs 2 and 3 native satellite threads. */
function threadedRig(): Rig {
  return makeRig({ cpus: 4, threadCpus: [2, 3] });
}
function satellite(rig: Rig, cpu: number): { wakeups: number; stale: number; state: number } {
  const s = rig.client.satelliteStatus().find(([c]) => c === cpu);
  assert.ok(s, `satellite of CPU ${cpu}`);
  return { state: s[1], wakeups: s[2], stale: s[3] };
}
function done(rig: Rig): void {
  rig.client.stopSatellites();
  for (const s of rig.satellites) s.close();
  rig.client.close();
}

test('race: a message wakeup bumps the agent barrier but not its status word; RUN with the stale copy gets ESTALE and syncs it', { skip }, () => {
  const rig = threadedRig();
  const sat1 = rig.satellites[0];
  assert.ok(sat1);
  const idx = sat1.agentSwIndex(1);
  // Un-park CPU 1's agent (a ping): from here it runs, so wakeups take the lockless path.
  assert.equal(rig.client.run(Target.AGENT, 0, 1), 0);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, false);
  const { handle, seq } = admit(rig, 300);
  const q1 = rig.client.createQueue(64);
  rig.client.configQueueWakeup(q1, [1]);
  assert.equal(rig.client.assocQueue(q1, handle, seq), 0);
  const read = rig.sw.barrier(idx); // the agent reads its barrier, then drains
  const kernelBefore = rig.emu.cpu(1)?.agentBarrier ?? -1;
  rig.emu.setNice(300, 4); // a task message routed to CPU 1's agent arrives meanwhile
  assert.equal(rig.emu.cpu(1)?.agentBarrier, kernelBefore + 1, 'rq->ghost.agent_barrier moved');
  assert.equal(rig.sw.barrier(idx), read, 'the status-word copy lags (agent_barrier_get not called yet)');
  assert.equal(sat1.run(0, read, 1), -ESTALE, 'RUN compares with the synced barrier');
  assert.equal(rig.sw.barrier(idx), kernelBefore + 1, 'RUN synced the copy');
  assert.equal(rig.emu.cpu(1)?.blockedInRun, false, 'the failed RUN undid the park');
  assert.equal(sat1.run(0, rig.sw.barrier(idx), 1), 0);
  assert.equal(rig.emu.cpu(1)?.blockedInRun, true);
  // The same wakeup reaches a parked native satellite: its RUN returns, it re-reads and re-parks.
  const q2 = rig.client.createQueue(64);
  rig.client.configQueueWakeup(q2, [2]); // (config wakes CPU 2 once: pending messages)
  waitFor(() => satellite(rig, 2).wakeups >= 1 && rig.emu.cpu(2)?.blockedInRun === true, 'CPU 2 satellite woken and parked again');
  const w0 = satellite(rig, 2).wakeups;
  const b2 = rig.client.taskSwIndex(handle);
  assert.equal(rig.client.assocQueue(q2, handle, rig.sw.barrier(b2)), 0);
  rig.emu.setNice(300, 5);
  waitFor(() => satellite(rig, 2).wakeups === w0 + 1 && rig.emu.cpu(2)?.blockedInRun === true, 'message wakeup of the native satellite');
  assert.equal(satellite(rig, 2).state, 1);
  done(rig);
});

test('race: a task barrier bumped between drain and commit fails the commit TARGET_STALE (satellite CPUs on threads)', { skip }, () => {
  const rig = threadedRig();
  const { handle, seq } = admit(rig, 300); // drained: our token is `seq`
  rig.emu.setAffinity(300); // a third party changes the task before we commit
  const idx = rig.client.taskSwIndex(handle);
  assert.equal(rig.sw.barrier(idx), seq + 1, 'the status word shows the unread message first');
  rig.txns.clear();
  rig.txns.add(2, handle, seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  assert.equal(txnStateName(rig.txns.state(0)), 'TARGET_STALE');
  assert.equal(rig.emu.cpu(2)?.latched, 0);
  const m = drainAll(rig);
  assert.deepEqual(m.map((x) => x.seq), [seq + 1]);
  rig.txns.clear();
  rig.txns.add(2, handle, seq + 1, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  assert.equal(txnStateName(rig.txns.state(0)), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, 2, 'it runs on the satellite CPU while the satellite stays parked');
  done(rig);
});

test('race: blocked_in_run — a remote latch does not un-park the agent but bumps its barrier (a racing RUN gets ESTALE); a ping does', { skip }, () => {
  const rig = threadedRig();
  const a = admit(rig, 300);
  const b = admit(rig, 301);
  // Native satellite of CPU 3, parked: the global agent latches a task there.
  const before = rig.emu.cpu(3)?.agentBarrier ?? -1;
  const s3 = satellite(rig, 3);
  rig.txns.clear();
  rig.txns.add(3, a.handle, a.seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  assert.equal(txnStateName(rig.txns.state(0)), 'COMPLETE');
  assert.equal(rig.emu.cpu(3)?.agentBarrier, before + 1, 'the commit bumped the agent barrier');
  assert.equal(rig.emu.cpu(3)?.blockedInRun, true, 'but the agent stays parked');
  rig.emu.advance(0);
  assert.equal(rig.emu.cpu(3)?.current, 300, 'the latched task runs while the agent is blocked in RUN');
  assert.deepEqual(satellite(rig, 3), s3, 'the satellite thread never returned from RUN');
  // The same race on the agent of CPU 1 (this thread): barrier read, remote commit, then RUN.
  const sat1 = rig.satellites[0];
  assert.ok(sat1);
  assert.equal(rig.client.run(Target.AGENT, 0, 1), 0); // un-park it first
  const read = rig.sw.barrier(sat1.agentSwIndex(1));
  rig.txns.clear();
  rig.txns.add(1, b.handle, b.seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  assert.equal(sat1.run(0, read, 1), -ESTALE);
  // A ping un-parks the native satellite of CPU 3: it preempts the task, loops, parks again.
  assert.equal(rig.client.run(Target.AGENT, 0, 3), 0);
  waitFor(() => satellite(rig, 3).wakeups === s3.wakeups + 1 && rig.emu.cpu(3)?.blockedInRun === true, 'ping wakes CPU 3 satellite');
  assert.equal(rig.emu.thread(300)?.onCpu, -1, 'the agent outranked the running task');
  assert.ok(drainAll(rig).some((m) => m.type === 68 && m.task === a.handle), 'TASK_PREEMPT for it');
  done(rig);
});

test('race: sync group with native satellites: claim all, commit in order, poison the rest; the committed member stays COMPLETE', { skip }, () => {
  const rig = makeRig({ cpus: 4, threadCpus: [1, 2, 3] });
  const a = admit(rig, 300);
  const b = admit(rig, 301);
  const c = admit(rig, 302);
  rig.txns.clear();
  rig.txns.add(1, a.handle, a.seq, 0, 0, 0);
  rig.txns.add(2, b.handle, b.seq + 7, 0, 0, 0);
  rig.txns.add(3, c.handle, c.seq, 0, 0, 0);
  assert.equal(rig.txns.commitWith(rig.client, true), 0);
  assert.deepEqual([0, 1, 2].map((i) => txnStateName(rig.txns.state(i))), ['COMPLETE', 'TARGET_STALE', 'POISONED']);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, -1, 'poisoned rendezvous: the committed member is kicked off');
  assert.equal(rig.emu.thread(302)?.onCpu, -1);
  for (const cpu of [1, 2, 3]) assert.equal(rig.emu.cpu(cpu)?.blockedInRun, true, `CPU ${cpu} satellite still parked`);
  done(rig);
});

test('SW_FREE: a double free is EINVAL (CANFREE is checked first) and the client releases that handle instead of leaking it', { skip }, () => {
  const rig = makeRig();
  const { handle } = admit(rig, 300);
  assert.equal(rig.client.swFree(handle), -22, 'a live task: not CANFREE');
  assert.equal(rig.client.taskCount(), 1, 'kept: the word is still this task\'s, freeable later');
  // A second agent client knows the same task (and its word).
  const other = rig.satellites[0];
  assert.ok(other);
  const h2 = other.internGtid(rig.emu.thread(300)?.gtid ?? '0');
  assert.equal(other.taskCount(), 1);
  rig.emu.depart(300);
  drainAll(rig);
  assert.equal(rig.client.swFree(handle), 0);
  assert.equal(rig.client.taskCount(), 0);
  assert.equal(other.swFree(h2), -22, 'the freed (zeroed) word is not CANFREE: EINVAL, as on the kernel');
  assert.equal(other.taskCount(), 0, 'the handle of a word that is gone is released');
});
