/**
 * Faults on a running kubeadm cluster and app in the lab (program test/lab/programs/kubernetes-faults,
 * pool on 10.213.176.0/28): machine 0 the LabRegistry, machines 1-3 the control plane (stacked
 * etcd, 3 members; machine 1's address is the API endpoint, the cluster's default without a load
 * balancer), machines 4-5 the workers; the web + db app: `web` a DaemonSet on both workers behind
 * NodePort 30376 (every node answers), `db` one replica on the worker of zone `a` with its claim on
 * a static hostPath PersistentVolume there. Each fault runs under a continuous request loop over
 * every node's NodePort (lenient: a node refusing or timing out is moved past, as a load balancer
 * does; a failed request is an HTTP error or no node answering) with a row written to db's claim
 * before and read back after, and is followed by an `up` with refresh (it succeeds; what it
 * changed is printed) and a plain `up` that changes nothing:
 * (1) containerd restarted on db's worker;
 * (2) containerd and kubelet restarted on the first control-plane node (the API endpoint);
 * (3) the third control-plane machine stopped: the API answers through the other two, etcd keeps
 *     quorum, the app serves; started again → Ready, etcd 3 healthy members;
 * (4) the second control-plane node cut off from the other two by nftables inside its machine
 *     (all traffic to/from their addresses dropped): the other two keep etcd quorum and answer the
 *     API, the app serves; the rule removed → it rejoins, etcd 3 healthy;
 * (5) every machine restarted (`docker restart`, same addresses): the cluster and the app come back
 *     without an up, the rows are still there.
 * Then destroy leaves nothing. Figures are printed, never asserted. The control-plane node faults
 * are on the non-first nodes: machine 1's address is every kubelet's API endpoint (no load
 * balancer in the lab), so losing machine 1 is losing the endpoint, not one node of three.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Stack, UpResult } from "@pulumi/pulumi/automation";
import {
    docker,
    httpGet,
    LoadStats,
    poolLeftovers,
    removeStaleTestPools,
    reportLoad,
    requestLoop,
    ROOT,
    tearDown,
    TEST_POOL_PREFIX,
    testProgramStack,
    until,
} from "./harness";

jest.setTimeout(60 * 60 * 1000);

const execFile = promisify(childProcess.execFile);
const SUBNET = "10.213.176.0/28";
const pool = `${TEST_POOL_PREFIX}kf${process.pid}`;
const names = [0, 1, 2, 3, 4, 5].map((i) => `${pool}-${i}`);
const CONTROL_PLANE = [1, 2, 3];
const NODES = [1, 2, 3, 4, 5];
/** db's node: the worker of zone `a` (the program pins db there; its PersistentVolume is there). */
const DB_NODE = 5;
const NODE_PORT = 30376;
const PV_DIR = "/var/lib/flotilla-lab-pv/shop-db-data";
const DEMO_TAG = "k8s-faults";
const started = Date.now();

const cache = childProcess.execFileSync("bash", [`${ROOT}/scripts/kubernetes-build.sh`], { encoding: "utf8" }).trim().split("\n").pop() as string;
const kubectlBin = path.join(cache, "bin", "kubectl");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "flt-k8s-faults-"));
const kubeconfigFile = path.join(tmp, "kubeconfig");

let stack: Stack;
let addresses: string[] = [];
let machineIds: string[] = [];
/** Rows written to db's claim so far, in order: every read must give all of them back. */
const rows: string[] = [];

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** A shell command as root inside lab machine `i` (asynchronous: the request loop keeps running). */
async function onNode(i: number, command: string, timeoutMs = 60_000, input?: string): Promise<string> {
    const child = execFile("docker", ["exec", "-i", names[i], "sh", "-c", command], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    if (input !== undefined) {
        child.child.stdin?.end(input);
    } else {
        child.child.stdin?.end();
    }
    try {
        return (await child).stdout;
    } catch (e) {
        const err = e as { code?: number; stderr?: string; message: string };
        throw new Error(`${command} on ${names[i]}: exit ${err.code}: ${(err.stderr ?? err.message).trim().slice(-400)}`);
    }
}

/** kubectl on this host with the cluster's admin kubeconfig, through control-plane node `i`'s API server. */
async function kubectlVia(i: number, args: string[], input?: string): Promise<string> {
    const child = execFile(kubectlBin, ["--kubeconfig", kubeconfigFile, "--server", `https://${addresses[i]}:6443`, "--request-timeout=15s", ...args], {
        encoding: "utf8",
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
    });
    child.child.stdin?.end(input ?? "");
    try {
        return (await child).stdout;
    } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`kubectl ${args.join(" ")} via ${names[i]}: ${(err.stderr ?? err.message).trim().slice(-300)}`);
    }
}

