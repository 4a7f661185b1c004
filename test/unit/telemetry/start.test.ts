import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TelemetryClient } from '../../../src/telemetry/client.js';
import { nullPublisher } from '../../../src/telemetry/publisher.js';
import type { RatesMsg } from '../../../src/telemetry/schema.js';
import { RateSampler, startTelemetry } from '../../../src/telemetry/start.js';
import { readTokenFile } from '../../../src/telemetry/token.js';

test('an agent-style publisher: token file per run, read-only without controls, rates and BPF state reach clients', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alps-start-'));
  process.env['GHOST_ALPS_STATE_DIR'] = dir;
  const t = await startTelemetry({ source: { kind: 'agent', name: 'test-agent' }, port: 0 });
  try {
    assert.ok(t.tokenFile && t.tokenFile.startsWith(dir));
    assert.equal(statSync(t.tokenFile).mode & 0o777, 0o600);
    const client = await TelemetryClient.connect(t.server.url, { token: readTokenFile(t.tokenFile) });
    assert.deepEqual(client.hello?.source, { kind: 'agent', name: 'test-agent' });
    await assert.rejects(client.control({ op: 'pause' }), /unsupported/);
    const got = new Promise<RatesMsg>((res) => client.once('rates', res));
    const sampler = new RateSampler(t.server);
    sampler.sample(1e9, { decisions: 100, failures: { ESTALE: 1 } });
    sampler.sample(3e9, { decisions: 500, failures: { ESTALE: 3, EBUSY: 2 } });
    const r = await got;
    assert.equal(r.decisionsPerS, 200);
    assert.equal(r.txnFailuresPerS, 2);
    const bpf = new Promise((res) => client.once('bpf', res));
    t.server.bpf({ atNs: 5, state: 'enabled', scheduler: 'alps', counters: { dispatch: 7 } });
    assert.deepEqual(await bpf, { v: 1, type: 'bpf', atNs: 5, state: 'enabled', scheduler: 'alps', counters: { dispatch: 7 } });
    client.close();
  } finally {
    const file = t.tokenFile!;
    await t.close();
    assert.equal(existsSync(file), false, 'token file removed with the run');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RateSampler publishes nothing until it has an interval', () => {
  let n = 0;
  const s = new RateSampler({ ...nullPublisher, rates: () => n++ });
  s.sample(1e9, { decisions: 1, failures: {} });
  s.sample(1e9, { decisions: 2, failures: {} });
  assert.equal(n, 0);
  s.sample(2e9, { decisions: 3, failures: {} });
  assert.equal(n, 1);
});
