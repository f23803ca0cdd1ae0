/**
 * KubernetesCluster with kubeadm in the lab, through the engine, air-gapped: every image and the
 * kubeadm/kubelet/kubectl binaries come from a LabRegistry (plain HTTP, with credentials).
 * (a) 1 control plane + 2 workers: all nodes Ready, system pods Running, the kubeconfig output works
 *     from this host, a pod of the demo image pulled from the registry answers, a second up changes
 *     nothing, removing a worker drains it and deletes its Node and machine, destroy leaves nothing.
 * (b) 3 control-plane nodes + 1 worker: etcd has 3 members; with one non-first control-plane
 *     machine stopped the API answers through another; the first control-plane node replaced by a
 *     new machine in one up keeps the cluster (same CA, same kube-system namespace, etcd of the
 *     new three, the worker's kubelet following the API name to a surviving node, no second
 *     kubeadm init); removing control-plane nodes removes their etcd members; a destroy with the
 *     worker's machine stopped converges and leaves nothing.
 * In (a), a worker's machine deleted outside Pulumi moments before an up that drops it (the API
 * still lists it Ready): the up converges without refresh, its Node removed.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, httpGet, poolLeftovers, removeStaleTestPools, ROOT, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";

jest.setTimeout(40 * 60 * 1000);

const cache = childProcess.execFileSync("bash", [`${ROOT}/scripts/kubernetes-build.sh`], { encoding: "utf8" }).trim().split("\n").pop() as string;
const kubectlBin = path.join(cache, "bin", "kubectl");
const demo = childProcess.execFileSync("bash", [`${ROOT}/scripts/demo-image.sh`, "k8s-lab"], { encoding: "utf8" }).trim().split("\n").pop() as string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flt-k8s-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

/** kubectl on this host with the stack's kubeconfig. */
function kubectlWith(kubeconfig: string) {
    const file = path.join(tmp, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
    return (args: string[], input?: string): string =>
        childProcess.execFileSync(kubectlBin, ["--kubeconfig", file, "--request-timeout=20s", ...args], {
            encoding: "utf8",
            input,
            stdio: ["pipe", "pipe", "pipe"],
        });
}

interface KNode {
    metadata: { name: string; labels: Record<string, string> };
    status: { conditions: { type: string; status: string }[] };
}
const readyNodes = (kc: ReturnType<typeof kubectlWith>) =>
    (JSON.parse(kc(["get", "nodes", "-o", "json"])).items as KNode[])
        .map((n) => `${n.metadata.name} ${n.status.conditions.find((c) => c.type === "Ready")?.status}`)
        .sort();

/** The pods of the system namespaces, as "namespace/name phase ready". */
function systemPods(kc: ReturnType<typeof kubectlWith>): { name: string; running: boolean }[] {
    const pods = JSON.parse(kc(["get", "pods", "-A", "-o", "json"])).items as {
        metadata: { namespace: string; name: string };
        status: { phase: string; containerStatuses?: { ready: boolean }[] };
    }[];
    return pods
        .filter((p) => ["kube-system", "kube-flannel"].includes(p.metadata.namespace))
        .map((p) => ({
            name: `${p.metadata.namespace}/${p.metadata.name}`,
            running: p.status.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.ready),
        }));
}

function machineIds(pool: string): string[] {
    return docker("ps", "-a", "--filter", `label=flotilla.pool=${pool}`, "--format", "{{.ID}}").map(
        (id) => docker("inspect", "--format", "{{.Id}}", id)[0],
    );
}
const cgroupLeftovers = (ids: string[]) =>
    ids.flatMap((id) => fs.readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}/docker/${id}`).filter((d) => fs.existsSync(d)));

const webManifest = (image: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels: { app: web }
      containers:
        - name: web
          image: ${image}
          imagePullPolicy: Always
          ports:
            - containerPort: 8080
          readinessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: { app: web }
  ports:
    - port: 8080
      targetPort: 8080
      nodePort: 30080
`;

