/**
 * KubernetesApp on the whole chain of constructs in the lab, through the engine: LabHostPool
 * (kubernetes: true) on 10.213.172.0/28, machine 0 a LabRegistry holding the Kubernetes images,
 * the node bundle (from scripts/kubernetes-build.sh's cache) and the demo images v1, v2 and an
 * unhealthy one → Containerd → KubernetesCluster (kubeadm, source "bundle", 1 control plane + 2
 * workers) → KubernetesApp with its own pull secret (registryAuth). db's claim is backed by a
 * static hostPath PersistentVolume the program applies through the cluster (test set-up standing
 * in for a storage provisioner: test/lab/programs/kubernetes-app/).
 * Proven here: the demo web app answers through its NodePort on every node, its image pulled from
 * the registry by pods carrying the app's pull secret (holding the registry's credentials), and
 * with a wrong password in that secret the pull of a new image is refused although the nodes' own
 * CRI credentials are right (web rolled back); the greeting secret reached the pods only, and neither it nor the registry password is in the state in plain
 * text; web reaches db by service name and a row written on db's claim is read back, also after
 * db's pod was replaced; a second up changes nothing; a rolling image update under continuous
 * requests fails none; an unhealthy image fails the up with the pods' events and is rolled back; a
 * stopped worker's web pods run on the other worker within the app's 30 s toleration (+ the node
 * monitor's grace) and the NodePort keeps answering; destroy removes the app and its namespace and
 * leaves nothing on the Docker engine (containers, volumes, network, the kubelets' cgroups).
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import { Stack } from "@pulumi/pulumi/automation";
import {
    ROOT,
    docker,
    httpGet,
    LoadStats,
    poolLeftovers,
    removePool,
    removeStack,
    removeStaleTestPools,
    reportLoad,
    requestLoop,
    storedState,
    testProgramStack,
    TEST_POOL_PREFIX,
    until,
} from "./harness";

jest.setTimeout(50 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}k8a${process.pid}`;
const SUBNET = "10.213.172.0/28";
/** Machines 1.. are the nodes: the control plane (.3), then the workers (.4, .5); .2 is the registry. */
const CP = `${pool}-1`;
const WORKERS = [`${pool}-2`, `${pool}-3`];
const ADDRESSES = ["10.213.172.3", "10.213.172.4", "10.213.172.5"];
const NODE_PORT = 30180;
const GREETING = "hello-k8s-secret-4711";
const TAG = `k8a${process.pid}`;
const V1 = `flotilla-demo:${TAG}-v1`;
const V2 = `flotilla-demo:${TAG}-v2`;
const BAD = `flotilla-demo:${TAG}-bad`;
/** Pushed, and pulled by no node before the wrong-credentials step. */
const V3 = `flotilla-demo:${TAG}-v3`;

let stack: Stack | undefined;
let ids: string[] = [];
let registry = { address: "", username: "", password: "" };
const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

