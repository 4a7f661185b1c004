/**
 * Why did a VM run fail? Classifies the guest console (kernel log) and qemu's end into one
 * cause with a short explanation, so a failed boot or guest command says more than "no exit
 * code". The signatures are the kernel's own messages (oops/panic/lockup/RCU stall/OOM).
 */

export type VmFailureKind = 'oops' | 'panic' | 'hang' | 'oom' | 'timeout' | 'killed' | 'no-boot' | 'unknown';

export interface VmDiagnosis {
  kind: VmFailureKind;
  /** One line: what the console shows (e.g. "kernel oops: int3 at scx_allow_ttwu_queue+0xa"). */
  cause: string;
  /** What to do or what it means, when known. */
  hint?: string;
}

/** Where the VM ended, as far as the host saw it. */
export interface VmEnd {
  timedOut: boolean;
  /** The guest printed its READY line (the kernel booted and /init ran). */
  ready: boolean;
  /** qemu was killed by SIGKILL that this process did not send. */
  killedFromOutside: boolean;
  qemuExit: number | string | null;
}

const first = (re: RegExp, text: string): string | undefined => re.exec(text)?.[1]?.trim();

/** The function the kernel was in (`RIP: 0010:func+0x9/0x20` -> `func+0x9`). */
export function ripOf(text: string): string | undefined {
  return first(/RIP: [0-9a-f]{4}:([\w.]+\+0x[0-9a-f]+)/, text);
}

export function diagnose(console: string, end: VmEnd): VmDiagnosis {
  const rip = ripOf(console);
  const at = rip ? ` at ${rip}` : '';
  const oops = first(/(?:^|\n)[^\n]*?\b(Oops: [^\n]*|BUG: (?:unable to handle|kernel NULL)[^\n]*|general protection fault[^\n]*)/, console);
  const panic = first(/Kernel panic - not syncing: ([^\n]*)/, console);
  const lockup = first(/((?:watchdog: )?BUG: soft lockup[^\n]*|Watchdog detected hard LOCKUP[^\n]*|rcu: INFO: \S+ (?:self-)?detected stalls?[^\n]*|INFO: task \S+ blocked for more than[^\n]*)/, console);
  const oom = first(/(Out of memory: [^\n]*|\S+ invoked oom-killer[^\n]*)/, console);

  if (oops) {
    const int3 = /Oops: int3/.test(oops);
    return {
      kind: 'oops',
      cause: `kernel oops${at}: ${oops.replace(/\s+\[#\d+\].*$/, '')}${panic ? ` (then panic: ${panic})` : ''}`,
      ...(int3
        ? {
            hint:
              'an int3 at a static-key site is live text patching racing the other vCPU under multi-threaded TCG; ' +
              '--clock icount (one host thread for all vCPUs) avoids it (docs/vm.md, "Clock")',
          }
        : {}),
    };
  }
  if (lockup) {
    const ipi = /smp_call_function_many_cond|smp_call_function_single|csd_lock_wait/.test(console);
    return {
      kind: 'hang',
      cause: `guest hang${at}: ${lockup}`,
      ...(ipi ? { hint: 'a vCPU waits forever on a cross-CPU call, the multi-threaded TCG race family (docs/vm.md, "Clock"; --clock icount avoids it)' } : {}),
    };
  }
  if (oom) return { kind: 'oom', cause: `guest out of memory: ${oom}`, hint: 'give the guest more memory (--mem MB)' };
  if (panic) {
    return {
      kind: 'panic',
      cause: `kernel panic${at}: ${panic}`,
      ...(/kill init/.test(panic) ? { hint: "the guest's /init died (ghost-kernel/vm/init.sh)" } : {}),
    };
  }
  if (end.timedOut) {
    const stuck = rip ? ` (last kernel report${at})` : '';
    return { kind: 'timeout', cause: `the run exceeded its timeout${stuck}`, hint: 'raise --timeout, or look at the guest console for where it stopped' };
  }
  if (end.killedFromOutside) {
    return {
      kind: 'killed',
      cause: 'qemu was killed by SIGKILL from outside this process',
      hint: 'on a shared host this is usually the host OOM killer: `dmesg | grep -i oom` on the host; a smaller --mem helps',
    };
  }
  if (!end.ready) {
    return console.trim()
      ? { kind: 'no-boot', cause: `the guest never finished booting (qemu exit ${end.qemuExit})` }
      : { kind: 'no-boot', cause: `qemu exited (${end.qemuExit}) before the guest printed anything`, hint: 'qemu\'s own message, if any, is above' };
  }
  return { kind: 'unknown', cause: 'the guest stopped without reporting an exit code, and its console shows no kernel error' };
}

/** A kernel crash's first line (the dump that follows it can outgrow a fixed tail). */
const CRASH_LINE = /Kernel panic - not syncing|\bOops: |\bBUG: |general protection fault|Watchdog detected hard LOCKUP/;

/**
 * The last `n` non-empty lines of the console, for error messages; when the last crash's first
 * line lies just before them (within the last `max` lines), the quote starts there instead, so
 * it always shows what crashed and not only the end of a long stack dump.
 */
export function consoleTail(console: string, n = 30, max = 80): string {
  const lines = console.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
  let from = Math.max(0, lines.length - n);
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - max); i--) {
    if (CRASH_LINE.test(lines[i]!)) {
      from = Math.min(from, i);
      break;
    }
  }
  return lines.slice(from).join('\n');
}

export class VmError extends Error {
  override readonly name: string = 'VmError';
  constructor(
    message: string,
    readonly console: string,
    readonly qemuStderr: string,
    readonly diagnosis?: VmDiagnosis,
    /** How the VM ran (absent when it never started). */
    readonly accel?: 'kvm' | 'tcg',
    readonly clock?: 'icount' | 'host',
  ) {
    const parts = [diagnosis ? `${message}: ${diagnosis.cause}` : message];
    if (diagnosis?.hint) parts.push(`  (${diagnosis.hint})`);
    if (qemuStderr.trim()) parts.push(`qemu: ${qemuStderr.trim().slice(-2000)}`);
    const tail = consoleTail(console);
    parts.push(tail ? `guest console (last lines):\n${tail}` : 'guest console: (empty)');
    super(parts.join('\n'));
  }
}
