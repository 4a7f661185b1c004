/**
 * The BPF profiler (ghost-kernel/bpf/profile.bpf.c) from TypeScript: loads and attaches the
 * tracepoint programs, delivers finished invocations as InvocationRecords on the event loop
 * (ring buffer epoll fd; no timers), and exposes its tag map so launchers can tag processes.
 */
import type { InvocationRecord } from '../../core/records.js';
import { UnsupportedError } from '../../core/errors.js';
import {
  type BpfError,
  type BpfLink,
  type BpfMap,
  type BpfObject,
  type ProfRecord,
  type ProgStats,
  type RingBuffer,
  PROF_NR_STATS,
  bpfArtifact,
  decodeProfRecord,
  encodeTag,
  loadBpf,
  toInvocationRecord,
  u32Key,
} from '../../native/bpf.js';
import { mapCgroup } from './cgroups.js';

export interface ProfilerOptions {
  /** Called once per ring-buffer wakeup with every invocation that finished since. */
  onRecords: (records: InvocationRecord[], raw: ProfRecord[]) => void;
  /** funcId → name, to fill InvocationRecord.name. */
  names?: ReadonlyMap<number, string>;
  /** Share this tag map (e.g. the scheduler's) instead of creating one. */
  tags?: BpfMap;
  /** Share this cgroup → function map (e.g. the scheduler's). */
  cgfuncs?: BpfMap;
  objectPath?: string;
}

export interface ProfilerCounters {
  switches: number;
  records: number;
  dropped: number;
  trackFail: number;
}

/** Turns a libbpf failure into an error that says what to do. */
export function explainLoadError(what: string, e: BpfError): Error {
  if (e.code === 'EPERM' || e.code === 'EACCES') {
    return new UnsupportedError(what, `permission denied (${e.message})`, 'run as root: BPF needs CAP_BPF and CAP_PERFMON/CAP_SYS_ADMIN');
  }
  if (e.log && /verif|invalid|R\d+/.test(e.log)) {
    const tail = e.log.trim().split('\n').slice(-12).join('\n');
    return new UnsupportedError(what, `the verifier rejected it: ${e.message}\n${tail}`);
  }
  return e;
}

export class Profiler {
  readonly tags: BpfMap;
  private readonly obj: BpfObject;
  private readonly links: BpfLink[];
  private readonly ring: RingBuffer;
  private readonly statsMap: BpfMap;
  private closed = false;

  private constructor(obj: BpfObject, links: BpfLink[], ring: RingBuffer, tags: BpfMap, statsMap: BpfMap, readonly cgfuncs: BpfMap) {
    this.obj = obj;
    this.links = links;
    this.ring = ring;
    this.tags = tags;
    this.statsMap = statsMap;
  }

  static start(opts: ProfilerOptions): Profiler {
    const bpf = loadBpf();
    const obj = new bpf.BpfObject(opts.objectPath ?? bpfArtifact('profile.bpf.o'));
    const links: BpfLink[] = [];
    try {
      if (opts.tags) obj.reuseMap('alps_tags', opts.tags);
      if (opts.cgfuncs) obj.reuseMap('alps_cgfuncs', opts.cgfuncs);
      try {
        obj.load();
      } catch (e) {
        throw explainLoadError('BPF profiler', e as BpfError);
      }
      for (const p of obj.programs()) links.push(obj.attachProgram(p.name));
      const names = opts.names;
      const ring = new bpf.RingBuffer(obj.map('prof_events'), (bufs) => {
        const raw = bufs.map(decodeProfRecord);
        opts.onRecords(
          raw.map((r) => toInvocationRecord(r, names?.get(r.funcId))),
          raw,
        );
      });
      return new Profiler(obj, links, ring, opts.tags ?? obj.map('alps_tags'), obj.map('prof_stats'), opts.cgfuncs ?? obj.map('alps_cgfuncs'));
    } catch (e) {
      for (const l of links) l.destroy();
      obj.close();
      throw e;
    }
  }

  /** Tag a running process (its main thread; later children inherit). */
  tagPid(pid: number, funcId: number, arrivalNs: number = Number(process.hrtime.bigint())): void {
    this.tags.updateTaskStorage(pid, encodeTag({ funcId, invPid: pid, arrivalNs }));
  }

  /** Profile every task of cgroup-v2 directory `dir` as function `funcId` (one invocation per process). */
  mapCgroup(dir: string, funcId: number): void {
    mapCgroup(this.cgfuncs, dir, funcId);
  }

  counters(): ProfilerCounters {
    const v: number[] = [];
    for (let i = 0; i < PROF_NR_STATS; i++) {
      const b = this.statsMap.lookup(u32Key(i));
      v.push(b ? Number(b.readBigUInt64LE(0)) : 0);
    }
    return { switches: v[0] ?? 0, records: v[1] ?? 0, dropped: v[2] ?? 0, trackFail: v[3] ?? 0 };
  }

  /** Run-time statistics of each program (counted only while a StatsHandle is open). */
  progStats(): ProgStats[] {
    const bpf = loadBpf();
    return this.obj.programs().map((p) => bpf.progStats(p.fd));
  }

  /** Deliver whatever is in the ring buffer now. */
  drain(): number {
    return this.ring.drain();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.drain();
    this.ring.close();
    for (const l of this.links) l.destroy();
    this.statsMap.close();
    this.obj.close();
  }
}
