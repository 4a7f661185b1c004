/** The agent's failure handling: queue overflow, INVALID_* results, lost CPUs, topology, gtid bits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GhostAgent, QueueOverflowError, tidOfGtid } from '../../../src/agent/ghost/agent.js';
import { hostCpuOrder, parseCpuList } from '../../../src/agent/ghost/topology.js';
import { hostGtidSeqBits, seqBitsFor } from '../../../src/agent/ghost/gtid.js';
import { CommitFlag, createClient } from '../../../src/native/ghost.js';
import { fifoAgent, makeRig, nativeSkipReason, type Rig } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

function agentOn(rig: Rig, extra: Partial<ConstructorParameters<typeof GhostAgent>[0]> = {}): GhostAgent {
  return fifoAgent(rig, extra);
}

test('agent: a queue overflow is fatal — step() throws QueueOverflowError naming the loss (as ghost-userspace does)', { skip }, () => {
  const rig = makeRig({ cpus: 3, queueElems: 16 });
  const agent = agentOn(rig);
  rig.emu.spawn(1, 300, false);
  rig.client.enterTask(300);
  for (let i = 0; i < 20; i++) rig.emu.setNice(300, i % 10); // 16 slots: most of these are lost
  assert.throws(() => agent.step(), (e: unknown) => e instanceof QueueOverflowError && e.lost > 0 && /overflowed \(\d+ message\(s\) lost\)/.test(e.message));
  assert.ok(agent.stats.overflows > 0);
});

test('agent: INVALID_* results are counted and reported; after invalidLimit in a row the task leaves the runqueue', { skip }, () => {
  const rig = makeRig({ cpus: 3 });
  const errors: string[] = [];
  // An agent bug: both COMMIT_AT bits set is INVALID_FLAGS for every commit.
  const agent = agentOn(rig, { commitFlags: CommitFlag.AT_TXN_COMMIT | CommitFlag.AT_SCHEDULE, invalidLimit: 3, onError: (m) => errors.push(m) });
  rig.emu.spawn(1, 300, true);
  rig.client.enterTask(300);
  for (let i = 0; i < 6; i++) agent.step();
  assert.equal(agent.stats.invalid, 3, 'three attempts, then no more');
  assert.equal(agent.stats.dropped, 1);
  assert.equal(agent.stats.failures.INVALID_FLAGS, 3);
  assert.equal(errors.length, 3);
  assert.match(errors[2] ?? '', /task 300 .*INVALID_FLAGS 3 times in a row: dropped/);
});

test('agent: a CPU lost to NO_AGENT is re-probed and used again once a new agent holds it', { skip }, () => {
  const rig = makeRig({ cpus: 3, agents: false });
  const sat = (cpu: number, pid: number): ReturnType<typeof createClient> => {
    const s = createClient({ emulator: rig.emu, pid, tid: pid + cpu });
    s.attach(rig.enclaveId);
    assert.equal(s.becomeAgent(cpu, -1), 0);
    assert.equal(s.run(0, rig.sw.barrier(s.agentSwIndex(cpu)), cpu), 0);
    return s;
  };
  sat(1, 100);
  sat(2, 200);
  assert.equal(rig.client.becomeAgent(0, rig.queue), 0);
  const agent = agentOn(rig, { reprobeNs: 1_000_000 });
  rig.emu.killProcess(200); // CPU 2 loses its agent
  rig.emu.spawn(1, 300, true);
  rig.client.enterTask(300);
  rig.emu.spawn(1, 301, true);
  rig.client.enterTask(301);
  agent.step();
  assert.equal(agent.stats.failures.NO_AGENT, 1);
  assert.equal(agent.stats.lostCpus, 1);
  rig.emu.advance(0);
  sat(2, 400); // a new agent process takes CPU 2
  rig.emu.advance(2_000_000);
  agent.step();
  agent.step();
  rig.emu.advance(0);
  assert.equal(agent.stats.reprobed, 1);
  assert.equal(agent.stats.lostCpus, 0);
  assert.deepEqual([300, 301].map((t) => rig.emu.thread(t)?.onCpu).sort(), [1, 2], 'CPU 2 runs work again');
});

test('agent: workers are taken in the given placement order', { skip }, () => {
  const rig = makeRig({ cpus: 4 });
  const agent = agentOn(rig, { cpuOrder: [3, 1, 2, 0] });
  rig.emu.spawn(1, 300, true);
  rig.client.enterTask(300);
  assert.equal(agent.step(), 1);
  rig.emu.advance(0);
  assert.equal(rig.emu.thread(300)?.onCpu, 3, 'the first CPU of the order gets the first task');
});

test('topology: LLC by LLC, one thread of every core before any SMT sibling (fake sysfs root)', () => {
  const root = mkdtempSync(join(tmpdir(), 'ghost-topo-'));
  try {
    // 2 LLCs x 2 cores x 2 threads: cpuN and cpuN+4 are siblings; LLC A = {0,1,4,5}, B = {2,3,6,7}.
    for (let c = 0; c < 8; c++) {
      const base = join(root, 'devices/system/cpu', `cpu${c}`);
      mkdirSync(join(base, 'topology'), { recursive: true });
      const core = c % 4;
      writeFileSync(join(base, 'topology/thread_siblings_list'), `${core},${core + 4}\n`);
      for (const [idx, level, list] of [
        ['index0', 1, `${core},${core + 4}`],
        ['index3', 3, core < 2 ? '0-1,4-5' : '2-3,6-7'],
      ] as const) {
        mkdirSync(join(base, 'cache', idx), { recursive: true });
        writeFileSync(join(base, 'cache', idx, 'level'), `${level}\n`);
        writeFileSync(join(base, 'cache', idx, 'shared_cpu_list'), `${list}\n`);
      }
    }
    assert.deepEqual(hostCpuOrder([0, 1, 2, 3, 4, 5, 6, 7], root), [0, 1, 4, 5, 2, 3, 6, 7]);
    assert.deepEqual(hostCpuOrder([1, 2, 5], root), [1, 5, 2], 'a subset keeps the same rule');
    assert.deepEqual(hostCpuOrder([2, 0, 1], join(root, 'nothing')), [0, 1, 2], 'no topology files: numeric order');
    assert.deepEqual(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
    assert.equal(parseCpuList('3-1'), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('gtid: sequence bits come from pid_max_max (fake procfs); the TID is recovered with them', () => {
  const root = mkdtempSync(join(tmpdir(), 'ghost-proc-'));
  try {
    mkdirSync(join(root, 'sys/kernel'), { recursive: true });
    assert.equal(hostGtidSeqBits(root), 41, 'nothing exported: the 64-bit PID_MAX_LIMIT (4194304)');
    writeFileSync(join(root, 'sys/kernel/pid_max'), '32768\n');
    assert.equal(hostGtidSeqBits(root), 41);
    writeFileSync(join(root, 'sys/kernel/pid_max_max'), '32768\n');
    assert.equal(hostGtidSeqBits(root), 48, '32768 pids: 15 TID bits, 48 sequence bits');
    assert.equal(seqBitsFor(4_194_304), 41);
    const tid = 12345;
    const gtid = (BigInt(tid) << 48n) | 7n;
    assert.equal(tidOfGtid(Number(gtid & 0xffffffffn), Number(gtid >> 32n), 48), tid);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
