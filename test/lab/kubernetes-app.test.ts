/**
 * KubernetesApp on a real kubeadm cluster in the lab, through the engine. The cluster (a
 * control-plane node and a worker, upstream Kubernetes v1.37.2) is made by
 * scripts/kubernetes-lab-proof.sh on this test's own subnet and kept for the test
 * (FLOTILLA_K8S_PROOF_KEEP=1); the program describes it as an IKubernetesCluster (its nodes over
 * SSH, its admin kubeconfig) until the KubernetesCluster (kubeadm) construct is proven in the lab.
 * Proven here: the demo web app answers through its NodePort on every node; web reaches db by
 * service name and a row written on db's claim (a static hostPath PersistentVolume of the class
 * the app names) is read back, also after db's pod was replaced; a second up changes nothing; a
 * rolling image update under continuous requests fails none; a stopped worker's pods run on the
 * other node within the app's 30 s toleration (+ the node monitor's grace); an unhealthy image
 * fails the up with the pods' events and is rolled back; destroy removes the app and its
 * namespace. afterAll removes the machines, their volumes, network, images and temp dirs.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, httpGet, LoadStats, removeStack, removeStaleTestPools, reportLoad, requestLoop, storedState, testProgramStack, TEST_POOL_PREFIX, until } from "./harness";
import { generateEd25519 } from "../../lib/shared/ssh-keys";

jest.setTimeout(40 * 60 * 1000);

const ROOT = path.resolve(__dirname, "../..");
const prefix = `${TEST_POOL_PREFIX}k8a${process.pid}`;
const SUBNET = "10.213.161.0/28";
const CP = `${prefix}-cp`;
const WORKER = `${prefix}-w1`;
const ADDRESSES = ["10.213.161.2", "10.213.161.3"];
const NODE_PORT = 30180;
const GREETING = "hello-k8s-secret-4711";
/** The image the proof builds and loads on both nodes (its tag: the prefix without "flt-"). */
const V1 = `flotilla-demo:${prefix.replace(/^flt-/, "")}`;
const V2 = `flotilla-demo:k8a${process.pid}-v2`;
const BAD = `flotilla-demo:k8a${process.pid}-bad`;
const PV_DIR = "/var/lib/flotilla-lab-pv/demo-data";

let stack: Stack | undefined;
let proofDir: string | undefined;
let machineIds: string[] = [];

function sh(command: string, args: string[], input?: Buffer | string): string {
    return childProcess.execFileSync(command, args, { encoding: "utf8", input, maxBuffer: 256 * 1024 * 1024, timeout: 300_000 });
}
/** kubectl on the control-plane node with its admin kubeconfig. */
function kubectl(...args: string[]): string {
    return sh("docker", ["exec", "-i", CP, "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "--request-timeout=30s", ...args]).trim();
}
function demoImage(tag: string, variant = "good"): string {
    return sh("bash", [`${ROOT}/scripts/demo-image.sh`, tag, variant]).trim().split("\n").pop() as string;
}
function get(address: string, urlPath = "/"): Promise<[number, string]> {
    return httpGet(`http://${address}:${NODE_PORT}${urlPath}`, 3000);
}
/** Pods of a service: "name node phase ready" lines. */
function pods(service: string): string[] {
    const out = kubectl(
        "-n", "demo", "get", "pods", "-l", `app.kubernetes.io/name=${service}`,
        "-o", 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.status.containerStatuses[0].ready} {.metadata.deletionTimestamp}{"\\n"}{end}',
    );
    return out.split("\n").filter((l) => l.trim() !== "");
}

beforeAll(async () => {
    removeStaleTestPools();
    // The cluster: scripts/kubernetes-lab-proof.sh on this test's subnet, kept.
    const started = Date.now();
    const out = childProcess.spawnSync("bash", [`${ROOT}/scripts/kubernetes-lab-proof.sh`], {
        encoding: "utf8",
        env: { ...process.env, FLOTILLA_K8S_PROOF_KEEP: "1", FLOTILLA_K8S_PROOF_PREFIX: prefix, FLOTILLA_K8S_PROOF_SUBNET: SUBNET },
        timeout: 20 * 60 * 1000,
    });
    const log = `${out.stdout}\n${out.stderr}`;
    proofDir = /kubeconfig: (\S+)\/admin\.conf/.exec(log)?.[1];
    machineIds = [CP, WORKER].map((m) => {
        try {
            return docker("inspect", "--format", "{{.Id}}", m)[0];
        } catch {
            return "";
        }
    });
    if (out.status !== 0 || !proofDir) throw new Error(`kubernetes-lab-proof.sh failed (exit ${out.status}):\n${log.split("\n").slice(-40).join("\n")}`);
    console.log(`kubeadm cluster (2 nodes) by the proof script: ${((Date.now() - started) / 1000).toFixed(0)}s`);
    const kubeconfig = fs.readFileSync(path.join(proofDir, "admin.conf"), "utf8");

    // SSH as root with a key of this test's (the lab image runs sshd; root logs in by key only).
    const key = generateEd25519(`k8s-app-test@${prefix}`);
    for (const m of [CP, WORKER]) {
        sh("docker", ["exec", "-i", m, "sh", "-c", "mkdir -p /root/.ssh && chmod 700 /root/.ssh && cat >> /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys"], `${key.publicKey}\n`);
    }
    // The other demo images, loaded on both nodes as the proof loads its own (no registry).
    const images = [demoImage(V2.split(":")[1]), demoImage(BAD.split(":")[1], "unhealthy")];
    const archive = childProcess.execFileSync("docker", ["save", ...images], { maxBuffer: 256 * 1024 * 1024 });
    for (const m of [CP, WORKER]) {
        childProcess.execFileSync("docker", ["exec", "-i", m, "ctr", "-n", "k8s.io", "images", "import", "-"], { input: archive, timeout: 300_000 });
    }
    // db's storage: a static hostPath PersistentVolume of the class the app's volume names, on
    // the control-plane node (the node that stays up), writable by the image's user (nobody).
    sh("docker", ["exec", CP, "sh", "-c", `mkdir -p ${PV_DIR} && chmod 0777 ${PV_DIR}`]);
    sh("docker", ["exec", "-i", CP, "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "apply", "-f", "-"], JSON.stringify({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "demo-data" },
        spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: "flotilla-lab",
            hostPath: { path: PV_DIR, type: "Directory" },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [CP] }] }] } },
        },
    }));

    stack = await testProgramStack(
        "kubernetes-app",
        `k8sapp-${process.pid}`,
        {
            "test:nodes": JSON.stringify([CP, WORKER].map((name, i) => ({ name, address: ADDRESSES[i] }))),
            "test:image": V1,
            "test:nodePort": String(NODE_PORT),
        },
        { "test:privateKey": key.privateKey, "test:kubeconfig": kubeconfig, "test:greeting": GREETING },
    );
});

