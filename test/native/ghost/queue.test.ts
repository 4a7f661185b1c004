import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageBatch, MsgType } from '../../../src/native/ghost.js';
import { makeRig, nativeSkipReason } from '../../support/ghost-rig.js';

const skip = nativeSkipReason();

test('queue overflow: a full ring drops messages and the drain reports the kernel overflow count', { skip }, () => {
  const rig = makeRig({ queueElems: 16 });
  rig.batch.drainFrom(rig.client, rig.queue);
  for (let i = 0; i < 4; i++) {
    rig.emu.spawn(1, 300 + i, true);
    rig.client.enterTask(300 + i); // TASK_NEW = 7 slots: the third one no longer fits
  }
  const n = rig.batch.drainFrom(rig.client, rig.queue);
  assert.equal(n, 2);
  const st = rig.client.drainStats(rig.queue);
  assert.equal(st.overflow, 2);
  assert.equal(st.bad, 0);
});

test('queue wrap: messages never straddle the end; NOP fillers are skipped; partial drains resume', { skip }, () => {
  const rig = makeRig({ queueElems: 16 });
  rig.batch.drainFrom(rig.client, rig.queue);
  rig.emu.spawn(1, 300, true);
  rig.client.enterTask(300);
  assert.equal(rig.batch.drainFrom(rig.client, rig.queue), 1);
  const handle = rig.batch.task(0);
  const small = new MessageBatch(1);
  let seen = 0;
  let lastSeq = rig.batch.seqnum(0);
  for (let round = 0; round < 40; round++) {
    // 3-slot and 2-slot messages in turn walk the ring through every alignment.
    rig.emu.setNice(300, round % 7);
    rig.emu.setAffinity(300);
    while (small.drainFrom(rig.client, rig.queue) === 1) {
      assert.equal(small.task(0), handle);
      assert.ok(small.seqnum(0) > lastSeq, 'seqnums strictly increase');
      lastSeq = small.seqnum(0);
      seen++;
      const t = small.type(0);
      assert.ok(t === MsgType.TASK_PRIORITY_CHANGED || t === MsgType.TASK_AFFINITY_CHANGED);
    }
  }
  assert.equal(seen, 80);
  const st = rig.client.drainStats(rig.queue);
  assert.ok(st.nops > 0, 'the producer padded the ring end with NOPs');
  assert.equal(st.bad + st.overflow + st.staleSeq + st.corrupt, 0);
});
