import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, refusedIn, testHost, testRuntimeHost, valueOf } from "../mocks";
import { bundledScript, bundledScriptText } from "../../../lib/shared/scripts";
import { remoteScriptProvider } from "../../../lib/shared/remote-script";
import { K3S_CRI_SOCKET, KubernetesCluster, KubernetesClusterArgs, addressConflict, kubeadmApiName, rewriteKubeconfigServer } from "../../../lib/cluster/kubernetes";
import { Ipv4Subnet, parseCidr } from "../../../lib/core/ipv4";
import { KUBERNETES_PORTS, isKubernetesCluster } from "../../../lib/core/cluster";
import { Host } from "../../../lib/core/host";

const KUBECONFIG = [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    "    certificate-authority-data: CA",
    "    server: https://127.0.0.1:6443",
    "  name: default",
    "users:",
    "- name: default",
    "  user:",
    "    client-key-data: KEY",
    "",
].join("\n");

/** What the k3s scripts print as their result, in the mocks. */
const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) {
        return { result: JSON.stringify({ token: "K10GENERATED::server:abc", kubeconfig: KUBECONFIG, cgroupDriver: "systemd" }) };
    }
    if (/-token-/.test(name)) {
        return { result: JSON.stringify({ token: "abcdef.0123456789abcdef", certificateKey: "k".repeat(64), caCertHash: "sha256:00", endpoint: "10.0.0.2:6443" }) };
    }
    const join = /-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeName: join[1], cgroupDriver: "cgroupfs" }) } : undefined;
});
beforeEach(() => registered.splice(0));
const refused = refusedIn(registered);
const remote = remoteScriptProvider as Required<typeof remoteScriptProvider>;

/**
 * What the RemoteScript provider decides for a resource between two programs (its recorded inputs
 * before and after): `replaces` empty means an update or nothing, never a re-created resource.
 */
async function providerDiff(before: Record<string, any>, after: Record<string, any>) {
    const plain = (r: Record<string, any>) => ({
        ...r,
        alternates: r.alternates?.value ?? r.alternates,
        secretEnvironment: r.secretEnvironment?.value ?? r.secretEnvironment,
        privateKey: "K",
    });
    return remote.diff("id", { ...plain(before), machineId: "x", result: "{}" } as never, plain(after));
}

/** The resources registered, by name (the list emptied for the next program). */
function taken(): Map<string, Record<string, any>> {
    const all = new Map(registered.map((r) => [r.name, r.inputs as Record<string, any>]));
    registered.splice(0);
    return all;
}

const host = (name: string, address: string): Host => testHost(name, address, { provider: "lab", labels: { zone: "z1" } });
const hosts = (n: number, prefix = "s", base = 2) => Array.from({ length: n }, (_, i) => host(`${prefix}${i}`, `10.0.0.${base + i}`));
const k3s = (extra: Partial<KubernetesClusterArgs> & Pick<KubernetesClusterArgs, "controlPlane">): KubernetesClusterArgs => ({
    distribution: "k3s",
    version: "v1.33.5+k3s1",
    ...extra,
});

