/**
 * Preflight and bring-up of the agent on a real ghOSt kernel (docs/ghost-abi.md §7.2–7.3).
 * Preflight turns every "this host cannot run it" condition into a clear UnsupportedError (or an
 * EPERM error) before anything is created, so nothing is half-applied to an enclave.
 */
import { UnsupportedError } from '../../core/errors.js';
import { createClient, StatusWords, SUPPORTED_ABIS, SwFlag, type ClientOptions, type GhostClient } from '../../native/ghost.js';

export const GHOSTFS_ROOT = '/sys/fs/ghost';

/** Raised when the agent lacks CAP_SYS_NICE (exit code 5, `permission`). */
export class PermissionError extends Error {
  override readonly name = 'PermissionError';
  readonly code = 'EPERM';
}

/** The error for "no ghOSt kernel here" (exit 4), shared by the preflight and the CLI's early check. */
export function noGhostKernel(root = GHOSTFS_ROOT): UnsupportedError {
  return new UnsupportedError(
    `ghOSt (${root})`,
    `${root}/version does not exist: this kernel is not a ghOSt kernel (CONFIG_SCHED_CLASS_GHOST) or ghostfs is not mounted`,
    'boot a google/ghost-kernel build and `mount -t ghost ghost /sys/fs/ghost`; without one, `ghost-alps simulate` runs the agent against the emulated kernel',
  );
}

/**
 * Checks ghostfs, the ABI and CAP_SYS_NICE. Returns the ABI to use: `wanted` if given, else the
 * newest one both the kernel and this client speak.
 */
export function ghostPreflight(client: GhostClient, wanted?: number, root = GHOSTFS_ROOT): number {
  if (!client.present()) throw noGhostKernel(root);
  const kernel = client.versions();
  const usable = kernel.filter((v) => (SUPPORTED_ABIS as readonly number[]).includes(v));
  if (wanted !== undefined) {
    if (!(SUPPORTED_ABIS as readonly number[]).includes(wanted)) {
      throw new UnsupportedError(`--abi ${wanted}`, `this client speaks ghOSt ABI ${SUPPORTED_ABIS.join(', ')} only`);
    }
    if (!kernel.includes(wanted)) {
      throw new UnsupportedError(`--abi ${wanted}`, `the kernel offers ABI ${kernel.join(', ') || '(none)'}`);
    }
  } else if (usable.length === 0) {
    throw new UnsupportedError(
      'ghOSt ABI',
      `the kernel offers ABI ${kernel.join(', ') || '(none)'}, this client speaks ${SUPPORTED_ABIS.join(', ')}`,
      'use a ghost-kernel whose uapi is ABI 84, 90 or 91',
    );
  }
  if (!client.hasCapSysNice()) {
    throw new PermissionError('ghOSt agents need CAP_SYS_NICE (become agent, RUN and moving foreign tasks are refused without it): run as root or grant cap_sys_nice');
  }
  return wanted ?? Math.max(...usable);
}

export interface HostAgentConfig {
  /** Attach to this enclave; undefined = create one. */
  enclave?: number;
  abi?: number;
  /** CPUs of a created enclave (ignored when attaching: the enclave's own list is used). */
  cpus: number[];
  globalCpu?: number;
  runnableTimeoutMs?: number;
  queueElems?: number;
  root?: string;
  /** 'native': satellite agent threads in the addon (real kernel); 'none': the caller provides them. */
  satellites?: 'native' | 'none';
  /** The ghOSt ABI on sched_ext (scx-backend.ts) instead of a ghOSt kernel. */
  scx?: { loader: string; object: string };
}

export interface HostAgentSetup {
  client: GhostClient;
  enclaveId: number;
  created: boolean;
  abi: number;
  cpus: number[];
  globalCpu: number;
  queue: number;
  sw: StatusWords;
}

/**
 * Everything up to (not including) becoming the global agent: enclave, CPUs, status-word region,
 * the centralized queue (default queue, no wakeups), tunables, agent_online, re-association of
 * tasks an earlier agent left behind, and the native satellites. All files are opened here,
 * before this thread becomes an agent (EDEADLK otherwise, §2.3).
 */
export function setUpHostAgent(cfg: HostAgentConfig, clientOpts: ClientOptions = {}): HostAgentSetup {
  const root = cfg.root ?? GHOSTFS_ROOT;
  const client = createClient({ ...clientOpts, root });
  const abi = ghostPreflight(client, cfg.abi, root);
  const created = cfg.enclave === undefined;
  const enclaveId = created ? client.createEnclave(abi) : (cfg.enclave as number);
  client.attach(enclaveId, abi);
  if (created) client.setCpus(cfg.cpus);
  const cpus = client.cpus();
  if (cpus.length < 2) throw new UnsupportedError(`enclave ${enclaveId}`, `has ${cpus.length} CPU(s); the centralized agent needs at least 2 (one spins)`);
  const globalCpu = cfg.globalCpu ?? (cpus[0] as number);
  if (!cpus.includes(globalCpu)) throw new UnsupportedError(`--global-cpu ${globalCpu}`, `is not an enclave CPU (${cpus.join(',')})`);
  const sw = new StatusWords(client.createSwRegion(0, 0));
  const queue = client.createQueue(cfg.queueElems ?? 65536);
  client.setDefaultQueue(queue);
  if (cfg.runnableTimeoutMs !== undefined) client.setTunable('runnable_timeout', cfg.runnableTimeoutMs);
  if (!created) reassociate(client, sw, queue);
  client.setOnline(true);
  if ((cfg.satellites ?? 'native') === 'native') client.startSatellites(cpus.filter((c) => c !== globalCpu), queue);
  return { client, enclaveId, created, abi, cpus, globalCpu, queue, sw };
}

/**
 * Task discovery for an attached enclave (§7.3): route every live task's messages to our queue
 * (barrier-checked ASSOC_QUEUE, retried on ESTALE), free orphaned words, then `discover tasks`
 * so the kernel re-announces each one with TASK_NEW on the new queue.
 */
export function reassociate(client: GhostClient, sw: StatusWords, queue: number): number {
  const ESTALE = -116;
  const ENOENT = -2;
  let routed = 0;
  const view = sw.raw();
  for (let i = 0; i < sw.capacity; i++) {
    const flags = sw.flags(i);
    if (!(flags & SwFlag.IN_USE) || flags & SwFlag.TASK_IS_AGENT) continue;
    const gtid = view.getBigUint64(sw.byteOffset(i) + 8, true);
    if (gtid === 0n) continue;
    const h = client.internGtid(gtid.toString());
    for (let attempt = 0; attempt < 3; attempt++) {
      const rc = client.assocQueue(queue, h, sw.barrier(i));
      if (rc >= 0) {
        routed++;
        break;
      }
      if (rc === ENOENT || (rc === ESTALE && sw.flags(i) & SwFlag.CAN_FREE)) {
        client.swFree(h);
        break;
      }
      if (rc !== ESTALE) break;
    }
  }
  client.discoverTasks();
  return routed;
}
