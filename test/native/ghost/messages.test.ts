import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitFlag, DecFlag, MsgType, RunFlag, Target, TxnState, msgTypeName, txnStateName } from '../../../src/native/ghost.js';
import { admit, makeRig, nativeSkipReason, type Rig } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

interface Msg {
  type: number;
  length: number;
  seq: number;
  task: number;
  cpu: number;
  flags: number;
  a: number;
  b: number;
  time: number;
  cpuSeq: number;
  gtid: bigint;
  gtid2: bigint;
}

/** Drains into plain objects and tracks each task's barrier token (last consumed seqnum). */
class Tracker {
  readonly seq = new Map<number, number>();
  readonly seen = new Set<number>();
  constructor(readonly rig: Rig) {}
  drain(): Msg[] {
    const { batch, client, queue } = this.rig;
    batch.drainFrom(client, queue);
    const out: Msg[] = [];
    for (let i = 0; i < batch.count; i++) {
      const m: Msg = {
        type: batch.type(i),
        length: batch.length(i),
        seq: batch.seqnum(i),
        task: batch.task(i),
        cpu: batch.cpu(i),
        flags: batch.flags(i),
        a: batch.a(i),
        b: batch.b(i),
        time: batch.time(i),
        cpuSeq: batch.cpuSeq(i),
        gtid: batch.gtid(i),
        gtid2: batch.gtid2(i),
      };
      if (m.task) this.seq.set(m.task, m.seq);
      this.seen.add(m.type);
      out.push(m);
    }
    return out;
  }
  one(type: number, task?: number): Msg {
    const msgs = this.drain();
    const m = msgs.find((x) => x.type === type && (task === undefined || x.task === task));
    assert.ok(m, `expected ${msgTypeName(type)}; got ${msgs.map((x) => msgTypeName(x.type)).join(',') || 'nothing'}`);
    return m;
  }
  /** Commit `task` to `cpu` and let the CPU schedule; asserts success. */
  run(task: number, cpu: number, runFlags = 0): void {
    this.drain();
    const { txns, client, emu } = this.rig;
    txns.clear();
    txns.add(cpu, task, this.seq.get(task) ?? 0, 0, runFlags, CommitFlag.AT_TXN_COMMIT);
    txns.commitWith(client);
    assert.equal(txnStateName(txns.state(0)), 'COMPLETE');
    emu.advance(0);
  }
}