async function settle(cluster: KubernetesCluster) {
    await valueOf(cluster.kubeconfig);
    await Promise.all([...cluster.controlPlane, ...cluster.workers].flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    // The teardown resource registers once every node resource has (it depends on them all).
    await new Promise((r) => setTimeout(r, 100));
}
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name} in ${registered.map((x) => x.name).join(", ")}`);
    return r.inputs as Record<string, any>;
};

describe("KubernetesCluster (k3s)", () => {
    test("1 server + 2 agents: init, a join per agent, a node resource per node", async () => {
        await settle(new KubernetesCluster("k", k3s({ controlPlane: hosts(1), workers: hosts(2, "w", 10) })));
        // The server that ran cluster-init has a join too (a no-op): no server is special afterwards.
        expect(registered.map((r) => r.name).sort()).toEqual(["k", "k-init", "k-join-s0", "k-join-w0", "k-join-w1", "k-node-s0", "k-node-w0", "k-node-w1", "k-teardown"].sort());
        // KubernetesCluster constructs a K3sCluster (registered with the alias flotilla:cluster:KubernetesCluster).
        expect(registered.find((r) => r.name === "k")?.type).toBe("flotilla:cluster:K3sCluster");
    });

    test("3 servers + 1 agent: the exact resources", async () => {
        await settle(new KubernetesCluster("k", k3s({ controlPlane: hosts(3), workers: hosts(1, "w", 10) })));
        expect(registered.map((r) => r.name).sort()).toEqual(
            ["k", "k-init", "k-join-s0", "k-join-s1", "k-join-s2", "k-join-w0", "k-node-s0", "k-node-s1", "k-node-s2", "k-node-w0", "k-teardown"].sort(),
        );
        // The whole cluster's removal: the teardown mark first, then the node deletes skip their drains.
        const teardown = byName("k-teardown");
        expect([teardown.connection.host, teardown.alternates.value.map((a: any) => a.connection.host), teardown.environment.DISTRIBUTION]).toEqual([
            "10.0.0.2",
            ["10.0.0.3", "10.0.0.4"],
            "k3s",
        ]);
        const node = bundledScriptText(byName("k-node-s0").scriptRef);
        expect(node.indexOf("if torn_down; then")).toBeGreaterThan(-1);
        expect(node.indexOf("if torn_down; then")).toBeLessThan(node.lastIndexOf("node_remove"));
    });

    test("init: cluster-init, tls-san for the endpoint and every server, CIDRs; no token given → none sent, k3s generates it", async () => {
        await settle(new KubernetesCluster("k", k3s({ controlPlane: hosts(3), apiEndpoint: "k8s.example.net", disable: ["traefik"] })));
        const init = byName("k-init");
        expect(init.connection.host).toBe("10.0.0.2");
        expect(init.secretEnvironment).toBeUndefined();
        expect(init.environment).toMatchObject({ ROLE: "server", VERSION: "v1.33.5+k3s1", SOURCE: "installer", NODE_NAME: "s0", READY_TIMEOUT: "300" });
        expect(init.environment.CONFIG).toBe(
            [
                'node-name: "s0"',
                'node-ip: "10.0.0.2"',
                "cluster-init: true",
                'advertise-address: "10.0.0.2"',
                'cluster-cidr: "10.42.0.0/16"',
                'service-cidr: "10.43.0.0/16"',
                'flannel-backend: "vxlan"',
                "tls-san:",
                '  - "k8s.example.net"',
                '  - "10.0.0.2"',
                '  - "10.0.0.3"',
                '  - "10.0.0.4"',
                "disable:",
                '  - "traefik"',
                'write-kubeconfig-mode: "0600"',
                "node-label:",
                '  - "provider=lab"',
                '  - "pool=p"',
                '  - "zone=z1"',
            ].join("\n"),
        );
        // The script is named and hashed, with its includes; the token goes to a root-only file.
        expect([init.script ?? "", init.scriptRef, init.scriptHash]).toEqual(["", "cluster/k3s-init.sh", bundledScript("cluster", "k3s-init.sh").hash]);
        const text = bundledScriptText(init.scriptRef);
        expect(text).toContain("wait_until()");
        expect(text).toContain('token-file: $K3S_TOKEN_FILE');
        expect(text).toContain("INSTALL_K3S_VERSION=$VERSION");
        expect(text).not.toMatch(/--token[ =]/);
    });

    test("joins: server URL of the first server, token secret, labels and taints; agents get no server-only settings", async () => {
        await settle(
            new KubernetesCluster(
                "k",
                k3s({ controlPlane: hosts(3), workers: hosts(1, "w", 10), nodeLabels: { env: "t" }, nodeTaints: ["dedicated=db:NoSchedule", "gpu:NoExecute"] }),
            ),
        );
        const server = byName("k-join-s1");
        expect(server.connection.host).toBe("10.0.0.3");
        expect(server.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(server.secretEnvironment.value).toEqual({ CLUSTER_TOKEN: "K10GENERATED::server:abc" });
        expect(server.environment.CONFIG).toContain('server: "https://10.0.0.2:6443"');
        expect(server.environment.CONFIG).toContain("tls-san:");
        expect(server.environment.CONFIG).not.toContain("cluster-init");
        const agent = byName("k-join-w0");
        expect(agent.environment).toMatchObject({ ROLE: "agent", NODE_NAME: "w0" });
        expect(agent.environment.CONFIG).toBe(
            [
                'node-name: "w0"',
                'node-ip: "10.0.0.10"',
                'server: "https://10.0.0.2:6443"',
                "node-label:",
                '  - "provider=lab"',
                '  - "pool=p"',
                '  - "zone=z1"',
                '  - "env=t"',
                "node-taint:",
                '  - "dedicated=db:NoSchedule"',
                '  - "gpu:NoExecute"',
            ].join("\n"),
        );
        expect(agent.scriptRef).toBe("cluster/k3s-join.sh");
    });

    test("a given token is sent secret to the init too; airgap passes the artefacts", async () => {
        await settle(
            new KubernetesCluster(
                "k",
                k3s({
                    controlPlane: hosts(1),
                    clusterToken: pulumi.secret("0123456789abcdef-token"),
                    source: "airgap",
                    airgapBinaryUrl: "http://10.0.0.1/k3s",
                    airgapImagesUrl: "/opt/k3s-airgap-images-amd64.tar.zst",
                }),
            ),
        );
        const init = byName("k-init");
        expect(init.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(init.secretEnvironment.value).toEqual({ CLUSTER_TOKEN: "0123456789abcdef-token" });
        expect(init.environment).toMatchObject({ SOURCE: "airgap", AIRGAP_BINARY: "http://10.0.0.1/k3s", AIRGAP_IMAGES: "/opt/k3s-airgap-images-amd64.tar.zst" });
    });

    test("node resources: run on another server (the first listed other than the node), bounded drain", async () => {
        await settle(new KubernetesCluster("k", k3s({ controlPlane: hosts(3), workers: hosts(1, "w", 10), nodeTaints: ["a=b:NoSchedule"], drainTimeoutSeconds: 120 })));
        const s1 = byName("k-node-s1");
        expect(s1.connection.host).toBe("10.0.0.2");
        expect(s1.alternates.value.map((a: any) => a.connection.host)).toEqual(["10.0.0.4"]);
        expect(byName("k-node-w0").alternates.value.map((a: any) => a.connection.host)).toEqual(["10.0.0.3", "10.0.0.4"]);
        expect(byName("k-node-w0").environment).toEqual({
            NODE_NAME: "w0",
            ROLE: "agent",
            LABELS: "provider=lab\npool=p\nzone=z1",
            TAINTS: "a=b:NoSchedule",
            DRAIN_TIMEOUT: "120",
        });
        // The first server's node resource runs on the others, like every server's (no bootstrap flag).
        const s0 = byName("k-node-s0");
        expect([s0.connection.host, s0.alternates.value.map((a: any) => a.connection.host), s0.environment.ROLE, s0.environment.BOOTSTRAP]).toEqual([
            "10.0.0.3",
            ["10.0.0.4"],
            "server",
            undefined,
        ]);
        const text = bundledScriptText(byName("k-node-w0").scriptRef);
        expect(text).toContain("--ignore-daemonsets --delete-emptydir-data --timeout=\"${DRAIN_TIMEOUT}s\"");
        expect(text).toContain("would break etcd quorum");
    });

    test("outputs: kubeconfig secret with the server rewritten, token secret, capabilities, ports, runtime, the interface", async () => {
        const c = new KubernetesCluster("k", k3s({ controlPlane: hosts(1), workers: hosts(1, "w", 10) }));
        await settle(c);
        expect(isKubernetesCluster(c)).toBe(true);
        expect(c.orchestrator).toBe("kubernetes");
        expect(await pulumi.isSecret(c.kubeconfig)).toBe(true);
        expect(await valueOf(c.kubeconfig)).toBe(KUBECONFIG.replace("https://127.0.0.1:6443", "https://10.0.0.2:6443"));
        expect(await pulumi.isSecret(c.clusterToken)).toBe(true);
        expect(await valueOf(c.clusterToken)).toBe("K10GENERATED::server:abc");
        expect(await valueOf(c.apiEndpoint)).toBe("10.0.0.2");
        expect(await valueOf(c.capabilities)).toEqual({ serviceVirtualIp: true, routingMesh: true, loadBalancer: true });
        expect(c.ports).toEqual(KUBERNETES_PORTS);
        expect(c.controlPlane.map((h) => h.name)).toEqual(["s0"]);
        expect(c.workers[0].runtime).toMatchObject({ kind: "containerd", criSocket: K3S_CRI_SOCKET });
        expect(await valueOf(c.workers[0].runtime.cgroupDriver)).toBe("cgroupfs");
        // Every node's driver comes from its own join (the first server's too).
        expect(await valueOf(c.controlPlane[0].runtime.cgroupDriver)).toBe("cgroupfs");
        expect(await valueOf(c.workers[0].ready[0].urn)).toContain("k-node-w0");
    });

    test("servicelb disabled → no LoadBalancer; wireguard adds its ports; the endpoint given is the kubeconfig's server", async () => {
        const c = new KubernetesCluster("k", k3s({ controlPlane: hosts(1), disable: ["servicelb"], flannelBackend: "wireguard-native", apiEndpoint: "192.168.1.10" }));
        await settle(c);
        expect(await valueOf(c.capabilities)).toEqual({ serviceVirtualIp: true, routingMesh: true, loadBalancer: false });
        expect(c.ports.slice(KUBERNETES_PORTS.length).map((p) => `${p.port}/${p.protocol}`)).toEqual(["51820/udp", "51821/udp"]);
        expect(await valueOf(c.kubeconfig)).toContain("    server: https://192.168.1.10:6443\n");
    });

    test("rewriteKubeconfigServer rewrites every server line, keeping the indentation", () => {
        expect(rewriteKubeconfigServer("a:\n    server: https://127.0.0.1:6443\n  server: x\n", "https://e:6443")).toBe(
            "a:\n    server: https://e:6443\n  server: https://e:6443\n",
        );
    });

    test("a host address inside the pod or service network is found (the check run as addresses resolve)", () => {
        const nets = { podCidr: parseCidr("10.42.0.0/16") as Ipv4Subnet, serviceCidr: parseCidr("10.43.0.0/16") as Ipv4Subnet };
        expect(addressConflict("10.42.3.4", nets)).toBe("podCidr 10.42.0.0/16");
        expect(addressConflict("10.43.0.1", nets)).toBe("serviceCidr 10.43.0.0/16");
        expect(addressConflict("10.44.0.1", nets)).toBeUndefined();
        expect(addressConflict("k8s.example.net", nets)).toBeUndefined();
    });

    test("init: on the first server, else the others; cluster-init only when no other server answers (the script adopts a member, refuses a newcomer)", async () => {
        await settle(new KubernetesCluster("k", k3s({ controlPlane: hosts(3) })));
        const init = byName("k-init");
        expect([init.connection.host, init.alternates.value.map((a: any) => a.connection.host), init.triggers]).toEqual(["10.0.0.2", ["10.0.0.3", "10.0.0.4"], []]);
        expect(init.environment.OTHER_SERVERS).toBe("10.0.0.3:6443 10.0.0.4:6443");
        // The first server joins too (a no-op on the machine that ran cluster-init), through another server.
        expect(byName("k-join-s0").environment.CONFIG).toContain('server: "https://10.0.0.3:6443"');
        expect(byName("k-join-s0").environment.CONFIG).not.toContain("cluster-init");
        const text = bundledScriptText(init.scriptRef);
        expect(text).toContain("adopting it (no cluster-init)");
        expect(text).toContain("cluster-init never runs on a cluster that exists");
        expect(text).toMatch(/delete\) log "the cluster goes with its servers/);
        // A member's k3s is not restarted when only the server it joins through changes.
        expect(bundledScriptText(byName("k-join-s1").scriptRef)).toContain("grep -v -e '^server:' -e '^cluster-init:' -e '^token-file:'");
        // A single server re-created is a new cluster: then the init follows its machine.
        registered.splice(0);
        await settle(new KubernetesCluster("k", k3s({ controlPlane: hosts(1) })));
        expect(byName("k-init").triggers).toHaveLength(1);
        expect(byName("k-join-s0").environment.CONFIG).not.toContain("server:");
    });

    test("the first server removed and a new one added ([s0, s1, s2] → [s1, s2, s3]): only s0's resources go, s3's come, the rest are updated, never replaced", async () => {
        const all = hosts(4);
        const agent = hosts(1, "w", 10);
        await settle(new KubernetesCluster("k", k3s({ controlPlane: all.slice(0, 3), workers: agent })));
        const before = taken();
        await settle(new KubernetesCluster("k", k3s({ controlPlane: all.slice(1, 4), workers: agent })));
        const after = taken();
        expect([...before.keys()].filter((n) => !after.has(n)).sort()).toEqual(["k-join-s0", "k-node-s0"]);
        expect([...after.keys()].filter((n) => !before.has(n)).sort()).toEqual(["k-join-s3", "k-node-s3"]);
        for (const name of [...before.keys()].filter((n) => after.has(n) && n !== "k")) {
            expect([name, (await providerDiff(before.get(name)!, after.get(name)!)).replaces]).toEqual([name, []]);
        }
        // The init moves to s1 (an update: it adopts the cluster there, no second cluster-init).
        const init = after.get("k-init")!;
        expect([init.connection.host, init.environment.NODE_NAME, init.environment.OTHER_SERVERS]).toEqual(["10.0.0.3", "s1", "10.0.0.4:6443 10.0.0.5:6443"]);
        expect((await providerDiff(before.get("k-init")!, init)).changes).toBe(true);
        // Joins go through a surviving server: s1's through s2 now, the agent's through s1, the new one's through s1.
        expect(after.get("k-join-s1")!.environment.CONFIG).toContain('server: "https://10.0.0.4:6443"');
        expect(after.get("k-join-w0")!.environment.CONFIG).toContain('server: "https://10.0.0.3:6443"');
        expect(after.get("k-join-s3")!.environment.CONFIG).toContain('server: "https://10.0.0.3:6443"');
        expect(after.get("k-join-s3")!.environment.CONFIG).not.toContain("cluster-init");
        // s0's removal runs on the servers that were left then (its stored connection: s1, else s2).
        const n0 = before.get("k-node-s0")!;
        expect([n0.connection.host, n0.alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.3", ["10.0.0.4"]]);
        expect(bundledScriptText(n0.scriptRef)).toContain("the last server: the cluster goes with it");
    });

    const T = 'flotilla:cluster:KubernetesCluster "k": invalid';
    const QUORUM =
        "expected 1, 3 or 5 hosts: etcd keeps working while a majority of its members (a quorum) is up, so 3 tolerate 1 failure, 5 tolerate 2, and an even number tolerates no more than the odd number below it.";
    test.each<[string, () => unknown, string]>([
        ["even servers", () => k3s({ controlPlane: hosts(2) }), `${T} controlPlane: received "2 hosts"; ${QUORUM}`],
        [
            "zero servers",
            () => k3s({ controlPlane: [] }),
            `${T} controlPlane: received "0 hosts"; expected a list of 1, 3 or 5 plain hosts from a pool (k3s brings its own containerd).`,
        ],
        [
            "a kubeadm setting",
            () => k3s({ controlPlane: hosts(1), imageRepository: "registry.example.net" }),
            `${T} imageRepository: received a string of 20 characters; expected no such property; known: distribution, controlPlane, workers, version, source, airgapBinaryUrl, airgapImagesUrl, podCidr, serviceCidr, apiEndpoint, clusterToken, nodeLabels, nodeTaints, disable, flannelBackend, drainTimeoutSeconds.`,
        ],
        [
            "bad version",
            () => k3s({ controlPlane: hosts(1), version: "1.33" }),
            `${T} version: received "1.33"; expected a pinned k3s release like v1.33.5+k3s1 (see github.com/k3s-io/k3s/releases).`,
        ],
        [
            "overlapping CIDRs",
            () => k3s({ controlPlane: hosts(1), podCidr: "10.0.0.0/8", serviceCidr: "10.43.0.0/16" }),
            `${T} serviceCidr: received "10.43.0.0/16"; expected a block that does not overlap podCidr 10.0.0.0/8.`,
        ],
        [
            "bad taint",
            () => k3s({ controlPlane: hosts(1), nodeTaints: ["dedicated=db"] }),
            `${T} nodeTaints[0]: received "dedicated=db"; expected a taint key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute.`,
        ],
        [
            "unknown property",
            () => ({ ...k3s({ controlPlane: hosts(1) }), podCIDR: "10.42.0.0/16" }),
            `${T} podCIDR: received a string of 12 characters; expected no such property (did you mean "podCidr"?); known: distribution, controlPlane, workers, version, source, airgapBinaryUrl, airgapImagesUrl, podCidr, serviceCidr, apiEndpoint, clusterToken, nodeLabels, nodeTaints, disable, flannelBackend, drainTimeoutSeconds.`,
        ],
        [
            "a host with a runtime",
            () => k3s({ controlPlane: [testRuntimeHost("s0", "10.0.0.2", { runtime: { kind: "containerd" } })] }),
            `${T} controlPlane[0]: received "host \\"s0\\" with containerd installed"; expected a host without a container runtime: k3s installs and runs its own containerd; pass the pool's hosts, not a runtime's.`,
        ],
        [
            "airgap without artefacts",
            () => k3s({ controlPlane: hosts(1), source: "airgap" }),
            `${T} airgapBinaryUrl: received undefined; expected with source "airgap", an http(s) URL or an absolute path on every host.`,
        ],
        [
            "unknown component",
            () => k3s({ controlPlane: hosts(1), disable: ["flannel" as never] }),
            `${T} disable[0]: received "flannel"; expected one of "traefik", "servicelb", "local-storage", "metrics-server", "coredns".`,
        ],
    ])("refused: %s, naming the property, nothing registered", async (_what, args, message) => {
        expect(await refused(() => new KubernetesCluster("k", args() as KubernetesClusterArgs))).toBe(message);
    });
});

describe("KubernetesCluster (kubeadm)", () => {
    const ctr = (name: string, address: string) =>
        testRuntimeHost(name, address, {
            provider: "lab",
            labels: { zone: "z1" },
            runtime: { kind: "containerd", criSocket: "unix:///run/containerd/containerd.sock", swarmReady: false },
        });
    const nodes = (n: number, prefix = "c", base = 2) => Array.from({ length: n }, (_, i) => ctr(`${prefix}${i}`, `10.0.0.${base + i}`));
    const kubeadm = (extra: Partial<KubernetesClusterArgs> & Pick<KubernetesClusterArgs, "controlPlane">): KubernetesClusterArgs => ({
        distribution: "kubeadm",
        version: "v1.37.2",
        ...extra,
    });
    const bundle = (extra: Partial<KubernetesClusterArgs> & Pick<KubernetesClusterArgs, "controlPlane">) =>
        kubeadm({
            source: "bundle",
            bundleImage: "10.9.0.2:5000/k8s/node-bundle:v1.37.2",
            imageRepository: "10.9.0.2:5000/k8s",
            flannelImage: "10.9.0.2:5000/k8s/flannel:v0.28.10",
            registryCredentials: [{ registry: "10.9.0.2:5000", username: "flotilla", password: pulumi.secret("s3cret-pass") }],
            ...extra,
        });
    /** One variable of a resource's secret environment (the whole object travels secret). */
    const secretOf = (r: Record<string, any>, key: string): string => {
        expect(r.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        return r.secretEnvironment.value[key] as string;
    };

    test("1 control plane + 2 workers: init, a token + join + node resource per node (the first control-plane node's too)", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(1), workers: nodes(2, "w", 10) })));
        expect(registered.map((r) => r.name).sort()).toEqual(
            ["k", "k-init", "k-token-c0", "k-join-c0", "k-token-w0", "k-join-w0", "k-token-w1", "k-join-w1", "k-node-c0", "k-node-w0", "k-node-w1", "k-teardown"].sort(),
        );
    });

    test("3 control-plane nodes + 1 worker: the exact resources; join secrets from any other control-plane node", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(3), workers: nodes(1, "w", 10) })));
        expect(registered.map((r) => r.name).sort()).toEqual(
            [
                "k",
                "k-init",
                "k-teardown",
                "k-token-c0",
                "k-join-c0",
                "k-token-c1",
                "k-join-c1",
                "k-token-c2",
                "k-join-c2",
                "k-token-w0",
                "k-join-w0",
                "k-node-c0",
                "k-node-c1",
                "k-node-c2",
                "k-node-w0",
            ].sort(),
        );
        // The init is about the cluster: on c0, else c1, c2; no trigger (the cluster outlives any one node).
        const init = byName("k-init");
        expect([init.connection.host, init.alternates.value.map((a: any) => a.connection.host), init.triggers]).toEqual(["10.0.0.2", ["10.0.0.3", "10.0.0.4"], []]);
        expect(init.environment.OTHER_APIS).toBe("10.0.0.3:6443 10.0.0.4:6443");
        // The first node's join secrets are made on itself (it ran init), else c1, c2.
        const t0 = byName("k-token-c0");
        expect([t0.connection.host, t0.alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.2", ["10.0.0.3", "10.0.0.4"]]);
        // The token for c1 runs on c0, else c2 (never c1 itself); for the worker on c0, else c1, c2.
        const t1 = byName("k-token-c1");
        expect([t1.connection.host, t1.alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.2", ["10.0.0.4"]]);
        expect(t1.environment).toEqual({ ROLE: "control-plane", NODE_NAME: "c1" });
        const tw = byName("k-token-w0");
        expect([tw.connection.host, tw.alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.2", ["10.0.0.3", "10.0.0.4"]]);
        expect(tw.environment.ROLE).toBe("worker");
        // Every node resource runs on the other control-plane nodes (the first node's too); no bootstrap flag.
        const n0 = byName("k-node-c0");
        expect([n0.connection.host, n0.alternates.value.map((a: any) => a.connection.host), n0.environment.BOOTSTRAP]).toEqual(["10.0.0.3", ["10.0.0.4"], undefined]);
        const n1 = byName("k-node-c1");
        expect([n1.connection.host, n1.alternates.value.map((a: any) => a.connection.host), n1.environment.ROLE, n1.environment.BOOTSTRAP]).toEqual([
            "10.0.0.2",
            ["10.0.0.4"],
            "control-plane",
            undefined,
        ]);
    });

    test("init: kubeadm configuration with endpoint, SANs, CIDRs, image repository; packages source by default", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(3), workers: nodes(1, "w", 10), apiEndpoint: "k8s.example.net" })));
        const init = byName("k-init");
        expect(init.connection.host).toBe("10.0.0.2");
        expect(init.environment).toMatchObject({ VERSION: "v1.37.2", SOURCE: "packages", NODE_NAME: "c0", NODE_IP: "10.0.0.2", CNI: "flannel", GUARD_CIDRS: "10.96.0.0/12 10.244.0.0/16" });
        expect(init.environment.BUNDLE_IMAGE).toBeUndefined();
        const config = init.environment.CONFIG as string;
        for (const line of [
            "kind: InitConfiguration",
            '  advertiseAddress: "10.0.0.2"',
            '  name: "c0"',
            '      value: "10.0.0.2"',
            'clusterName: "k"',
            'kubernetesVersion: "v1.37.2"',
            'controlPlaneEndpoint: "k8s.example.net:6443"',
            'imageRepository: "registry.k8s.io"',
            '  podSubnet: "10.244.0.0/16"',
            '  serviceSubnet: "10.96.0.0/12"',
            '    - "k8s.example.net"',
            '    - "10.0.0.3"',
            '    - "10.0.0.4"',
            "  directory: /etc/flotilla/kubeadm-patches",
            "kind: KubeletConfiguration",
            "mode: iptables",
        ]) {
            expect(config.split("\n")).toContain(line);
        }
        expect(config).not.toMatch(/bootstrapTokens|token:/);
        expect(init.environment.CNI_MANIFEST).toContain('image: "ghcr.io/flannel-io/flannel:v0.28.10"');
        expect(init.environment.CNI_MANIFEST).toContain('\\"Network\\":\\"10.244.0.0/16\\"');
        // Without credentials the CRI section still travels secret (it may hold them).
        const cri = secretOf(init, "CRI_CONFIG");
        expect(cri).toContain('sandbox_image = "registry.k8s.io/pause:3.10.2"');
        expect(cri).toContain('bin_dir = "/opt/cni/bin"');
        expect(cri).toContain('config_path = "/etc/containerd/certs.d"');
        expect(cri).toContain("SystemdCgroup = __SYSTEMD_CGROUP__");
        expect(cri).not.toContain(".auth]");
        expect(secretOf(init, "BUNDLE_AUTH")).toBeUndefined();
    });

    test("bundle source (air-gapped): bundle image, registry repository, credentials secret in the CRI config and the bundle auth", async () => {
        await settle(new KubernetesCluster("k", bundle({ controlPlane: nodes(1), workers: nodes(1, "w", 10), flannelBackend: "host-gw" })));
        const init = byName("k-init");
        expect(init.environment).toMatchObject({ SOURCE: "bundle", BUNDLE_IMAGE: "10.9.0.2:5000/k8s/node-bundle:v1.37.2" });
        expect(init.environment.CONFIG).toContain('imageRepository: "10.9.0.2:5000/k8s"');
        expect(init.environment.CNI_MANIFEST).toContain('image: "10.9.0.2:5000/k8s/flannel:v0.28.10"');
        expect(init.environment.CNI_MANIFEST).toContain('\\"Type\\":\\"host-gw\\"');
        const cri = secretOf(init, "CRI_CONFIG");
        expect(cri).toContain('sandbox_image = "10.9.0.2:5000/k8s/pause:3.10.2"');
        expect(cri).toContain('bin_dir = "/usr/lib/cni"');
        expect(cri).toContain('[plugins."io.containerd.grpc.v1.cri".registry.configs."10.9.0.2:5000".auth]\n  username = "flotilla"\n  password = "s3cret-pass"');
        expect(secretOf(init, "BUNDLE_AUTH")).toBe('user = "flotilla:s3cret-pass"');
        // The password appears in no plain input.
        expect(JSON.stringify(registered.map((r) => ({ ...r.inputs, secretEnvironment: undefined })))).not.toContain("s3cret-pass");
        const join = byName("k-join-w0");
        expect(secretOf(join, "BUNDLE_AUTH")).toBe('user = "flotilla:s3cret-pass"');
    });

    test("joins: CA-pinned discovery with placeholders, the join secrets only in the secret environment; control-plane joins carry the certificate key", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(3), workers: nodes(1, "w", 10) })));
        const worker = byName("k-join-w0");
        expect(worker.connection.host).toBe("10.0.0.10");
        expect(worker.environment.CONFIG).toBe(
            [
                "apiVersion: kubeadm.k8s.io/v1beta4",
                "kind: JoinConfiguration",
                "discovery:",
                "  bootstrapToken:",
                '    apiServerEndpoint: "__DISCOVERY_ENDPOINT__"',
                '    token: "__TOKEN__"',
                '    caCertHashes: ["__CA_CERT_HASH__"]',
                "nodeRegistration:",
                '  name: "w0"',
                '  criSocket: "unix:///run/containerd/containerd.sock"',
                "  kubeletExtraArgs:",
                "    - name: node-ip",
                '      value: "10.0.0.10"',
                "patches:",
                "  directory: /etc/flotilla/kubeadm-patches",
                "",
            ].join("\n"),
        );
        expect(JSON.parse(secretOf(worker, "JOIN"))).toMatchObject({ token: "abcdef.0123456789abcdef", caCertHash: "sha256:00" });
        expect(worker.deleteConnectTimeoutSeconds).toBe(30);
        const cp = byName("k-join-c1");
        expect(cp.environment.CONFIG).toContain('controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: "10.0.0.3"\n    bindPort: 6443\n  certificateKey: "__CERTIFICATE_KEY__"');
        expect(JSON.stringify(registered.map((r) => r.inputs.environment ?? {}))).not.toContain("0123456789abcdef");
    });

    test("outputs: kubeconfig secret with the server rewritten, containerd runtime with the cgroup driver, capabilities, ports", async () => {
        const cluster = new KubernetesCluster("k", kubeadm({ controlPlane: nodes(1), workers: nodes(1, "w", 10) }));
        await settle(cluster);
        expect(cluster.distribution).toBe("kubeadm");
        expect(isKubernetesCluster(cluster)).toBe(true);
        expect(await valueOf(cluster.kubeconfig)).toContain("server: https://10.0.0.2:6443");
        expect(await valueOf(cluster.apiEndpoint)).toBe("10.0.0.2");
        expect(await valueOf(cluster.capabilities)).toEqual({ serviceVirtualIp: true, routingMesh: true, loadBalancer: false });
        expect(cluster.ports).toEqual(KUBERNETES_PORTS);
        expect(cluster.workers[0].runtime).toMatchObject({ kind: "containerd", criSocket: "unix:///run/containerd/containerd.sock", liveRestore: false, swarmReady: false });
        expect(await valueOf(pulumi.output(cluster.workers[0].runtime.cgroupDriver))).toBe("cgroupfs");
        // From the node's own join (the first control-plane node's too).
        expect(await valueOf(pulumi.output(cluster.controlPlane[0].runtime.cgroupDriver))).toBe("cgroupfs");
        const none = new KubernetesCluster("n", kubeadm({ controlPlane: nodes(1, "n"), workers: nodes(1, "nw", 10), flannelBackend: "none" }));
        expect(none.ports.map((p) => p.port)).not.toContain(8472);
    });

    test("node resources: labels from the host and the cluster, taints, bounded drain", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(1), workers: nodes(1, "w", 10), nodeLabels: { env: "t" }, nodeTaints: ["dedicated=db:NoSchedule"], drainTimeoutSeconds: 60 })));
        const n = byName("k-node-w0");
        expect(n.environment).toEqual({ NODE_NAME: "w0", ROLE: "worker", LABELS: "provider=lab\npool=p\nzone=z1\nenv=t", TAINTS: "dedicated=db:NoSchedule", DRAIN_TIMEOUT: "60" });
        expect(n.timeoutSeconds).toBe(240);
    });

    test("the scripts the resources run are the bundled kubeadm scripts, with their includes", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(1), workers: nodes(1, "w", 10) })));
        const text = bundledScriptText(byName("k-join-w0").scriptRef);
        expect(text).toContain("kubeadm join --config");
        expect(text).toContain("install_from_packages()");
        expect(text).not.toMatch(/^# flotilla:include /m);
        expect(byName("k-token-w0").scriptRef).toBe("cluster/kubeadm-token.sh");
    });

    test("no apiEndpoint: controlPlaneEndpoint is a stable name in the SANs, resolved on every node to itself (control plane) or the first control-plane node (worker)", async () => {
        const cluster = new KubernetesCluster("k", kubeadm({ controlPlane: nodes(3), workers: nodes(1, "w", 10) }));
        await settle(cluster);
        const config = byName("k-init").environment.CONFIG as string;
        expect(config.split("\n")).toContain('controlPlaneEndpoint: "flotilla-api.k.internal:6443"');
        expect(config.split("\n")).toContain('    - "flotilla-api.k.internal"');
        expect(config).not.toContain('controlPlaneEndpoint: "10.0.0.2');
        for (const n of ["k-init", "k-join-c0", "k-join-c1", "k-join-c2", "k-join-w0"]) expect([n, byName(n).environment.API_NAME]).toEqual([n, "flotilla-api.k.internal"]);
        expect(["c0", "c1", "c2", "w0"].map((h) => byName(`k-join-${h}`).environment.API_ADDRESS)).toEqual(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.2"]);
        // Clients get a control-plane node's address (the first listed), not the name only nodes resolve.
        expect(await valueOf(cluster.apiEndpoint)).toBe("10.0.0.2");
        expect(await valueOf(cluster.kubeconfig)).toContain("server: https://10.0.0.2:6443");
        const text = bundledScriptText(byName("k-join-w0").scriptRef);
        expect(text).toContain('api_endpoint_point "${DISCOVERY_ENDPOINT%:*}"');
        expect(text).toContain('api_endpoint_point "${API_ADDRESS:-$NODE_IP}"');
        expect(text).toContain("/var/lib/kubelet/pods/*/etc-hosts");
        expect(text).toContain("Before=kubelet.service");
        // With a load balancer none of it: the endpoint is the load balancer.
        registered.splice(0);
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(3), workers: nodes(1, "w", 10), apiEndpoint: "lb.example.net" })));
        expect(byName("k-init").environment.CONFIG).toContain('controlPlaneEndpoint: "lb.example.net:6443"');
        expect(byName("k-init").environment.CONFIG).not.toContain("flotilla-api");
        for (const n of ["k-init", "k-join-c0", "k-join-w0"]) expect([n, byName(n).environment.API_NAME, byName(n).environment.API_ADDRESS]).toEqual([n, undefined, undefined]);
    });

    test("kubeadmApiName: a valid DNS name from any cluster name", () => {
        expect(kubeadmApiName("k8s")).toBe("flotilla-api.k8s.internal");
        expect(kubeadmApiName("My_Cluster.prod")).toBe("flotilla-api.my-cluster-prod.internal");
        expect(kubeadmApiName("__")).toBe("flotilla-api.cluster.internal");
        const long = kubeadmApiName(`${"a".repeat(62)}-b${"c".repeat(10)}`);
        expect(long).toBe(`flotilla-api.${"a".repeat(62)}.internal`);
        for (const n of [kubeadmApiName("k8s"), kubeadmApiName("My_Cluster.prod"), long]) {
            expect(n.split(".").every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l))).toBe(true);
        }
    });

    test("init adopts or refuses, never inits twice; deleting it resets nothing; a single control-plane node's init follows its machine", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(1), workers: nodes(1, "w", 10) })));
        const init = byName("k-init");
        expect([init.alternates, init.triggers]).toEqual([undefined, expect.arrayContaining([expect.any(String)])]);
        expect(init.environment.OTHER_APIS).toBe("");
        // The only control-plane node's own resource runs on it (itself as its alternate: always a cluster script).
        expect([byName("k-node-c0").connection.host, byName("k-node-c0").alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.2", ["10.0.0.2"]]);
        const text = bundledScriptText(init.scriptRef);
        expect(text).toContain("adopting it (no kubeadm init)");
        expect(text).toContain("kubeadm init never runs on a cluster that exists");
        expect(text).toContain('[ "$FLOTILLA_PHASE" = create ] ||');
        expect(text).toMatch(/delete\) log "the cluster goes with its control-plane nodes/);
        expect(text).not.toMatch(/delete\) reset_node/);
        // The join of every node (the first's too) resets it when deleted; the last control-plane
        // node's removal leaves the cluster alone.
        expect(bundledScriptText(byName("k-join-c0").scriptRef)).toMatch(/delete\) reset_node/);
        expect(bundledScriptText(byName("k-node-c0").scriptRef)).toContain("is the last control-plane node: the cluster goes with it");
    });

    test("a teardown resource on the control plane: its delete marks the whole cluster's removal, and the node deletes look at the mark before any drain or etcd removal", async () => {
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: nodes(3), workers: nodes(2, "w", 10) })));
        const teardown = byName("k-teardown");
        expect([teardown.connection.host, teardown.alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.2", ["10.0.0.3", "10.0.0.4"]]);
        const text = bundledScriptText(teardown.scriptRef);
        expect(teardown.environment.DISTRIBUTION).toBe("kubeadm");
        expect(text).toContain('create configmap "$MARK"');
        expect(text).toContain('delete configmap "$MARK"');
        const node = bundledScriptText(byName("k-node-c0").scriptRef);
        expect(node).toContain("get configmap flotilla-teardown");
        // The mark is looked at before any drain, Node delete or etcd member removal.
        expect(node.indexOf("if torn_down; then")).toBeGreaterThan(-1);
        expect(node.indexOf("if torn_down; then")).toBeLessThan(node.indexOf("etcd_member_id)"));
        expect(node.indexOf("if torn_down; then")).toBeLessThan(node.lastIndexOf("node_remove"));
    });

    test("the first control-plane node removed and a new one added ([c0, c1, c2] → [c1, c2, c3]): only c0's resources go, c3's come, the rest are updated, never replaced", async () => {
        const all = nodes(4);
        const worker = nodes(1, "w", 10);
        await settle(new KubernetesCluster("k", kubeadm({ controlPlane: all.slice(0, 3), workers: worker })));
        const before = taken();
        const cluster = new KubernetesCluster("k", kubeadm({ controlPlane: all.slice(1, 4), workers: worker }));
        await settle(cluster);
        const after = taken();
        expect([...before.keys()].filter((n) => !after.has(n)).sort()).toEqual(["k-join-c0", "k-node-c0", "k-token-c0"]);
        expect([...after.keys()].filter((n) => !before.has(n)).sort()).toEqual(["k-join-c3", "k-node-c3", "k-token-c3"]);
        for (const name of [...before.keys()].filter((n) => after.has(n) && n !== "k")) {
            expect([name, (await providerDiff(before.get(name)!, after.get(name)!)).replaces]).toEqual([name, []]);
        }
        // The init moves to c1 by an update (it adopts the cluster there: same CA, no second init).
        const init = after.get("k-init")!;
        expect([init.connection.host, init.alternates.value.map((a: any) => a.connection.host), init.environment.NODE_NAME]).toEqual(["10.0.0.3", ["10.0.0.4", "10.0.0.5"], "c1"]);
        expect(init.environment.OTHER_APIS).toBe("10.0.0.4:6443 10.0.0.5:6443");
        expect((await providerDiff(before.get("k-init")!, init)).changes).toBe(true);
        // The API name does not move on the control plane; the worker's follows c1 (an update of its join, before c0's removal).
        expect(after.get("k-init")!.environment.CONFIG).toContain('controlPlaneEndpoint: "flotilla-api.k.internal:6443"');
        for (const n of ["k-join-c1", "k-join-c2"]) expect([n, (await providerDiff(before.get(n)!, after.get(n)!)).changes]).toEqual([n, false]);
        expect([before.get("k-join-w0")!.environment.API_ADDRESS, after.get("k-join-w0")!.environment.API_ADDRESS]).toEqual(["10.0.0.2", "10.0.0.3"]);
        expect(await providerDiff(before.get("k-join-w0")!, after.get("k-join-w0")!)).toEqual({ changes: true, replaces: [] });
        // The new node's join secrets come from a survivor (c1, else c2); it points the name at itself.
        const t3 = after.get("k-token-c3")!;
        expect([t3.connection.host, t3.alternates.value.map((a: any) => a.connection.host), t3.environment.ROLE]).toEqual(["10.0.0.3", ["10.0.0.4"], "control-plane"]);
        expect(after.get("k-join-c3")!.environment.API_ADDRESS).toBe("10.0.0.5");
        // c0's removal (drain, etcd member) runs on the control-plane nodes there were (c1, else c2); its join's delete resets it.
        const n0 = before.get("k-node-c0")!;
        expect([n0.connection.host, n0.alternates.value.map((a: any) => a.connection.host), n0.environment.ROLE]).toEqual(["10.0.0.3", ["10.0.0.4"], "control-plane"]);
        expect(before.get("k-join-c0")!.connection.host).toBe("10.0.0.2");
        // Clients follow: the kubeconfig names c1 now.
        expect(await valueOf(cluster.apiEndpoint)).toBe("10.0.0.3");
        expect(await valueOf(cluster.kubeconfig)).toContain("server: https://10.0.0.3:6443");
    });

    test("the control plane shrinking to one node and growing again ([c1, c2, c3] → [c1] → [c1, c2, c3]): the survivor's resources are updated, never replaced", async () => {
        const all = nodes(4);
        const worker = nodes(1, "w", 10);
        const program = (cp: number[]) => settle(new KubernetesCluster("k", kubeadm({ controlPlane: cp.map((i) => all[i]), workers: worker })));
        await program([1, 2, 3]);
        const three = taken();
        await program([1]);
        const one = taken();
        await program([1, 2, 3]);
        const again = taken();
        for (const name of ["k-token-c1", "k-join-c1", "k-node-c1", "k-token-w0", "k-join-w0", "k-node-w0"]) {
            expect([name, (await providerDiff(three.get(name)!, one.get(name)!)).replaces]).toEqual([name, []]);
            expect([name, (await providerDiff(one.get(name)!, again.get(name)!)).replaces]).toEqual([name, []]);
        }
        // c1's node resource runs on c1 itself once it is alone (a replace would run the old copy's
        // delete on c2: c1 drained and its etcd member removed).
        expect(one.get("k-node-c1")!.connection.host).toBe("10.0.0.3");
        // The init follows the single node's machine from then on (a replace: it adopts, deleting it resets nothing).
        expect((await providerDiff(three.get("k-init")!, one.get("k-init")!)).replaces).toEqual(["triggers"]);
    });

    const T = 'flotilla:cluster:KubernetesCluster "k": invalid';
    test.each<[string, () => unknown, string]>([
        [
            "even control plane",
            () => kubeadm({ controlPlane: nodes(2) }),
            `${T} controlPlane: received "2 hosts"; expected 1, 3 or 5 hosts: etcd keeps working while a majority of its members (a quorum) is up, so 3 tolerate 1 failure, 5 tolerate 2, and an even number tolerates no more than the odd number below it.`,
        ],
        [
            "zero control plane",
            () => kubeadm({ controlPlane: [] }),
            `${T} controlPlane: received "0 hosts"; expected a list of 1, 3 or 5 hosts with containerd from the runtime layer (a Containerd's \`hosts\`).`,
        ],
        ["bad version", () => kubeadm({ controlPlane: nodes(1), version: "1.37" }), `${T} version: received "1.37"; expected a pinned upstream Kubernetes release like v1.37.2 (1.31 or later).`],
        ["too old", () => kubeadm({ controlPlane: nodes(1), version: "v1.29.4" }), `${T} version: received "v1.29.4"; expected a pinned upstream Kubernetes release like v1.37.2 (1.31 or later).`],
        [
            "a plain host",
            () => kubeadm({ controlPlane: [host("p0", "10.0.0.2")] }),
            `${T} controlPlane[0]: received "host \\"p0\\" without a runtime"; expected a host with containerd from the runtime layer: pass a Containerd's \`hosts\` (kubeadm runs the kubelet on that containerd).`,
        ],
        [
            "a Docker host",
            () => kubeadm({ controlPlane: [testRuntimeHost("d0", "10.0.0.2")] }),
            `${T} controlPlane[0]: received "host \\"d0\\" with docker (no CRI socket)"; expected a host with containerd from the runtime layer: pass a Containerd's \`hosts\` (kubeadm runs the kubelet on that containerd).`,
        ],
        [
            "overlapping CIDRs",
            () => kubeadm({ controlPlane: nodes(1), podCidr: "10.96.0.0/16" }),
            `${T} serviceCidr: received "10.96.0.0/12"; expected a block that does not overlap podCidr 10.96.0.0/16.`,
        ],
        ["bad taint", () => kubeadm({ controlPlane: nodes(1), nodeTaints: ["a:Never"] }), `${T} nodeTaints[0]: received "a:Never"; expected a taint key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute.`],
        ["a k3s setting", () => kubeadm({ controlPlane: nodes(1), disable: ["traefik"] }), `${T} disable: received a list of 1; expected no such property; known: distribution, controlPlane, workers, version, source, podCidr, serviceCidr, apiEndpoint, nodeLabels, nodeTaints, flannelBackend, drainTimeoutSeconds, bundleImage, packagesUrl, imageRepository, registryCredentials, flannelImage, pauseImage.`],
        ["a k3s source", () => kubeadm({ controlPlane: nodes(1), source: "airgap" }), `${T} source: received "airgap"; expected one of "packages", "bundle".`],
        ["bundle without image", () => kubeadm({ controlPlane: nodes(1), source: "bundle" }), `${T} bundleImage: received undefined; expected with source "bundle", the node bundle image host[:port]/path:tag.`],
        [
            "bundle image with packages",
            () => kubeadm({ controlPlane: nodes(1), bundleImage: "r:5000/b:1" }),
            `${T} bundleImage: received "an image"; expected nothing with source "packages" (set source: "bundle" to use it).`,
        ],
        ["wireguard", () => kubeadm({ controlPlane: nodes(1), flannelBackend: "wireguard-native" }), `${T} flannelBackend: received "wireguard-native"; expected one of "vxlan", "host-gw", "none".`],
        [
            "a typo in a credential",
            () => bundle({ controlPlane: nodes(1), registryCredentials: [{ registry: "r:5000", username: "u", pasword: "p" } as never] }),
            `${T} registryCredentials[0].pasword: received a string of 1 character; expected no such property (did you mean "password"?); known: registry, username, password.`,
        ],
    ])("refused: %s, naming the property, nothing registered", async (_what, args, message) => {
        expect(await refused(() => new KubernetesCluster("k", args() as KubernetesClusterArgs))).toBe(message);
    });
});
