import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { TelemetryClient } from '../../../src/telemetry/client.js';
import type { LiveSession } from '../../../src/telemetry/live/session.js';
import { TelemetryServer } from '../../../src/telemetry/server.js';
import { generateToken } from '../../../src/telemetry/token.js';
import { smallSession } from '../../support/telemetry.js';

const token = generateToken();
let server: TelemetryServer;
let session: LiveSession;
const crashed: unknown[] = [];

before(async () => {
  let s: LiveSession | undefined;
  server = await TelemetryServer.listen({
    token,
    source: { kind: 'sim', name: 'hostile-input test' },
    rate: { perSecond: 50, burst: 100 },
    control: {
      setParams: (p) => s!.setParams(p),
      pause: () => s!.pause(),
      resume: () => s!.resume(),
      pin: (id, p) => s!.pin(id, p),
      unpin: (id) => s!.unpin(id),
      snapshot: () => s!.snapshot(),
    },
    onError: (e) => crashed.push(e),
  });
  session = s = smallSession({ invocations: 20000, publisher: server });
  // The scheduler keeps running throughout the attacks: one virtual second every 100 ms, with
  // enough arrivals (≈200 virtual s) that it cannot finish before the last test.
  session.start(100);
});

after(async () => {
  session.stop();
  await server.close();
});

interface Raw {
  ws: WebSocket;
  msgs: Array<Record<string, unknown>>;
  closed: Promise<number>;
}

function open(headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url, { headers });
    const msgs: Array<Record<string, unknown>> = [];
    const closed = new Promise<number>((res) => ws.on('close', (code) => res(code)));
    ws.on('message', (d) => msgs.push(JSON.parse(String(d)) as Record<string, unknown>));
    ws.once('open', () => resolve({ ws, msgs, closed }));
    ws.once('error', reject);
  });
}

async function waitFor<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const errorWith = (raw: Raw, code: string, id?: string) => waitFor(() => raw.msgs.find((m) => m['type'] === 'error' && m['code'] === code && (id === undefined || m['id'] === id)));

test('newcomers get hello, functions and the current state', async () => {
  const raw = await open();
  await waitFor(() => raw.msgs.find((m) => m['type'] === 'hello'));
  await waitFor(() => raw.msgs.find((m) => m['type'] === 'functions'));
  assert.equal(raw.msgs[0]!['type'], 'hello');
  raw.ws.close();
});

test('malformed JSON, wrong version, unknown op, stray fields and binary frames get error frames; the connection survives', async () => {
  const raw = await open();
  raw.ws.send('{"v":1,"type":"control",');
  await errorWith(raw, 'bad-json');
  raw.ws.send(JSON.stringify({ v: 2, type: 'ping', id: 'a' }));
  await errorWith(raw, 'bad-message', 'a');
  raw.ws.send(JSON.stringify({ v: 1, type: 'control', id: 'b', token, op: 'format-disk' }));
  await errorWith(raw, 'unknown-op', 'b');
  raw.ws.send(JSON.stringify({ v: 1, type: 'control', id: 'c', token, op: 'set-params', params: { alpha: 3, evil: true } }));
  await errorWith(raw, 'bad-message', 'c');
  raw.ws.send(JSON.stringify({ v: 1, type: 'control', id: 'd', token, op: 'set-params', params: { alpha: '3' } }));
  await errorWith(raw, 'bad-message', 'd');
  raw.ws.send(JSON.stringify({ v: 1, type: 'control', id: 'e', token, op: 'set-params', params: { alpha: -5 } }));
  await errorWith(raw, 'rejected', 'e');
  raw.ws.send(JSON.stringify({ v: 1, type: 'control', id: 'f', token, op: 'pin', funcId: 0, rank: 1 }));
  await errorWith(raw, 'bad-message', 'f');
  raw.ws.send(JSON.stringify([1, 2, 3]));
  raw.ws.send('null');
  raw.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
  await waitFor(() => raw.msgs.filter((m) => m['type'] === 'error' && m['code'] === 'bad-message').length >= 6 || undefined);
  raw.ws.send(JSON.stringify({ v: 1, type: 'ping', id: 'alive' }));
  await waitFor(() => raw.msgs.find((m) => m['type'] === 'ack' && m['id'] === 'alive'));
  raw.ws.close();
});

test('wrong tokens are refused, and repeated ones close the connection', async () => {
  const raw = await open();
  for (let i = 0; i < 5; i++) raw.ws.send(JSON.stringify({ v: 1, type: 'control', id: `t${i}`, token: `${token}x`, op: 'pause' }));
  await errorWith(raw, 'unauthorized', 't0');
  assert.equal(await raw.closed, 1008);
  assert.equal(session.paused, false);
});

test('an oversized frame closes the connection with 1009', async () => {
  const raw = await open();
  raw.ws.send(JSON.stringify({ v: 1, type: 'ping', id: 'x'.repeat(64 * 1024) }));
  assert.equal(await raw.closed, 1009);
});

test('a flood gets one rate-limit error and then a close, not a stalled server', async () => {
  const raw = await open();
  const frame = JSON.stringify({ v: 1, type: 'ping', id: 'p' });
  for (let i = 0; i < 2000; i++) raw.ws.send(frame);
  const code = await raw.closed;
  assert.equal(code, 1008);
  assert.equal(raw.msgs.filter((m) => m['type'] === 'error' && m['code'] === 'rate-limited').length, 1);
  const acks = raw.msgs.filter((m) => m['type'] === 'ack').length;
  assert.ok(acks >= 100 && acks < 400, `about the burst should be served, got ${acks}`);
});

test('pages from other origins cannot connect', async () => {
  await assert.rejects(open({ origin: 'https://evil.example' }), /Unexpected server response: 401/);
  const ok = await open({ origin: 'http://127.0.0.1:8090' });
  ok.ws.close();
});

test('through all of it the machine kept scheduling and the policy did not change; a valid control still works', async () => {
  assert.deepEqual(crashed, []);
  // The session is stepping on its timer; give a loaded CI machine time to reach 2 generations.
  await waitFor(() => session.policies.length >= 2, 60_000);
  assert.ok(session.running, 'the session is still stepping');
  for (const { policy } of session.policies) assert.equal(policy.params.alpha, 2, 'no hostile frame changed a parameter');
  assert.deepEqual(session.pins, []);
  assert.equal(session.paused, false);
  const client = await TelemetryClient.connect(server.url, { token });
  const gen = client.policy?.generation ?? 0;
  await client.control({ op: 'set-params', params: { alpha: 3 } });
  // A round already under way when the control arrives still publishes the old α: the new value
  // must appear within the next few generations (and every later one), not necessarily the first.
  let next = await client.nextPolicy(gen, 20_000);
  for (let i = 0; i < 3 && next.params.alpha !== 3; i++) next = await client.nextPolicy(next.generation, 20_000);
  assert.equal(next.params.alpha, 3, `generation ${next.generation} after the control still has α ${next.params.alpha}`);
  await assert.rejects(client.control({ op: 'unpin', funcId: 1 }), /not pinned/);
  client.close();
});
