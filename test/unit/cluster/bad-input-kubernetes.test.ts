/**
 * Bad input on the Kubernetes constructs, by class: what Kubernetes itself would refuse only once
 * machines exist (a Service range the API server refuses, a pod network without a /24 per node,
 * node labels that are no Kubernetes labels or that the kubelet refuses, a kubeadm cluster on which
 * no app can be scheduled) is refused by KubernetesCluster at construction, nothing registered; and
 * a valid input no longer refused: KubernetesApp follows the cluster's own capabilities, so a
 * `loadBalancer` port on a k3s cluster with servicelb is a LoadBalancer Service.
 */
import * as childProcess from "child_process";
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_SIG, recordResources, refusedIn, rejectionOf, testHost, testRuntimeHost, valueOf } from "../mocks";
import { KubernetesCluster, KubernetesClusterArgs } from "../../../lib/cluster/kubernetes";
import { checkKubernetesNodeLabels, kubeletRefusesLabel } from "../../../lib/cluster/node-labels";
import { Validator, show } from "../../../lib/core/validate";
import { Host } from "../../../lib/core/host";
import { KubernetesApp, KubernetesAppArgs } from "../../../lib/workload/deploy/kubernetes-app";

const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";

/** What the cluster and app scripts print as their results, in the mocks. */
const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) return { result: JSON.stringify({ token: "K10GENERATED::server:abc", kubeconfig: KUBECONFIG, cgroupDriver: "systemd" }) };
    if (/-token-/.test(name)) return { result: JSON.stringify({ token: "abcdef.0123456789abcdef", certificateKey: "k".repeat(64), caCertHash: "sha256:00" }) };
    if (name.endsWith("-deploy")) return { result: JSON.stringify({ web: { ready: 1, desired: 1 } }) };
    const join = /-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeName: join[1], cgroupDriver: "cgroupfs" }) } : undefined;
});
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));
beforeEach(async () => {
    await settle();
    registered.splice(0);
});
const refused = refusedIn(registered);
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name} in ${registered.map((x) => x.name).join(", ")}`);
    return r.inputs as Record<string, any>;
};

const host = (name: string, address: string, labels: Record<string, pulumi.Input<string>> = {}): Host =>
    testHost(name, address, { provider: "lab", labels: { zone: "z1", ...labels } });
const hosts = (n: number, prefix = "s", base = 2) => Array.from({ length: n }, (_, i) => host(`${prefix}${i}`, `10.0.0.${base + i}`));
const ctr = (name: string, address: string, labels: Record<string, pulumi.Input<string>> = {}) =>
    testRuntimeHost(name, address, {
        provider: "lab",
        labels: { zone: "z1", ...labels },
        runtime: { kind: "containerd", criSocket: "unix:///run/containerd/containerd.sock", swarmReady: false },
    });
const nodes = (n: number, prefix = "c", base = 2) => Array.from({ length: n }, (_, i) => ctr(`${prefix}${i}`, `10.0.0.${base + i}`));

type Extra = Partial<KubernetesClusterArgs>;
/** A valid k3s cluster (1 server + 2 agents) with `extra`. */
const k3s = (extra: Extra = {}): KubernetesClusterArgs => ({ distribution: "k3s", version: "v1.33.5+k3s1", controlPlane: hosts(1), workers: hosts(2, "w", 10), ...extra });
/** A valid kubeadm cluster (1 control-plane node + 2 workers) with `extra`. */
const kubeadm = (extra: Extra = {}): KubernetesClusterArgs => ({ distribution: "kubeadm", version: "v1.37.2", controlPlane: nodes(1), workers: nodes(2, "w", 10), ...extra });
const both: [string, (extra?: Extra) => KubernetesClusterArgs][] = [
    ["k3s", k3s],
    ["kubeadm", kubeadm],
];
const T = 'flotilla:cluster:KubernetesCluster "k": invalid';

/** Constructs the cluster and waits until every node resource registered. */
async function build(args: KubernetesClusterArgs): Promise<KubernetesCluster> {
    const cluster = new KubernetesCluster("k", args);
    await valueOf(cluster.kubeconfig);
    await Promise.all([...cluster.controlPlane, ...cluster.workers].flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    await settle(100);
    return cluster;
}

describe("KubernetesCluster: a Service range larger than the API server takes is refused at construction", () => {
    const EXPECTED = "expected a block of at most 2^20 addresses (/12 or longer): the API server refuses a larger Service range.";
    describe.each(both)("%s", (_distribution, args) => {
        test.each(["10.0.0.0/8", "10.0.0.0/11", "172.0.0.0/11", "0.0.0.0/0", "192.0.0.0/2"])("serviceCidr %s: refused, nothing registered", async (cidr) => {
            expect(await refused(() => new KubernetesCluster("k", args({ serviceCidr: cidr })))).toBe(`${T} serviceCidr: received "${cidr}"; ${EXPECTED}`);
        });
        test.each(["172.16.0.0/12", "10.96.0.0/16", "10.43.0.0/24"])("serviceCidr %s: accepted", async (cidr) => {
            expect(() => new KubernetesCluster("k", args({ serviceCidr: cidr }))).not.toThrow();
            await settle(100);
        });
    });
});

describe("KubernetesCluster: a pod network without a /24 for every node is refused at construction", () => {
    describe.each(both)("%s", (distribution, args) => {
        const workersOf = (n: number) => (distribution === "k3s" ? hosts(n, "w", 10) : nodes(n, "w", 10));
        test.each<[string, number, string]>([
            // [podCidr, workers (1 control-plane node besides), what the message says]
            ["10.42.0.0/23", 2, "a block with a /24 for each of the 3 nodes (every node gets a /24 of the pod network), so /22 or shorter; 10.42.0.0/23 holds 2 /24 ranges"],
            ["10.42.0.0/24", 1, "a block with a /24 for each of the 2 nodes (every node gets a /24 of the pod network), so /23 or shorter; 10.42.0.0/24 holds 1 /24 range"],
            ["10.42.0.0/25", 2, "a block with a /24 for each of the 3 nodes (every node gets a /24 of the pod network), so /22 or shorter; 10.42.0.0/25 holds no /24 range"],
            ["10.42.0.0/22", 4, "a block with a /24 for each of the 5 nodes (every node gets a /24 of the pod network), so /21 or shorter; 10.42.0.0/22 holds 4 /24 ranges"],
            ["10.42.0.0/28", 1, "a block with a /24 for each of the 2 nodes (every node gets a /24 of the pod network), so /23 or shorter; 10.42.0.0/28 holds no /24 range"],
        ])("podCidr %s with %i workers: refused naming the nodes and the /24 ranges, nothing registered", async (cidr, workers, expected) => {
            const a = args({ podCidr: cidr, workers: workersOf(workers) });
            expect(await refused(() => new KubernetesCluster("k", a))).toBe(`${T} podCidr: received "${cidr}"; expected ${expected}.`);
        });
        test("enough /24s accepted; a single node (k3s: kubeadm needs workers) needs one: /24 accepted, /25 refused", async () => {
            const single = { controlPlane: hosts(1) };
            if (distribution === "k3s") {
                expect(() => new KubernetesCluster("k", args({ ...single, workers: [], podCidr: "10.42.0.0/24" }))).not.toThrow();
                await settle(100);
                expect(await refused(() => new KubernetesCluster("k", args({ ...single, workers: [], podCidr: "10.42.0.0/25" })))).toBe(
                    `${T} podCidr: received "10.42.0.0/25"; expected a block with a /24 for each of the 1 node (every node gets a /24 of the pod network), so /24 or shorter; 10.42.0.0/25 holds no /24 range.`,
                );
            }
            expect(() => new KubernetesCluster("k", args({ podCidr: "10.42.0.0/22", workers: workersOf(3) }))).not.toThrow();
            await settle(100);
        });
    });
});

describe("KubernetesCluster: node labels by Kubernetes' label rules, refused at construction", () => {
    const KEY =
        "expected a Kubernetes label key [prefix/]name: the name 1 to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit; " +
        "the prefix a DNS subdomain of at most 253 characters (lower-case letters, digits, '-' and '.').";
    const VALUE = "expected a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit.";
    const KUBELET =
        "expected a label the kubelet may set on its own node: k3s passes node labels to the kubelet (--node-labels), which refuses kubernetes.io and " +
        "k8s.io labels (their subdomains too, e.g. node-role.kubernetes.io) other than the prefixes kubelet.kubernetes.io/ and node.kubernetes.io/ and " +
        "the well-known kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch, topology.kubernetes.io/zone, topology.kubernetes.io/region, " +
        "failure-domain.beta.kubernetes.io/zone, failure-domain.beta.kubernetes.io/region, beta.kubernetes.io/instance-type, beta.kubernetes.io/os, " +
        "beta.kubernetes.io/arch; use a prefix of your own (e.g. example.com/role).";
    const long = "x".repeat(64);

    describe.each(both)("%s", (_distribution, args) => {
        test.each(["-bad", "bad-", "a/b/c", "Example.com/role", "example.com/", "/role", "a b", long, `${"a".repeat(254)}/x`, "example..com/x"])(
            "key %j: refused, nothing registered",
            async (key) => {
                expect(await refused(() => new KubernetesCluster("k", args({ nodeLabels: { [key]: "v" } })))).toBe(`${T} nodeLabels.${key}: received ${show(key)}; ${KEY}`);
            },
        );
        test.each(["a/b", "a:b", "-x", "x_", "x.", "a b", long])("value %j (Swarm takes some of these): refused, nothing registered", async (value) => {
            expect(await refused(() => new KubernetesCluster("k", args({ nodeLabels: { role: value } })))).toBe(`${T} nodeLabels.role: received ${JSON.stringify(value)}; ${VALUE}`);
        });
        test("a value that is not a string: refused", async () => {
            expect(await refused(() => new KubernetesCluster("k", args({ nodeLabels: { replicas: 3 as never } })))).toBe(`${T} nodeLabels.replicas: received 3; ${VALUE}`);
        });
        test("valid keys and values (empty value, prefixes, 63 characters) reach the node resources", async () => {
            const labels = { "example.com/role": "db", "tier": "", "a.b-c_d": "x".repeat(63), "node.kubernetes.io/pool": "p1", "topology.kubernetes.io/zone": "eu-1a" };
            await build(args({ nodeLabels: labels }));
            expect(byName("k-node-w0").environment.LABELS.split("\n")).toEqual(expect.arrayContaining(Object.entries(labels).map(([k, v]) => `${k}=${v}`)));
        });
    });

    test.each([
        "node-role.kubernetes.io/worker",
        "kubernetes.io/role",
        "node-restriction.kubernetes.io/pool",
        "k8s.io/x",
        "team.k8s.io/x",
        "beta.kubernetes.io/fluentd-ds-ready",
    ])("k3s: %s (the kubelet refuses it among its --node-labels) refused, nothing registered", async (key) => {
        expect(await refused(() => new KubernetesCluster("k", k3s({ nodeLabels: { [key]: "" } })))).toBe(`${T} nodeLabels.${key}: received ${JSON.stringify(key)}; ${KUBELET}`);
    });

    test("k3s: the kubelet's own labels are accepted (kubelet.kubernetes.io/, node.kubernetes.io/ and subdomains, the well-known ones)", async () => {
        for (const key of ["kubelet.kubernetes.io/x", "node.kubernetes.io/exclude-from-external-load-balancers", "a.node.kubernetes.io/x", "kubernetes.io/arch", "topology.kubernetes.io/region", "notkubernetes.io/x", "kubernetes.iox/y", "role"]) {
            expect([key, kubeletRefusesLabel(key)]).toEqual([key, false]);
        }
        await build(k3s({ nodeLabels: { "node.kubernetes.io/pool": "p1", "topology.kubernetes.io/region": "eu" } }));
        expect(byName("k-join-w0").environment.CONFIG).toContain('node-label:\n  - "provider=lab"\n  - "pool=p"\n  - "zone=z1"\n  - "node.kubernetes.io/pool=p1"\n  - "topology.kubernetes.io/region=eu"');
    });

    test("kubeadm: node-role.kubernetes.io/worker and other kubernetes.io labels are accepted (the node resource sets them with the admin kubeconfig, not the kubelet)", async () => {
        await build(kubeadm({ nodeLabels: { "node-role.kubernetes.io/worker": "", "kubernetes.io/role": "worker" } }));
        expect(byName("k-node-w0").environment.LABELS).toBe("provider=lab\npool=p\nzone=z1\nnode-role.kubernetes.io/worker=\nkubernetes.io/role=worker");
    });

    describe("the hosts' own labels become node labels: the same rules, named after the host", () => {
        test.each(both)("%s: a host label value with '/' or ':' (Swarm takes them) is refused, nothing registered", async (distribution, args) => {
            const worker = distribution === "k3s" ? host("w0", "10.0.0.10", { path: "a/b" }) : ctr("w0", "10.0.0.10", { path: "a/b" });
            expect(await refused(() => new KubernetesCluster("k", args({ workers: [worker] })))).toBe(`${T} workers[0].labels.path: received "a/b"; ${VALUE}`);
            const server = distribution === "k3s" ? host("s0", "10.0.0.2", { site: "dc:1" }) : ctr("c0", "10.0.0.2", { site: "dc:1" });
            expect(await refused(() => new KubernetesCluster("k", args({ controlPlane: [server] })))).toBe(`${T} controlPlane[0].labels.site: received "dc:1"; ${VALUE}`);
        });
        test("k3s: a host label the kubelet refuses is refused; kubeadm takes it", async () => {
            const key = "node-role.kubernetes.io/worker";
            expect(await refused(() => new KubernetesCluster("k", k3s({ workers: [host("w0", "10.0.0.10", { [key]: "" })] })))).toBe(
                `${T} workers[0].labels.${key}: received ${JSON.stringify(key)}; ${KUBELET}`,
            );
            await build(kubeadm({ workers: [ctr("w0", "10.0.0.10", { [key]: "" })] }));
            expect(byName("k-node-w0").environment.LABELS).toBe(`provider=lab\npool=p\nzone=z1\n${key}=`);
        });
        test("a host label that nodeLabels overrides is not checked (the node gets nodeLabels' value)", async () => {
            await build(k3s({ workers: [host("w0", "10.0.0.10", { path: "a/b" })], nodeLabels: { path: "ok" } }));
            expect(byName("k-node-w0").environment.LABELS).toBe("provider=lab\npool=p\nzone=z1\npath=ok");
        });
        test("a host label whose value is an Output is checked when it resolves, naming the host's label", async () => {
            const v = new Validator("flotilla:cluster:KubernetesCluster", "k");
            const checked = checkKubernetesNodeLabels(v, "workers[0].labels", { zone: pulumi.output("eu/1"), region: pulumi.output("eu") }, { viaKubelet: true });
            expect(await rejectionOf(pulumi.output(checked.zone))).toBe(`${T} workers[0].labels.zone: received "eu/1"; ${VALUE}`);
            expect(await valueOf(checked.region)).toBe("eu");
        });
        test("Swarm's label rules are unchanged: the same host labels are no Kubernetes concern there", () => {
            // Validator.labels (Swarm's) still takes a value with '/' and ':'.
            const v = new Validator("flotilla:cluster:SwarmCluster", "s");
            expect(v.labels("labels", { path: "a/b", site: "dc:1" })).toEqual({ path: "a/b", site: "dc:1" });
        });
    });
});

describe("KubernetesCluster (kubeadm): no workers with the control-plane taint kept (no app can be scheduled) is warned at construction", () => {
    const EXPECTED =
        'no workers with distribution "kubeadm": kubeadm taints every control-plane node node-role.kubernetes.io/control-plane:NoSchedule ' +
        "and no setting of KubernetesCluster removes that taint, so no app can be scheduled until workers join; add workers (hosts like controlPlane's), " +
        'or use distribution "k3s", whose servers run apps';
    test.each<[string, Extra]>([
        ["1 control-plane node, workers unset", { controlPlane: nodes(1), workers: undefined }],
        ["1 control-plane node, no workers", { controlPlane: nodes(1), workers: [] }],
        ["3 control-plane nodes, no workers", { controlPlane: nodes(3), workers: [] }],
        ["5 control-plane nodes, taints of its own", { controlPlane: nodes(5), workers: undefined, nodeTaints: ["dedicated=db:NoSchedule"] }],
    ])("%s: accepted (scaled down to its control plane), with the warning", async (_what, extra) => {
        const cluster = new KubernetesCluster("k", kubeadm(extra));
        expect(cluster.warnings).toEqual([EXPECTED]);
        await settle(100);
    });
    test("with a worker, or on k3s (servers are not tainted), no warning", async () => {
        expect(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(1), workers: nodes(1, "w", 10) })).warnings).toEqual([]);
        expect(new KubernetesCluster("k2", k3s({ workers: [] })).warnings).toEqual([]);
        await settle(100);
    });
});

describe("KubernetesApp follows the cluster's own capabilities (a loadBalancer port)", () => {
    const app = (cluster: KubernetesCluster, published: number, extra: Partial<KubernetesAppArgs> = {}): KubernetesAppArgs => ({
        cluster,
        services: { web: { image: "nginx:1.27-alpine", ports: [{ target: 8080, published, mode: "loadBalancer" }] } },
        ...extra,
    });
    const plainOf = (x: any) => (x && x[SECRET_SIG] ? x.value : x);
    const services = (deploy: Record<string, any>) =>
        zlib
            .gunzipSync(Buffer.from(plainOf(deploy.environment).MANIFEST_GZ, "base64"))
            .toString("utf8")
            .split(/^---$/m)
            .map((d) => d.trim())
            .filter((d) => d !== "")
            .map((d) => JSON.parse(d))
            .filter((o) => o.kind === "Service" && o.spec.type !== "ClusterIP");

    test.each([80, 443, 8080, 30080])("k3s with servicelb: published %i gets a LoadBalancer Service on that port, nothing refused", async (published) => {
        const cluster = await build(k3s());
        expect(await valueOf(cluster.capabilities)).toEqual({ serviceVirtualIp: true, routingMesh: true, loadBalancer: true });
        const a = new KubernetesApp("shop", app(cluster, published));
        await valueOf(a.services);
        await settle();
        const lb = services(byName("shop-deploy")).map((s) => [s.metadata.name, s.spec.type, s.spec.ports]);
        expect(lb).toEqual([["web-lb", "LoadBalancer", [{ name: `tcp-${published}`, protocol: "TCP", port: published, targetPort: 8080 }]]]);
    });

    test.each<[string, Extra]>([
        ["kubeadm (no load balancer)", { distribution: "kubeadm", controlPlane: nodes(1), workers: nodes(2, "w", 10), version: "v1.37.2" }],
        ["k3s with servicelb disabled", { disable: ["servicelb"] }],
    ])("%s: a loadBalancer port in the NodePort range is a NodePort Service (downgraded)", async (_what, extra) => {
        const cluster = await build(extra.distribution === "kubeadm" ? kubeadm(extra) : k3s(extra));
        const a = new KubernetesApp("shop", app(cluster, 30080));
        await valueOf(a.services);
        await settle();
        const np = services(byName("shop-deploy")).map((s) => [s.metadata.name, s.spec.type, s.spec.ports[0].nodePort]);
        expect(np).toEqual([["web-nodeport", "NodePort", 30080]]);
    });

    describe("on a cluster without a load balancer, a loadBalancer port outside the NodePort range is refused when the cluster's capabilities resolve", () => {
        // In a process of its own, as validation-on-resolve.test.ts runs its scenarios: a registration
        // failing under mocks leaves rejected promises nobody awaits, which Jest would report against
        // whichever test runs next. The scenario script is plain JavaScript requiring the TypeScript
        // sources through ts-node.
        const cases: [string, "kubeadm" | "k3s", number][] = [
            ["kubeadm", "kubeadm", 80],
            ["kubeadm", "kubeadm", 443],
            ["k3s with servicelb disabled", "k3s", 80],
            ["k3s with servicelb disabled", "k3s", 29999],
        ];
        const script = `
            const pulumi = require("@pulumi/pulumi");
            const mocks = require(${JSON.stringify(path.join(__dirname, "../mocks.ts"))});
            const { KubernetesCluster } = require(${JSON.stringify(path.join(__dirname, "../../../lib/cluster/kubernetes/index.ts"))});
            const { KubernetesApp } = require(${JSON.stringify(path.join(__dirname, "../../../lib/workload/deploy/kubernetes-app.ts"))});
            const { InvalidArgumentError } = require(${JSON.stringify(path.join(__dirname, "../../../lib/core/validate.ts"))});
            const registered = mocks.recordResources((type, name) =>
                name.endsWith("-init") ? { result: JSON.stringify({ kubeconfig: "apiVersion: v1\\n", token: "T", caCertHash: "sha256:00", cgroupDriver: "systemd" }) }
                : /-token-/.test(name) ? { result: JSON.stringify({ token: "t", certificateKey: "k", caCertHash: "sha256:00" }) }
                : /-join-/.test(name) ? { result: JSON.stringify({ cgroupDriver: "cgroupfs" }) } : undefined);
            const stray = [];
            process.on("unhandledRejection", (err) => stray.push(err));
            const contract = (err) => String((err && err.message) || err).replace(/^(error serializing property "[^"]*": )+/, "");
            const settle = () => new Promise((r) => setTimeout(r, 200));
            (async () => {
                for (const [i, [, distribution, published]] of ${JSON.stringify(cases)}.entries()) {
                    const kubeadm = distribution === "kubeadm";
                    const host = (name, address) => kubeadm
                        ? mocks.testRuntimeHost(name, address, { provider: "lab", runtime: { kind: "containerd", criSocket: "unix:///run/containerd/containerd.sock", swarmReady: false } })
                        : mocks.testHost(name, address, { provider: "lab" });
                    const nodes = { controlPlane: [host("c" + i, "10.0.0.2")], workers: [host("w" + i, "10.0.0.10")] };
                    const cluster = new KubernetesCluster("k" + i, kubeadm
                        ? { distribution: "kubeadm", version: "v1.37.2", ...nodes }
                        : { distribution: "k3s", version: "v1.33.5+k3s1", ...nodes, disable: ["servicelb"] });
                    await cluster.kubeconfig.promise();
                    await settle();
                    const before = registered.length;
                    stray.splice(0);
                    const app = new KubernetesApp("shop" + i, { cluster, services: { web: { image: "nginx:1.27-alpine", ports: [{ target: 8080, published, mode: "loadBalancer" }] } } });
                    let message = null, isContractError = false;
                    try { await app.services.promise(); } catch (err) { isContractError = err instanceof InvalidArgumentError; message = contract(err); }
                    await settle();
                    const strayMessages = [...new Set(stray.map(contract))];
                    process.stdout.write(JSON.stringify({ message, isContractError, registered: registered.slice(before).map((r) => r.type + " " + r.name), strayMessages }) + "\\n");
                }
            })();
        `;
        const outcomes: Record<string, unknown>[] = [];
        beforeAll(() => {
            const r = childProcess.spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
                cwd: path.resolve(__dirname, "../../.."),
                encoding: "utf8",
                timeout: 110_000,
            });
            if (r.status !== 0 || r.stderr !== "") throw new Error(`the scenarios failed (${r.status}): ${r.stderr}`);
            outcomes.push(...r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>));
        }, 120_000);
        test.each(cases.map((c, i) => [...c, i] as const))("%s (%s), published %i: refused with the cluster's reason, the deploy never registered", (_what, _distribution, published, i) => {
            const message =
                `flotilla:workload:KubernetesApp "shop${i}": invalid services.web.ports[0].published: received ${published}; expected a port from 30000 to 32767 ` +
                `(the cluster's NodePort range), for "loadBalancer" publishing on Kubernetes (this cluster provisions no load balancer, so a NodePort Service); ` +
                'or publish it in "host" mode.';
            expect(outcomes[i]).toEqual({ message, isContractError: true, registered: [`flotilla:workload:KubernetesApp shop${i}`], strayMessages: [message] });
        });
    });

    test("what no cluster accepts is still refused at construction, nothing registered (an ingress port outside the range)", async () => {
        const cluster = await build(k3s());
        registered.splice(0);
        const message = await refused(
            () => new KubernetesApp("shop", app(cluster, 80, { services: { web: { image: "nginx:1.27-alpine", ports: [{ target: 8080, published: 80 }] } } })),
        );
        expect(message).toBe(
            'flotilla:workload:KubernetesApp "shop": invalid services.web.ports[0].published: received 80; expected a port from 30000 to 32767 ' +
                '(the cluster\'s NodePort range), for "ingress" publishing on Kubernetes; or publish it in "host" mode.',
        );
    });
});
