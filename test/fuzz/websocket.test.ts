/**
 * Hostile telemetry sessions against a real TelemetryServer on loopback: arbitrary frames (any
 * JSON, prototype keys, wrong and missing tokens, binary, invalid UTF-8, oversized), some from a
 * client that never reads. After every session: the server still answers a fresh client, no
 * handler crashed, the control target saw no operation without the right token (policy, pins
 * and parameters unchanged), the token is unchanged, and Object.prototype is untouched. A client
 * that stops reading is bounded by the per-connection send queue (test/unit/telemetry/send-queue).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { InputError } from '../../src/core/errors.js';
import { resolveParams } from '../../src/learner/params.js';
import { TelemetryServer } from '../../src/telemetry/server.js';
import { generateToken, tokenMatches } from '../../src/telemetry/token.js';

const TOKEN = generateToken();
let server: TelemetryServer;
const crashed: unknown[] = [];
/** The control target: every call that reached it, with the state it changed. */
const target = {
  calls: [] as string[],
  params: resolveParams({}),
  pins: new Map<number, unknown>(),
  paused: false,
};

before(async () => {
  server = await TelemetryServer.listen({
    token: TOKEN,
    source: { kind: 'sim', name: 'fuzz' },
    rate: { perSecond: 10_000, burst: 10_000 },
    floodCloseAfter: 1_000_000,
    badTokenCloseAfter: 1_000_000,
    maxPayload: 64 * 1024,
    control: {
      setParams: (p) => {
        target.calls.push('set-params');
        try {
          target.params = resolveParams(p as never, target.params);
        } catch (e) {
          throw e instanceof InputError ? e : new InputError('params', String(e));
        }
      },
      pause: () => {
        target.calls.push('pause');
        target.paused = true;
      },
      resume: () => {
        target.calls.push('resume');
        target.paused = false;
      },
      pin: (id, p) => {
        target.calls.push('pin');
        target.pins.set(id, p);
      },
      unpin: (id) => {
        target.calls.push('unpin');
        target.pins.delete(id);
      },
      snapshot: () => ({ params: target.params }),
    },
    onError: (e) => crashed.push(e),
  });
  server.policy({ generation: 1, params: resolveParams({}), entries: [{ funcId: 2, rank: 1, sliceNs: 3e6 }] }, 0);
});
after(() => server.close());

const PROTO = ['__proto__', 'constructor', 'prototype', 'toString'];
const OPS = ['set-params', 'pause', 'resume', 'pin', 'unpin', 'snapshot', 'nope', '__proto__'];
const jsonish = fc.jsonValue({ maxDepth: 3 });
const frameObj = fc.record(
  {
    v: fc.oneof(fc.constant(1), jsonish),
    type: fc.oneof(fc.constantFrom('ping', 'control', 'hello', '__proto__'), fc.string({ maxLength: 8 })),
    op: fc.oneof(fc.constantFrom(...OPS), jsonish),
    id: fc.oneof(fc.string({ maxLength: 80 }), jsonish),
    // Never the real token: every control frame here must be refused.
    token: fc.oneof(fc.string({ maxLength: 40 }), jsonish, fc.constant(TOKEN.slice(1))),
    funcId: fc.oneof(fc.integer(), jsonish),
    rank: fc.oneof(fc.integer(), fc.double(), jsonish),
    sliceNs: fc.oneof(fc.integer(), fc.double(), jsonish),
    params: fc.oneof(fc.dictionary(fc.oneof(fc.constantFrom('alpha', 'windowNs', ...PROTO), fc.string({ maxLength: 6 })), jsonish, { maxKeys: 4 }), jsonish),
  },
  { requiredKeys: [] },
);
/** Well-formed control operations with a wrong token: they reach the token check, and stop there. */
const wrongToken = fc.oneof(fc.string({ maxLength: 40 }), fc.constant(TOKEN.slice(1)), fc.constant(`${TOKEN} `), fc.constant(TOKEN.toUpperCase()));
const wellFormed = fc.oneof(
  fc.record({ op: fc.constantFrom('pause', 'resume', 'snapshot') }),
  fc.record({ op: fc.constant('set-params'), params: fc.record({ alpha: fc.double({ min: 0, max: 10, noNaN: true }) }) }),
  fc.record({ op: fc.constant('pin'), funcId: fc.integer({ min: 1, max: 100 }), rank: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ op: fc.constant('unpin'), funcId: fc.integer({ min: 1, max: 100 }) }),
);
const controlWithWrongToken = fc.tuple(wellFormed, wrongToken).map(([o, token]) => ({ text: JSON.stringify({ v: 1, type: 'control', id: 'w', token, ...o }) }));

