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
 * Security (the Kubernetes side of test/lab/security.test.ts, scans shared in ./secret-scan): no
 * management port answers from outside the pool's network, none is published; inside, no anonymous
 * access to kubelets, API secrets or etcd, no read-only kubelet port; the nodes' credentials are
 * root's, mode 600; no token, key or password is in clear in the backend, the export, the engine's
 * output or the machines' logs.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as https from "https";
import { Stack, UpResult } from "@pulumi/pulumi/automation";
import { backendDir, docker, httpGet, LoadStats, poolLeftovers, removeStaleTestPools, reportLoad, requestLoop, ROOT, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";
import { allFiles, leaks, logScanCommand, openOnes, probeAllHere, probeOutside, scanInput, stackExport } from "./secret-scan";

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
/** Everything the engine printed over the file's ups (the security test scans it). */
let engineOutput = "";
/** The secrets the security test looks for in clear: name → value. */
let secrets: Record<string, string> = {};

/** An up of the test stack, its output kept for the scans. */
function runUp(): Promise<UpResult> {
    return stack!.up({ onOutput: (o) => (engineOutput += o) });
}

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
/** A shell command as root on lab machine `name` (stdin `input`). */
function onMachine(name: string, command: string, input?: Buffer | string): string {
    return childProcess.execFileSync("docker", ["exec", "-i", name, "sh", "-c", command], { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
}
/**
 * An HTTPS GET without credentials (the server's certificate not checked: who answers is not the
 * question): "HTTP <status>", or "refused: <the TLS or connection error>".
 */
function anonymousGet(url: string): Promise<string> {
    return new Promise((resolve) => {
        const req = https.get(url, { rejectUnauthorized: false, timeout: 5000 }, (res) => {
            res.resume();
            resolve(`HTTP ${res.statusCode}`);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
    });
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

afterAll(() => tearDown(stack, { pool, after: () => void childProcess.spawnSync("docker", ["rmi", V1, V2, BAD, V3]) }));

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
        const up = await runUp();
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
        const up = await runUp();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("security: from outside the pool's network no Kubernetes management port answers; inside, no anonymous access and no read-only port", async () => {
        const nodes = [CP, ...WORKERS];
        // API server, etcd (client, peer), kubelet, its read-only port, controller manager, scheduler.
        const management = [6443, 2379, 2380, 10250, 10255, 10257, 10259];
        const targets = [...ADDRESSES.flatMap((a) => [22, NODE_PORT, ...management].map((p) => `${a}:${p}`)), registry.address];
        const started = Date.now();
        const outside = probeOutside(pool, targets);
        const inside = await probeAllHere(targets);
        console.log(`probe (${secs(started)}s) from outside (a container on Docker's bridge network), open: ${JSON.stringify(openOnes(outside))}`);
        console.log(`probe from inside (the pool network's gateway), open: ${JSON.stringify(openOnes(inside))}`);
        expect(outside).toHaveLength(targets.length);
        expect(openOnes(outside).filter((t) => management.includes(Number(t.split(":")[1])))).toEqual([]);
        // The control: from inside the probe sees the API server, etcd and every kubelet, sshd and NodePort.
        const open = openOnes(inside);
        const cp = ADDRESSES[0];
        expect(open).toEqual(
            expect.arrayContaining([`${cp}:6443`, `${cp}:2379`, `${cp}:2380`, ...ADDRESSES.flatMap((a) => [`${a}:10250`, `${a}:22`, `${a}:${NODE_PORT}`]), registry.address]),
        );
        // Not even inside: the kubelet's unauthenticated read-only port, the controller manager's and
        // the scheduler's ports (on 127.0.0.1 only); on workers no API server or etcd.
        expect(open.filter((t) => /:(10255|10257|10259)$/.test(t))).toEqual([]);
        expect(open.filter((t) => t !== `${cp}:6443` && t !== `${cp}:2379` && t !== `${cp}:2380` && /:(6443|2379|2380)$/.test(t))).toEqual([]);
        // Nothing reaches a machine through the host's other addresses: no published port.
        for (const name of [`${pool}-0`, ...nodes]) {
            expect([name, docker("inspect", "--format", "{{json .HostConfig.PortBindings}}|{{json .NetworkSettings.Ports}}", name)[0]]).toEqual([name, "{}|{}"]);
        }
        // Without credentials: every kubelet refuses (anonymous auth off), the API server lets
        // system:anonymous read no secret, etcd wants a client certificate.
        const anonymous = {
            ...Object.fromEntries(await Promise.all(ADDRESSES.map(async (a) => [`kubelet ${a}`, await anonymousGet(`https://${a}:10250/pods`)]))),
            "API secrets": await anonymousGet(`https://${cp}:6443/api/v1/namespaces/kube-system/secrets`),
            "etcd members": await anonymousGet(`https://${cp}:2379/v3/cluster/member/list`),
        };
        console.log(`anonymous requests: ${JSON.stringify(anonymous)}`);
        expect(anonymous).toEqual({
            ...Object.fromEntries(ADDRESSES.map((a) => [`kubelet ${a}`, "HTTP 401"])),
            "API secrets": expect.stringMatching(/^HTTP 40[13]$/),
            "etcd members": expect.stringMatching(/^refused: /),
        });
        // The credentials on the nodes: root's, and no one else's.
        const files: Record<string, string[]> = {
            [CP]: ["/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf", "/etc/kubernetes/pki/ca.key", "/etc/kubernetes/pki/sa.key", "/etc/kubernetes/pki/etcd/ca.key", "/etc/containerd/conf.d/50-flotilla-kubeadm.toml"],
            [WORKERS[0]]: ["/etc/kubernetes/kubelet.conf", "/etc/containerd/conf.d/50-flotilla-kubeadm.toml"],
            [WORKERS[1]]: ["/etc/kubernetes/kubelet.conf", "/etc/containerd/conf.d/50-flotilla-kubeadm.toml"],
        };
        for (const [name, paths] of Object.entries(files)) {
            const modes = onMachine(name, `stat -c '%n %U %a' ${paths.join(" ")}`).trim().split("\n");
            expect(modes).toEqual(paths.map((p) => `${p} root 600`));
        }
    });

    test("security: no secret in clear in the backend's files, stack export, engine output or the machines' logs", async () => {
        const shown = stackExport(stack!, true);
        // What the cluster made: bootstrap tokens and certificate keys (in the token resources' secret
        // results, a JSON string inside the export's JSON-encoded plaintext: quotes escaped twice;
        // kubeadm lists the tokens that are still valid), a line of the CA's and of the
        // service-account signing key's body, a line of the admin kubeconfig's client key.
        const tokens = new Set([...shown.matchAll(/token(?:\\)*":(?:\\)*"([a-z0-9]{6}\.[a-z0-9]{16})/g)].map((m) => m[1]));
        for (const line of onMachine(CP, "kubeadm token list").split("\n").slice(1)) {
            if (/^[a-z0-9]{6}\.[a-z0-9]{16}\s/.test(line)) tokens.add(line.split(/\s+/)[0]);
        }
        const certificateKeys = [...new Set([...shown.matchAll(/certificateKey(?:\\)*":(?:\\)*"([0-9a-f]{64})/g)].map((m) => m[1]))];
        const keyLine = (file: string) => onMachine(CP, `sed -n 2p ${file}`).trim();
        const clientKey = /client-key-data: (\S+)/.exec(onMachine(CP, "cat /etc/kubernetes/admin.conf"))?.[1] ?? "";
        secrets = {
            "the registry password": registry.password,
            "the registry password as Basic auth": Buffer.from(`${registry.username}:${registry.password}`).toString("base64"),
            "the greeting secret": GREETING,
            "the greeting secret in base64": Buffer.from(GREETING).toString("base64"),
            ...Object.fromEntries([...tokens].map((t, i) => [`bootstrap token ${i + 1}`, t])),
            ...Object.fromEntries(certificateKeys.map((k, i) => [`certificate key ${i + 1}`, k])),
            "a line of the cluster CA's key": keyLine("/etc/kubernetes/pki/ca.key"),
            "a line of the service-account key": keyLine("/etc/kubernetes/pki/sa.key"),
            "a part of the admin kubeconfig's client key": clientKey.slice(64, 128),
        };
        const fromState = [...shown.matchAll(/token(?:\\)*":(?:\\)*"([a-z0-9]{6}\.[a-z0-9]{16})/g)].length;
        console.log(`looking for ${tokens.size} bootstrap tokens (${fromState} found in the state), ${certificateKeys.length} certificate key(s) and ${Object.keys(secrets).length - tokens.size - certificateKeys.length} other secrets`);
        // 3 nodes joined, each with its own join secrets (the first's too, unused); the control-plane
        // node's include a certificate key.
        expect(fromState).toBeGreaterThanOrEqual(3);
        expect(tokens.size).toBeGreaterThanOrEqual(3);
        expect(certificateKeys.length).toBeGreaterThanOrEqual(1);
        expect(Object.values(secrets).every((v) => v.length >= 20)).toBe(true);

        const backend = allFiles(backendDir(stack!));
        const exported = stackExport(stack!, false);
        // On every machine: the journal, cloud-init's logs, flotilla's script logs and every container's log.
        const logs = "journalctl --no-pager -o cat; cat /var/log/cloud-init.log /var/log/cloud-init-output.log /tmp/flotilla-*.err /var/log/pods/*/*/*.log";
        const onMachines = Object.fromEntries([`${pool}-0`, CP, ...WORKERS].map((m) => [m, onMachine(m, logScanCommand(logs), scanInput(secrets)).trim().split(" ")]));
        // The control: the same scan finds the secrets where they must be.
        const control = onMachine(CP, logScanCommand("cat /etc/kubernetes/admin.conf /etc/kubernetes/pki/ca.key"), scanInput(secrets)).trim().split(" ");
        console.log(`control scan of admin.conf and ca.key on ${CP} (secret lines, pattern lines, lines): ${JSON.stringify(control)}`);
        expect(Number(control[0])).toBeGreaterThanOrEqual(2);
        expect(Number(control[1])).toBeGreaterThanOrEqual(2);
        console.log(
            `scanned: ${backend.count} backend files (${backend.text.length} bytes), export ${exported.length} bytes, engine output ${engineOutput.length} bytes, ` +
                `machine logs (secret lines, pattern lines, lines): ${JSON.stringify(onMachines)}`,
        );
        expect({
            backend: leaks(backend.text, secrets),
            export: leaks(exported, secrets),
            engineOutput: leaks(engineOutput, secrets),
            machineLogs: Object.entries(onMachines).filter(([, [secretLines, patternLines]]) => secretLines !== "0" || patternLines !== "0"),
        }).toEqual({ backend: [], export: [], engineOutput: [], machineLogs: [] });
        expect(exported).toContain('"ciphertext"');
        // The control: with --show-secrets the scan finds what flotilla keeps as secrets.
        const found = leaks(shown, secrets);
        console.log(`stack export --show-secrets: the scan finds ${JSON.stringify(found)}`);
        expect(found).toEqual(
            expect.arrayContaining(["the registry password", "bootstrap token 1", "certificate key 1", "a part of the admin kubeconfig's client key", "a kubeconfig client key"]),
        );
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
            const up = await runUp();
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
        const error = await runUp().then(
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
        const up = await runUp();
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
        const error = await runUp().then(
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
        const up = await runUp();
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
        const result = await stack!.destroy({ onOutput: (o) => (engineOutput += o) });
        // Nothing the engine printed over the file's ups (failed ones included) and destroy holds a secret.
        expect(leaks(engineOutput, secrets)).toEqual([]);
        console.log(`destroy of the rest (PV, cluster, containerd, registry, machines): ${secs(t1)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
        expect(cgroupLeftovers(ids)).toEqual([]);
    });
});
