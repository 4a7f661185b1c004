import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitFlag, createClient, TxnSlots, txnStateName } from '../../../src/native/ghost.js';
import { admit, AGENT_PID, drainAll, makeRig, nativeSkipReason } from '../../support/ghost-rig.js';
import { setUpHostAgent } from '../../../src/agent/ghost/host-setup.js';
import { GhostAgent } from '../../../src/agent/ghost/agent.js';
import { makeOrdering } from '../../../src/agent/ghost/ordering.js';

const skip = nativeSkipReason();

test('enclave destroyed mid-run: agents are killed, every task returns to the default class', { skip }, () => {
  const rig = makeRig();
  const ts = [300, 301, 302, 303].map((tid) => admit(rig, tid));
  rig.txns.clear();
  ts.slice(0, 3).forEach((t, i) => rig.txns.add(i + 1, t.handle, t.seq, 0, 0, CommitFlag.AT_TXN_COMMIT));
  rig.txns.commitWith(rig.client);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, 1);
  const launcher = createClient({ emulator: rig.emu, pid: 1, tid: 1 });
  launcher.attach(rig.enclaveId);
  launcher.destroy();
  const e = rig.emu.enclave(rig.enclaveId);
  assert.equal(e?.alive, false);
  assert.equal(e?.destroyReason, 'destroy');
  for (const tid of [300, 301, 302, 303]) assert.equal(rig.emu.thread(tid)?.cls, 'cfs', `tid ${tid}`);
  assert.equal(rig.emu.thread(AGENT_PID), null, 'agent threads were SIGKILLed');
  // The agent process is dead: its fds are gone with it.
  assert.throws(() => rig.txns.commitWith(rig.client), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
  // The workload finishes under CFS.
  for (const tid of [300, 301, 302, 303]) rig.emu.exit(tid);
});

test('agent killed mid-run: runnable_timeout fires, the enclave is destroyed, every task completes under CFS', { skip }, () => {
  const rig = makeRig({ tunables: { runnable_timeout: 20 } });
  // The agent process's main thread (not an agent itself) holds agent_online.
  const main = createClient({ emulator: rig.emu, pid: AGENT_PID, tid: AGENT_PID + 50 });
  main.attach(rig.enclaveId);
  main.setOnline(true);
  assert.equal(rig.emu.enclave(rig.enclaveId)?.online, true);
  const ts = Array.from({ length: 6 }, (_, i) => admit(rig, 300 + i));
  // Three run, three wait; one greedy txn is still pending when the agent dies.
  rig.txns.clear();
  ts.slice(0, 3).forEach((t, i) => rig.txns.add(i + 1, t.handle, t.seq, 0, 0, CommitFlag.AT_TXN_COMMIT));
  rig.txns.commitWith(rig.client);
  rig.emu.advance(1_000_000);
  rig.emu.block(301);
  rig.emu.exit(301); // one invocation completed under ghOSt
  rig.txns.clear();
  const t3 = ts[3];
  assert.ok(t3);
  rig.txns.add(2, t3.handle, t3.seq, 0, 0, CommitFlag.GREEDY);
  rig.txns.commitWith(rig.client);
  const slots = new TxnSlots(rig.client.cpuDataView());
  assert.equal(txnStateName(slots.state(2)), 'READY');
  rig.emu.killProcess(AGENT_PID);
  assert.equal(txnStateName(slots.state(2)), 'NO_AGENT', 'pending txns die with the agent');
  assert.equal(rig.emu.enclave(rig.enclaveId)?.online, false, 'agent_online dropped with the process');
  assert.equal(rig.emu.enclave(rig.enclaveId)?.alive, true, 'agent death alone does not destroy the enclave');
  rig.emu.advance(10_000_000);
  assert.equal(rig.emu.enclave(rig.enclaveId)?.alive, true);
  rig.emu.advance(20_000_000);
  const e = rig.emu.enclave(rig.enclaveId);
  assert.equal(e?.alive, false);
  assert.equal(e?.destroyReason, 'runnable_timeout');
  const left = [300, 302, 303, 304, 305];
  for (const tid of left) assert.equal(rig.emu.thread(tid)?.cls, 'cfs', `tid ${tid} back in CFS`);
  for (const tid of left) rig.emu.exit(tid);
  for (const tid of left) assert.equal(rig.emu.thread(tid), null);
});

