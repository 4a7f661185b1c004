import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, vmAvailability, type VmRunResult } from '../../src/vm/index.js';
import { runGuestSession } from '../support/guest.js';
import { checkOrder, completionOrder, conformance, funcIdOf, SCENARIOS, type Scenario } from './scenarios.js';

/**
 * (c) The ALPS sched_ext scheduler in the VM (Debian 7.3 kernel, 2 vCPUs) with real processes:
 * every task of a scenario is pinned to CPU 1 (taskset), ranked tasks are launched by alps-exec
 * (tag = function, arrival = launch), untagged ones run bare; alps-burn burns the CPU ms and prints
 * its end time. One boot runs the whole table; each scenario has its own loader and policy.
 */
const root = projectRoot();
const build = join(root, 'ghost-kernel', 'bpf', 'build');
const B = '/project/ghost-kernel/bpf/build';
const P = '/sys/fs/bpf/alps_tags';

async function skipReason(): Promise<string | false> {
  const vm = await vmAvailability();
  if (!vm.ok) return vm.reason;
  for (const f of ['alps.bpf.o', 'alps-loader', 'alps-exec', 'alps-burn']) {
    if (!existsSync(join(build, f))) return `${join(build, f)} not built (make -C ghost-kernel/bpf)`;
  }
  return false;
}
const skip = await skipReason();

/** The shell lines that run one scenario under its own loader. */
export function scenarioScript(s: Scenario): string {
  const policies = s.tasks
    .filter((t) => t.rank !== undefined)
    .map((t) => `--policy ${funcIdOf(s, t)}:${t.rank}:${(t.sliceMs ?? 0) * 1000}:${(t.expectedMs ?? 10_000) * 1000}`);
  const launch: string[] = [];
  let now = 0;
  for (const t of [...s.tasks].sort((a, b) => a.at - b.at)) {
    if (t.at > now) launch.push(`sleep ${((t.at - now) / 1000).toFixed(3)}`);
    now = t.at;
    const parts = typeof t.work === 'number' ? [t.work] : t.work;
    // cpu, block, cpu, …: only the last burn reports the end.
    const body = parts
      .map((ms, k) => (k % 2 === 1 ? `sleep ${(ms / 1000).toFixed(3)}` : k === parts.length - 1 ? `ALPS_BURN_END=${t.name} exec ${B}/alps-burn ${ms}` : `${B}/alps-burn ${ms}`))
      .join('; ');
    const cmd = parts.length === 1 ? `${B}/alps-burn ${parts[0]}` : `sh -c '${body}'`;
    const env = parts.length === 1 ? `ALPS_BURN_END=${t.name} ` : '';
    launch.push(funcIdOf(s, t) === 0 ? `${env}taskset -c 1 ${cmd} &` : `${env}taskset -c 1 ${B}/alps-exec --pin ${P} --func ${funcIdOf(s, t)} -- ${cmd} &`);
  }
  launch.push('wait');
  return [`echo "== ${s.name}"`, `${B}/alps-loader --pin-tags ${P} ${policies.join(' ')} -- sh -c "${launch.join('\n').replace(/"/g, '\\"')}"`].join('\n');
}

let run: VmRunResult | undefined;
const sections = new Map<string, string[]>();
/** Scenarios that failed in the first boot and were run again (name → the first run's problem). */
const rerun = new Map<string, string>();

/**
 * One boot runs the table. Arrivals are wall-clock sleeps in the guest and each launch is three
 * execs under TCG, so a host that starves the vCPUs can delay an arrival past the work it was
 * meant to overlap (seen with two host CPU hogs: C1, due 150 ms into A3's 300 ms slice, was
 * first run only as A3 ended). A scenario that fails is therefore run once more in a second boot
 * and judged on that run; the first run's problem is printed. An enforcer that breaks the rule
 * fails both runs.
 */
before(async () => {
  if (skip) return;
  const session = async (list: readonly Scenario[]): Promise<void> => {
    const r = await runGuestSession({ command: ['sh', '-c', list.map(scenarioScript).join('\n')], cpus: 2, timeoutMs: 300_000 });
    run = r.run;
    for (const [k, v] of r.sections) sections.set(k, v);
  };
  await session(SCENARIOS);
  for (const s of SCENARIOS) {
    let problem: string;
    try {
      problem = checkOrder(s, observed(s));
    } catch (e) {
      problem = `failed to run: ${(e as Error).message}`;
    }
    if (problem) rerun.set(s.name, problem);
  }
  if (rerun.size) await session(SCENARIOS.filter((s) => rerun.has(s.name)));
});

function observed(s: Scenario): string[] {
  const lines = sections.get(s.name);
  if (!lines) throw new Error(`no output for ${s.name}; stderr: ${run?.stderr.slice(-500)}`);
  if (lines[0] !== 'STATE enabled') throw new Error(`scheduler not enabled: ${lines[0]}`);
  const exit = lines.find((l) => l.startsWith('EXIT '));
  if (exit) throw new Error(`the scheduler exited: ${exit}`);
  return completionOrder(
    lines.flatMap((l) => {
      const m = /^end (\S+) (\d+)$/.exec(l);
      return m ? [{ name: m[1]!, endNs: Number(m[2]) }] : [];
    }),
  );
}

test('conformance: the BPF scheduler in the VM follows the ALPS rule on every scenario', { skip, timeout: 320_000 }, (t) => {
  for (const [name, problem] of rerun) t.diagnostic(`${name}: first run: ${problem}; run again`);
  const { passed, total, line } = conformance('bpf', observed, (s, p) => t.diagnostic(`${s.name}: ${p || 'ok'}`));
  console.log(line);
  assert.equal(passed, total, `${line}\n${run?.stdout}`);
});
