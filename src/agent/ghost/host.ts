/**
 * Main-thread side of the host agent: preflight, start the agent worker, feed its invocation
 * records to the learner and push each new policy back without pausing the agent.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Policy, PolicyLearner } from '../../core/policy.js';
import type { InvocationRecord } from '../../core/records.js';
import { createClient } from '../../native/ghost.js';
import { ghostPreflight, GHOSTFS_ROOT } from './host-setup.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker.js';

export interface HostAgentHandle {
  /** Resolves when the agent is scheduling (enclave id, ABI, CPUs). */
  ready: Promise<Extract<FromWorker, { type: 'ready' }>>;
  /** Resolves with the reason when the agent has stopped. */
  done: Promise<string>;
  setPolicy(policy: Policy): void;
  stop(): void;
}

export interface HostAgentOptions extends Omit<WorkerConfig, 'port'> {
  learner?: PolicyLearner;
  /** How often the learner runs (default: its window). */
  learnEveryNs?: number;
  onRecords?: (records: InvocationRecord[]) => void;
  onStats?: (m: Extract<FromWorker, { type: 'stats' }>) => void;
  onPolicy?: (p: Policy) => void;
}

export function startHostAgent(opts: HostAgentOptions): HostAgentHandle {
  // Fail fast on the main thread with the precise reason (no ghostfs / ABI / CAP_SYS_NICE).
  ghostPreflight(createClient({ root: opts.root ?? GHOSTFS_ROOT, ...(opts.scx ? { scx: opts.scx } : {}) }), opts.abi, opts.root ?? GHOSTFS_ROOT);
  const entry = new URL('./worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(entry))) throw new Error(`agent worker ${fileURLToPath(entry)} missing: run \`npm run build\``);
  const { port1, port2 } = new MessageChannel();
  const { learner, learnEveryNs, onRecords, onStats, onPolicy, ...rest } = opts;
  const cfg: WorkerConfig = { ...rest, port: port2 };
  const worker = new Worker(entry, { workerData: cfg, transferList: [port2] });
  const post = (m: ToWorker): void => port1.postMessage(m);
  let resolveReady!: (m: Extract<FromWorker, { type: 'ready' }>) => void;
  const ready = new Promise<Extract<FromWorker, { type: 'ready' }>>((res) => (resolveReady = res));
  let cpusInEnclave = opts.cpus.length;
  let lastLearn = Number(process.hrtime.bigint());
  let busyNs = 0;
  const every = learnEveryNs ?? learner?.params.windowNs ?? 5_000_000_000;
  port1.on('message', (m: FromWorker) => {
    if (m.type === 'ready') {
      cpusInEnclave = opts.idleSleepUs ? m.cpus.length : m.cpus.length - 1; // a spinning global agent owns its CPU
      resolveReady(m);
    } else if (m.type === 'records') {
      onRecords?.(m.records);
      if (!learner) return;
      learner.observe(m.records);
      for (const r of m.records) busyNs += r.cpuNs;
      const now = Number(process.hrtime.bigint());
      if (now - lastLearn >= every) {
        const util = Math.min(100, (100 * busyNs) / ((now - lastLearn) * Math.max(1, cpusInEnclave)));
        lastLearn = now;
        busyNs = 0;
        const policy = learner.learn(now, util);
        post({ type: 'policy', policy });
        onPolicy?.(policy);
      }
    } else if (m.type === 'stats') {
      onStats?.(m);
    }
  });
  const done = new Promise<string>((resolve, reject) => {
    port1.on('message', (m: FromWorker) => {
      if (m.type === 'stopped') resolve(m.reason);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      port1.close();
      resolve(code === 0 ? 'exited' : `agent worker exited with code ${code} (killed by the kernel on enclave destruction?)`);
    });
  });
  return {
    ready,
    done,
    setPolicy: (policy) => post({ type: 'policy', policy }),
    stop: () => post({ type: 'stop' }),
  };
}