describe("KubernetesCluster (kubeadm) in the lab: 1 control plane + 2 workers", () => {
    const pool = `${TEST_POOL_PREFIX}ka${process.pid}`;
    let stack: Stack;
    let kc: ReturnType<typeof kubectlWith>;
    let upOutput = "";
    let ids: string[] = [];
    let secrets: string[] = [];

    beforeAll(async () => {
        removeStaleTestPools();
        stack = await testProgramStack("kubernetes", `ka-${process.pid}`, {
            "test:poolName": pool,
            "test:subnet": "10.213.170.0/28",
            "test:controlPlane": "1",
            "test:workers": "2",
            "test:cache": cache,
            "test:demoImage": demo,
        });
    });
    afterAll(() => tearDown(stack, { pool }));

    test("up: 3 nodes Ready, system pods Running, the kubeconfig works from this host", async () => {
        const t0 = Date.now();
        const up = await stack.up();
        console.log(`kubeadm up (registry + pushes, 3 machines, containerd, init, 2 joins): ${secs(t0)}s`);
        upOutput = up.stdout + up.stderr;
        const out = up.outputs;
        expect(out.kubeconfig.secret).toBe(true);
        expect(out.apiEndpoint.value).toBe("10.213.170.3");
        expect(out.kubeconfig.value as string).toContain("server: https://10.213.170.3:6443");
        expect(out.capabilities.value).toEqual({ serviceVirtualIp: true, routingMesh: true, loadBalancer: false });
        expect(out.cgroupDrivers.value).toEqual(["cgroupfs", "cgroupfs", "cgroupfs"]);
        kc = kubectlWith(out.kubeconfig.value as string);
        secrets = [out.registryPassword.value as string, /client-key-data: (\S+)/.exec(out.kubeconfig.value as string)?.[1] as string];
        ids = machineIds(pool);
        expect(ids).toHaveLength(4);
        expect(readyNodes(kc)).toEqual([`${pool}-1 True`, `${pool}-2 True`, `${pool}-3 True`]);
        const labels = (JSON.parse(kc(["get", "nodes", "-o", "json"])).items as KNode[]).map((n) => [n.metadata.labels.env, n.metadata.labels.pool]);
        expect(labels).toEqual([["test", pool], ["test", pool], ["test", pool]]);
        const waited = await until("system pods Running", 300, async () => {
            const pods = systemPods(kc);
            return pods.length >= 3 * 2 + 4 && pods.every((p) => p.running);
        }, 2000);
        const pods = systemPods(kc).map((p) => p.name.replace(/-[a-z0-9]{5}$|-[a-z0-9]{8,10}-[a-z0-9]{5}$/, "").replace(`-${pool}-1`, ""));
        console.log(`system pods Running ${waited.toFixed(1)}s after up: ${pods.join(", ")}`);
        for (const p of ["kube-system/etcd", "kube-system/kube-apiserver", "kube-system/kube-controller-manager", "kube-system/kube-scheduler", "kube-system/coredns", "kube-system/kube-proxy", "kube-flannel/kube-flannel-ds"]) {
            expect(pods).toContain(p);
        }
        // The only bootstrap tokens left are the joins' own, one per node (the first control-plane
        // node's too: it has a join like any other); kubeadm init's default one is deleted.
        const tokens = childProcess.execFileSync("docker", ["exec", `${pool}-1`, "kubeadm", "token", "list", "--kubeconfig", "/etc/kubernetes/admin.conf"], { encoding: "utf8" });
        expect(tokens).not.toContain("generated by 'kubeadm init'");
        expect(tokens.match(/flotilla: join of/g)).toHaveLength(3);
        // Every image came from the registry: the nodes' images are all named after it.
        const images = kc(["get", "pods", "-A", "-o", "jsonpath={range .items[*]}{.spec.containers[*].image}{\"\\n\"}{end}"]).trim().split("\n");
        expect(images.every((i) => i.startsWith("10.213.170.2:5000/k8s/"))).toBe(true);
    });

    test("a pod of the demo image, pulled from the registry with credentials, answers through a NodePort", async () => {
        const ref = (await stack.outputs()).demoRef.value as string;
        expect(ref).toBe(`10.213.170.2:5000/${demo}`);
        const t0 = Date.now();
        kc(["apply", "-f", "-"], webManifest(ref, 2));
        kc(["rollout", "status", "deployment/web", "--timeout=240s"]);
        const waited = await until("NodePort answering", 60, async () => {
            const [status, body] = await httpGet("http://10.213.170.4:30080/");
            return status === 200 && body.includes("flotilla-demo k8s-lab");
        });
        console.log(`demo Deployment rolled out and answering: ${secs(t0)}s (NodePort ${waited.toFixed(1)}s after rollout)`);
        const events = kc(["get", "events", "-o", "jsonpath={range .items[*]}{.reason} {.message}{\"\\n\"}{end}"]);
        expect(events).toMatch(new RegExp(`Pulled Successfully pulled image "${ref.replace(/[.]/g, "\\.")}"`));
        // Every node answers too, once its kube-proxy has programmed the new NodePort (a moment after
        // the rollout, per node: docs/kubernetes-lab.md, failure 7).
        for (const ip of ["10.213.170.3", "10.213.170.5"]) {
            await until(`NodePort on ${ip}`, 60, async () => (await httpGet(`http://${ip}:30080/`))[0] === 200);
            expect(await httpGet(`http://${ip}:30080/`)).toEqual([200, expect.stringContaining("flotilla-demo k8s-lab")]);
        }
    });

    test("a second up changes nothing", async () => {
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: expect.any(Number) });
    });

    test("no registry password, client key or bootstrap token in the stored state or the engine's output", async () => {
        const state = storedState(stack);
        expect({
            secretsInState: secrets.some((s) => state.includes(s)),
            secretsInOutput: secrets.some((s) => upOutput.includes(s)),
            tokenAnywhere: /[a-z0-9]{6}\.[a-z0-9]{16}/.test(upOutput),
            keyInState: state.includes("PRIVATE KEY"),
        }).toEqual({ secretsInState: false, secretsInOutput: false, tokenAnywhere: false, keyInState: false });
    });

    test("workers 2 -> 1: the leaving node is drained, its Node deleted, its machine removed", async () => {
        const leaver = `${pool}-3`;
        const podsOn = (node: string) =>
            kc(["get", "pods", "-l", "app=web", "--field-selector", `spec.nodeName=${node}`, "-o", "name"]).trim().split("\n").filter((l) => l);
        expect(podsOn(leaver)).toHaveLength(1);
        await stack.setConfig("test:workers", { value: "1" });
        const t0 = Date.now();
        const up = await stack.up();
        console.log(`scale-down (drain, delete node, reset, machine removed): ${secs(t0)}s`);
        expect(up.summary.resourceChanges).toMatchObject({ delete: expect.any(Number) });
        expect(readyNodes(kc)).toEqual([`${pool}-1 True`, `${pool}-2 True`]);
        expect(podsOn(leaver)).toEqual([]);
        expect(docker("ps", "-a", "--filter", `name=^${leaver}$`, "--format", "{{.Names}}")).toEqual([]);
        // The drained pod was evicted (not lost with the machine): the Deployment is whole again.
        kc(["rollout", "status", "deployment/web", "--timeout=120s"]);
        expect(kc(["get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"])).toBe("2");
        const events = kc(["get", "events", "-A", "-o", "jsonpath={range .items[*]}{.reason} {.involvedObject.name}{\"\\n\"}{end}"]);
        expect(events).toMatch(new RegExp(`NodeNotSchedulable ${leaver}|RemovingNode ${leaver}`));
    });

    test("the last worker's machine deleted outside Pulumi: an up without it (workers 1 -> 0) converges without refresh; its Node is removed", async () => {
        const gone = `${pool}-2`;
        // Moments ago: the API still lists it Ready (the node monitor's grace period), its web pod running.
        docker("rm", "-f", gone);
        docker("volume", "rm", `${gone}-docker`, `${gone}-containerd`);
        expect(readyNodes(kc)).toContain(`${gone} True`);
        await stack.setConfig("test:workers", { value: "0" });
        const t0 = Date.now();
        const up = await stack.up();
        console.log(`up removing the vanished worker ${gone} (no refresh): ${secs(t0)}s`);
        expect(up.summary.result).toBe("succeeded");
        console.log(`  changes: ${JSON.stringify(up.summary.resourceChanges)}`);
        // Its Node (through the control plane), its join secrets, its join, its containerd install and the machine: none left in the state.
        expect(up.summary.resourceChanges).toMatchObject({ delete: expect.any(Number) });
        const left = (await stack.exportStack()).deployment.resources.map((r: { urn: string }) => r.urn).filter((urn: string) => urn.includes(gone));
        expect(left).toEqual([]);
        const output = up.stdout + up.stderr;
        expect(output).toMatch(new RegExp(`kubeadm join of ${gone} as a worker: cannot connect: .*taken for gone`));
        expect(readyNodes(kc)).toEqual([`${pool}-1 True`]);
        expect(poolLeftovers(pool).filter((l) => l.includes(gone))).toEqual([]);
        const again = await stack.up();
        expect(again.summary.resourceChanges).toEqual({ same: expect.any(Number) });
    });

    test("destroy leaves nothing behind (containers, volumes, networks, cgroups)", async () => {
        const t0 = Date.now();
        const result = await stack.destroy();
        console.log(`destroy: ${secs(t0)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
        expect(cgroupLeftovers(ids)).toEqual([]);
    });
});

describe("KubernetesCluster (kubeadm) in the lab: 3 control-plane nodes + 1 worker", () => {
    const pool = `${TEST_POOL_PREFIX}kb${process.pid}`;
    let stack: Stack;
    let kubeconfig = "";
    let ids: string[] = [];
    const cp = [1, 2, 3].map((i) => `${pool}-${i}`);
    const at = (i: number) => `10.213.174.${i + 2}`;
    const m = (i: number) => `${pool}-${i}`;
    const onlySame = (changes: Record<string, number> | undefined) => Object.keys(changes ?? {}).filter((k) => k !== "same");
    /** sha256 of the cluster CA's public key, read on a control-plane machine (what caCertHashes pins). */
    const caCertHash = (machine: string) =>
        docker("exec", machine, "sh", "-c", "openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1")[0];

    /** etcd's members, asked on a control-plane machine through its v3 JSON gateway. */
    const etcdMembers = (machine: string): string[] =>
        (
            JSON.parse(
                docker(
                    "exec",
                    machine,
                    "curl",
                    "-fsS",
                    "--max-time",
                    "20",
                    "--cacert",
                    "/etc/kubernetes/pki/etcd/ca.crt",
                    "--cert",
                    "/etc/kubernetes/pki/apiserver-etcd-client.crt",
                    "--key",
                    "/etc/kubernetes/pki/apiserver-etcd-client.key",
                    "-X",
                    "POST",
                    "-d",
                    "{}",
                    "https://127.0.0.1:2379/v3/cluster/member/list",
                ).join(""),
            ).members as { name: string }[]
        )
            .map((m) => m.name)
            .sort();

    beforeAll(async () => {
        removeStaleTestPools();
        stack = await testProgramStack("kubernetes", `kb-${process.pid}`, {
            "test:poolName": pool,
            "test:subnet": "10.213.174.0/28",
            "test:controlPlane": "3",
            "test:workers": "1",
            "test:cache": cache,
            "test:demoImage": demo,
        });
    });
    afterAll(() => tearDown(stack, { pool }));

    test("up: 4 nodes Ready, etcd has the 3 control-plane members", async () => {
        const t0 = Date.now();
        const up = await stack.up();
        console.log(`kubeadm HA up (registry + pushes, 4 machines, init, 2 control-plane joins, 1 worker join): ${secs(t0)}s`);
        kubeconfig = up.outputs.kubeconfig.value as string;
        ids = machineIds(pool);
        const kc = kubectlWith(kubeconfig);
        expect(readyNodes(kc)).toEqual([...cp, `${pool}-4`].map((n) => `${n} True`));
        expect(etcdMembers(cp[0])).toEqual(cp);
        expect(etcdMembers(cp[2])).toEqual(cp);
    });

    test("one non-first control-plane machine stopped: the API still answers through another control-plane address", async () => {
        docker("stop", cp[1]);
        try {
            const through = kubectlWith(kubeconfig.replace(`https://${at(1)}:6443`, `https://${at(3)}:6443`));
            expect(kubeconfig).toContain(`https://${at(1)}:6443`);
            await until("API answering through the third control-plane node", 120, async () => through(["get", "--raw", "/readyz"]).trim() === "ok", 2000);
            const nodes = readyNodes(through);
            expect(nodes).toContain(`${cp[0]} True`);
            expect(nodes).toContain(`${cp[2]} True`);
        } finally {
            docker("start", cp[1]);
        }
        const kc = kubectlWith(kubeconfig);
        await until("the restarted control-plane node Ready again", 300, async () => readyNodes(kc).includes(`${cp[1]} True`), 3000);
    });

    test("the first control-plane node replaced by a new machine in one up: same cluster, etcd of the new three, every node Ready, the worker follows", async () => {
        const before = kubectlWith(kubeconfig);
        const uid = before(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"]);
        const hash = caCertHash(m(1));
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        const apiName = "flotilla-api.k8s.internal";
        expect(docker("exec", m(4), "getent", "hosts", apiName)[0]).toMatch(new RegExp(`^${at(1).replace(/\./g, "\\.")}\\s`));
        // The pool grows by machine 5; the control plane [1, 2, 3] becomes [2, 3, 5].
        await stack.setConfig("test:spare", { value: "1" });
        await stack.setConfig("test:controlPlaneMachines", { value: "2,3,5" });
        const t0 = Date.now();
        const up = await stack.up();
        const upEnd = Date.now();
        console.log(`first control-plane node replaced (machine 5 added, join, worker's API name rewritten, node 1 drained, etcd member removed, reset): ${secs(t0)}s`);
        expect(up.summary.result).toBe("succeeded");
        expect(up.summary.resourceChanges).toMatchObject({ create: expect.any(Number), delete: expect.any(Number) });
        kubeconfig = up.outputs.kubeconfig.value as string;
        expect(up.outputs.apiEndpoint.value).toBe(at(2));
        expect(kubeconfig).toContain(`server: https://${at(2)}:6443`);
        const kc = kubectlWith(kubeconfig);
        // The same cluster: its CA (on the new node too) and its kube-system namespace.
        expect(kc(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"])).toBe(uid);
        expect([caCertHash(m(2)), caCertHash(m(5))]).toEqual([hash, hash]);
        // etcd: the new three, not the old one; no kubeadm init ran on the survivors or the new node.
        expect(etcdMembers(m(2))).toEqual([m(2), m(3), m(5)].sort());
        expect(etcdMembers(m(5))).toEqual([m(2), m(3), m(5)].sort());
        for (const machine of [m(2), m(3), m(5)]) {
            expect(docker("exec", machine, "sh", "-c", "grep -c 'control-plane has initialized successfully' /var/log/flotilla-kubeadm.log || true")).toEqual(["0"]);
        }
        const waited = await until("all 4 nodes Ready", 180, async () => readyNodes(kc).join(",") === [m(2), m(3), m(4), m(5)].map((n) => `${n} True`).sort().join(","), 3000);
        console.log(`all nodes Ready ${waited.toFixed(1)}s after the up`);
        // The worker followed the API name to machine 2: its name resolves there, its kubelet talks
        // to it and renews its lease after machine 1's control plane is gone.
        expect(docker("exec", m(4), "getent", "hosts", apiName)[0]).toMatch(new RegExp(`^${at(2).replace(/\./g, "\\.")}\\s`));
        await until("the worker's node lease renewed after the up", 120, async () => {
            const renew = kc(["get", "lease", "-n", "kube-node-lease", m(4), "-o", "jsonpath={.spec.renewTime}"]).trim();
            return Date.parse(renew.replace(/\.(\d{3})\d*Z$/, ".$1Z")) > upEnd;
        }, 3000);
        const peers = docker("exec", m(4), "sh", "-c", "ss -tnpH state established '( dport = :6443 )' | grep kubelet || true").join("\n");
        expect(peers).toContain(`${at(2)}:6443`);
        expect(peers).not.toContain(`${at(1)}:6443`);
        // The old machine left: its Node gone, kubeadm reset ran (no kubelet, no static pods, no API name).
        expect(readyNodes(kc).some((n) => n.startsWith(`${m(1)} `))).toBe(false);
        expect(docker("exec", m(1), "sh", "-c", "systemctl is-active kubelet || true; ls /etc/kubernetes/manifests 2>/dev/null | wc -l; grep -c flotilla-api /etc/hosts || true")).toEqual([
            "inactive",
            "0",
            "0",
        ]);
        const t1 = Date.now();
        const again = await stack.up();
        console.log(`second up after the replacement: ${secs(t1)}s`);
        expect(onlySame(again.summary.resourceChanges)).toEqual([]);
    });

    test("removing two control-plane nodes from the program (3 -> 1) removes their etcd members and Nodes", async () => {
        await stack.setConfig("test:controlPlaneMachines", { value: "2" });
        const t0 = Date.now();
        const up = await stack.up();
        console.log(`control plane 3 -> 1 (quorum check, drain, delete, etcd member remove, kubeadm reset): ${secs(t0)}s`);
        expect(up.summary.resourceChanges).toMatchObject({ delete: expect.any(Number) });
        expect(etcdMembers(m(2))).toEqual([m(2)]);
        expect(readyNodes(kubectlWith(kubeconfig))).toEqual([`${m(2)} True`, `${m(4)} True`]);
        // The removed machines ran kubeadm reset: no kubelet, no static pods left.
        for (const machine of [m(3), m(5)]) {
            expect(docker("exec", machine, "sh", "-c", "systemctl is-active kubelet || true; ls /etc/kubernetes/manifests | wc -l")).toEqual(["inactive", "0"]);
        }
    });

    test("destroy with the worker's machine stopped: the whole cluster goes, the stopped machine's scripts are forgotten, nothing is left", async () => {
        docker("stop", m(4));
        const t0 = Date.now();
        const result = await stack.destroy();
        console.log(`destroy with the worker ${m(4)} stopped: ${secs(t0)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(result.stdout + result.stderr).toMatch(new RegExp(`kubeadm join of ${m(4)} as a worker: cannot connect: .*taken for gone`));
        expect(poolLeftovers(pool)).toEqual([]);
        expect(cgroupLeftovers(ids)).toEqual([]);
    });
});
