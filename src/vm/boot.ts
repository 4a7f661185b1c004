import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel, ControlLines, readCollected } from './channel.js';
import { diagnose, VmError } from './diagnose.js';
import { prepareInitrd } from './initrd.js';
import { VM_DEFAULTS } from './options.js';
import { kernelFiles, kernelRelease } from './paths.js';
import { qemuArgs, spawnQemu } from './qemu.js';
import type { Accel, VmClock, VmRunOptions, VmRunResult } from './types.js';

/**
 * One VM boot with a known accelerator and clock: initrd, qemu, channels, result. runInVm
 * (run.ts) picks the accelerator first; the KVM probe (accel.ts) calls this directly.
 *
 * The result is read after qemu has exited, so no byte is lost. Bounds: the caller's timeout
 * kills the whole process group (SIGKILL); qemu also runs under timeout(1) with a slightly
 * later deadline, so a guest can never outlive a crashed caller.
 */

const CONSOLE_CAP = 256 * 1024;
/** How often the output files are read while the VM runs (bounds streaming latency only). */
const POLL_MS = 20;

/**
 * Run directories hold a ~120 MB initrd; a caller killed with SIGKILL cannot remove its own.
 * Remove those left by processes that no longer exist (the directory name carries the pid).
 */
function removeStaleRunDirs(): void {
  try {
    for (const n of readdirSync(tmpdir())) {
      const m = /^ghost-vm-(\d+)-/.exec(n);
      if (!m?.[1] || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), n), { recursive: true, force: true });
      }
    }
  } catch {
    /* best effort */
  }
}

function progressSink(p: VmRunOptions['progress']): ((line: string) => void) | undefined {
  if (typeof p === 'function') return p;
  if (p === true || ((p ?? 'auto') === 'auto' && process.stderr.isTTY)) return (line) => process.stderr.write(`${line}\n`);
  return undefined;
}

/** "Debian 7.3 sched_ext kernel" from the cached release string (7.3.4+deb13-cloud-amd64). */
export function kernelLabel(): string {
  const r = kernelRelease();
  const mm = r ? /^(\d+\.\d+)/.exec(r)?.[1] : undefined;
  return mm ? `Debian ${mm} sched_ext kernel` : 'the sched_ext kernel';
}

export function accelLabel(accel: Accel, clock: VmClock): string {
  return accel === 'kvm' ? 'KVM' : clock === 'icount' ? 'TCG, icount clock' : 'TCG, multi-threaded, host clock';
}

export async function bootVm(opts: VmRunOptions, accel: Accel, clock: VmClock): Promise<VmRunResult> {
  const o = { ...VM_DEFAULTS, ...opts };
  const k = kernelFiles();
  const t0 = performance.now();
  const progress = progressSink(o.progress);
  removeStaleRunDirs();
  const dir = mkdtempSync(join(tmpdir(), `ghost-vm-${process.pid}-`));
  try {
    const initrd = prepareInitrd(dir, o);
    const initrdBytes = statSync(initrd).size;
    const prepareMs = performance.now() - t0;

    let consoleText = '';
    const con = new Channel(join(dir, 'console.out'), (b) => {
      consoleText += b.toString('utf8');
      if (consoleText.length > 2 * CONSOLE_CAP) consoleText = consoleText.slice(-CONSOLE_CAP);
      o.onConsole?.(b);
    });
    let spawnAt = 0;
    const ctl = new ControlLines(
      () => performance.now() - spawnAt,
      (ms) => progress?.(`guest ready after ${(ms / 1000).toFixed(1)} s`),
    );
    const out = new Channel(join(dir, 'stdout.out'), (b) => o.onStdout?.(b));
    const err = new Channel(join(dir, 'stderr.out'), (b) => o.onStderr?.(b));
    const ctlCh = new Channel(join(dir, 'ctl.out'), (b) => ctl.feed(b));
    const filesPath = join(dir, 'files.tar');
    closeSync(openSync(filesPath, 'w'));
    const chans = [con, out, err, ctlCh];

    const args = qemuArgs({
      accel,
      clock,
      cpus: o.cpus,
      memMb: o.memMb,
      vmlinuz: k.vmlinuz,
      initrd,
      kernelArgs: o.kernelArgs ?? [],
      console: con.path,
      ports: [
        { name: 'ghost.stdout', path: out.path },
        { name: 'ghost.stderr', path: err.path },
        { name: 'ghost.ctl', path: ctlCh.path },
        { name: 'ghost.files', path: filesPath },
      ],
    });
    progress?.(`booting ${kernelLabel()} under qemu (${accelLabel(accel, clock)}, ${o.cpus} vCPU${o.cpus === 1 ? '' : 's'})…`);
    spawnAt = performance.now();
    const q = spawnQemu(args, o.timeoutMs);
    let qemuErr = '';
    let timedOut = false;
    let aborted = false;
    const onQemuOut = (b: Buffer): void => {
      qemuErr += b.toString('utf8');
      if (qemuErr.length > 64 * 1024) qemuErr = qemuErr.slice(-32 * 1024);
      if (o.abortOnQemuStderr?.test(qemuErr)) {
        aborted = true;
        q.kill();
      }
    };
    q.child.stdout.on('data', onQemuOut);
    q.child.stderr.on('data', onQemuOut);
    const timer = setTimeout(() => {
      timedOut = true;
      q.kill();
    }, o.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      q.kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let pollError: unknown;
    const poll = setInterval(() => {
      try {
        for (const c of chans) c.drain();
      } catch (e) {
        // Reported after qemu exits; killing the VM now keeps a broken run from running on.
        pollError ??= e;
        q.kill();
      }
    }, POLL_MS);

    let status: { code: number | null; signal: NodeJS.Signals | null };
    try {
      status = await q.exited;
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
      o.signal?.removeEventListener('abort', onAbort);
    }
    const wallMs = performance.now() - spawnAt;
    // qemu is gone: what is in the files now is everything the guest sent.
    for (const c of chans) {
      try {
        if (!pollError) c.drain();
      } finally {
        c.close();
      }
    }
    if (pollError) throw pollError;

    const exitCode = ctl.exitCode;
    const result: VmRunResult = {
      exitCode: exitCode ?? 124,
      stdout: out.text(),
      stderr: err.text(),
      console: consoleText.slice(-CONSOLE_CAP),
      bootMs: ctl.ready?.hostMs ?? NaN,
      guestBootMs: ctl.ready?.guestMs ?? NaN,
      wallMs,
      prepareMs,
      timedOut,
      accel,
      clock,
      initrdBytes,
      collected: exitCode === undefined ? {} : readCollected(filesPath, join(dir, 'collected')),
    };
    if (timedOut) return result;
    if (aborted) throw new VmError('VM run aborted', consoleText, qemuErr, undefined, accel, clock);
    if (exitCode === undefined) {
      // timeout(1) exits 137 when it had to SIGKILL qemu; a SIGKILL we did not send came from
      // outside (the host's OOM killer, typically).
      const killed = status.code === 137 || status.signal === 'SIGKILL';
      const d = diagnose(consoleText, {
        timedOut,
        ready: ctl.ready !== undefined,
        killedFromOutside: killed && !q.killedByUs,
        qemuExit: status.code ?? status.signal,
      });
      const when = ctl.ready ? `after ${((wallMs - ctl.ready.hostMs) / 1000).toFixed(1)} s of the command` : `${(wallMs / 1000).toFixed(1)} s into the boot`;
      throw new VmError(`the VM died ${when} (${accelLabel(accel, clock)})`, consoleText, qemuErr, d, accel, clock);
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
