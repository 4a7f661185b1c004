import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiPodSource, filePodSource, functionOfPod, parseKubeCgroup, resolvePodFunctions, scanKubeCgroups } from '../../../src/service/k8s.js';

const UID_A = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const UID_B = '11111111-2222-3333-4444-555555555555';
const UID_C = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const CID = 'a'.repeat(64);
const CID2 = 'b'.repeat(64);

test('kubelet cgroup names: systemd and cgroupfs drivers, every QoS class, containerd/CRI-O/Docker', () => {
  const u = UID_A.replace(/-/g, '_');
  assert.deepEqual(parseKubeCgroup(`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u}.slice/cri-containerd-${CID}.scope`, '/r'), {
    dir: `/r/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u}.slice/cri-containerd-${CID}.scope`,
    podUid: UID_A,
    qos: 'burstable',
    containerId: CID,
    runtime: 'containerd',
  });
  assert.equal(parseKubeCgroup(`/sys/fs/cgroup/kubepods.slice/kubepods-pod${u}.slice/crio-${CID}.scope`)?.qos, 'guaranteed');
  assert.equal(parseKubeCgroup(`/sys/fs/cgroup/kubepods.slice/kubepods-pod${u}.slice/crio-${CID}.scope`)?.runtime, 'crio');
  assert.equal(parseKubeCgroup(`kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u}.slice`, '/r')?.containerId, undefined);
  assert.equal(parseKubeCgroup(`kubepods/burstable/pod${UID_A}/${CID}`, '/r')?.podUid, UID_A);
  assert.equal(parseKubeCgroup(`kubepods/pod${UID_A}/docker-${CID}`, '/r')?.runtime, 'docker');
  // Not workloads: conmon scopes, the QoS slices, a pod slice under the wrong QoS parent, others.
  assert.equal(parseKubeCgroup(`kubepods.slice/kubepods-pod${u}.slice/crio-conmon-${CID}.scope`, '/r'), undefined);
  assert.equal(parseKubeCgroup('kubepods.slice/kubepods-burstable.slice', '/r'), undefined);
  assert.equal(parseKubeCgroup(`kubepods.slice/kubepods-besteffort.slice/kubepods-burstable-pod${u}.slice`, '/r'), undefined);
  assert.equal(parseKubeCgroup('system.slice/containerd.service', '/r'), undefined);
});

test('the function comes from the annotation, else the label', () => {
  const pod = { uid: UID_A, name: 'p', namespace: 'n', labels: { 'ghost-alps.io/function': 'label-fn' }, annotations: {} as Record<string, string> };
  assert.equal(functionOfPod(pod), 'label-fn');
  pod.annotations['ghost-alps.io/function'] = 'annotated-fn';
  assert.equal(functionOfPod(pod), 'annotated-fn');
  assert.equal(functionOfPod(pod, 'other/key'), undefined);
});

const podList = {
  kind: 'PodList',
  items: [
    { metadata: { uid: UID_A, name: 'thumb-1', namespace: 'faas', labels: { 'ghost-alps.io/function': 'thumbnail' } } },
    { metadata: { uid: UID_B, name: 'resize-1', namespace: 'faas', annotations: { 'ghost-alps.io/function': 'resize' } } },
    { metadata: { uid: UID_C, name: 'coredns', namespace: 'kube-system', labels: { app: 'dns' } } },
  ],
};

/** The cgroup v2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one. */
function cgroup2Mount(): string | undefined {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  const m = mounts.find((f) => f[2] === 'cgroup2' && Number(statfsSync(f[1]!).type) === 0x63677270);
  return m?.[1];
}
const mount = cgroup2Mount();
const cgSkip = process.getuid?.() !== 0 ? 'needs root to create cgroups' : !mount ? 'no cgroup v2 mount on this host' : false;

