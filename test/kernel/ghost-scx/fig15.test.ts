/**
 * The delegated Fig. 15 arm in the Debian 7.3 guest (2 vCPUs, one boot, icount clock): the
 * `alps-ghost` arm exactly as `compare --real` runs it (the script comes from the harness:
 * `ghost-alps agent --ghost --backend scx --policy alps --learn`, the sleeping global agent, and
 * alps-invoke --sched-ext entering every invocation into the enclave) replays a small trace to
 * completion; then the agent is SIGKILLed while invocations are mid-run and every one of them
 * finishes under the kernel's scheduler. Skips with the reason when the VM, the BPF build or
 * the compiled TypeScript is missing.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, vmAvailability, type VmRunResult } from '../../../src/vm/index.js';
import { runGuestSession } from '../../support/guest.js';
import { STAT_HELPER, cpuUse, parseStatLines } from '../../../src/harness/real/calibrate.js';
import { agentFigures, ghostFigures, measuredAbScript, summarise } from '../../../src/harness/real/real-ab.js';

const root = projectRoot();
const build = join(root, 'ghost-kernel', 'bpf', 'build');

async function skipReason(): Promise<string | false> {
  const vm = await vmAvailability();
  if (!vm.ok) return vm.reason;
  for (const f of ['ghost.bpf.o', 'ghost-scx-loader', 'alps-invoke']) {
    if (!existsSync(join(build, f))) return `${join(build, f)} not built (make -C ghost-kernel/bpf; needs the 7.3 kernel's BTF)`;
  }
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) return 'dist/ missing (npx tsc -p tsconfig.json)';
  return false;
}
const skip = await skipReason();

/** "<arrival_us> <func> <cpu_us>" lines: n invocations every gapUs, functions 1..3 round robin. */
function trace(n: number, gapUs: number, cpuUs: (f: number) => number): string {
  return Array.from({ length: n }, (_, i) => `${i * gapUs} ${1 + (i % 3)} ${cpuUs(1 + (i % 3))}`).join('\n') + '\n';
}
const ARM_INVOCATIONS = 40;
const KILL_INVOCATIONS = 24;

const KILL = [
  'echo "== kill"',
  'B=/project/ghost-kernel/bpf/build',
  'node dist/src/cli/main.js agent --ghost --backend scx --cpus 0-$(($(nproc)-1)) --policy alps --comm-funcs --idle-sleep-us 1000 --runnable-timeout-ms 30000 > /tmp/k.out 2> /tmp/k.err & A=$!',
  'i=0; while ! grep -q "scheduling enclave" /tmp/k.err && [ $i -lt 6000 ] && kill -0 $A 2>/dev/null; do sleep 0.01; i=$((i+1)); done',
  '$B/alps-invoke --sched-ext /tmp/kill.txt > /tmp/kinv.out & I=$!',
  'sleep 1',
  // live invocations, and how many of them are SCHED_EXT (policy 7) when the agent dies
  'L=0; X=0; for c in /proc/[0-9]*/comm; do case "$(cat $c 2>/dev/null)" in alps-f*) L=$((L+1)); d=${c%/comm}; grep -q "^policy *: *7$" $d/sched 2>/dev/null && X=$((X+1));; esac; done',
  'echo "before-kill sched_ext $(cat /sys/kernel/sched_ext/state) live $L ext $X"',
  'kill -9 $A',
  'wait $I',
  // the kernel finishes unregistering in its own worker: "disabling" is the way to "disabled"
  'j=0; while [ "$(cat /sys/kernel/sched_ext/state)" = disabling ] && [ $j -lt 100 ]; do sleep 0.1; j=$((j+1)); done',
  'echo "after-kill sched_ext $(cat /sys/kernel/sched_ext/state)"',
  'cat /tmp/kinv.out',
  'cat /tmp/k.err',
].join('\n');

let run: VmRunResult | undefined;
let sections = new Map<string, string[]>();

