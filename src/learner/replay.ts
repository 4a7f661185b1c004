import { InputError } from '../core/errors.js';
import type { FuncId } from '../core/ids.js';
import type { Ns } from '../core/time.js';

/** One invocation as the replay sees it: it needs `burstNs` of CPU from `arrivalNs` on. */
export interface ReplayJob {
  funcId: FuncId;
  arrivalNs: Ns;
  burstNs: Ns;
  /**
   * Added to the SRPT key (remaining work) without being work: the I/O-aware learner puts a
   * job's blocked time here so a job that mostly sleeps is not treated as short (seed 001 §9).
   */
  keyBiasNs?: Ns;
}

/** What the replay recorded for one job. */
export interface ReplayOutcome {
  /** From arrival to first dispatch. */
  firstWaitNs: Ns;
  /** Every waiting segment summed (= turnaround − burst: the replay has no blocking). */
  waitNs: Ns;
  endNs: Ns;
  /** Every contiguous run slice, in order. */
  slicesNs: Ns[];
  /** Start of each slice. */
  sliceStartsNs: Ns[];
  /** CPU of each slice. */
  sliceCpus: number[];
}

export type Discipline = 'srpt' | 'fifo' | 'rr';

export interface ReplayOptions {
  cpus: number;
  /**
   * Minimum run quantum. SRPT: a dispatched job is never preempted before it has run this long,
   * then is preempted as soon as a strictly shorter job waits. RR: the round-robin quantum
   * (a job keeps running past it while nobody waits). FIFO ignores it.
   */
  quantumNs: Ns;
  discipline?: Discipline;
}

export interface ReplayResult {
  /** Same order as the input jobs. */
  outcomes: ReplayOutcome[];
  makespanNs: Ns;
  /** Preemptions (a job put back in the queue with work left). */
  preemptions: number;
}

/**
 * Min-heap of job indices under a two-level key (primary, then secondary). Typed arrays keep it
 * allocation-free: one replay of 5,000 jobs does ~10⁴ heap operations.
 */
class IndexHeap {
  private readonly heap: Int32Array;
  size = 0;
  constructor(
    capacity: number,
    private readonly k1: Float64Array,
    private readonly k2: Float64Array,
  ) {
    this.heap = new Int32Array(Math.max(1, capacity));
  }
  private less(a: number, b: number): boolean {
    const x = this.k1[a]!;
    const y = this.k1[b]!;
    return x < y || (x === y && this.k2[a]! < this.k2[b]!);
  }
  peek(): number {
    return this.heap[0]!;
  }
  push(j: number): void {
    const h = this.heap;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(j, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = j;
  }
  pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h[--this.size]!;
    let i = 0;
    const n = this.size;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1]!, h[c]!)) c++;
      if (!this.less(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    if (n > 0) h[i] = last;
    return top;
  }
}

function checkJobs(jobs: readonly ReplayJob[], opts: ReplayOptions): void {
  if (!Number.isInteger(opts.cpus) || opts.cpus < 1) throw new InputError('replay cpus', `must be a positive integer, got ${opts.cpus}`);
  if (!Number.isInteger(opts.quantumNs) || opts.quantumNs < 0) throw new InputError('replay quantumNs', `must be a non-negative integer, got ${opts.quantumNs}`);
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i]!;
    if (!Number.isSafeInteger(j.arrivalNs) || j.arrivalNs < 0) throw new InputError(`replay job ${i} arrivalNs`, `must be a non-negative integer, got ${j.arrivalNs}`);
    if (!Number.isSafeInteger(j.burstNs) || j.burstNs < 0) throw new InputError(`replay job ${i} burstNs`, `must be a non-negative integer, got ${j.burstNs}`);
    const b = j.keyBiasNs ?? 0;
    if (!Number.isFinite(b) || b < 0) throw new InputError(`replay job ${i} keyBiasNs`, `must be a finite non-negative number, got ${b}`);
  }
}

/**
 * The "simulation" step of ALPS (paper §5.1 step 2) in continuous time: preemptive SRPT over
 * `cpus` identical CPUs with a minimum run quantum, no context-switch cost (as the paper says).
 * Work-conserving: at every event, idle CPUs take the shortest waiting jobs, then any running
 * job that has used its quantum is swapped for a strictly shorter waiting one (the longest such
 * running job first). Ties go to the earlier arrival, then the earlier input position.
 * Also runs FIFO and round-robin on the same engine (used as baselines by the property tests).
 */
