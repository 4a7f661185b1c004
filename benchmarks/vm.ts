/**
 * `npm run bench -- vm [--json] [--runs N] [--cpus N]`: cost of the qemu test VM.
 * Per run: host time to the guest's READY line (bootMs), the guest's uptime at READY, total
 * wall time of a run, initramfs preparation; inside the guest, measured by node itself: the
 * cost of spawning `true` and `node -e 0`, and a fixed JS loop compared with the same loop on
 * the host (the TCG slowdown that guest-side work has to be designed around).
 */
import { runInVm, vmAvailability } from '../src/vm/index.js';
import { median } from './stats.js';

const GUEST_PROBE = `
const { execFileSync } = require('child_process');
const per = (f, n) => { const t = performance.now(); for (let i = 0; i < n; i++) f(); return (performance.now() - t) / n; };
const loop = () => { let s = 0; for (let i = 0; i < 2e7; i++) s += i % 7; return s; };
loop();
console.log(JSON.stringify({
  trueSpawnMs: per(() => execFileSync('/bin/true'), 20),
  nodeStartMs: per(() => execFileSync('/usr/bin/node', ['-e', '0']), 5),
  loopMs: per(loop, 3),
}));`;

function hostLoopMs(): number {
  const loop = (): number => {
    let s = 0;
    for (let i = 0; i < 2e7; i++) s += i % 7;
    return s;
  };
  loop();
  const t = performance.now();
  for (let i = 0; i < 3; i++) loop();
  return (performance.now() - t) / 3;
}

function flag(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i < 0 ? dflt : Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

export async function vmBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const runs = flag(argv, 'runs', 3);
  const cpus = flag(argv, 'cpus', 2);
  const avail = await vmAvailability();
  if (!avail.ok) {
    const out = { skipped: avail.reason };
    process.stdout.write(json ? `${JSON.stringify(out)}\n` : `vm bench skipped: ${avail.reason}\n`);
    return;
  }
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runInVm({ command: ['node', '-e', GUEST_PROBE], cpus, timeoutMs: 180_000 });
    if (r.exitCode !== 0) throw new Error(`guest probe failed (exit ${r.exitCode}): ${r.stderr}`);
    const g = JSON.parse(r.stdout) as { trueSpawnMs: number; nodeStartMs: number; loopMs: number };
    rows.push({ bootMs: r.bootMs, guestBootMs: r.guestBootMs, wallMs: r.wallMs, prepareMs: r.prepareMs, ...g, initrdMB: r.initrdBytes / 1e6 });
  }
  const host = hostLoopMs();
  const med = (k: string): number => median(rows.map((r) => r[k] ?? NaN));
  const summary = {
    accel: avail.accel,
    kernel: avail.kernel,
    cpus,
    runs,
    bootMs: med('bootMs'),
    guestBootMs: med('guestBootMs'),
    wallMs: med('wallMs'),
    prepareMs: med('prepareMs'),
    trueSpawnMs: med('trueSpawnMs'),
    nodeStartMs: med('nodeStartMs'),
    jsSlowdown: med('loopMs') / host,
    initrdMB: med('initrdMB'),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const f = (x: number, d = 0): string => x.toFixed(d);
  process.stdout.write(
    [
      `VM (${summary.accel}, ${summary.kernel}, ${cpus} vCPUs, median of ${runs} runs, initrd ${f(summary.initrdMB)} MB)`,
      `  boot to READY (host clock)   ${f(summary.bootMs)} ms   (guest uptime ${f(summary.guestBootMs)} ms)`,
      `  whole run incl. node probe   ${f(summary.wallMs)} ms   (initramfs prep ${f(summary.prepareMs)} ms)`,
      `  spawn /bin/true in guest     ${f(summary.trueSpawnMs, 1)} ms`,
      `  node -e 0 in guest           ${f(summary.nodeStartMs)} ms`,
      `  JS loop, guest / host        ${f(summary.jsSlowdown, 1)}x`,
    ].join('\n') + '\n',
  );
}
