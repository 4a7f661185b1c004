import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifier, formatNotify, loadUnixDgram } from '../../../src/service/sd-notify.js';

test('the datagram is KEY=VALUE lines; keys are checked, newlines in values cannot add a field', () => {
  assert.equal(formatNotify({ READY: 1, STATUS: 'policy\ngeneration 3' }), 'READY=1\nSTATUS=policy generation 3');
  assert.throws(() => formatNotify({ 'bad key': 1 }), /bad key/);
});

test('without NOTIFY_SOCKET nothing is sent', async () => {
  assert.equal(await createNotifier('').notify({ READY: 1 }), false);
});

test('READY=1 reaches a unix datagram socket standing in for systemd', { skip: loadUnixDgram() ? false : 'unix-dgram (optional dependency) not built' }, async () => {
  const ud = createRequire(import.meta.url)('unix-dgram') as {
    createSocket(t: string, cb: (b: Buffer) => void): { bind(p: string): void; close(): void };
  };
  const path = join(mkdtempSync(join(tmpdir(), 'notify-')), 'notify.sock');
  const got: string[] = [];
  const rx = ud.createSocket('unix_dgram', (b) => got.push(b.toString('utf8')));
  rx.bind(path);
  const n = createNotifier(path);
  try {
    assert.equal(await n.notify({ READY: 1, STATUS: 'attached' }), true);
    assert.equal(await n.notify({ STOPPING: 1 }), true);
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['READY=1\nSTATUS=attached', 'STOPPING=1']);
  } finally {
    n.close();
    rx.close();
  }
  const nowhere = createNotifier(join(tmpdir(), 'no-such-dir-x', 's'));
  try {
    await assert.rejects(nowhere.notify({ READY: 1 }), /sd_notify to/);
  } finally {
    nowhere.close(); // an open datagram socket would keep the process alive
  }
});