before(async () => {
  if (skip) return;
  const script = ['cd /project', measuredAbScript(['alps-ghost'], []), KILL].join('\n');
  ({ run, sections } = await runGuestSession({
    command: ['sh', '-c', script],
    cpus: 2,
    memMb: 2048,
    timeoutMs: 420_000,
    clock: 'icount',
    files: [
      { guestPath: '/tmp/st.sh', content: STAT_HELPER },
      { guestPath: '/tmp/trace.txt', content: trace(ARM_INVOCATIONS, 30_000, (f) => [5_000, 20_000, 50_000][f - 1]!) },
      { guestPath: '/tmp/kill.txt', content: trace(KILL_INVOCATIONS, 40_000, () => 150_000) },
    ],
  }));
});

const section = (name: string): string[] => {
  const s = sections.get(name);
  assert.ok(s, `section ${name} missing; stdout:\n${run?.stdout}\nstderr:\n${run?.stderr}\nconsole tail:\n${run?.console.slice(-2000)}`);
  return s;
};
const T = { skip, timeout: 600_000 };

test('alps-ghost arm: the ghOSt agent with ALPS on sched_ext runs a trace to completion, 0 failed', T, () => {
  const s = section('alps-ghost');
  const dump = s.join('\n');
  const row = summarise('alps-ghost', s);
  assert.equal(row.invocations, ARM_INVOCATIONS, dump);
  assert.equal(row.failed, 0, dump);
  const g = ghostFigures(s);
  assert.ok(g, `the agent printed its statistics:\n${dump}\n${run?.stderr}`);
  assert.equal(g.stateAtEnd, 'enabled', `the scheduler was still attached when the last invocation ended (no watchdog ejection):\n${dump}`);
  assert.ok(g.decisions >= ARM_INVOCATIONS, `at least one placement per invocation: ${JSON.stringify(g)}`);
  assert.ok((g.kernelCommits ?? 0) >= ARM_INVOCATIONS && (g.commitToRunN ?? 0) >= 1, `kernel-side commit figures: ${JSON.stringify(g)}`);
  const cpu = cpuUse(parseStatLines(s), 'alps-ghost');
  assert.ok(cpu, dump);
  const a = agentFigures(s, cpu.totalNs);
  assert.ok(a && a.agentCpuShare > 0 && a.agentCpuShare < 1, `the agent's own CPU share: ${JSON.stringify(a)}`);
  const wallS = cpu.totalNs / cpu.busyNsPerCpu.length / 1e9;
  process.stderr.write(
    `ghost-scx alps-ghost arm (TCG guest, 2 vCPUs, icount): ${row.invocations} invocations, mean turnaround ${row.meanTurnaroundMs} ms, ` +
      `${g.decisions} decisions (${(g.decisions / wallS).toFixed(0)}/s), commit -> running ${((g.commitToRunMeanNs ?? NaN) / 1000).toFixed(0)} us mean over ${g.commitToRunN}, ` +
      `agent ${(100 * a.agentCpuShare).toFixed(1)}% of guest CPU\n`,
  );
});

test('agent SIGKILLed mid-run: every invocation finishes under the kernel scheduler, 0 lost', T, () => {
  const s = section('kill');
  const dump = s.join('\n');
  const before = /^before-kill sched_ext (\w+) live (\d+) ext (\d+)$/.exec(s.find((l) => l.startsWith('before-kill')) ?? '');
  assert.ok(before, dump);
  assert.equal(before[1], 'enabled', dump);
  assert.ok(Number(before[3]) >= 1, `invocations were in the enclave when the agent was killed: ${before[0]}`);
  assert.ok(s.includes('after-kill sched_ext disabled'), `the loader saw the agent die and unregistered the scheduler:\n${dump}`);
  const row = summarise('kill', s);
  assert.equal(row.invocations, KILL_INVOCATIONS, dump);
  assert.equal(row.failed, 0, dump);
});
