import { InputError } from '../core/errors.js';

/**
 * The published artifact's simulator (`frontend/simulate.py`), exactly as docs/artifact-algorithm.md §3.2 restates it:
 * one CPU, integer 1 ms ticks, one unit of work per tick, no context-switch cost (ALPS passes
 * CScost = 0). Only the first-dispatch wait is recorded, and `duration` is the artifact's
 * off-by-one T − a (T = tick of the last unit of work). Used by `mode: 'artifact'` and checked
 * against the golden vectors of docs/artifact-algorithm.md §3.7.
 */
export interface TickJob {
  /** Invocation id: the SRTF tie-breaker (lower first). */
  id: number;
  /** Class id = function UID. */
  uid: number;
  /** Arrival tick. */
  arrival: number;
  /** Burst in ticks (≥ 1). */
  burst: number;
}

export interface TickOutcome {
  id: number;
  uid: number;
  arrival: number;
  burst: number;
  /** First-dispatch wait only. */
  wait: number;
  /** Preemptions (`contextNum`). */
  preemptions: number;
  /** Run lengths (`timeSlice`). */
  slices: number[];
  /** Tick at which each run ended (`contextSwitch`). */
  switchTicks: number[];
  /** Tick of the last unit of work. */
  end: number;
  /** end − arrival: one less than the true turnaround (docs/artifact-algorithm.md §3.4). */
  duration: number;
}

export type TickPolicy = 'srtf' | 'fifo' | 'rr' | 'sfs';

/**
 * The artifact's SFS (docs/artifact-algorithm.md §6.5): new jobs are FIFO by id with a first-run quantum of `iat`
 * (mean inter-arrival ticks of the last `period` arrivals, at least the base quantum); after
 * their first run they are demoted to a second level that is FIFO *by id* as well (priority 99),
 * so a demoted job is re-picked at once while no newer or lower-id job waits (golden Test 3).
 */
const SFS_DEMOTED = 99;
const SFS_INITIAL_IAT = 6;

/**
 * Runs the tick simulator. Output rows come in the order of the artifact's `data.csv`: grouped by
 * class in order of each class's first completion, then by completion within the class.
 */
export function artifactReplay(jobs: readonly TickJob[], policy: TickPolicy = 'srtf', quantum = 8, period = 2000): TickOutcome[] {
  if (!Number.isSafeInteger(period) || period < 1) throw new InputError('artifact replay period', `must be an integer ≥ 1, got ${period}`);
  jobs.forEach((j, i) => {
    for (const k of ['arrival', 'burst', 'id'] as const) {
      if (!Number.isSafeInteger(j[k]) || j[k] < (k === 'burst' ? 1 : 0)) throw new InputError(`artifact replay job ${i} ${k}`, `must be an integer ≥ ${k === 'burst' ? 1 : 0}, got ${j[k]}`);
    }
  });
  const q = policy === 'fifo' ? 9999 : quantum;
  const n = jobs.length;
  const byArrival = Array.from({ length: n }, (_, i) => i).sort((a, b) => jobs[a]!.arrival - jobs[b]!.arrival || a - b);
  const st = jobs.map<TickOutcome & { r: number; waited: boolean; key: number }>((j) => ({
    id: j.id,
    uid: j.uid,
    arrival: j.arrival,
    burst: j.burst,
    wait: 0,
    preemptions: 0,
    slices: [],
    switchTicks: [],
    end: -1,
    duration: -1,
    r: j.burst,
    waited: false,
    key: 0,
  }));

  // Ready queue: SRTF is a heap on (remaining at enqueue, id), SFS one on (level, id); FIFO and
  // RR are plain queues.
  const heaped = policy === 'srtf' || policy === 'sfs';
  const level = new Array<number>(n).fill(0);
  // SFS state: the current first-level quantum and the arrival bookkeeping of its update().
  let iat = SFS_INITIAL_IAT;
  let arrivedSinceUpdate = 0;
  let arrivedTotal = 0;
  let lastUpdate = 0;
  const sfsUpdate = (t: number): void => {
    iat = arrivedSinceUpdate === 0 ? SFS_INITIAL_IAT : Math.max(Math.trunc((t - lastUpdate) / arrivedSinceUpdate), quantum);
    lastUpdate = t;
    arrivedSinceUpdate = 0;
  };
  let runQuantum = q;
  const heap: number[] = [];
  const fifo: number[] = [];
  let head = 0;
  const less = (a: number, b: number): boolean => st[a]!.key < st[b]!.key || (st[a]!.key === st[b]!.key && st[a]!.id < st[b]!.id);
  const push = (j: number): void => {
    if (!heaped) {
      fifo.push(j);
      return;
    }
    st[j]!.key = policy === 'sfs' ? level[j]! : st[j]!.r;
    heap.push(j);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): number => {
    if (!heaped) return fifo[head++]!;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  const qsize = (): number => (heaped ? heap.length : fifo.length - head);
  // The artifact compares against the smallest *enqueue-time* remaining (the heap key).
  const minQueued = (): number => st[heap[0]!]!.key;

  const completed: number[] = [];
  let t = 0;
  let nextArr = 0;
  let running = -1;
  let e = 0;
  while (completed.length < n) {
    while (nextArr < n && jobs[byArrival[nextArr]!]!.arrival === t) {
      if (policy === 'sfs') {
        // Count the arrival, then update on every period-th one, the very first included.
        arrivedSinceUpdate += 1;
        if (arrivedTotal++ % period === 0) sfsUpdate(t);
      }
      push(byArrival[nextArr++]!);
    }
    if (running < 0 && qsize() === 0) {
      // Idle: the artifact visits every idle tick; skipping to the next arrival is equivalent.
      t = jobs[byArrival[nextArr]!]!.arrival;
      continue;
    }
    if (running < 0) {
      running = pop();
      const s = st[running]!;
      if (!s.waited) {
        s.wait = t - s.arrival;
        s.waited = true;
      }
      if (policy === 'sfs') {
        runQuantum = level[running] === 0 ? iat : quantum;
        level[running] = SFS_DEMOTED;
      }
    }
    const s = st[running]!;
    s.r -= 1;
    e += 1;
    const others = qsize() > 0;
    const limit = policy === 'sfs' ? runQuantum : q;
    const sw = s.r === 0 || (e >= limit && others && (policy !== 'srtf' || minQueued() < s.r));
    if (sw) {
      s.slices.push(e);
      s.switchTicks.push(t);
      if (s.r === 0) {
        // The artifact's completion handler updates SFS's quantum only when the job finished on
        // the first tick after its dispatch (docs/artifact-algorithm.md §6.5).
        if (policy === 'sfs' && e === 1) sfsUpdate(t);
        s.end = t;
        s.duration = t - s.arrival;
        completed.push(running);
      } else {
        s.preemptions += 1;
        push(running);
      }
      e = 0;
      running = -1;
    }
    t += 1;
  }

  // data.csv order: classes by first completion, then completion order within a class.
  const classOrder: number[] = [];
  const rows = new Map<number, number[]>();
  for (const j of completed) {
    const uid = st[j]!.uid;
    let list = rows.get(uid);
    if (!list) {
      list = [];
      rows.set(uid, list);
      classOrder.push(uid);
    }
    list.push(j);
  }
  const out: TickOutcome[] = [];
  for (const uid of classOrder) {
    for (const j of rows.get(uid)!) {
      const { r: _r, waited: _w, key: _k, ...row } = st[j]!;
      out.push(row);
    }
  }
  return out;
}