/** kubectl through the first of `via` whose API server answers. */
async function kubectl(args: string[], via = CONTROL_PLANE, input?: string): Promise<string> {
    const errors: string[] = [];
    for (const i of via) {
        try {
            return await kubectlVia(i, args, input);
        } catch (e) {
            errors.push((e as Error).message);
        }
    }
    throw new Error(`no API server answered:\n${errors.join("\n")}`);
}

/** `<node> <Ready status>` of every node, sorted. */
async function readyNodes(via = CONTROL_PLANE): Promise<string[]> {
    const items = JSON.parse(await kubectl(["get", "nodes", "-o", "json"], via)).items as {
        metadata: { name: string };
        status: { conditions: { type: string; status: string }[] };
    }[];
    return items.map((n) => `${n.metadata.name} ${n.status.conditions.find((c) => c.type === "Ready")?.status}`).sort();
}

const etcdCurl = (endpoint: string, post: boolean) =>
    "curl -sS --max-time 10 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/apiserver-etcd-client.crt " +
    `--key /etc/kubernetes/pki/apiserver-etcd-client.key ${post ? "-X POST -d '{}' " : ""}https://127.0.0.1:2379${endpoint}`;

/** etcd's own /health on control-plane node `i` (true only while it has a leader and quorum). */
async function etcdHealth(i: number): Promise<boolean> {
    const out = await onNode(i, etcdCurl("/health", false), 20_000).catch(() => "");
    return /"health":\s*"true"/.test(out);
}

/** etcd's members as control-plane node `i` lists them, sorted. */
async function etcdMembers(i: number): Promise<string[]> {
    return (JSON.parse(await onNode(i, etcdCurl("/v3/cluster/member/list", true), 20_000)).members as { name: string }[]).map((m) => m.name).sort();
}

/** One pod of the app as the API lists it. */
interface Pod {
    name: string;
    node: string;
    running: boolean;
    restarts: number;
    /** When its container (last) started, ms since the epoch (0 when not running). */
    startedAt: number;
    containerId: string;
}

/** A Kubernetes timestamp (RFC 3339, maybe with microseconds) → ms since the epoch. */
const time = (t: string | undefined) => (t ? Date.parse(t.replace(/(\.\d{3})\d+/, "$1")) : 0);

/** A service's pods, sorted by name; `running`: phase Running, container ready, not being deleted. */
async function pods(service: string, via = CONTROL_PLANE): Promise<Pod[]> {
    return podsBy("shop", `app.kubernetes.io/name=${service}`, via);
}

