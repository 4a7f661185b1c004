/**
 * The ALPS sched_ext scheduler (ghost-kernel/bpf/alps.bpf.c) from TypeScript: checks that the
 * kernel can take it, loads it (verifier errors explained), attaches the struct_ops, confirms
 * that sched_ext really enabled it (an attach can "succeed" for a scheduler that already
 * died), and exposes policy writes, statistics and the exit reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InputError, UnsupportedError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import {
  type BpfError,
  type BpfLink,
  type BpfMap,
  type BpfObject,
  type ExitInfo,
  bpfArtifact,
  decodeExitInfo,
  encodeCtl,
  loadBpf,
  sumPerCpu,
  u32Key,
} from '../../native/bpf.js';
import { WATCHDOG_MIN_MS } from '../../core/alps-rule.js';
import { explainLoadError } from './profiler.js';
import { mapCgroup } from './cgroups.js';
import { PolicyWriter, type WriteResult } from './policy-writer.js';

const SCX_DIR = '/sys/kernel/sched_ext';
export const SCX_STAT_NAMES = ['enqueue', 'enqTagged', 'dispatch', 'timerPreempt', 'rankPreempt', 'inherit', 'selectIdle', 'starved', 'escaped', 'keepPrev', 'hotplug'] as const;
export type ScxStats = Record<(typeof SCX_STAT_NAMES)[number], number>;

const readTrim = (p: string): string | undefined => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** sched_ext state: enabled / disabled / enabling / disabling, or undefined without sched_ext. */
export const scxState = (): string | undefined => readTrim(`${SCX_DIR}/state`);

/** Can the ALPS scheduler be attached here now? `reason` says why not. */
export function scxAvailability(): { ok: boolean; reason: string } {
  if (!existsSync(`${SCX_DIR}/state`)) return { ok: false, reason: `this kernel has no sched_ext (${SCX_DIR} missing; needs CONFIG_SCHED_CLASS_EXT=y, Linux >= 6.12)` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'attaching a sched_ext scheduler needs root' };
  const st = scxState();
  if (st !== 'disabled') return { ok: false, reason: `another sched_ext scheduler is attached (${readTrim(`${SCX_DIR}/root/ops`) ?? st})` };
  if (!existsSync(bpfArtifact('alps.bpf.o'))) return { ok: false, reason: `${bpfArtifact('alps.bpf.o')} not built (make -C ghost-kernel/bpf; needs the target kernel's BTF)` };
  return { ok: true, reason: '' };
}

/** Patch timeout_ms into the struct_ops data (before load) at the offset the object recorded. */
function setWatchdogTimeout(obj: BpfObject, ms: number): void {
  // Below the rule's floor the watchdog could fire before the safety net (ALPS_STARVE_NS) and
  // guarded learned slices have had their chance.
  if (!Number.isInteger(ms) || ms < WATCHDOG_MIN_MS || ms > 30_000) throw new InputError('timeoutMs', `must be an integer in ${WATCHDOG_MIN_MS}..30000, got ${ms}`);
  const off = obj.structOpsData('.rodata').readUInt32LE(0);
  const ops = obj.structOpsData('alps_ops');
  ops.writeUInt32LE(ms, off);
  obj.structOpsData('alps_ops', ops);
}

export interface ScxOptions {
  /** Slice of tasks without a learned one (default 5 ms). */
  defaultSliceNs?: number;
  /** Watchdog: a runnable task waiting longer than this ejects the scheduler (5000..30000, default 30000). */
  timeoutMs?: number;
  objectPath?: string;
}

export class ScxScheduler {
  readonly tags: BpfMap;
  /** cgroup id → funcId (see mapCgroup). */
  readonly cgfuncs: BpfMap;
  private readonly writer: PolicyWriter;
  private detached = false;

  private constructor(
    private readonly obj: BpfObject,
    private readonly link: BpfLink,
    private readonly maps: { policy: BpfMap; ctl: BpfMap; stats: BpfMap; exit: BpfMap; hist: BpfMap; tags: BpfMap; cgfuncs: BpfMap },
  ) {
    this.tags = maps.tags;
    this.cgfuncs = maps.cgfuncs;
    this.writer = new PolicyWriter(maps.policy, maps.ctl);
  }

