/**
 * Shared by the VM tests that run one scripted guest session: boot, run, split the output into
 * `== name` sections.
 *
 * Under multi-threaded TCG with the host clock (what tests that measure sub-millisecond timing
 * need), the guest kernel can take an int3 Oops while it live-patches its own text as sched_ext
 * flips static keys: an emulation race, not a scheduler fault (docs/vm.md, "Clock"). Such a run,
 * and only such a run, is retried, up to `attempts` boots in all; anything else fails at once.
 */
import { runInVm, VmError, type VmRunResult } from '../../src/vm/index.js';

type RunOptions = Parameters<typeof runInVm>[0];

const INT3_RACE = /smp_text_poke|Oops: int3/;

const SECTION_LINE = /^echo "== ([\w-]+)"$/;

/**
 * A sectioned shell script (`echo "== name"` lines start sections; what comes before the first is
 * a preamble of definitions that every boot runs) in as many boots as the int3 race takes: a boot
 * that dies keeps the output of the sections it finished, and the next boot starts at the section
 * it died in. Every attach/detach of a sched_ext scheduler flips static keys, so a script with a
 * dozen of them can die several boots in a row under a loaded host (seen: three in a row in one CI
 * run, at the first detach each time); resuming makes each boot's progress count. Sections must
 * not depend on an earlier section's guest state.
 */
export async function runGuestScript(
  opts: Omit<RunOptions, 'command'>,
  script: string,
  attempts = 6,
): Promise<{ run: VmRunResult; sections: Map<string, string[]>; boots: number }> {
  const lines = script.split('\n');
  const starts = lines.flatMap((l, i) => (SECTION_LINE.test(l) ? [i] : []));
  if (starts.length === 0) throw new Error('runGuestScript: the script has no "== name" sections');
  const preamble = lines.slice(0, starts[0]).join('\n');
  const names = starts.map((i) => SECTION_LINE.exec(lines[i]!)![1]!);
  const bodies = starts.map((i, k) => lines.slice(i, starts[k + 1] ?? lines.length).join('\n'));
  const sections = new Map<string, string[]>();
  // Stderr of boots that died, ahead of the last boot's: assertions match messages in it.
  let deadStderr = '';
  let from = 0;
  for (let boot = 1; ; boot++) {
    let out = '';
    let err = '';
    const command = ['sh', '-c', [preamble, ...bodies.slice(from)].join('\n')];
    try {
      const run = await runInVm({ ...opts, command, onStdout: (b) => void (out += b.toString()), onStderr: (b) => void (err += b.toString()) });
      for (const [k, v] of splitSections(run.stdout)) sections.set(k, v);
      return { run: { ...run, stderr: deadStderr + run.stderr }, sections, boots: boot };
    } catch (e) {
      deadStderr += err;
      if (boot >= attempts || !(e instanceof VmError) || !INT3_RACE.test(e.console ?? '')) throw e;
      // Keep what finished: every section this boot started except the last one.
      const seen = [...splitSections(out)];
      for (const [k, v] of seen.slice(0, -1)) sections.set(k, v);
      const died = seen.length ? names.indexOf(seen[seen.length - 1]![0]) : from;
      from = Math.max(from, died);
      process.stderr.write(`# guest died of the TCG int3 text-patching race (boot ${boot} of ${attempts}) in section ${names[from]}: booting again from there\n`);
    }
  }
}

function splitSections(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let cur = '';
  for (const line of stdout.split('\n')) {
    const m = /^== ([\w-]+)$/.exec(line);
    if (m) sections.set((cur = m[1]!), []);
    else if (cur) sections.get(cur)!.push(line);
  }
  return sections;
}

export async function runGuestSession(opts: RunOptions, attempts = 3): Promise<{ run: VmRunResult; sections: Map<string, string[]> }> {
  let run: VmRunResult | undefined;
  for (let i = 1; !run; i++) {
    try {
      run = await runInVm(opts);
    } catch (e) {
      if (i >= attempts || !(e instanceof VmError) || !INT3_RACE.test(e.console ?? '')) throw e;
      process.stderr.write(`# guest died of the TCG int3 text-patching race (boot ${i} of ${attempts}): booting again\n`);
    }
  }
  return { run, sections: splitSections(run.stdout) };
}
