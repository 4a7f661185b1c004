/**
 * Function identity from a task's comm: `alps-invoke --sched-ext` names each invocation's
 * process "alps-f<ID>" before it enters the enclave, so the agent knows its function at
 * TASK_NEW with one small /proc read and no registry round trip (the registry is re-read only
 * every 100 ms, too late for a process that lives a few ms). Anything else falls through to
 * the launcher registry / cgroup map.
 */
import { readFileSync } from 'node:fs';
import type { FuncId } from '../../core/ids.js';
import type { FuncResolver } from '../../workload/funcs.js';

const COMM = /^alps-f(\d{1,9})\n?$/;

/** The function id a comm names, or undefined. */
export function funcOfComm(comm: string): FuncId | undefined {
  const m = COMM.exec(comm);
  return m ? (Number(m[1]) as FuncId) : undefined;
}

export class CommFuncResolver implements FuncResolver {
  constructor(
    private readonly fallback: FuncResolver & { reload?(): void },
    private readonly proc = '/proc',
  ) {}
  resolve(tid: number): FuncId {
    let comm = '';
    try {
      comm = readFileSync(`${this.proc}/${tid}/comm`, 'utf8');
    } catch {
      // gone already: its TASK_DEAD follows; the fallback says 0 as well
    }
    return funcOfComm(comm) ?? this.fallback.resolve(tid);
  }
  nameOf(funcId: FuncId): string | undefined {
    return this.fallback.nameOf(funcId);
  }
  reload(): void {
    this.fallback.reload?.();
  }
}
