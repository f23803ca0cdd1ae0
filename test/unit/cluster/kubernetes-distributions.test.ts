/**
 * The two distributions as classes: KubeadmCluster and K3sCluster register their own type with
 * the alias flotilla:cluster:KubernetesCluster (a stack recorded before is neither replaced nor
 * deleted), the deprecated KubernetesCluster returns one of them by `distribution`, a setting of
 * the other distribution is an unknown property (its value never shown), and kubeadm runs on any
 * runtime that reports a CRI socket.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { recordResources, refusedIn, testHost, testRuntimeHost, valueOf } from "../mocks";
import { K3sCluster, KubeadmCluster, KubernetesCluster, KubernetesClusterArgs } from "../../../lib/cluster/kubernetes";
import { RuntimeHost } from "../../../lib/core/host";
import { UrnRecord, captureUrns } from "../urn-continuity";

const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";
const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) return { result: JSON.stringify({ token: "K10GENERATED::server:abc", kubeconfig: KUBECONFIG, cgroupDriver: "systemd" }) };
    if (/-token-/.test(name)) return { result: JSON.stringify({ token: "abcdef.0123456789abcdef", certificateKey: "k".repeat(64), caCertHash: "sha256:00" }) };
    const join = /-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeName: join[1], cgroupDriver: "cgroupfs" }) } : undefined;
});
const refused = refusedIn(registered);

/** Every registration with the alias specs it was sent with (the mock monitor's requests, as the engine gets them). */
let urns: UrnRecord[] = [];
/** The alias specs the resource named `name` was registered with. */
const aliasesOf = (name: string) => urns.find((r) => r.urn.endsWith(`::${name}`))?.aliases;
beforeEach(async () => {
    await new Promise((r) => setTimeout(r, 50));
    registered.splice(0);
    urns = captureUrns();
});

const host = (name: string, address: string) => testHost(name, address, { provider: "lab" });
const runtimeHost = (name: string, address: string, criSocket: string | undefined): RuntimeHost =>
    testRuntimeHost(name, address, { provider: "lab", runtime: { kind: "containerd", criSocket, swarmReady: false } });
const CONTAINERD = "unix:///run/containerd/containerd.sock";
const nodes = (n: number, prefix: string, base: number, criSocket: string | undefined = CONTAINERD) =>
    Array.from({ length: n }, (_, i) => runtimeHost(`${prefix}${i}`, `10.0.0.${base + i}`, criSocket));