export function srptReplay(jobs: readonly ReplayJob[], opts: ReplayOptions): ReplayResult {
  checkJobs(jobs, opts);
  const n = jobs.length;
  const discipline = opts.discipline ?? 'srpt';
  const q = opts.quantumNs;
  const C = opts.cpus;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => jobs[a]!.arrivalNs - jobs[b]!.arrivalNs || a - b);
  const rank = new Float64Array(n);
  for (let i = 0; i < n; i++) rank[order[i]!] = i;

  const remaining = new Float64Array(n);
  const bias = new Float64Array(n);
  const k1 = new Float64Array(n);
  const k2 = new Float64Array(n);
  const heap = new IndexHeap(n, k1, k2);
  let enqueueSeq = 0;
  const enqueue = (j: number): void => {
    if (discipline === 'srpt') {
      k1[j] = remaining[j]! + bias[j]!;
      k2[j] = rank[j]!;
    } else if (discipline === 'fifo') {
      k1[j] = rank[j]!;
      k2[j] = 0;
    } else {
      k1[j] = enqueueSeq++;
      k2[j] = 0;
    }
    heap.push(j);
  };

  const outcomes: ReplayOutcome[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const j = jobs[i]!;
    remaining[i] = j.burstNs;
    bias[i] = j.keyBiasNs ?? 0;
    outcomes[i] = { firstWaitNs: -1, waitNs: 0, endNs: -1, slicesNs: [], sliceStartsNs: [], sliceCpus: [] };
  }

  const run = new Int32Array(C).fill(-1);
  const since = new Float64Array(C); // dispatch time
  let t = 0;
  let next = 0; // next arrival in `order`
  let finished = 0;
  let preemptions = 0;
  let makespan = 0;

  const endSlice = (c: number, now: Ns): number => {
    const j = run[c]!;
    const len = now - since[c]!;
    if (len > 0) {
      const o = outcomes[j]!;
      o.slicesNs.push(len);
      o.sliceStartsNs.push(since[c]!);
      o.sliceCpus.push(c);
      remaining[j] = remaining[j]! - len;
    }
    run[c] = -1;
    return j;
  };
  const dispatch = (c: number, j: number, now: Ns): void => {
    run[c] = j;
    since[c] = now;
    const o = outcomes[j]!;
    if (o.firstWaitNs < 0) o.firstWaitNs = now - jobs[j]!.arrivalNs;
  };
  const finish = (j: number, now: Ns): void => {
    const o = outcomes[j]!;
    const job = jobs[j]!;
    if (o.firstWaitNs < 0) o.firstWaitNs = 0;
    o.endNs = now;
    o.waitNs = now - job.arrivalNs - job.burstNs;
    finished++;
    if (now > makespan) makespan = now;
  };

  while (finished < n) {
    // Next event: an arrival, a completion, or (while someone waits) a quantum expiry.
    let tNext = next < n ? jobs[order[next]!]!.arrivalNs : Infinity;
    const waiting = heap.size > 0;
    for (let c = 0; c < C; c++) {
      const j = run[c]!;
      if (j < 0) continue;
      const done = since[c]! + remaining[j]!;
      if (done < tNext) tNext = done;
      if (waiting && discipline !== 'fifo') {
        const qEnd = since[c]! + q;
        if (qEnd > t && qEnd < tNext) tNext = qEnd;
      }
    }
    t = tNext;

    for (let c = 0; c < C; c++) {
      const j = run[c]!;
      if (j >= 0 && since[c]! + remaining[j]! === t) finish(endSlice(c, t), t);
    }
    while (next < n && jobs[order[next]!]!.arrivalNs === t) {
      const j = order[next++]!;
      if (jobs[j]!.burstNs === 0) finish(j, t);
      else enqueue(j);
    }
    for (let c = 0; c < C && heap.size > 0; c++) if (run[c]! < 0) dispatch(c, heap.pop(), t);

    if (discipline === 'srpt') {
      // Swap the longest quantum-expired running job for a strictly shorter waiting one.
      while (heap.size > 0) {
        const head = heap.peek();
        const headKey = k1[head]!;
        let victim = -1;
        let victimKey = -Infinity;
        for (let c = 0; c < C; c++) {
          const j = run[c]!;
          if (j < 0 || t - since[c]! < q) continue;
          const key = remaining[j]! - (t - since[c]!) + bias[j]!;
          if (key > victimKey) {
            victimKey = key;
            victim = c;
          }
        }
        if (victim < 0 || !(headKey < victimKey)) break;
        const out = endSlice(victim, t);
        dispatch(victim, heap.pop(), t);
        enqueue(out);
        preemptions++;
      }
    } else if (discipline === 'rr') {
      for (let c = 0; c < C && heap.size > 0; c++) {
        if (run[c]! < 0 || t - since[c]! < q) continue;
        const out = endSlice(c, t);
        dispatch(c, heap.pop(), t);
        enqueue(out);
        preemptions++;
      }
    }
  }
  return { outcomes, makespanNs: makespan, preemptions };
}
