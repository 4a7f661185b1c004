import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serveDashboard } from '../../src/telemetry/dashboard/server.js';
import { startLiveRun } from '../../src/telemetry/live/run.js';

const CHROMIUM = '/usr/bin/chromium';

test('dashboard page receives a simulated run, draws its charts, logs no console errors', { timeout: 120_000, skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (Debian package chromium)` }, async () => {
  const { chromium } = await import('playwright-core');
  const state = mkdtempSync(join(tmpdir(), 'alps-dash-'));
  process.env['GHOST_ALPS_STATE_DIR'] = state;
  const run = await startLiveRun({ workload: 'huawei', cpus: 8, load: 0.9, invocations: 1500, seed: 3, scheduler: 'alps', stepS: 1, listen: { host: '127.0.0.1', port: 0 } });
  const page = await serveDashboard({ wsUrl: run.server!.url, port: 0 });
  // Debian's Chromium, never a downloaded one; a fresh profile directory per run.
  const browser = await chromium.launchPersistentContext(join(state, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const tab = browser.pages()[0] ?? (await browser.newPage());
    const problems: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    tab.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const requests: string[] = [];
    tab.on('request', (r) => requests.push(r.url()));
    await tab.goto(page.url);
    // Page-side code is given as strings: it runs in the browser, not under Node's types.
    await tab.waitForFunction('window.__dashboard?.connected === true', undefined, { timeout: 20_000 });
    // Stream the run while the page watches: 12 virtual seconds = two learner rounds.
    for (let i = 0; i < 12; i++) {
      run.session.step();
      await new Promise((r) => setTimeout(r, 50));
    }
    await tab.waitForFunction(
      `(() => {
        const d = window.__dashboard;
        return d.renders.cdf > 0 && d.renders.timeline > 0 && d.renders.table > 0 && document.querySelector('#generation').textContent.startsWith('2 ');
      })()`,
      undefined,
      { timeout: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 400));
    const drawn = (await tab.evaluate(`({
      cdfLines: document.querySelectorAll('#cdf svg .mark-line path').length,
      timelineLines: document.querySelectorAll('#timeline svg .mark-line path').length,
      rows: document.querySelectorAll('#policy tbody tr').length,
      ranked: [...document.querySelectorAll('#policy tbody tr')].filter((tr) => /^[0-9]+$/.test(tr.children[2].textContent)).length,
      params: document.querySelector('#params').textContent,
      invalid: window.__dashboard.invalid,
    })`)) as { cdfLines: number; timelineLines: number; rows: number; ranked: number; params: string; invalid: number };
    const shot = process.env['ALPS_DASHBOARD_SCREENSHOT'];
    if (shot) await tab.screenshot({ path: shot, fullPage: true });
    assert.ok(drawn.cdfLines >= 3, `CDF chart should draw a line per group, got ${drawn.cdfLines}`);
    assert.ok(drawn.timelineLines >= 2, `timeline should draw throughput and load lines, got ${drawn.timelineLines}`);
    assert.equal(drawn.rows, run.session.functions.length, 'one policy-table row per function');
    assert.ok(drawn.ranked > 0, 'the table shows ranks from the learned policy');
    assert.match(drawn.params, /α=2 /);
    assert.equal(drawn.invalid, 0);
    assert.deepEqual(problems, []);
    // Everything the page loaded came from the dashboard server itself (no CDN).
    for (const u of requests) assert.ok(u.startsWith(page.url) || u.startsWith('data:'), `unexpected request ${u}`);
  } finally {
    await browser.close();
    await page.close();
    await run.close();
    rmSync(state, { recursive: true, force: true });
  }
});
