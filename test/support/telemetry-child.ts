/**
 * A telemetry server in its own process, publishing like a live run (a util frame every 100 ms,
 * policy and stats every 500 ms), so a test can measure the server's RSS apart from its clients.
 * Prints `port N` on stdout; answers an IPC message 'rss' with { rss, sendQueue, refused }.
 */
import { TelemetryServer } from '../../src/telemetry/server.js';
import { generateToken } from '../../src/telemetry/token.js';

const server = await TelemetryServer.listen({ token: generateToken(), source: { kind: 'sim', name: 'rss test' } });
const funcs = Array.from({ length: 40 }, (_, i) => ({ funcId: i + 1, name: `f${i + 1}`, invocations: 100 + i, meanTurnaroundNs: 1e7 + i, p99TurnaroundNs: 5e7 + i, rank: (i % 8) + 1, sliceNs: 3e6 }));
const groups = ([1, 2, 3, 4] as const).map((g) => ({ group: g, count: 50, points: Array.from({ length: 50 }, (_, k) => [k * 1e6, k / 50] as [number, number]) }));
let t = 0;
const tick = setInterval(() => {
  t += 1e8;
  server.util({ atNs: t, cpus: 8, completed: t / 1e6, throughputPerS: 100, utilisationPct: 90, offeredPct: 90 });
  if (t % 5e8 === 0) {
    server.policy({ generation: t / 5e8, params: { alpha: 2, beta: 1, gamma: 1, theta: 50, windowNs: 5e9, maxRecords: 5000, model: 'avg', mode: 'paper', ioAware: false, cpus: 8, seed: 1 }, entries: funcs.map((f) => ({ funcId: f.funcId, rank: f.rank, sliceNs: f.sliceNs })) }, t);
    server.stats(t, funcs, groups);
  }
}, 100);
process.on('message', (m) => {
  if (m === 'rss') process.send!({ rss: process.memoryUsage().rss, sendQueue: server.sendQueue, refused: server.refused, clients: server.clients });
  if (m === 'stop') {
    clearInterval(tick);
    void server.close().then(() => process.exit(0));
  }
});
process.stdout.write(`port ${server.port}\n`);
