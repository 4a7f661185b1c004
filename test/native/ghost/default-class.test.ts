// The emulated kernel's default class (ghost-kernel/emu/fair.cc): thread programs run by the
// kernel, tasks handed back on enclave destroy, and completions counted from the kernel side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitFlag, createClient, createEmulator, MsgType, SwFlag, txnStateName, type EmuPhase } from '../../../src/native/ghost.js';
import { drainAll, makeRig, nativeSkipReason, type Rig } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();
const MS = 1_000_000;
const TICK = 4 * MS; // the emulator's default tick (HZ=250)

/** Spawn `tid` in the workload process with `program`, admit it to the enclave; returns its TASK_NEW handle and seq. */
function admitWithProgram(rig: Rig, tid: number, program: EmuPhase[]): { handle: number; seq: number } {
  rig.emu.spawn(1, tid, true);
  rig.emu.setProgram(tid, program);
  rig.client.enterTask(tid);
  const m = drainAll(rig).find((x) => x.type === MsgType.TASK_NEW);
  assert.ok(m, `TASK_NEW for tid ${tid}`);
  return { handle: m.task, seq: m.seq };
}

function commitOn(rig: Rig, cpu: number, t: { handle: number; seq: number }): string {
  rig.txns.clear();
  rig.txns.add(cpu, t.handle, t.seq, 0, 0, CommitFlag.AT_TXN_COMMIT);
  rig.txns.commitWith(rig.client);
  return txnStateName(rig.txns.state(0));
}

test('enclave destroyed mid-run: the kernel hands every task to its default class, which finishes them; counted by the kernel', { skip }, () => {
  const rig = makeRig({ cpus: 4 });
  const program: EmuPhase[] = [
    { kind: 'cpu', ns: 10 * MS },
    { kind: 'block', ns: 2 * MS },
    { kind: 'cpu', ns: 5 * MS },
  ];
  const tids = Array.from({ length: 8 }, (_, i) => 300 + i);
  const tasks = tids.map((tid) => admitWithProgram(rig, tid, program));
  tasks.slice(0, 3).forEach((t, i) => assert.equal(commitOn(rig, i + 1, t), 'COMPLETE'));
  rig.emu.advance(4 * MS);
  let acc = rig.emu.accounting();
  assert.equal(acc.started, 8);
  assert.equal(acc.liveInGhost, 8);
  assert.equal(acc.ghostNs, 12 * MS, 'three tasks ran 4 ms each under ghOSt');
  assert.equal(acc.fairNs, 0, 'nothing ran in the default class while the enclave ran them');

  const launcher = createClient({ emulator: rig.emu, pid: 1, tid: 1 });
  launcher.attach(rig.enclaveId);
  launcher.destroy();
  assert.equal(rig.emu.enclave(rig.enclaveId)?.alive, false);
  acc = rig.emu.accounting();
  assert.equal(acc.liveInGhost, 0);
  assert.equal(acc.liveInFair, 8, 'every task was handed back, none lost');
  assert.equal(acc.remainingCpuNs, 8 * 15 * MS - 12 * MS, 'the progress made under ghOSt is kept');
  for (const tid of tids) assert.equal(rig.emu.thread(tid)?.cls, 'cfs', `tid ${tid} is no longer a ghOSt task`);

  // From here on the driver only moves time: the kernel runs, blocks, wakes and exits the threads.
  rig.emu.advance(1 * MS);
  for (let c = 0; c < 4; c++) {
    const cpu = rig.emu.cpu(c);
    assert.equal(cpu?.current, 0, `no ghOSt task runs on CPU ${c}`);
    assert.ok(tids.includes(cpu?.fairTid ?? 0), `CPU ${c} (the dead agents' CPUs too) runs a handed-back task in the default class`);
  }
  let steps = 0;
  while (rig.emu.accounting().live > 0 && steps++ < 1000) rig.emu.advance(MS);
  acc = rig.emu.accounting();
  assert.equal(acc.completed, 8, 'every task completed, counted by the kernel');
  assert.equal(acc.completedUnderFair, 8);
  assert.equal(acc.killed, 0);
  assert.equal(acc.live, 0);
  assert.equal(acc.remainingCpuNs, 0);
  assert.equal(acc.cpuNs, 8 * 15 * MS, 'total CPU work is exactly the programs’ demand');
  assert.equal(acc.ghostNs, 12 * MS);
  assert.equal(acc.fairNs, 8 * 15 * MS - 12 * MS);
  const done = rig.emu.takeCompletions();
  assert.deepEqual(done.map((c) => c.tid).sort((a, b) => a - b), tids);
  for (const c of done) {
    assert.equal(c.cpuNs, 15 * MS, `tid ${c.tid}: its own demand`);
    assert.equal(c.ghostNs + c.fairNs, c.cpuNs);
    assert.equal(c.underFair, true);
    assert.ok(c.endNs >= 5 * MS + 17 * MS - 4 * MS, `tid ${c.tid} ended at ${c.endNs / MS} ms: no faster than its demand and block allow`);
  }
  // 108 ms of CPU left on 4 CPUs from t = 4 ms: the work-conserving lower bound of the makespan.
  assert.ok(Math.max(...done.map((c) => c.endNs)) >= 4 * MS + 27 * MS);
  for (const tid of tids) assert.equal(rig.emu.thread(tid), null, `tid ${tid} exited`);
});