async function settle(cluster: { kubeconfig: pulumi.Output<string>; controlPlane: RuntimeHost[]; workers: RuntimeHost[] }) {
    await valueOf(cluster.kubeconfig);
    await Promise.all([...cluster.controlPlane, ...cluster.workers].flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    await new Promise((r) => setTimeout(r, 100));
}
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name} in ${registered.map((x) => x.name).join(", ")}`);
    return r;
};
const OLD = "flotilla:cluster:KubernetesCluster";

describe("type tokens: each class registers its own, with the old one as an alias", () => {
    test.each<[string, () => { kubeconfig: pulumi.Output<string>; controlPlane: RuntimeHost[]; workers: RuntimeHost[] }, string]>([
        ["KubeadmCluster", () => new KubeadmCluster("k", { version: "v1.37.2", controlPlane: nodes(1, "c", 2), workers: nodes(1, "w", 10) }), "flotilla:cluster:KubeadmCluster"],
        ["K3sCluster", () => new K3sCluster("k", { version: "v1.33.5+k3s1", controlPlane: [host("s0", "10.0.0.2")] }), "flotilla:cluster:K3sCluster"],
    ])("%s: its type, the alias { type: KubernetesCluster } (its own name and parent); children keep their names", async (_what, make, type) => {
        await settle(make());
        expect(byName("k").type).toBe(type);
        expect(aliasesOf("k")).toEqual([{ name: "", type: OLD }]);
        // Children are named as before (their URNs follow the parent's alias).
        expect(registered.filter((r) => r.name !== "k").every((r) => /^k-(init|join|node|token|teardown)/.test(r.name))).toBe(true);
    });

    test("the caller's aliases are kept, after the old type", async () => {
        await settle(new K3sCluster("k", { version: "v1.33.5+k3s1", controlPlane: [host("s0", "10.0.0.2")] }, { aliases: [{ name: "old-name" }] }));
        expect(aliasesOf("k")).toEqual([
            { name: "", type: OLD },
            { name: "old-name", type: "" },
        ]);
    });

    test("through the deprecated KubernetesCluster too", async () => {
        await settle(new KubernetesCluster("k", { distribution: "kubeadm", version: "v1.37.2", controlPlane: nodes(1, "c", 2), workers: nodes(1, "w", 10) }));
        expect([byName("k").type, aliasesOf("k")]).toEqual(["flotilla:cluster:KubeadmCluster", [{ name: "", type: OLD }]]);
    });
});

describe("KubernetesCluster (deprecated) returns the distribution's class", () => {
    test('distribution "k3s": a K3sCluster; "kubeadm": a KubeadmCluster with the empty clusterToken it always had; instanceof KubernetesCluster holds for both', async () => {
        const k3s = new KubernetesCluster("a", { distribution: "k3s", version: "v1.33.5+k3s1", controlPlane: [host("s0", "10.0.0.2")] });
        expect(k3s).toBeInstanceOf(K3sCluster);
        expect(k3s).not.toBeInstanceOf(KubeadmCluster);
        expect(k3s instanceof KubernetesCluster).toBe(true);
        expect(k3s.distribution).toBe("k3s");
        await settle(k3s);
        const kubeadm = new KubernetesCluster("b", { distribution: "kubeadm", version: "v1.37.2", controlPlane: nodes(1, "c", 2), workers: nodes(1, "w", 10) });
        expect(kubeadm).toBeInstanceOf(KubeadmCluster);
        expect(kubeadm instanceof KubernetesCluster).toBe(true);
        expect(await pulumi.isSecret(kubeadm.clusterToken)).toBe(true);
        expect(await valueOf(kubeadm.clusterToken)).toBe("");
        await settle(kubeadm);
        expect({} instanceof KubernetesCluster).toBe(false);
    });

    test("a distribution that is neither is refused under the old name, nothing registered", async () => {
        expect(await refused(() => new KubernetesCluster("k", { distribution: "k8s", version: "v1.37.2", controlPlane: [] } as unknown as KubernetesClusterArgs))).toBe(
            'flotilla:cluster:KubernetesCluster "k": invalid distribution: received "k8s"; expected one of "k3s", "kubeadm".',
        );
    });
});

describe("a setting of the other distribution is an unknown property of the class, its value never shown", () => {
    test("K3sCluster: registryCredentials (kubeadm's) refused, the password not shown; a near name is suggested", async () => {
        const password = "p@ss-" + crypto.randomBytes(12).toString("hex");
        const message = await refused(
            () =>
                new K3sCluster("k", {
                    version: "v1.33.5+k3s1",
                    controlPlane: [host("s0", "10.0.0.2")],
                    registryCredentials: [{ registry: "r.example.com", username: "u", password }],
                } as never),
        );
        expect(message).toBe(
            'flotilla:cluster:K3sCluster "k": invalid registryCredentials: received a list of 1; expected no such property; known: controlPlane, workers, version, ' +
                "source, airgapBinaryUrl, airgapImagesUrl, podCidr, serviceCidr, apiEndpoint, clusterToken, nodeLabels, nodeTaints, disable, flannelBackend, drainTimeoutSeconds.",
        );
        expect(message).not.toContain(password.slice(5));
        expect(await refused(() => new K3sCluster("k", { version: "v1.33.5+k3s1", controlPlane: [host("s0", "10.0.0.2")], disabled: ["traefik"] } as never))).toContain(
            'invalid disabled: received a list of 1; expected no such property (did you mean "disable"?)',
        );
    });

    test("KubeadmCluster: clusterToken (k3s') refused, the token not shown; distribution is no property of the class", async () => {
        const token = "K10" + "f".repeat(60) + "::server:" + "s".repeat(32);
        const message = await refused(() => new KubeadmCluster("k", { version: "v1.37.2", controlPlane: nodes(1, "c", 2), clusterToken: token } as never));
        expect(message).toMatch(/^flotilla:cluster:KubeadmCluster "k": invalid clusterToken: received a string of 104 characters; expected no such property; known: controlPlane, /);
        expect(message).not.toContain("fffff");
        expect(await refused(() => new KubeadmCluster("k", { distribution: "kubeadm", version: "v1.37.2", controlPlane: nodes(1, "c", 2) } as never))).toMatch(
            /^flotilla:cluster:KubeadmCluster "k": invalid distribution: received a string of 7 characters; expected no such property;/,
        );
    });
});

describe("KubeadmCluster takes any runtime that reports a CRI socket", () => {
    test("a CRI socket other than containerd's: in every node's kubeadm configuration and the members' runtime", async () => {
        const socket = "unix:///run/other-cri/cri.sock";
        const cluster = new KubeadmCluster("k", { version: "v1.37.2", controlPlane: nodes(1, "c", 2, socket), workers: nodes(1, "w", 10, socket) });
        await settle(cluster);
        const init = byName("k-init").inputs as Record<string, any>;
        expect(init.environment.CONFIG.split("\n")).toEqual(expect.arrayContaining([`  criSocket: "${socket}"`, `containerRuntimeEndpoint: "${socket}"`]));
        expect(init.environment.CONFIG).not.toContain(CONTAINERD);
        expect((byName("k-join-w0").inputs as Record<string, any>).environment.CONFIG.split("\n")).toContain(`  criSocket: "${socket}"`);
        expect(cluster.workers[0].runtime).toMatchObject({ kind: "containerd", criSocket: socket, liveRestore: false, swarmReady: false });
        expect(await valueOf(pulumi.output(cluster.workers[0].runtime.cgroupDriver))).toBe("cgroupfs");
    });

    test.each<[string, RuntimeHost, string]>([
        ["no CRI socket", runtimeHost("c0", "10.0.0.2", undefined), 'host \\"c0\\" with containerd (no CRI socket)'],
        ["an empty CRI socket", runtimeHost("c0", "10.0.0.2", ""), 'host \\"c0\\" with containerd (no CRI socket)'],
    ])("a runtime with %s is refused, nothing registered", async (_what, h, received) => {
        expect(await refused(() => new KubeadmCluster("k", { version: "v1.37.2", controlPlane: [h] }))).toBe(
            `flotilla:cluster:KubeadmCluster "k": invalid controlPlane[0]: received "${received}"; expected a host with containerd from the runtime layer: ` +
                "pass a Containerd's `hosts` (kubeadm runs the kubelet on that containerd).",
        );
    });
});