  static attach(opts: ScxOptions = {}): ScxScheduler {
    const avail = scxAvailability();
    if (!avail.ok) throw new UnsupportedError('sched_ext scheduler', avail.reason);
    const bpf = loadBpf();
    const obj = new bpf.BpfObject(opts.objectPath ?? bpfArtifact('alps.bpf.o'));
    try {
      if (opts.timeoutMs !== undefined) setWatchdogTimeout(obj, opts.timeoutMs);
      try {
        obj.load();
      } catch (e) {
        throw explainLoadError('ALPS sched_ext scheduler', e as BpfError);
      }
      const maps = {
        policy: obj.map('alps_policy'),
        ctl: obj.map('alps_ctl'),
        stats: obj.map('alps_stats'),
        exit: obj.map('alps_exit'),
        hist: obj.map('alps_run_hist'),
        tags: obj.map('alps_tags'),
        cgfuncs: obj.map('alps_cgfuncs'),
      };
      maps.ctl.update(u32Key(0), encodeCtl({ activeHalf: 0, stallDispatch: 0, generation: 0, defaultSliceNs: opts.defaultSliceNs ?? 5_000_000, functions: 0 }));
      let link: BpfLink;
      try {
        link = obj.attachStructOps('alps_ops');
      } catch (e) {
        const err = e as BpfError;
        if (err.code === 'EBUSY' || err.code === 'EEXIST') throw new UnsupportedError('sched_ext scheduler', 'another sched_ext scheduler is already attached');
        throw explainLoadError('ALPS sched_ext scheduler', err);
      }
      const s = new ScxScheduler(obj, link, maps);
      s.awaitEnabled();
      return s;
    } catch (e) {
      obj.close();
      throw e;
    }
  }

  /** Enable runs on a kernel helper thread: wait for it, and fail with the exit reason. */
  private awaitEnabled(): void {
    const deadline = Date.now() + 5000;
    for (;;) {
      const st = scxState();
      const x = this.exitInfo();
      if (x) {
        this.detach();
        throw new UnsupportedError('sched_ext scheduler', `exited while enabling: ${x.reason}${x.msg ? `: ${x.msg}` : ''}`);
      }
      if (st === 'enabled') return;
      if (Date.now() > deadline) {
        this.detach();
        throw new UnsupportedError('sched_ext scheduler', `state stayed '${st ?? '?'}' after attach`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }

  /** Every task of cgroup-v2 directory `dir` (a sandbox) is function `funcId`. */
  mapCgroup(dir: string, funcId: number): void {
    mapCgroup(this.cgfuncs, dir, funcId);
  }

  writePolicy(policy: Policy): WriteResult {
    return this.writer.write(policy);
  }

  ctl(): ReturnType<PolicyWriter['ctl']> {
    return this.writer.ctl();
  }

  stats(): ScxStats {
    const out = {} as ScxStats;
    SCX_STAT_NAMES.forEach((n, i) => {
      out[n] = sumPerCpu(this.maps.stats.lookup(u32Key(i)));
    });
    return out;
  }

  /** Run lengths of tagged tasks that were preempted (µs bucket start → count). */
  runHistogram(): Map<number, number> {
    const h = new Map<number, number>();
    for (let i = 0; i < 64; i++) {
      const v = sumPerCpu(this.maps.hist.lookup(u32Key(i)));
      if (v) h.set(i * 250, v);
    }
    return h;
  }

  /** Why the scheduler stopped (undefined while it runs). */
  exitInfo(): ExitInfo | undefined {
    const b = this.maps.exit.lookup(u32Key(0));
    if (!b) return undefined;
    const x = decodeExitInfo(b);
    return x.kind === 0 ? undefined : x;
  }

  /** Unregister: every task returns to the kernel's default scheduler. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.link.destroy();
    for (const m of Object.values(this.maps)) m.close();
    this.obj.close();
  }
}