test('default class is fair: equal CPU-bound threads share the CPUs by vruntime instead of running to completion in turn', { skip }, () => {
  const emu = createEmulator({ cpus: 3, tickNs: TICK });
  const tids = [10, 11, 12, 13, 14, 15];
  for (const tid of tids) {
    emu.spawn(1, tid, true);
    emu.setProgram(tid, [{ kind: 'cpu', ns: 20 * MS }]);
  }
  emu.advance(0);
  assert.equal([0, 1, 2].filter((c) => (emu.cpu(c)?.fairTid ?? 0) !== 0).length, 3, 'three run, three wait');
  emu.advance(200 * MS);
  const done = emu.takeCompletions();
  assert.equal(done.length, 6);
  const ends = done.map((c) => c.endNs);
  // 120 ms of work on 3 CPUs with no idle time: the makespan is exactly 40 ms. Run-to-completion
  // (FIFO) would end three threads at 20 ms; sharing ends none before 40 ms minus two ticks.
  assert.equal(Math.max(...ends), 40 * MS);
  assert.ok(Math.min(...ends) >= 40 * MS - 2 * TICK, `earliest end ${Math.min(...ends) / MS} ms`);
  for (const c of done) assert.equal(c.cpuNs, 20 * MS);
  assert.equal(emu.accounting().fairNs, 120 * MS);
});

test('default class takes only CPUs ghOSt leaves free, and holds them as a higher class (CPU_UNAVAIL, CPU_AVAIL cleared)', { skip }, () => {
  const rig = makeRig({ cpus: 3 });
  const ghostTask = admitWithProgram(rig, 300, [{ kind: 'cpu', ns: 50 * MS }]);
  // A programmed thread outside ghOSt: CPU 0 has the spinning global agent, CPU 1 a parked satellite.
  rig.emu.spawn(1, 400, true);
  rig.emu.setProgram(400, [{ kind: 'cpu', ns: 3 * MS }]);
  rig.emu.advance(0);
  assert.equal(rig.emu.cpu(1)?.fairTid, 400, 'the first CPU ghOSt leaves free');
  assert.equal(rig.emu.thread(400)?.fairCpu, 1);
  const sat1 = rig.satellites[0];
  assert.ok(sat1);
  assert.equal(rig.sw.flags(sat1.agentSwIndex(1)) & SwFlag.CPU_AVAIL, 0, 'the agent sees its CPU taken');
  assert.equal(commitOn(rig, 1, ghostTask), 'CPU_UNAVAIL');
  assert.equal(commitOn(rig, 2, ghostTask), 'COMPLETE');
  rig.emu.advance(0);
  assert.equal(rig.emu.cpu(2)?.current, 300);
  // Another default-class thread finds no free CPU: it never preempts a committed ghOSt task.
  rig.emu.spawn(1, 401, true);
  rig.emu.setProgram(401, [{ kind: 'cpu', ns: 1 * MS }]);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(401)?.fairCpu, -1);
  assert.equal(rig.emu.cpu(2)?.current, 300);
  rig.emu.advance(3 * MS);
  // 400 ended at 3 ms; 401 got CPU 1 then and needs 1 ms more.
  assert.equal(rig.emu.thread(400), null);
  assert.equal(rig.emu.thread(401)?.fairCpu, 1);
  rig.emu.advance(1 * MS);
  assert.equal(rig.emu.cpu(1)?.fairTid, 0);
  assert.ok(rig.sw.flags(sat1.agentSwIndex(1)) & SwFlag.CPU_AVAIL, 'CPU 1 is the enclave’s again');
  const acc = rig.emu.accounting();
  assert.equal(acc.completedUnderFair, 2);
  assert.equal(acc.liveInGhost, 1);
  assert.equal(acc.ghostNs, 4 * MS, 'the ghOSt task ran undisturbed');
});
