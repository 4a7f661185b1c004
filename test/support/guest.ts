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
  const sections = new Map<string, string[]>();
  let cur = '';
  for (const line of run.stdout.split('\n')) {
    const m = /^== ([\w-]+)$/.exec(line);
    if (m) sections.set((cur = m[1]!), []);
    else if (cur) sections.get(cur)!.push(line);
  }
  return { run, sections };
}