test('a real cgroup v2 tree with kubelet names: pods resolve to functions, and a process in a container is found by its /proc cgroup', { skip: cgSkip }, async () => {
  // A private parent cgroup stands for the cgroup root, so nothing of the host's is touched.
  const root = `${mount}/ghost-alps-test-${process.pid}`;
  const u = (x: string): string => x.replace(/-/g, '_');
  const dirs = [
    `${root}/kubepods.slice`,
    `${root}/kubepods.slice/kubepods-burstable.slice`,
    `${root}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u(UID_A)}.slice`,
    `${root}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u(UID_A)}.slice/cri-containerd-${CID}.scope`,
    `${root}/kubepods.slice/kubepods-pod${u(UID_B)}.slice`,
    `${root}/kubepods.slice/kubepods-pod${u(UID_B)}.slice/cri-containerd-${CID2}.scope`,
    `${root}/kubepods.slice/kubepods-besteffort.slice`,
    `${root}/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u(UID_C)}.slice`,
    `${root}/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u(UID_C)}.slice/cri-containerd-${'c'.repeat(64)}.scope`,
  ];
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    mkdirSync(root);
    for (const d of dirs) mkdirSync(d);
    assert.ok(existsSync(join(dirs[3]!, 'cgroup.procs')), 'a real cgroup (the kernel populated it)');
    const tmp = mkdtempSync(join(tmpdir(), 'pods-'));
    writeFileSync(join(tmp, 'pods.json'), JSON.stringify(podList));
    const m = await resolvePodFunctions({ root, source: filePodSource(join(tmp, 'pods.json')) });
    assert.deepEqual(
      [...m].sort(),
      [
        [dirs[2], 'thumbnail'],
        [dirs[3], 'thumbnail'],
        [dirs[4], 'resize'],
        [dirs[5], 'resize'],
      ].sort(),
    );
    assert.equal(scanKubeCgroups(root).length, 6, 'pods and containers of all three QoS classes');
    // A process placed in the container's cgroup: its /proc cgroup path names the pod.
    writeFileSync(join(dirs[5]!, 'cgroup.procs'), String(child.pid));
    const own = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').trim().split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    const parsed = parseKubeCgroup(`${mount}${own}`, root);
    assert.equal(parsed?.podUid, UID_B);
    assert.equal(m.get(parsed!.dir), 'resize');
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    for (const d of [...dirs].reverse()) {
      for (let i = 0; i < 50; i++) {
        try {
          if (existsSync(d)) rmdirSync(d);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 20)); // the killed process leaves the cgroup asynchronously
        }
      }
    }
    if (existsSync(root)) rmdirSync(root);
  }
  assert.equal(existsSync(root), false, 'cleaned up');
});

test('pods from the API server: this node only, bearer token, PodList parsed', async () => {
  let seen: { url?: string; auth?: string } = {};
  const srv = createServer((req, res) => {
    seen = { url: req.url, auth: req.headers.authorization };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(podList));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (srv.address() as { port: number }).port;
    const src = apiPodSource({ nodeName: 'node-7', baseUrl: `http://127.0.0.1:${port}`, token: 'tok' });
    const pods = await src.pods();
    assert.equal(seen.url, '/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-7');
    assert.equal(seen.auth, 'Bearer tok');
    assert.deepEqual(pods.map((p) => [p.name, functionOfPod(p)]), [
      ['thumb-1', 'thumbnail'],
      ['resize-1', 'resize'],
      ['coredns', undefined],
    ]);
  } finally {
    srv.close();
  }
  await assert.rejects(filePodSource('/nonexistent/pods.json').pods(), /pod list \/nonexistent\/pods\.json/);
});

test('deploy/kubernetes: a privileged host-PID DaemonSet with bpffs and cgroup v2 mounted, and a valid agent config', async () => {
  const { parseAllDocuments } = await import('yaml');
  const { parseConfig } = await import('../../../src/service/config.js');
  const { packageRoot } = await import('../../../src/service/systemd.js');
  const docs = parseAllDocuments(readFileSync(join(packageRoot(), 'deploy', 'kubernetes', 'ghost-alps.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, never>);
  const ds = docs.find((d) => d?.kind === 'DaemonSet') as unknown as {
    spec: { template: { spec: { hostPID: boolean; containers: { securityContext: { privileged: boolean }; volumeMounts: { mountPath: string }[]; env: { name: string }[] }[]; volumes: { hostPath?: { path: string } }[] } } };
  };
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostPID, true);
  assert.equal(pod.containers[0]!.securityContext.privileged, true);
  const mounts = pod.containers[0]!.volumeMounts.map((m) => m.mountPath);
  for (const p of ['/sys/fs/bpf', '/sys/fs/cgroup', '/etc/ghost-alps']) assert.ok(mounts.includes(p), p);
  assert.ok(pod.volumes.some((v) => v.hostPath?.path === '/sys/fs/bpf'));
  assert.ok(pod.containers[0]!.env.some((e) => e.name === 'NODE_NAME'), 'the pod source needs the node name');
  const cm = docs.find((d) => d?.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
  const cfg = parseConfig(cm.data['agent.yaml']!, 'ConfigMap agent.yaml');
  assert.equal(cfg.functions?.kubernetes?.pods, 'api');
  const role = docs.find((d) => d?.kind === 'ClusterRole') as unknown as { rules: { resources: string[]; verbs: string[] }[] };
  assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
});