/** What goes on the wire: JSON (prototype keys spelled out), garbage text, binary or bad UTF-8. */
const frame = fc.oneof(
  { weight: 3, arbitrary: controlWithWrongToken },
  { weight: 6, arbitrary: frameObj.map((o) => ({ text: JSON.stringify(o) })) },
  { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"polluted":1},"v":1,"type":"ping","id":"p"}', '{"v":1,"type":"control","op":"pause","token":null}', '[]', 'null', '{', '"x"').map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bin) => ({ bin })) },
  { weight: 1, arbitrary: fc.constant({ bytes: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }) },
  { weight: 1, arbitrary: fc.constant({ text: 'x'.repeat(70 * 1024) }) },
);

function open(reading: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url);
    ws.on('error', () => {});
    ws.once('open', () => {
      if (!reading) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(ws);
    });
    ws.once('unexpected-response', () => reject(new Error('refused')));
  });
}

/** A fresh client still gets hello and the current policy. */
function alive(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url);
    const timer = setTimeout(() => reject(new Error('no hello within 5 s')), 5000);
    ws.on('message', (d) => {
      if (JSON.parse(String(d)).type === 'policy') {
        clearTimeout(timer);
        ws.close();
        resolve();
      }
    });
    ws.on('error', reject);
  });
}

let sessions = 0;
let frames = 0;

test('fuzz: hostile WebSocket sessions leave the server up and its state and token unchanged', { timeout: 150_000 }, async () => {
  const t0 = performance.now();
  const params0 = JSON.stringify(target.params);
  const rss0 = process.memoryUsage().rss;
  await fc.assert(
    fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 12 }), fc.boolean(), async (session, reading) => {
      sessions++;
      const ws = await open(reading);
      for (const f of session) {
        frames++;
        if (ws.readyState !== WebSocket.OPEN) break;
        if ('bin' in f) ws.send(f.bin, { binary: true });
        else if ('bytes' in f) ws.send(f.bytes, { binary: false });
        else ws.send(f.text);
      }
      // Let the server handle the session, then drop the connection as a hostile client would.
      await new Promise((r) => setTimeout(r, 20));
      ws.terminate();
      assert.deepEqual(crashed, [], 'no handler threw');
      assert.deepEqual(target.calls, [], 'no control operation without the token');
      assert.equal(server.refused.unsupported + server.refused.internal + server.refused.rejected, 0);
      assert.equal(JSON.stringify(target.params), params0);
      assert.equal(target.pins.size, 0);
      assert.equal(target.paused, false);
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    }),
    { numRuns: 120, seed: 15 },
  );
  assert.ok(server.refused.unauthorized > 0, 'well-formed operations with wrong tokens were tried');
  await alive();
  assert.ok(tokenMatches(TOKEN, TOKEN) && !tokenMatches(TOKEN, TOKEN.slice(1)));
  // The token still works after all of it: one authorised pause reaches the target.
  const ws = await open(true);
  await new Promise<void>((resolve) => {
    ws.on('message', (d) => JSON.parse(String(d)).type === 'ack' && resolve());
    ws.send(JSON.stringify({ v: 1, type: 'control', op: 'pause', id: 'ok', token: TOKEN }));
  });
  ws.close();
  assert.deepEqual(target.calls, ['pause']);
  const rssGrowthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(rssGrowthMb < 256, `RSS grew ${rssGrowthMb.toFixed(0)} MB over the property`);
  process.stderr.write(`fuzz websocket: ${sessions} sessions, ${frames} frames in ${((performance.now() - t0) / 1000).toFixed(1)} s; refused ${JSON.stringify(server.refused)}\n`);
});
