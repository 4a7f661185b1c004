/**
 * Function mapping by Kubernetes pod: which cgroup-v2 directories belong to which function.
 *
 * kubelet names pod cgroups after the pod's QoS class and UID, and the container runtime names
 * each container's cgroup after the container id:
 *   systemd driver:  kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid, - as _>.slice/cri-containerd-<id>.scope
 *                    (guaranteed pods sit directly under kubepods.slice: kubepods-pod<uid>.slice;
 *                    CRI-O: crio-<id>.scope, Docker: docker-<id>.scope)
 *   cgroupfs driver: kubepods/burstable/pod<uid>/<id>   (guaranteed: kubepods/pod<uid>/<id>)
 * The pod's function is named by an annotation or a label (default key ghost-alps.io/function;
 * the annotation wins: annotation values are free text, label values are limited to 63
 * characters). Pod metadata comes from a `PodSource`: the API server (the DaemonSet's service
 * account, pods of this node only) or a JSON PodList file (`kubectl get pods -o json`).
 *
 * The scheduler and profiler look up a task's *leaf* cgroup, so every container cgroup of a
 * pod is mapped (and the pod cgroup itself, for processes placed there directly).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';

export const DEFAULT_FUNCTION_KEY = 'ghost-alps.io/function';

export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

export interface KubeCgroup {
  /** Absolute directory. */
  dir: string;
  podUid: string;
  qos: QosClass;
  /** Container id (absent for the pod-level cgroup). */
  containerId?: string;
  /** containerd / crio / docker / unknown (cgroupfs driver: no prefix). */
  runtime?: string;
}

const UID = '[0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12}';
const SYSTEMD_POD = new RegExp(`^kubepods(?:-(burstable|besteffort))?-pod(${UID})\\.slice$`);
const CGROUPFS_POD = new RegExp(`^pod(${UID})$`);
const SYSTEMD_CONTAINER = /^(cri-containerd|crio|docker)-([0-9a-f]{12,64})\.scope$/;
const CGROUPFS_CONTAINER = /^(?:(crio|docker)-)?([0-9a-f]{12,64})$/;

const runtimeName = (p: string | undefined): string | undefined => (p === 'cri-containerd' ? 'containerd' : p);

/**
 * Parses one cgroup path (relative to the cgroup root, or absolute under it) as kubelet names
 * it. Undefined for anything that is not a pod or a container cgroup (conmon scopes, system
 * slices, the QoS slices themselves).
 */
export function parseKubeCgroup(path: string, root = '/sys/fs/cgroup'): KubeCgroup | undefined {
  const rel = path.startsWith(root + '/') ? path.slice(root.length + 1) : path.replace(/^\/+/, '');
  const parts = rel.split('/').filter(Boolean);
  const dir = join(root, ...parts);
  if (parts[0] === 'kubepods.slice') {
    let i = 1;
    let qosSlice: string | undefined;
    const q = /^kubepods-(burstable|besteffort)\.slice$/.exec(parts[1] ?? '');
    if (q) {
      qosSlice = q[1];
      i = 2;
    }
    const pod = SYSTEMD_POD.exec(parts[i] ?? '');
    if (!pod || (pod[1] ?? undefined) !== qosSlice) return undefined;
    const base = { dir, podUid: pod[2]!.replace(/_/g, '-').toLowerCase(), qos: (qosSlice ?? 'guaranteed') as QosClass };
    if (parts.length === i + 1) return base;
    const c = SYSTEMD_CONTAINER.exec(parts[i + 1] ?? '');
    if (!c || parts.length !== i + 2) return undefined;
    return { ...base, containerId: c[2]!, runtime: runtimeName(c[1]) };
  }
  if (parts[0] === 'kubepods') {
    let i = 1;
    let qos: QosClass = 'guaranteed';
    if (parts[1] === 'burstable' || parts[1] === 'besteffort') {
      qos = parts[1];
      i = 2;
    }
    const pod = CGROUPFS_POD.exec(parts[i] ?? '');
    if (!pod) return undefined;
    const base = { dir, podUid: pod[1]!.replace(/_/g, '-').toLowerCase(), qos };
    if (parts.length === i + 1) return base;
    const c = CGROUPFS_CONTAINER.exec(parts[i + 1] ?? '');
    if (!c || parts.length !== i + 2) return undefined;
    return { ...base, containerId: c[2]!, runtime: runtimeName(c[1]) ?? 'unknown' };
  }
  return undefined;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return []; // a pod that went away while we walked
  }
}

