import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { TelemetryServer } from '../../../src/telemetry/server.js';
import { generateToken } from '../../../src/telemetry/token.js';

/** A client that sends but never reads: its socket is paused, so the server's replies pile up. */
function nonReadingClient(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(ws);
    });
    ws.once('error', reject);
    ws.on('error', () => {});
  });
}

const HERE = dirname(fileURLToPath(import.meta.url));

test('10 clients that never read their replies: server RSS grows ≤ 16 MB over 20 s', { timeout: 60_000 }, async () => {
  // The server runs in its own process so its RSS is not mixed with the clients'.
  const child = fork(join(HERE, '..', '..', 'support', 'telemetry-child.js'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(/port (\d+)/.exec(String(line))![1]);
  const ask = async (): Promise<{ rss: number; sendQueue: { droppedFrames: number; closedFull: number }; clients: number }> => {
    child.send('rss');
    const [m] = (await once(child, 'message')) as [{ rss: number; sendQueue: { droppedFrames: number; closedFull: number }; clients: number }];
    return m;
  };
  const clients = await Promise.all(Array.from({ length: 10 }, () => nonReadingClient(`ws://127.0.0.1:${port}`)));
  // The frame of the report: a 16,000-byte bad field (each used to come back echoed in full).
  const frame = JSON.stringify({ v: 'x'.repeat(16_000), type: 'ping', id: 'e' });
  const timers = clients.map((ws) => setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(frame), 22));
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const start = await ask();
    await new Promise((r) => setTimeout(r, 20_000));
    const end = await ask();
    const growthMb = (end.rss - start.rss) / 2 ** 20;
    process.stderr.write(`non-reading clients: server RSS ${(start.rss / 2 ** 20).toFixed(1)} -> ${(end.rss / 2 ** 20).toFixed(1)} MB over 20 s (growth ${growthMb.toFixed(1)} MB); dropped broadcast frames ${end.sendQueue.droppedFrames}, closed ${end.sendQueue.closedFull}\n`);
    assert.ok(growthMb <= 16, `server RSS grew ${growthMb.toFixed(1)} MB (limit 16)`);
  } finally {
    for (const t of timers) clearInterval(t);
    for (const ws of clients) ws.terminate();
    child.send('stop');
    await once(child, 'exit');
  }
});

test('a reply that finds the send queue full closes the connection (1008) and is counted', { timeout: 30_000 }, async () => {
  const server = await TelemetryServer.listen({ token: generateToken(), source: { kind: 'sim', name: 'queue' }, rate: { perSecond: 1e9, burst: 1e9 }, maxQueuedBytes: 64 * 1024 });
  try {
    const ws = await nonReadingClient(`ws://127.0.0.1:${server.port}`);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    // Each bad frame earns an error reply; unread, they fill the socket buffers, then the queue.
    const bad = JSON.stringify({ v: 1, type: 'control', op: 'nope', id: 'x'.repeat(60) });
    for (let i = 0; i < 200_000 && server.sendQueue.closedFull === 0; i++) {
      ws.send(bad);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; i < 100 && server.sendQueue.closedFull === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.sendQueue.closedFull, 1, 'the connection was closed for a full queue');
    assert.equal(server.clients, 0);
    ws.terminate();
    await closed;
  } finally {
    await server.close();
  }
});

test('broadcasts to a client that does not read are dropped at the cap, not queued', { timeout: 30_000 }, async () => {
  const server = await TelemetryServer.listen({ token: generateToken(), source: { kind: 'sim', name: 'queue' }, maxQueuedBytes: 64 * 1024 });
  try {
    const ws = await nonReadingClient(`ws://127.0.0.1:${server.port}`);
    const big = 'y'.repeat(32 * 1024);
    for (let i = 0; i < 2000 && server.sendQueue.droppedFrames === 0; i++) {
      server.state({ learning: 'running', pins: [], note: big } as never);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(server.sendQueue.droppedFrames > 0, 'frames beyond the cap were dropped');
    assert.equal(server.clients, 1, 'a slow viewer is not disconnected for broadcasts');
    ws.terminate();
  } finally {
    await server.close();
  }
});
