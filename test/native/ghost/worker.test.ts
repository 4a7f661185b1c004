/**
 * The host agent's worker thread (src/agent/ghost/worker.ts) against the emulated kernel: the
 * global agent spins in a worker thread, its satellites are native threads parked in RUN, and this
 * thread plays the machine. BOOST_PRIO: when a CFS task wants the global agent's CPU, the agent
 * parks (RUN with RTLA_ON_IDLE, blocking its thread) and comes back once that CPU is idle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEmulator, createClient } from '../../../src/native/ghost.js';
import type { FromWorker, WorkerConfig } from '../../../src/agent/ghost/worker.js';
import { nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

async function until(cond: () => boolean, what: string, emu: { advance(ns: number): void }, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    emu.advance(0); // scheduling points: latched tasks get on their CPUs
    await sleep(2);
  }
}

test('worker agent on the emulator: schedules, yields its CPU on BOOST_PRIO (blocking in RUN), resumes when the CPU is idle, stops cleanly', { skip }, async () => {
  const emu = createEmulator({ cpus: 3 });
  const { port1, port2 } = new MessageChannel();
  const cfg: Omit<WorkerConfig, 'port'> & { port: typeof port2 } = {
    cpus: [0, 1, 2],
    globalCpu: 0,
    policy: 'fifo',
    queueElems: 1024,
    emulator: { id: emu.id(), pid: 100, tid: 100 },
    port: port2,
  };
  const worker = new Worker(new URL('../../../src/agent/ghost/worker.js', import.meta.url), { workerData: cfg, transferList: [port2] });
  const messages: FromWorker[] = [];
  port1.on('message', (m: FromWorker) => messages.push(m));
  const exited = new Promise<number>((res) => worker.on('exit', res));
  try {
    await until(() => messages.some((m) => m.type === 'ready'), 'ready', emu);
    const ready = messages.find((m) => m.type === 'ready');
    assert.ok(ready && ready.type === 'ready');
    for (const c of [1, 2]) assert.equal(emu.cpu(c)?.blockedInRun, true, `satellite of CPU ${c} parked in RUN on its own thread`);
    const launcher = createClient({ emulator: emu, pid: 1, tid: 1 });
    launcher.attach(ready.enclaveId, ready.abi);
    emu.spawn(1, 300, true);
    launcher.enterTask(300);
    await until(() => (emu.thread(300)?.onCpu ?? -1) > 0, 'task 300 placed by the worker agent', emu);

    // A CFS task wants CPU 0: the agent sees BOOST_PRIO and parks; the CFS task runs.
    emu.setCpuBusy(0, true);
    await until(() => emu.cpu(0)?.blockedInRun === true, 'the global agent parked in RUN', emu);
    emu.spawn(1, 301, true);
    launcher.enterTask(301);
    for (let i = 0; i < 20; i++) {
      emu.advance(0);
      await sleep(2);
    }
    assert.equal(emu.thread(301)?.onCpu, -1, 'nothing is scheduled while the global agent has given its CPU away');
    assert.equal(emu.thread(301)?.latchedCpu, -1);
    // The CFS task leaves: CPU 0 is idle, RTLA_ON_IDLE runs the agent again.
    emu.setCpuBusy(0, false);
    await until(() => (emu.thread(301)?.onCpu ?? -1) > 0, 'task 301 placed after the agent resumed', emu);
    assert.equal(emu.cpu(0)?.blockedInRun, false);
    port1.postMessage({ type: 'stop' });
    await until(() => messages.some((m) => m.type === 'stopped'), 'stopped', emu);
    const stopped = messages.find((m) => m.type === 'stopped');
    assert.equal(stopped?.type === 'stopped' ? stopped.reason : '', 'stopped');
    assert.equal(await exited, 0, 'the worker (and its satellite threads) ended');
  } finally {
    await worker.terminate();
    port1.close();
  }
});