function sh(command: string, args: string[], input?: string): string {
    return childProcess.execFileSync(command, args, { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
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
/** Pods of a service: "name node phase ready deleting" lines. */
function pods(service: string): string[] {
    const out = kubectl(
        "-n", "demo", "get", "pods", "-l", `app.kubernetes.io/name=${service}`,
        "-o", 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.status.containerStatuses[0].ready} {.metadata.deletionTimestamp}{"\\n"}{end}',
    );
    return out.split("\n").filter((l) => l.trim() !== "");
}
const cgroupLeftovers = (machines: string[]) =>
    machines.flatMap((id) => fs.readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}/docker/${id}`).filter((d) => fs.existsSync(d)));

beforeAll(async () => {
    removeStaleTestPools();
    const cache = sh("bash", [`${ROOT}/scripts/kubernetes-build.sh`]).trim().split("\n").pop() as string;
    // The demo images, built locally and pushed into the LabRegistry by the program (`images`).
    expect([demoImage(`${TAG}-v1`), demoImage(`${TAG}-v2`), demoImage(`${TAG}-bad`, "unhealthy"), demoImage(`${TAG}-v3`)]).toEqual([V1, V2, BAD, V3]);
    stack = await testProgramStack(
        "kubernetes-app",
        `k8sapp-${process.pid}`,
        {
            "test:poolName": pool,
            "test:subnet": SUBNET,
            "test:cache": cache,
            "test:images": JSON.stringify([V1, V2, BAD, V3]),
            "test:image": V1,
            "test:nodePort": String(NODE_PORT),
        },
        { "test:greeting": GREETING },
    );
});

afterAll(async () => {
    if (stack) {
        for (const w of WORKERS) childProcess.spawnSync("docker", ["start", w]);
        await stack.destroy().catch(() => undefined);
        await removeStack(stack);
    }
    // What a failed destroy left (containers, volumes, the network: it would block this subnet).
    removePool(pool);
    childProcess.spawnSync("docker", ["rmi", V1, V2, BAD, V3]);
});

describe("KubernetesApp on LabHostPool → Containerd → KubernetesCluster (kubeadm) → LabRegistry", () => {
    test("up: the rollouts finish and the NodePort answers HTTP 200 on every node; the image pulled with the app's pull secret; the secrets reached the pods only", async () => {
        let firstOk: number | undefined;
        let done = false;
        const started = Date.now();
        const poll = (async () => {
            while (!done && firstOk === undefined) {
                const [status] = await get(ADDRESSES[0]).catch(() => [0, ""] as [number, string]);
                if (status === 200) firstOk = Date.now();
                await new Promise((r) => setTimeout(r, 500));
            }
        })();
        const up = await stack!.up();
        const upDone = Date.now();
        await until("HTTP 200 through the NodePort", 60, async () => (await get(ADDRESSES[0]).catch(() => [0, ""]))[0] === 200);
        done = true;
        await poll;
        console.log(
            `whole chain up (registry + pushes, 4 machines, containerd, kubeadm init, 2 joins, PV, app): ${((upDone - started) / 1000).toFixed(1)}s; ` +
                `first HTTP 200 through the NodePort ${(((firstOk ?? Date.now()) - started) / 1000).toFixed(1)}s after the up started`,
        );
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
        expect(up.outputs.namespace.value).toBe("demo");
        expect(up.outputs.nodeNames.value).toEqual([CP, ...WORKERS]);
        expect(up.outputs.pvNodeName.value).toBe(WORKERS[1]);
        registry = { address: up.outputs.registryAddress.value, username: up.outputs.registryUsername.value, password: up.outputs.registryPassword.value };
        expect(registry.address).toBe("10.213.172.2:5000");
        ids = docker("ps", "-a", "--filter", `label=flotilla.pool=${pool}`, "--format", "{{.ID}}").map((id) => docker("inspect", "--format", "{{.Id}}", id)[0]);
        expect(ids).toHaveLength(4);
        // Every node (control plane included: kube-proxy serves NodePorts there too), once its
        // kube-proxy has programmed the NodePort (docs/kubernetes-lab.md, failure 7).
        for (const address of ADDRESSES) {
            await until(`NodePort on ${address}`, 60, async () => (await get(address).catch(() => [0, ""]))[0] === 200);
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${TAG}-v1`)]);
        }

        // The pods pull from the registry and carry the app's pull secret, which holds the
        // registry's credentials (compared here, never printed).
        const ref = `${registry.address}/${V1}`;
        const podSpecs = JSON.parse(kubectl("-n", "demo", "get", "pods", "-o", "json")).items as {
            spec: { containers: { image: string }[]; imagePullSecrets?: { name: string }[] };
        }[];
        expect(podSpecs).toHaveLength(3);
        const pullSecrets = [...new Set(podSpecs.flatMap((p) => (p.spec.imagePullSecrets ?? []).map((s) => s.name)))];
        expect(podSpecs.map((p) => p.spec.containers[0].image)).toEqual([ref, ref, ref]);
        expect(podSpecs.every((p) => (p.spec.imagePullSecrets ?? []).length === 1)).toBe(true);
        expect(pullSecrets).toEqual([expect.stringMatching(/^demo-registry-[0-9a-f]{8}$/)]);
        const secret = JSON.parse(kubectl("-n", "demo", "get", "secret", pullSecrets[0], "-o", "json")) as { type: string; data: Record<string, string> };
        expect(secret.type).toBe("kubernetes.io/dockerconfigjson");
        const auths = JSON.parse(Buffer.from(secret.data[".dockerconfigjson"], "base64").toString("utf8")).auths as Record<string, { username: string; password: string }>;
        expect(Object.keys(auths)).toEqual([registry.address]);
        expect(auths[registry.address].username === registry.username && auths[registry.address].password === registry.password).toBe(true);
        const events = kubectl("-n", "demo", "get", "events", "-o", 'jsonpath={range .items[*]}{.reason} {.message}{"\\n"}{end}');
        expect(events).toMatch(new RegExp(`Pulled Successfully pulled image "${ref.replace(/[.]/g, "\\.")}"`));

        expect(kubectl("-n", "demo", "exec", "deploy/web", "--", "/bin/busybox", "cat", "/run/secrets/greeting")).toBe(GREETING);
        const state = storedState(stack!);
        expect({
            greeting: state.includes(GREETING),
            greetingBase64: state.includes(Buffer.from(GREETING).toString("base64")),
            registryPassword: state.includes(registry.password),
            registryPasswordBase64: state.includes(Buffer.from(`${registry.username}:${registry.password}`).toString("base64")),
        }).toEqual({ greeting: false, greetingBase64: false, registryPassword: false, registryPasswordBase64: false });
        // Everything the app made carries its labels and the flotilla field manager.
        expect(kubectl("-n", "demo", "get", "deployments,services,pvc,secrets", "-l", "app.kubernetes.io/part-of=demo", "-o", "name").split("\n").sort()).toEqual(
            expect.arrayContaining(["deployment.apps/db", "deployment.apps/web", "persistentvolumeclaim/demo-data", "service/db", "service/web", "service/web-nodeport"]),
        );
        expect(kubectl("-n", "demo", "get", "pvc", "demo-data", "-o", "jsonpath={.status.phase} {.spec.volumeName}")).toBe("Bound demo-data");
        expect(pods("db").map((l) => l.split(" ")[1])).toEqual([WORKERS[1]]);
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
        await until("the row read back from the new db pod", 60, async () => {
            try {
                return read().includes(row);
            } catch {
                return false;
            }
        });
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
        reportLoad(`rolling update (${secs(started)}s)`, stats);
        expect(stats.failures).toEqual([]);
        expect(stats.ok).toBeGreaterThan(50);
        for (const address of ADDRESSES) {
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${TAG}-v2`)]);
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
        expect(error.message.includes(registry.password)).toBe(false);
        for (const address of ADDRESSES) {
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${TAG}-v2`)]);
        }
        await stack!.setConfig("test:image", { value: V2 });
        await stack!.removeConfig("test:rolloutTimeout");
        const up = await stack!.up();
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
    });

    test("a wrong password in the app's pull secret: the pull of a new image is refused (the nodes' own credentials do not stand in) and web is rolled back; with the right one it is pulled", async () => {
        // The nodes' CRI configuration holds the right credentials for the same registry; when the
        // kubelet sends a pod's pull-secret credentials, containerd uses those alone. So a wrong
        // pull secret failing the pull shows that the app's secret is what authenticates its pulls.
        const wrong = `wrong-${process.pid}-password`;
        await stack!.setConfig("test:image", { value: V3 });
        await stack!.setConfig("test:pullPassword", { value: wrong, secret: true });
        await stack!.setConfig("test:rolloutTimeout", { value: "60" });
        const error = await stack!.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toMatch(/deployment\/web: rollout not finished within 60s \(rolled back to the previous version\)/);
        expect(error.message).toMatch(/ErrImagePull|ImagePullBackOff|Failed to pull image/);
        expect(error.message.includes(wrong)).toBe(false);
        expect(error.message.includes(registry.password)).toBe(false);
        // The web pods' pull failures of the new image, as the kubelet reported them. containerd
        // names the last registry host it tried: the plain-HTTP host refused the credentials, then
        // the https default answered "server gave HTTP response to HTTPS client" (seen in the lab),
        // so the message does not name the refusal. What shows it is the next up: only the pull
        // secret differs, and the same image is pulled.
        const events = kubectl("-n", "demo", "get", "events", "-o", 'jsonpath={range .items[*]}{.involvedObject.name} {.reason} {.message}{"\\n"}{end}');
        const pulls = events.split("\n").filter((l) => l.startsWith("web-") && l.includes(`Failed to pull image "${registry.address}/${V3}"`));
        console.log(`web's pull of the new image with the wrong pull secret: ${pulls[0]}`);
        expect(pulls.length).toBeGreaterThan(0);
        for (const address of ADDRESSES) {
            expect(await get(address)).toEqual([200, expect.stringContaining(`flotilla-demo ${TAG}-v2`)]);
        }
        // The same image with the right pull secret: pulled, rolled out (so the refusal was the credentials').
        await stack!.removeConfig("test:pullPassword");
        await stack!.removeConfig("test:rolloutTimeout");
        const up = await stack!.up();
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
        for (const address of ADDRESSES) {
            await until(`v3 through ${address}`, 60, async () => (await get(address).catch((): [number, string] => [0, ""]))[1].includes(`flotilla-demo ${TAG}-v3`));
        }
    });

    test("a worker stopped: its web pods run on the other worker and the NodePort keeps answering", async () => {
        // The worker to stop: one that runs a web pod, the one without db's volume when it does.
        const before = pods("web").map((l) => l.split(" ")[1]);
        const candidates = WORKERS.filter((w) => before.includes(w));
        expect(candidates.length).toBeGreaterThan(0);
        const stopped = candidates.includes(WORKERS[0]) ? WORKERS[0] : candidates[0];
        const other = WORKERS.find((w) => w !== stopped) as string;
        const answering = ADDRESSES.filter((a) => a !== ADDRESSES[1 + WORKERS.indexOf(stopped)]);
        console.log(`web pods on ${before.join(", ")}; stopping ${stopped}`);
        docker("stop", stopped);
        const seconds = await until(`both web pods running and ready on ${other}`, 400, async () => {
            const ready = pods("web").filter((l) => {
                const [, node, phase, isReady, deleting] = l.split(" ");
                return node === other && phase === "Running" && isReady === "true" && !deleting;
            });
            return ready.length >= 2;
        }, 2000);
        console.log(`worker stopped -> its web pod running and ready on the other worker after ${seconds.toFixed(1)}s`);
        for (const address of answering) {
            await until(`NodePort on ${address}`, 30, async () => (await get(address).catch(() => [0, ""]))[0] === 200);
            expect(await get(address)).toEqual([200, expect.stringContaining("flotilla-demo")]);
        }
    });

    test("destroy removes the app's objects and its namespace, and leaves nothing on the Docker engine", async () => {
        for (const w of WORKERS) docker("start", w);
        // Both workers Ready again before the destroy (the app's delete runs with every node up).
        await until("both workers Ready again", 300, async () => {
            const ready = kubectl("get", "nodes", "-o", 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
            return WORKERS.every((w) => ready.includes(`${w} True`));
        }, 3000);
        // The app first (targeted), so its objects can be checked on the cluster before it goes.
        const appUrns = (await stack!.exportStack()).deployment.resources
            .map((r: { urn: string }) => r.urn)
            .filter((urn: string) => urn.includes("KubernetesApp"));
        expect(appUrns.length).toBeGreaterThan(0);
        const t0 = Date.now();
        await stack!.destroy({ target: appUrns, targetDependents: true });
        console.log(`app destroy: ${secs(t0)}s`);
        expect(kubectl("get", "namespaces", "-o", "name").split("\n")).not.toContain("namespace/demo");
        expect(kubectl("get", "deployments,services,pvc,secrets", "-A", "-l", "app.kubernetes.io/part-of=demo", "-o", "name")).toBe("");
        const t1 = Date.now();
        const result = await stack!.destroy();
        console.log(`destroy of the rest (PV, cluster, containerd, registry, machines): ${secs(t1)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
        expect(cgroupLeftovers(ids)).toEqual([]);
    });
});