test('a new agent process takes over an enclave (upgrade): discovery re-announces tasks', { skip }, () => {
  const rig = makeRig();
  admit(rig, 300);
  admit(rig, 301);
  rig.emu.killProcess(AGENT_PID);
  const next = createClient({ emulator: rig.emu, pid: 200, tid: 200 });
  next.attach(rig.enclaveId, 91);
  next.createSwRegion(); // EEXIST tolerated
  const q = next.createQueue(256);
  next.setDefaultQueue(q);
  assert.equal(next.becomeAgent(0, q), 0);
  for (const t of [300, 301]) {
    // Route each task to the new queue, then have the kernel re-announce them.
    const h = next.internGtid(rig.emu.thread(t)?.gtid ?? '0');
    assert.ok(next.assocQueue(q, h, rig.sw.barrier(next.taskSwIndex(h))) >= 0);
  }
  next.discoverTasks();
  const before = next.taskCount();
  const out = new ArrayBuffer(64 * 16);
  assert.equal(next.drain(q, out), 2);
  assert.equal(next.taskCount(), before, 'TASK_NEW maps onto the interned handles');
});

test('host bring-up attaches to an orphaned enclave and re-associates its tasks (§7.3), then schedules them', { skip }, () => {
  const rig = makeRig();
  admit(rig, 300);
  admit(rig, 301);
  rig.emu.killProcess(AGENT_PID);
  rig.emu.spawn(1, 302, true);
  const launcher = createClient({ emulator: rig.emu, pid: 1, tid: 1 });
  launcher.attach(rig.enclaveId);
  launcher.enterTask(302); // arrives while no agent runs: its TASK_NEW went to the dead queue
  const setup = setUpHostAgent({ enclave: rig.enclaveId, cpus: [], satellites: 'none' }, { emulator: rig.emu, pid: 200, tid: 200 });
  assert.equal(setup.created, false);
  assert.deepEqual(setup.cpus, [0, 1, 2, 3]);
  for (const c of [1, 2, 3]) {
    const s = createClient({ emulator: rig.emu, pid: 200, tid: 200 + c });
    s.attach(rig.enclaveId);
    assert.equal(s.becomeAgent(c, -1), 0);
    assert.equal(s.run(0, setup.sw.barrier(s.agentSwIndex(c)), c), 0);
  }
  assert.equal(setup.client.becomeAgent(0, setup.queue), 0);
  const agent = new GhostAgent({ client: setup.client, queue: setup.queue, sw: setup.sw, cpus: setup.cpus, globalCpu: 0, ordering: makeOrdering('fifo'), clock: () => rig.emu.now() });
  assert.equal(agent.step(), 3, 'all three tasks were rediscovered and placed');
  rig.emu.advance(0);
  assert.deepEqual([300, 301, 302].map((t) => rig.emu.thread(t)?.onCpu).sort(), [1, 2, 3]);
});

test('a killed workload process: a running task exits at once (BLOCKED, DEAD); a runnable one only once it is run', { skip }, () => {
  const rig = makeRig();
  const a = admit(rig, 300);
  const b = admit(rig, 301);
  rig.txns.clear();
  rig.txns.add(1, a.handle, a.seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  rig.emu.advance(0);
  rig.emu.killProcess(1);
  let msgs = drainAll(rig);
  assert.deepEqual(msgs.map((m) => [m.type, m.task]), [[65, a.handle], [64, a.handle]], 'BLOCKED then DEAD for the running one only');
  assert.equal(rig.emu.thread(300), null);
  assert.equal(rig.emu.thread(301)?.cls, 'ghost', 'the runnable task must be scheduled to act on SIGKILL');
  rig.txns.clear();
  rig.txns.add(2, b.handle, b.seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  rig.emu.advance(0);
  msgs = drainAll(rig);
  assert.deepEqual(msgs.map((m) => [m.type, m.task]), [[65, b.handle], [64, b.handle]], 'it dies as soon as it runs');
  assert.equal(rig.emu.thread(301), null);
  assert.match(rig.client.status(), /nr_tasks 0/);
});