/** The pods in `namespace` that `selector` picks, as `pods` reads them. */
async function podsBy(namespace: string, selector: string, via = CONTROL_PLANE): Promise<Pod[]> {
    const items = JSON.parse(await kubectl(["-n", namespace, "get", "pods", "-l", selector, "-o", "json"], via)).items as {
        metadata: { name: string; deletionTimestamp?: string };
        spec: { nodeName?: string };
        status: { phase: string; containerStatuses?: { ready: boolean; restartCount: number; containerID?: string; state: { running?: { startedAt: string } } }[] };
    }[];
    return items
        .map((p) => {
            const c = p.status.containerStatuses?.[0];
            return {
                name: p.metadata.name,
                node: p.spec.nodeName ?? "",
                running: p.status.phase === "Running" && c?.ready === true && p.metadata.deletionTimestamp === undefined,
                restarts: c?.restartCount ?? 0,
                startedAt: time(c?.state.running?.startedAt),
                containerId: (c?.containerID ?? "").replace(/^containerd:\/\//, "").slice(0, 12),
            };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
}

const podLine = (p: Pod) => `${p.name}@${p.node.replace(`${pool}-`, "")} ${p.running ? "ready" : "NOT ready"} restarts=${p.restarts} container=${p.containerId}`;

/** True when every node's kubelet renewed its Lease after `since` (ms): it is alive and reaches the API. */
async function leasesRenewedSince(since: number): Promise<boolean> {
    const items = JSON.parse(await kubectl(["-n", "kube-node-lease", "get", "leases", "-o", "json"])).items as { metadata: { name: string }; spec: { renewTime?: string } }[];
    return NODES.every((i) => time(items.find((l) => l.metadata.name === names[i])?.spec.renewTime) > since);
}

/** A systemd unit's main process id on machine `i`. */
async function mainPid(i: number, unit: string): Promise<string> {
    return (await onNode(i, `systemctl show -p MainPID --value ${unit}`)).trim();
}

/** The ids of the containers running on machine `i`, as its containerd lists them (namespace k8s.io), sorted. */
async function runningTasks(i: number): Promise<string[]> {
    const out = await onNode(i, "ctr -n k8s.io tasks ls");
    return out.split("\n").slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[2] === "RUNNING").map((f) => f[0]).sort();
}

/** GET http://address:NodePort/ → [status, body] (3 s); rejects on connection errors. */
function get(address: string): Promise<[number, string]> {
    return httpGet(`http://${address}:${NODE_PORT}/`, 3000);
}

/**
 * Bounded wait until the cluster is whole: every node Ready and its kubelet's Lease renewed after
 * `since` (a status from before the fault is not taken for one after it), etcd healthy with its 3
 * members on every control-plane node, web ready on both workers and db on its worker (with
 * `restartedSince`: their containers and CoreDNS's started after it), CoreDNS ready and web
 * reaching db by its service name (db's page, not its rows: there may be none yet), the NodePort
 * answering on every node.
 */
async function clusterHealthy(what: string, bound: number, since: number, restartedSince = false): Promise<number> {
    return until(what, bound, async () => {
        const nodes = await readyNodes();
        if (JSON.stringify(nodes) !== JSON.stringify(NODES.map((i) => `${names[i]} True`))) return false;
        if (!(await leasesRenewedSince(since))) return false;
        for (const i of CONTROL_PLANE) {
            if (!(await etcdHealth(i))) return false;
            if (JSON.stringify(await etcdMembers(i)) !== JSON.stringify(CONTROL_PLANE.map((c) => names[c]))) return false;
        }
        const web = (await pods("web")).filter((p) => p.running && (!restartedSince || p.startedAt > since));
        const db = (await pods("db")).filter((p) => p.running && (!restartedSince || p.startedAt > since));
        if (web.length !== 2 || db.length !== 1 || db[0].node !== names[DB_NODE]) return false;
        // The cluster's DNS: every CoreDNS pod ready (with `restartedSince`, started after it), and
        // web resolving and reaching db by its service name (the app is whole only then).
        const dns = await podsBy("kube-system", "k8s-app=kube-dns");
        if (dns.length === 0 || !dns.every((p) => p.running && (!restartedSince || p.startedAt > since))) return false;
        const fromWeb = await kubectl(["-n", "shop", "exec", "ds/web", "--", "/bin/busybox", "wget", "-q", "-O-", "http://db:8080/"]);
        if (!fromWeb.includes(`flotilla-demo ${DEMO_TAG}`)) return false;
        for (const i of NODES) {
            const [status, body] = await get(addresses[i]);
            if (status !== 200 || !body.includes(`flotilla-demo ${DEMO_TAG}`)) return false;
        }
        return true;
    }, 2000);
}

/** The running, ready db pod: its name (it must be on db's worker). */
async function dbPod(): Promise<string> {
    const running = (await pods("db")).filter((p) => p.running);
    if (running.length !== 1) throw new Error(`not one running db pod: ${JSON.stringify(running)}`);
    expect(running[0].node).toBe(names[DB_NODE]);
    return running[0].name;
}

async function writeRow(row: string): Promise<void> {
    await kubectl(["-n", "shop", "exec", await dbPod(), "--", "/bin/busybox", "sh", "-c", `echo ${row} >> /www/data/rows`]);
    rows.push(row);
}

/** The rows on db's claim, as web reads them from db by its service name (web → db). */
async function readRows(): Promise<string[]> {
    await dbPod();
    const out = await kubectl(["-n", "shop", "exec", "ds/web", "--", "/bin/busybox", "wget", "-q", "-O-", "http://db:8080/data/rows"]);
    return out.trim().split("\n");
}

/** The continuous client of every fault: lenient, over every node's NodePort. */
function clientLoop(): { stop: () => Promise<LoadStats> } {
    return requestLoop({ urls: NODES.map((i) => `http://${addresses[i]}:${NODE_PORT}/`), expect: new RegExp(`flotilla-demo ${DEMO_TAG}`) });
}

/** After a fault: an up with refresh that succeeds (what it changed is printed), then a plain up that changes nothing. */
async function upsAfter(fault: string): Promise<void> {
    let t = Date.now();
    const refreshed: UpResult = await stack.up({ refresh: true });
    expect(refreshed.summary.result).toBe("succeeded");
    console.log(`after ${fault}: up --refresh in ${seconds(t)}s, changes ${JSON.stringify(refreshed.summary.resourceChanges)}`);
    t = Date.now();
    const again = await stack.up();
    console.log(`after ${fault}: plain up in ${seconds(t)}s, changes ${JSON.stringify(again.summary.resourceChanges)}`);
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
}

/** Runs `fault` under the request loop; returns its figures (printed). */
async function underLoad(what: string, fault: () => Promise<void>): Promise<LoadStats> {
    const load = clientLoop();
    const t = Date.now();
    let stats: LoadStats;
    try {
        await fault();
    } finally {
        stats = await load.stop();
    }
    reportLoad(`${what} (${seconds(t)}s under load)`, stats);
    return stats;
}

/** nftables from Debian's package on machine `i` (the machines reach its mirror; the lab image has no nft). */
async function installNft(i: number): Promise<void> {
    await onNode(
        i,
        "command -v nft >/dev/null || DEBIAN_FRONTEND=noninteractive timeout 180 apt-get install -y -qq --no-install-recommends nftables >/dev/null 2>&1 || " +
            "{ timeout 180 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 180 apt-get install -y -qq --no-install-recommends nftables; }",
        400_000,
    );
}

beforeAll(async () => {
    removeStaleTestPools();
    const demo = childProcess.execFileSync("bash", [`${ROOT}/scripts/demo-image.sh`, DEMO_TAG], { encoding: "utf8" }).trim().split("\n").pop() as string;
    stack = await testProgramStack(
        "kubernetes-faults",
        `kfaults-${process.pid}`,
        {
            "test:poolName": pool,
            "test:subnet": SUBNET,
            "test:cache": cache,
            "test:demoImage": demo,
            "test:nodePort": String(NODE_PORT),
            "test:withApp": "false",
        },
        { "test:dbPassword": `db-password-${process.pid}` },
    );
    const t = Date.now();
    const up = await stack.up();
    console.log(`up of the registry and a kubeadm cluster of 3 control-plane nodes + 2 workers: ${seconds(t)}s`);
    addresses = up.outputs.addresses.value as string[];
    expect(up.outputs.names.value).toEqual(names);
    expect(up.outputs.apiEndpoint.value).toBe(addresses[1]);
    fs.writeFileSync(kubeconfigFile, up.outputs.kubeconfig.value as string, { mode: 0o600 });
    machineIds = names.map((n) => docker("inspect", "--format", "{{.Id}}", n)[0]);
    // Set-up standing in for a storage provisioner (the lab has none): a static hostPath
    // PersistentVolume of the class db's claim names, on db's worker, writable by the image's user.
    await onNode(DB_NODE, `mkdir -p ${PV_DIR} && chmod 0777 ${PV_DIR}`);
    await kubectl(["apply", "-f", "-"], CONTROL_PLANE, JSON.stringify({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "shop-db-data" },
        spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: "flotilla-lab",
            hostPath: { path: PV_DIR, type: "Directory" },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [names[DB_NODE]] }] }] } },
        },
    }));
});