afterAll(async () => {
    if (stack) {
        try {
            docker("start", WORKER);
        } catch {
            // gone already
        }
        await stack.destroy().catch(() => undefined);
        await removeStack(stack);
    }
    for (const m of [CP, WORKER]) {
        childProcess.spawnSync("docker", ["rm", "-f", m]);
        childProcess.spawnSync("docker", ["volume", "rm", "-f", `${m}-containerd`]);
    }
    childProcess.spawnSync("docker", ["network", "rm", `${prefix}-net`]);
    childProcess.spawnSync("docker", ["rmi", V1, V2, BAD]);
    // What the kubelets left in the cgroup hierarchies Docker does not manage (as the proof does).
    for (const id of machineIds.filter((x) => x !== "")) {
        childProcess.spawnSync("bash", ["-c", `for d in /sys/fs/cgroup/*/docker/${id}; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done; true`]);
    }
    if (proofDir) fs.rmSync(proofDir, { recursive: true, force: true });
});

describe("KubernetesApp on a kubeadm cluster in the lab", () => {
    test("up: the rollouts finish and the NodePort answers HTTP 200 on every node; the secret reached the pods only", async () => {
        let firstOk: number | undefined;
        let done = false;
        const started = Date.now();
        const poll = (async () => {
            while (!done && firstOk === undefined) {
                const [status] = await get(ADDRESSES[0]).catch(() => [0, ""] as [number, string]);
                if (status === 200) firstOk = Date.now();
                await new Promise((r) => setTimeout(r, 250));
            }
        })();
        const up = await stack!.up();
        const upDone = Date.now();
        await until("HTTP 200 through the NodePort", 30, async () => (await get(ADDRESSES[0]))[0] === 200);
        done = true;
        await poll;
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
        expect(up.outputs.namespace.value).toBe("demo");
        for (const address of ADDRESSES) {
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${V1.split(":")[1]}`)]);
        }
        console.log(
            `KubernetesApp up: ${((upDone - started) / 1000).toFixed(1)}s; first HTTP 200 through the NodePort ` +
                `${(((firstOk ?? Date.now()) - started) / 1000).toFixed(1)}s after the up started`,
        );
        expect(kubectl("-n", "demo", "exec", "deploy/web", "--", "/bin/busybox", "cat", "/run/secrets/greeting")).toBe(GREETING);
        expect(storedState(stack!).includes(GREETING)).toBe(false);
        expect(storedState(stack!).includes(Buffer.from(GREETING).toString("base64"))).toBe(false);
        // Everything the app made carries its labels and the flotilla field manager.
        expect(kubectl("-n", "demo", "get", "deployments,services,pvc,secrets", "-l", "app.kubernetes.io/part-of=demo", "-o", "name").split("\n").sort()).toEqual(
            expect.arrayContaining(["deployment.apps/db", "deployment.apps/web", "persistentvolumeclaim/demo-data", "service/db", "service/web", "service/web-nodeport"]),
        );
        expect(kubectl("-n", "demo", "get", "pvc", "demo-data", "-o", "jsonpath={.status.phase} {.spec.volumeName}")).toBe("Bound demo-data");
    });

    test("web reaches db by its service name; a row written on db's claim is read back, also after db's pod is replaced", async () => {
        const row = `row-${process.pid}-${Date.now()}`;
        kubectl("-n", "demo", "exec", "deploy/db", "--", "/bin/busybox", "sh", "-c", `echo ${row} >> /www/data/rows`);
        const read = () => kubectl("-n", "demo", "exec", "deploy/web", "--", "/bin/busybox", "wget", "-q", "-O-", "http://db:8080/data/rows");
        expect(read()).toContain(row);
        const old = pods("db")[0].split(" ")[0];
        kubectl("-n", "demo", "delete", "pod", old, "--wait=true", "--timeout=120s");
        await until("a new db pod ready", 180, async () =>
            pods("db").some((l) => {
                const [pod, , phase, ready, deleting] = l.split(" ");
                return pod !== old && phase === "Running" && ready === "true" && !deleting;
            }),
        );
        await until("the row read back from the new db pod", 60, async () => read().includes(row));
    });

    test("a second up changes nothing", async () => {
        const up = await stack!.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("image v1 -> v2: a rolling update under continuous requests fails none", async () => {
        await stack!.setConfig("test:image", { value: V2 });
        // Strict client: it goes to the next node when one refuses the connection (as a load
        // balancer in front of the nodes does), but an HTTP error, a refusal, a timeout, or no node
        // answering is a failure.
        const load = requestLoop({ urls: ADDRESSES.map((a) => `http://${a}:${NODE_PORT}/`), expect: /flotilla-demo \S+/, strict: true });
        const started = Date.now();
        let stats: LoadStats;
        try {
            const up = await stack!.up();
            expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
        } finally {
            stats = await load.stop();
        }
        reportLoad(`rolling update (${((Date.now() - started) / 1000).toFixed(1)}s)`, stats);
        expect(stats.failures).toEqual([]);
        expect(stats.ok).toBeGreaterThan(50);
        for (const address of ADDRESSES) {
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${V2.split(":")[1]}`)]);
        }
    });

    test("an image that never gets ready fails the up with the pods' events and is rolled back", async () => {
        await stack!.setConfig("test:image", { value: BAD });
        await stack!.setConfig("test:rolloutTimeout", { value: "60" });
        const error = await stack!.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toMatch(/deployment\/web: rollout not finished within 60s \(rolled back to the previous version\)/);
        expect(error.message).toMatch(/Readiness probe failed/);
        expect(error.message.includes(GREETING)).toBe(false);
        for (const address of ADDRESSES) {
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${V2.split(":")[1]}`)]);
        }
        await stack!.setConfig("test:image", { value: V2 });
        await stack!.removeConfig("test:rolloutTimeout");
        const up = await stack!.up();
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
    });

    test("the worker stopped: its web pod runs on the other node and the NodePort keeps answering", async () => {
        const before = pods("web");
        expect(before.some((l) => l.split(" ")[1] === WORKER)).toBe(true);
        docker("stop", WORKER);
        const seconds = await until("both web pods running and ready on the control-plane node", 400, async () => {
            const ready = pods("web").filter((l) => {
                const [, node, phase, isReady, deleting] = l.split(" ");
                return node === CP && phase === "Running" && isReady === "true" && !deleting;
            });
            return ready.length >= 2;
        }, 2000);
        console.log(`worker stopped -> its web pod running and ready on the other node after ${seconds.toFixed(1)}s`);
        expect(await get(ADDRESSES[0])).toEqual([200, expect.stringContaining("flotilla-demo")]);
    });

    test("destroy removes the app's objects and its namespace", async () => {
        docker("start", WORKER);
        await stack!.destroy();
        expect(kubectl("get", "namespaces", "-o", "name").split("\n")).not.toContain("namespace/demo");
        expect(kubectl("get", "deployments,services,pvc,secrets", "-A", "-l", "app.kubernetes.io/part-of=demo", "-o", "name")).toBe("");
    });
});