/** Every pod and container cgroup under `root` (both kubelet drivers). */
export function scanKubeCgroups(root = '/sys/fs/cgroup'): KubeCgroup[] {
  const out: KubeCgroup[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const name of subdirs(dir)) {
      const p = join(dir, name);
      const parsed = parseKubeCgroup(p, root);
      if (parsed) out.push(parsed);
      // kubepods → QoS → pod → container: four levels at most.
      if (depth < 3 && (parsed === undefined || parsed.containerId === undefined)) walk(p, depth + 1);
    }
  };
  for (const top of ['kubepods.slice', 'kubepods']) {
    const d = join(root, top);
    if (subdirs(root).includes(top)) walk(d, 0);
  }
  return out;
}

export interface PodInfo {
  uid: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The function a pod runs, from its annotation or label `key` (annotation first). */
export function functionOfPod(pod: PodInfo, key = DEFAULT_FUNCTION_KEY): string | undefined {
  const v = pod.annotations[key] ?? pod.labels[key];
  return v && v.length > 0 ? v : undefined;
}

export interface PodSource {
  /** Pods on this node (uid → metadata). */
  pods(): Promise<PodInfo[]>;
  describe: string;
}

/** PodInfos from a PodList document (`kubectl get pods -o json`, or the API's answer). */
export function podsFromList(doc: unknown, source: string): PodInfo[] {
  const items = (doc as { items?: unknown })?.items;
  if (!Array.isArray(items)) throw new InputError(source, 'not a PodList (no "items" array)');
  return items.flatMap((it: unknown) => {
    const md = (it as { metadata?: Record<string, unknown> })?.metadata;
    if (!md || typeof md.uid !== 'string') return [];
    return [
      {
        uid: md.uid.toLowerCase(),
        name: String(md.name ?? ''),
        namespace: String(md.namespace ?? ''),
        labels: (md.labels as Record<string, string>) ?? {},
        annotations: (md.annotations as Record<string, string>) ?? {},
      },
    ];
  });
}

/** Pods from a JSON PodList file, re-read on every scan (e.g. a ConfigMap kept up to date). */
export function filePodSource(path: string): PodSource {
  return {
    describe: `pod list ${path}`,
    pods: () => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        return Promise.reject(new InputError(`pod list ${path}`, (e as Error).message));
      }
      try {
        return Promise.resolve(podsFromList(JSON.parse(text), `pod list ${path}`));
      } catch (e) {
        return Promise.reject(e instanceof InputError ? e : new InputError(`pod list ${path}`, (e as Error).message));
      }
    },
  };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ApiPodSourceOptions {
  nodeName: string;
  /** Default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT. */
  baseUrl?: string;
  token?: string;
  ca?: string | Buffer;
  timeoutMs?: number;
}

/**
 * Pods of this node from the API server (GET /api/v1/pods?fieldSelector=spec.nodeName=NODE,
 * bearer token and CA of the pod's service account). The DaemonSet's ClusterRole grants
 * `list pods` and nothing else.
 */
export function apiPodSource(o: ApiPodSourceOptions): PodSource {
  const base =
    o.baseUrl ??
    (process.env.KUBERNETES_SERVICE_HOST ? `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT ?? 443}` : undefined);
  if (!base) throw new InputError('functions.kubernetes.pods', "'api' needs an in-cluster pod (KUBERNETES_SERVICE_HOST unset); give a PodList file instead");
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(join(SA_DIR, f), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const token = o.token ?? read('token');
  const ca = o.ca ?? read('ca.crt');
  const url = new URL(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${o.nodeName}`)}`, base);
  return {
    describe: `${url.origin} (pods of node ${o.nodeName})`,
    pods: () =>
      new Promise<PodInfo[]>((resolve, reject) => {
        const req = (url.protocol === 'https:' ? request : httpRequest)(
          url,
          { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(ca ? { ca } : {}), timeout: o.timeoutMs ?? 10_000 },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const body = Buffer.concat(chunks).toString('utf8');
              if (res.statusCode !== 200) return reject(new Error(`${url.origin}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
              try {
                resolve(podsFromList(JSON.parse(body), url.origin));
              } catch (e) {
                reject(e as Error);
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${url.origin}: no answer in ${o.timeoutMs ?? 10_000} ms`)));
        req.on('error', reject);
        req.end();
      }),
  };
}

/** cgroup directory → function name for every pod of this node whose function is named. */
export async function resolvePodFunctions(o: { root?: string; key?: string; source: PodSource }): Promise<Map<string, string>> {
  const pods = new Map((await o.source.pods()).map((p) => [p.uid, p]));
  const out = new Map<string, string>();
  for (const cg of scanKubeCgroups(o.root)) {
    const pod = pods.get(cg.podUid);
    const fn = pod && functionOfPod(pod, o.key);
    if (fn) out.set(cg.dir, fn);
  }
  return out;
}