afterAll(() =>
    tearDown(stack, {
        pool,
        // A network cut a failed test left, so the destroy reaches the control plane.
        before: () => CONTROL_PLANE.forEach((i) => childProcess.spawnSync("docker", ["exec", names[i], "sh", "-c", "nft delete table inet flotilla_cut 2>/dev/null; true"])),
        after: () => {
            childProcess.spawnSync("docker", ["rmi", `flotilla-demo:${DEMO_TAG}`]);
            fs.rmSync(tmp, { recursive: true, force: true });
            console.log(`kubernetes faults test file: ${seconds(started)}s in all`);
        },
    }),
);

describe("faults on a running kubeadm cluster (3 control-plane nodes + 2 workers) and app", () => {
    test("up: the app converges, every node serves, a row written on db's claim is read back through web", async () => {
        await stack.setConfig("test:withApp", { value: "true" });
        const t = Date.now();
        const up = await stack.up();
        console.log(`KubernetesApp up: ${seconds(t)}s`);
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
        await clusterHealthy("the cluster whole and every node serving", 120, t);
        expect((await pods("web")).map((p) => p.node).sort()).toEqual([names[4], names[5]]);
        expect(await kubectl(["-n", "shop", "get", "pvc", "shop-db-data", "-o", "jsonpath={.status.phase} {.spec.volumeName}"])).toBe("Bound shop-db-data");
        await writeRow("row-initial");
        expect(await readRows()).toEqual(rows);
        const again = await stack.up();
        expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("containerd restarted on db's worker: the pods keep running, the app serves, the row stays", async () => {
        await writeRow("row-before-containerd-restart");
        const before = [...(await pods("web")), ...(await pods("db"))];
        const tasksBefore = await runningTasks(DB_NODE);
        const pidBefore = await mainPid(DB_NODE, "containerd");
        let pidAfter = "";
        const stats = await underLoad(`containerd restarted on ${names[DB_NODE]}`, async () => {
            const t = Date.now();
            await onNode(DB_NODE, "systemctl restart containerd", 120_000);
            pidAfter = await mainPid(DB_NODE, "containerd");
            console.log(`systemctl restart containerd on ${names[DB_NODE]}: returned after ${seconds(t)}s (containerd pid ${pidBefore} -> ${pidAfter})`);
            const healthy = await clusterHealthy("the cluster whole after the containerd restart", 300, t);
            console.log(`  cluster whole and serving (every kubelet's lease renewed since) ${seconds(t)}s after the restart began (wait ${healthy.toFixed(1)}s)`);
            // Held under load a while longer: a runtime restart the kubelet notices late (PLEG, runtime not ready) shows up here.
            await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - t))));
            await clusterHealthy("the cluster still whole 30 s after the containerd restart", 120, t);
        });
        const after = [...(await pods("web")), ...(await pods("db"))];
        const tasksAfter = await runningTasks(DB_NODE);
        console.log(`  pods before: ${before.map(podLine).join(" | ")}\n  pods after:  ${after.map(podLine).join(" | ")}`);
        console.log(`  containers running on ${names[DB_NODE]} (as containerd lists them): ${tasksBefore.length} before, ${tasksAfter.length} after, ${tasksAfter.filter((x) => tasksBefore.includes(x)).length} the same`);
        expect(pidAfter).not.toBe(pidBefore);
        expect(stats.failures).toEqual([]);
        expect(stats.ok).toBeGreaterThan(100);
        expect(await readRows()).toEqual(rows);
        await upsAfter("the containerd restart on a worker");
    });

    test("containerd and kubelet restarted on the first control-plane node: the API and the app keep answering", async () => {
        const victim = CONTROL_PLANE[0];
        await writeRow("row-before-control-plane-restart");
        const pidsBefore = [await mainPid(victim, "containerd"), await mainPid(victim, "kubelet")];
        let pidsAfter: string[] = [];
        let apiFailures = 0;
        let apiChecks = 0;
        const stats = await underLoad(`containerd and kubelet restarted on ${names[victim]}`, async () => {
            const t = Date.now();
            let done = false;
            const api = (async () => {
                while (!done) {
                    apiChecks++;
                    const ok = await kubectlVia(victim, ["get", "--raw", "/readyz"]).then((o) => o.trim() === "ok", () => false);
                    if (!ok) apiFailures++;
                    await new Promise((r) => setTimeout(r, 1000));
                }
            })();
            try {
                await onNode(victim, "systemctl restart containerd kubelet", 120_000);
                pidsAfter = [await mainPid(victim, "containerd"), await mainPid(victim, "kubelet")];
                console.log(`systemctl restart containerd kubelet on ${names[victim]}: returned after ${seconds(t)}s (pids ${pidsBefore} -> ${pidsAfter})`);
                const healthy = await clusterHealthy("the cluster whole after the control-plane restart", 300, t);
                console.log(`  cluster whole and serving (every kubelet's lease renewed since) ${seconds(t)}s after the restart began (wait ${healthy.toFixed(1)}s)`);
                await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - t))));
                await clusterHealthy("the cluster still whole 30 s after the control-plane restart", 120, t);
            } finally {
                done = true;
                await api;
            }
        });
        const staticPods = await kubectl(["-n", "kube-system", "get", "pods", "--field-selector", `spec.nodeName=${names[victim]}`, "-o",
            'jsonpath={range .items[*]}{.metadata.name}={.status.containerStatuses[0].restartCount} {end}']);
        console.log(`  the restarted node's API server: ${apiFailures} of ${apiChecks} /readyz checks failed meanwhile; its pods' restart counts: ${staticPods.replace(new RegExp(`-${names[victim]}`, "g"), "")}`);
        expect(pidsAfter[0]).not.toBe(pidsBefore[0]);
        expect(pidsAfter[1]).not.toBe(pidsBefore[1]);
        expect(stats.failures).toEqual([]);
        expect(await readRows()).toEqual(rows);
        await upsAfter("the containerd + kubelet restart on a control-plane node");
    });

    test("one control-plane machine of three stopped: the API answers through the others, the app serves; started again it rejoins", async () => {
        const victim = CONTROL_PLANE[2];
        const others = CONTROL_PLANE.filter((i) => i !== victim);
        await writeRow("row-before-control-plane-stop");
        const stats = await underLoad(`control-plane machine ${names[victim]} stopped and started`, async () => {
            const t = Date.now();
            await execFile("docker", ["stop", names[victim]], { timeout: 120_000 });
            console.log(`docker stop ${names[victim]}: ${seconds(t)}s`);
            const seen = await until("the stopped node NotReady/Unknown as the others list it", 240, async () =>
                (await readyNodes(others)).some((l) => l.startsWith(`${names[victim]} `) && !l.endsWith(" True")), 2000);
            console.log(`  listed not Ready ${seen.toFixed(1)}s after the stop`);
            for (const i of others) {
                expect((await kubectlVia(i, ["get", "--raw", "/readyz"])).trim()).toBe("ok");
                expect(await etcdHealth(i)).toBe(true);
                expect(await etcdMembers(i)).toEqual(CONTROL_PLANE.map((c) => names[c]));
            }
            for (const i of NODES.filter((n) => n !== victim)) {
                expect(await get(addresses[i])).toEqual([200, expect.stringContaining(`flotilla-demo ${DEMO_TAG}`)]);
            }
            // The app's objects can still be read and changed through the others: a row written now.
            await writeRow("row-while-control-plane-stopped");
            const t2 = Date.now();
            await execFile("docker", ["start", names[victim]], { timeout: 120_000 });
            const healthy = await clusterHealthy("the started control-plane node Ready, etcd 3 healthy", 420, t2);
            console.log(`  started again: cluster whole (node Ready, etcd 3 healthy members) ${healthy.toFixed(1)}s after the start (${seconds(t2)}s)`);
        });
        expect(stats.failures).toEqual([]);
        expect(await readRows()).toEqual(rows);
        await upsAfter("a control-plane machine stopped and started");
    });

    test("one control-plane node cut off from the other two by nftables: quorum kept, the API and the app answer; it rejoins when the rule goes", async () => {
        const cut = CONTROL_PLANE[1];
        const others = CONTROL_PLANE.filter((i) => i !== cut);
        const peers = others.map((i) => addresses[i]);
        await installNft(cut);
        const ruleset = [
            "table inet flotilla_cut {",
            `  set peers { type ipv4_addr; elements = { ${peers.join(", ")} }; }`,
            "  chain input { type filter hook input priority -10; policy accept; ip saddr @peers counter drop; }",
            "  chain output { type filter hook output priority -10; policy accept; ip daddr @peers counter drop; }",
            "}",
            "",
        ].join("\n");
        await writeRow(`row-before-cut-${cut}`);
        const stats = await underLoad(`control-plane node ${names[cut]} cut off`, async () => {
            const t = Date.now();
            await onNode(cut, "nft -f -", 30_000, ruleset);
            const seen = await until("the others keep quorum and list the cut node not Ready; the cut node's etcd without quorum", 300, async () => {
                const nodes = await readyNodes(others);
                return nodes.some((l) => l.startsWith(`${names[cut]} `) && !l.endsWith(" True")) && !(await etcdHealth(cut));
            }, 2000);
            console.log(`${names[cut]} cut off: the others list it not Ready, its etcd unhealthy, after ${seen.toFixed(1)}s`);
            for (const i of others) {
                expect((await kubectlVia(i, ["get", "--raw", "/readyz"])).trim()).toBe("ok");
                expect(await etcdHealth(i)).toBe(true);
            }
            const alone = await kubectlVia(cut, ["get", "--raw", "/readyz"]).then((o) => `answered ${o.trim().slice(0, 80)}`, (e: Error) => e.message.slice(-160));
            console.log(`  the cut node's own API server: ${alone}`);
            const counters = await onNode(cut, "nft list table inet flotilla_cut | grep -o 'packets [0-9]*' | tr '\\n' ' '");
            console.log(`  drop counters (input, output): ${counters.trim()}`);
            for (const i of NODES) {
                expect(await get(addresses[i])).toEqual([200, expect.stringContaining(`flotilla-demo ${DEMO_TAG}`)]);
            }
            await writeRow("row-while-cut");
            const t2 = Date.now();
            await onNode(cut, "nft delete table inet flotilla_cut", 30_000);
            const healthy = await clusterHealthy("the cut node back: Ready, etcd 3 healthy", 420, t2);
            console.log(`  rule removed: cluster whole (node Ready, etcd 3 healthy members) ${healthy.toFixed(1)}s later (cut lasted ${((t2 - t) / 1000).toFixed(1)}s)`);
        });
        expect(stats.failures).toEqual([]);
        expect(await readRows()).toEqual(rows);
        await upsAfter("a control-plane node cut off and back");
    });

    test("every machine restarted: the cluster and the app come back without an up, the rows stay", async () => {
        await writeRow("row-before-restart-all");
        const dbBefore = await dbPod();
        const stats = await underLoad("every machine restarted", async () => {
            const t = Date.now();
            await execFile("docker", ["restart", ...names], { timeout: 300_000 });
            console.log(`docker restart of the 6 machines returned after ${seconds(t)}s`);
            const first: Record<string, string> = {};
            await until("HTTP 200 from every node's NodePort", 900, async () => {
                await Promise.all(
                    NODES.map(async (i) => {
                        if (first[names[i]] !== undefined) return;
                        const [status, body] = await get(addresses[i]).catch(() => [0, ""] as [number, string]);
                        if (status === 200 && body.includes(`flotilla-demo ${DEMO_TAG}`)) first[names[i]] = seconds(t);
                    }),
                );
                return Object.keys(first).length === NODES.length;
            }, 1000);
            console.log(`all machines restarted: seconds to the first HTTP 200 per node (from the restart command): ${JSON.stringify(first)}`);
            // Since the restart: every lease renewed, web's and db's containers started anew (no status from before it).
            const healthy = await clusterHealthy("all nodes Ready, etcd 3 healthy, the app whole after the restart", 900, t, true);
            console.log(`  cluster whole ${seconds(t)}s after the restart began (wait ${healthy.toFixed(1)}s)`);
        });
        // No node was up to serve while all restarted: the failures are the outage, reported.
        console.log(`  db pod before: ${dbBefore}, after: ${await dbPod()}; pods now: ${[...(await pods("web")), ...(await pods("db"))].map(podLine).join(" | ")}`);
        expect(stats.ok).toBeGreaterThan(0);
        expect(await readRows()).toEqual(rows);
        await upsAfter("every machine restarted");
    });

    test("destroy leaves nothing behind (containers, volumes, networks, cgroups)", async () => {
        const t = Date.now();
        const result = await stack.destroy();
        console.log(`destroy: ${seconds(t)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
        const cgroups = machineIds.flatMap((id) => fs.readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}/docker/${id}`).filter((d) => fs.existsSync(d)));
        expect(cgroups).toEqual([]);
    });
});