for (const abi of [84, 90, 91]) {
  test(`messages ABI ${abi}: every message type is produced by the emulator and decoded by the client`, { skip }, () => {
    const rig = makeRig({
      abi,
      cpus: 4,
      tunables: { deliver_ticks: 1, deliver_cpu_availability: 1, deliver_agent_runnability: 1 },
    });
    const { emu, client } = rig;
    const t = new Tracker(rig);
    // Satellites parked in RUN during setup stay runnable: no CPU_AGENT_BLOCKED for parking.
    assert.deepEqual(t.drain().filter((m) => m.type === MsgType.CPU_AGENT_BLOCKED), []);

    // TASK_NEW: payload size differs (ABI 84: 40 bytes, >= 88: 48 with agent_data).
    rig.emu.spawn(1, 300, true);
    client.enterTask(300);
    const n = t.one(MsgType.TASK_NEW);
    assert.equal(n.length, abi < 88 ? 48 : 56);
    assert.equal(Boolean(n.flags & DecFlag.HAS_AGENT_DATA), abi >= 88);
    assert.ok(n.flags & DecFlag.RUNNABLE);
    assert.equal(n.gtid, BigInt(emu.thread(300)?.gtid ?? -1));
    assert.equal(n.b, client.taskSwIndex(n.task));
    const a = n.task;

    t.run(a, 1, RunFlag.SEND_TASK_ON_CPU);
    const on = t.one(MsgType.TASK_ON_CPU, a);
    assert.equal(on.cpu, 1);
    assert.equal(emu.thread(300)?.onCpu, 1);

    emu.advance(1_000_000);
    emu.yield(300);
    const y = t.one(MsgType.TASK_YIELD, a);
    assert.equal(y.cpu, 1);
    assert.equal(y.time, 1_000_000, 'runtime in the payload');

    t.run(a, 2);
    emu.block(300);
    assert.equal(t.one(MsgType.TASK_BLOCKED, a).cpu, 2);
    emu.wake(300, 3);
    const w = t.one(MsgType.TASK_WAKEUP, a);
    assert.equal(w.a, 2, 'last_ran_cpu');
    assert.equal(w.b, 3, 'waker_cpu');
    assert.equal(w.cpu, 2, 'wake_up_cpu = last CPU');

    t.run(a, 1);
    emu.setAffinity(300);
    const msgs = t.drain();
    assert.deepEqual(msgs.map((m) => m.type), [MsgType.TASK_AFFINITY_CHANGED, MsgType.TASK_PREEMPT], 'AFFINITY_CHANGED first, then the running task is forced off');
    emu.setNice(300, -5);
    assert.equal(t.one(MsgType.TASK_PRIORITY_CHANGED, a).a, -5);
    emu.latchFailure(300, 16);
    assert.equal(t.one(MsgType.TASK_LATCH_FAILURE, a).a, 16);

    t.run(a, 1);
    emu.switchto(300);
    assert.equal(t.one(MsgType.TASK_SWITCHTO, a).cpu, 1);
    emu.wake(300);
    t.drain();

    // A higher class takes CPU 1: the running task is preempted and CPU_BUSY/AVAILABLE follow.
    t.run(a, 1);
    emu.setCpuBusy(1, true);
    const busy = t.drain();
    assert.ok(busy.some((m) => m.type === MsgType.TASK_PREEMPT && !(m.flags & DecFlag.WAS_LATCHED)));
    assert.ok(busy.some((m) => m.type === MsgType.CPU_BUSY && m.cpu === 1));
    emu.setCpuBusy(1, false);
    assert.equal(t.one(MsgType.CPU_AVAILABLE).cpu, 1);

    // A latched task displaced before it ran: PREEMPT with was_latched.
    const b = admit(rig, 301).handle;
    t.drain();
    rig.txns.clear();
    rig.txns.add(3, a, t.seq.get(a) ?? 0, 0, 0, CommitFlag.AT_TXN_COMMIT);
    rig.txns.commitWith(client);
    rig.txns.clear();
    rig.txns.add(3, b, sequenceOf(rig, b), 0, 0, CommitFlag.AT_TXN_COMMIT);
    rig.txns.commitWith(client);
    assert.equal(rig.txns.state(0), TxnState.COMPLETE);
    const lp = t.one(MsgType.TASK_PREEMPT, a);
    assert.ok(lp.flags & DecFlag.WAS_LATCHED);
    emu.advance(0);
    assert.equal(emu.thread(301)?.onCpu, 3);

    // Ticks (CPU_TICK.is_agent exists from ABI 90) and an agent timer.
    emu.armTimer(0, emu.now() + 1000, 7, 99);
    emu.advance(4_000_000);
    const all = t.drain();
    const timer = all.find((m) => m.type === MsgType.CPU_TIMER_EXPIRED);
    assert.ok(timer);
    assert.equal(timer.time, 7);
    assert.equal(timer.cpuSeq, 99);
    const ticks = all.filter((m) => m.type === MsgType.CPU_TICK);
    // Only CPUs where a ghost-class task is current: the global agent (CPU 0) and task 301 (CPU 3).
    assert.deepEqual(ticks.map((m) => m.cpu).sort(), [0, 3]);
    for (const tk of ticks) {
      assert.equal(tk.length, abi < 90 ? 12 : 16);
      assert.equal(Boolean(tk.flags & DecFlag.HAS_CPU), abi >= 90);
      assert.equal(Boolean(tk.flags & DecFlag.IS_AGENT), abi >= 90 && tk.cpu === 0, `is_agent on cpu ${tk.cpu}`);
    }

    // CPU_NOT_IDLE: the idle task latched with NEED_CPU_NOT_IDLE, then a CFS task takes the CPU.
    rig.txns.clear();
    rig.txns.add(2, Target.IDLE, 0, 0, RunFlag.NEED_CPU_NOT_IDLE, CommitFlag.AT_TXN_COMMIT | CommitFlag.ALLOW_TASK_ONCPU);
    rig.txns.commitWith(client);
    assert.equal(rig.txns.state(0), TxnState.COMPLETE);
    emu.spawn(9, 900, true);
    emu.setCpuBusy(2, true, 900);
    const ni = t.drain().find((m) => m.type === MsgType.CPU_NOT_IDLE);
    assert.ok(ni);
    assert.equal(ni.gtid2, BigInt(emu.thread(900)?.gtid ?? -1));
    emu.setCpuBusy(2, false);

    // A ping un-parks a satellite without any message; a real sleep and wakeup of the agent
    // thread produce CPU_AGENT_BLOCKED / CPU_AGENT_WAKEUP.
    assert.equal(client.run(Target.AGENT, 0, 2), 0);
    assert.deepEqual(t.drain().filter((m) => m.type === MsgType.CPU_AGENT_WAKEUP), []);
    emu.agentSleep(2, true);
    assert.equal(t.one(MsgType.CPU_AGENT_BLOCKED).cpu, 2);
    emu.agentSleep(2, false);
    assert.equal(t.one(MsgType.CPU_AGENT_WAKEUP).cpu, 2);

    // Departure and death; TASK_DEAD grows a cpu field in ABI 89.
    emu.depart(301);
    const dep = t.one(MsgType.TASK_DEPARTED, b);
    assert.ok(dep.flags & DecFlag.WAS_CURRENT);
    assert.equal(client.swFree(b), 0);
    t.run(a, 1);
    emu.exit(300);
    const dead = t.one(MsgType.TASK_DEAD, a);
    assert.equal(dead.length, abi < 89 ? 16 : 24);
    assert.equal(dead.cpu, abi < 89 ? -1 : 1);
    assert.equal(client.swFree(a), 0);

    const expected = Object.values(MsgType).filter((v) => v !== MsgType.NOP);
    const missing = expected.filter((v) => !t.seen.has(v)).map(msgTypeName);
    assert.deepEqual(missing, [], 'every message type was seen');
    const st = client.drainStats(rig.queue);
    assert.equal(st.bad + st.staleSeq + st.corrupt + st.overflow, 0);
  });
}

/** Current barrier of a task from its status word (what the agent's token must equal). */
function sequenceOf(rig: Rig, task: number): number {
  return rig.sw.barrier(rig.client.taskSwIndex(task));
}
