/**
 * `npm run bench -- vm [--json] [--runs N] [--cpus N] [--clock auto|icount|host]`: cost of the qemu test VM.
 * Per run: host time to the guest's READY line (bootMs), the guest's uptime at READY, total
 * wall time of a run, initramfs preparation; inside the guest, measured by node itself: the
 * cost of spawning `true` and `node -e 0`, and a fixed JS loop compared with the same loop on
 * the host (the TCG slowdown that guest-side work has to be designed around).
 *
 * `npm run bench -- vm --stress N [--cycles K] [--clock ...]`: stability, not speed. N boots one
 * after another, each attaching and detaching the ALPS sched_ext scheduler K times (every
 * attach/detach live-patches kernel text through static keys) around CPU burns; prints each
 * boot's outcome and the failures by cause (oops, panic, hang, ...). docs/vm.md, "Clock".
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, runInVm, vmAvailability, VmError, type VmClock } from '../src/vm/index.js';
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

function clockFlag(argv: string[]): VmClock | 'auto' {
  const i = argv.indexOf('--clock');
  const v = i < 0 ? 'auto' : argv[i + 1];
  if (v !== 'auto' && v !== 'icount' && v !== 'host') throw new Error(`--clock must be auto, icount or host, got ${v}`);
  return v;
}

/** In-guest script of one stress boot: K attach/detach cycles of the ALPS scheduler. */
const STRESS_SCRIPT = `B=/project/ghost-kernel/bpf/build
i=0
while [ $i -lt $CYCLES ]; do
  i=$((i+1))
  $B/alps-loader --policy 1:1:0 --policy 9:9:0 -- sh -c "$B/alps-burn 40 & $B/alps-burn 40 & $B/alps-burn 40; wait" >/dev/null || exit 10
done
echo "cycles $(cat /sys/kernel/sched_ext/enable_seq) clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
! dmesg | grep -q "Marking clocksource 'tsc' as unstable"`;

async function stress(argv: string[], json: boolean): Promise<void> {
  const boots = flag(argv, 'stress', 10);
  const cycles = flag(argv, 'cycles', 6);
  const clock = clockFlag(argv);
  const cpus = flag(argv, 'cpus', 2);
  if (!existsSync(join(projectRoot(), 'ghost-kernel', 'bpf', 'build', 'alps-loader'))) throw new Error('alps-loader not built (make -C ghost-kernel/bpf)');
  const outcomes: { boot: number; ok: boolean; cause: string; wallS: number; guestS: number }[] = [];
  for (let b = 0; b < boots; b++) {
    const t0 = performance.now();
    let ok = false;
    let cause = '';
    let guestS = NaN;
    try {
      const r = await runInVm({ command: ['sh', '-c', STRESS_SCRIPT], env: { CYCLES: String(cycles) }, cpus, clock, timeoutMs: 600_000 });
      ok = r.exitCode === 0 && !r.timedOut;
      cause = r.timedOut ? 'timeout' : r.exitCode === 1 ? 'TSC marked unstable' : r.exitCode !== 0 ? `exit ${r.exitCode}` : r.stdout.trim();
      guestS = r.guestBootMs / 1000;
    } catch (e) {
      cause = e instanceof VmError ? (e.diagnosis ? `${e.diagnosis.kind}: ${e.diagnosis.cause}` : e.message.split('\n')[0]!) : String(e);
    }
    const row = { boot: b + 1, ok, cause, wallS: (performance.now() - t0) / 1000, guestS };
    outcomes.push(row);
    if (!json) process.stdout.write(`boot ${row.boot}/${boots}: ${ok ? 'ok  ' : 'FAIL'} ${row.wallS.toFixed(0)} s  ${cause}\n`);
  }
  const failed = outcomes.filter((o) => !o.ok);
  const summary = { clock, cpus, boots, cyclesPerBoot: cycles, failures: failed.length, causes: failed.map((f) => f.cause), medianWallS: median(outcomes.map((o) => o.wallS)) };
  process.stdout.write(json ? `${JSON.stringify({ summary, outcomes }, null, 2)}\n` : `${boots} boots x ${cycles} sched_ext attach/detach cycles (clock ${clock}): ${failed.length} failed\n`);
}

export async function vmBench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const runs = flag(argv, 'runs', 3);
  const cpus = flag(argv, 'cpus', 2);
  const clock = clockFlag(argv);
  const avail = await vmAvailability();
  if (!avail.ok) {
    const out = { skipped: avail.reason };
    process.stdout.write(json ? `${JSON.stringify(out)}\n` : `vm bench skipped: ${avail.reason}\n`);
    return;
  }
  if (argv.includes('--stress')) return stress(argv, json);
  const rows: Record<string, number>[] = [];
  let clockUsed = '';
  for (let i = 0; i < runs; i++) {
    const r = await runInVm({ command: ['node', '-e', GUEST_PROBE], cpus, clock, timeoutMs: 600_000 });
    clockUsed = r.clock;
    if (r.exitCode !== 0) throw new Error(`guest probe failed (exit ${r.exitCode}): ${r.stderr}`);
    const g = JSON.parse(r.stdout) as { trueSpawnMs: number; nodeStartMs: number; loopMs: number };
    rows.push({ bootMs: r.bootMs, guestBootMs: r.guestBootMs, wallMs: r.wallMs, prepareMs: r.prepareMs, ...g, initrdMB: r.initrdBytes / 1e6 });
  }
  const host = hostLoopMs();
  const med = (k: string): number => median(rows.map((r) => r[k] ?? NaN));
  const summary = {
    accel: avail.accel,
    clock: clockUsed,
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
      `VM (${summary.accel}, ${summary.clock} clock, ${summary.kernel}, ${cpus} vCPUs, median of ${runs} runs, initrd ${f(summary.initrdMB)} MB)`,
      `  boot to READY (host clock)   ${f(summary.bootMs)} ms   (guest uptime ${f(summary.guestBootMs)} ms)`,
      `  whole run incl. node probe   ${f(summary.wallMs)} ms   (initramfs prep ${f(summary.prepareMs)} ms)`,
      `  spawn /bin/true in guest     ${f(summary.trueSpawnMs, 1)} ms`,
      `  node -e 0 in guest           ${f(summary.nodeStartMs)} ms`,
      `  JS loop, guest / host        ${f(summary.jsSlowdown, 1)}x`,
    ].join('\n') + '\n',
  );
}
