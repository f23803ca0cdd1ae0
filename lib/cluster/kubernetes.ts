import * as pulumi from "@pulumi/pulumi";
import { nodeLabelLines } from "./node-labels";
import { ClusterCapabilities, ClusterPort, IKubernetesCluster, KUBERNETES_PORTS } from "../core/cluster";
import { CgroupDriver, Host, ResolvedMember, RuntimeHost, RuntimeInfo, advertisedAddress, isHost } from "../core/host";
import { Ipv4Subnet, overlaps, parseCidr, parseIpv4 } from "../core/ipv4";
import { Reason, Validator } from "../core/validate";
import { RemoteScript } from "../shared/remote-script";
import { bundledScript } from "../shared/scripts";

/** Type token of {@link KubernetesCluster}. */
export const KUBERNETES_CLUSTER_TYPE = "flotilla:cluster:KubernetesCluster";

/** Properties of {@link KubernetesClusterArgs}. */
const KUBERNETES_CLUSTER_KEYS = [
    "distribution",
    "controlPlane",
    "workers",
    "version",
    "source",
    "airgapBinaryUrl",
    "airgapImagesUrl",
    "podCidr",
    "serviceCidr",
    "apiEndpoint",
    "clusterToken",
    "nodeLabels",
    "nodeTaints",
    "disable",
    "flannelBackend",
    "drainTimeoutSeconds",
];

/** Control-plane node counts accepted (stacked etcd needs an odd number for a useful quorum). */
export const KUBERNETES_CONTROL_PLANE_COUNTS = [1, 3, 5] as const;

/** Packaged k3s components that `disable` may turn off. */
export const K3S_COMPONENTS = ["traefik", "servicelb", "local-storage", "metrics-server", "coredns"] as const;
/** A packaged k3s component. */
export type K3sComponent = (typeof K3S_COMPONENTS)[number];

/** Flannel backends k3s offers. */
export const K3S_FLANNEL_BACKENDS = ["vxlan", "host-gw", "wireguard-native", "none"] as const;
/** A flannel backend. */
export type K3sFlannelBackend = (typeof K3S_FLANNEL_BACKENDS)[number];

/** The k3s ports besides {@link KUBERNETES_PORTS}, for the WireGuard flannel backend (docs.k3s.io "Inbound Rules"). */
export const K3S_WIREGUARD_PORTS: readonly ClusterPort[] = [
    { port: 51820, protocol: "udp", purpose: "flannel WireGuard (IPv4)" },
    { port: 51821, protocol: "udp", purpose: "flannel WireGuard (IPv6)" },
];

/** The k3s CRI socket (its own containerd). */
export const K3S_CRI_SOCKET = "unix:///run/k3s/containerd/containerd.sock";

/** A pinned k3s release: `v1.33.5+k3s1` (or a release candidate, `v1.33.5-rc1+k3s1`). */
const K3S_VERSION = /^v1\.\d{1,3}\.\d{1,3}(-rc\d+)?\+k3s\d+$/;
/** A taint `key=value:Effect` or `key:Effect` (key as a label key, value as a label value). */
const TAINT = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]{0,61}[a-zA-Z0-9])?(=[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
/** An address or DNS name the API server is reached at. */
const ENDPOINT = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** Arguments of {@link KubernetesCluster}. */
export interface KubernetesClusterArgs {
    /**
     * Which Kubernetes distribution: `k3s` (the only one available for now). `kubeadm` (upstream
     * Kubernetes) is not yet available: it needs its binaries and images built and cached first.
     */
    readonly distribution: "k3s";
    /**
     * Control-plane hosts (k3s servers, embedded etcd): 1, 3 or 5. The first one creates the
     * cluster and must stay the first. Plain hosts from a pool, WITHOUT a container runtime from the
     * runtime layer: k3s brings its own containerd (a `DockerEngine`'s or `Containerd`'s hosts are
     * refused). Plain list: it decides which resources exist.
     */
    readonly controlPlane: Host[];
    /** Worker hosts (k3s agents), 0 or more, plain hosts like `controlPlane`. Default none. */
    readonly workers?: Host[];
    /** The pinned k3s release, e.g. `v1.33.5+k3s1`. */
    readonly version: string;
    /**
     * Where k3s comes from: `installer` (default), the official `https://get.k3s.io` script with
     * `INSTALL_K3S_VERSION` (the hosts reach the internet: the clouds' path); `airgap`, the binary
     * and the images tarball from `airgapBinaryUrl` and `airgapImagesUrl`.
     */
    readonly source?: "installer" | "airgap";
    /** Airgap: the k3s binary of `version`, an http(s) URL or an absolute path already on every host. */
    readonly airgapBinaryUrl?: string;
    /** Airgap: the images tarball (`k3s-airgap-images-<arch>.tar[.zst|.gz]`), an http(s) URL or an absolute path on every host. */
    readonly airgapImagesUrl?: string;
    /** Pod network. Default `10.42.0.0/16`. Must not overlap `serviceCidr` nor the hosts' addresses. */
    readonly podCidr?: string;
    /** Service network. Default `10.43.0.0/16`. Must not overlap `podCidr` nor the hosts' addresses. */
    readonly serviceCidr?: string;
    /**
     * Address (or DNS name) the API server is reached at, e.g. a load balancer in front of the
     * servers; it is added to the serving certificate. Default: the first server's address.
     */
    readonly apiEndpoint?: pulumi.Input<string>;
    /**
     * Cluster token (secret, at least 16 characters without white space). Default: the one k3s
     * generates on the first server, read back and kept secret.
     */
    readonly clusterToken?: pulumi.Input<string>;
    /** Node labels set on every node, besides each host's own labels. Default none. */
    readonly nodeLabels?: Record<string, string>;
    /** Taints set on every node, `key=value:Effect` (NoSchedule, PreferNoSchedule, NoExecute). Default none. */
    readonly nodeTaints?: string[];
    /** Packaged components not to deploy (`traefik`, `servicelb`, `local-storage`, `metrics-server`, `coredns`). Default none. */
    readonly disable?: K3sComponent[];
    /** Flannel backend: `vxlan` (default), `host-gw`, `wireguard-native` or `none` (bring your own CNI). */
    readonly flannelBackend?: K3sFlannelBackend;
    /** Seconds the drain of a node being removed may take. Default 300. */
    readonly drainTimeoutSeconds?: number;
}

/** What the first server's script prints (kept secret). */
interface InitResult {
    token: string;
    kubeconfig: string;
    cgroupDriver: CgroupDriver;
}

/** The cidr as a subnet, or a failure naming the property. */
function cidrArg(v: Validator, property: string, value: unknown, fallback: string): Ipv4Subnet {
    const parsed = parseCidr(value ?? fallback);
    if (typeof parsed === "string") {
        v.fail(property, value, `an IPv4 block a.b.c.d/prefix (${parsed})`);
    }
    return parsed;
}

/** One line of a YAML list/scalar, quoted as JSON (valid YAML). */
const q = (s: string) => JSON.stringify(s);

/**
 * A Kubernetes cluster. For now the k3s distribution: the first control-plane host creates the
 * cluster (`cluster-init`, embedded etcd, the API's certificate valid for `apiEndpoint` and every
 * server's addresses), the other servers join it (`server: https://<first>:6443`) and the workers
 * join as agents, in parallel, each waiting (bounded) until its node is Ready. The token reaches
 * the hosts only through the secret environment and a root-only file that k3s' config names
 * (`token-file`), never a command line. Every node gets a resource, run on a server, that labels
 * and taints it, and on removal cordons, drains (bounded) and deletes it before its machine goes;
 * removing a server is refused when the etcd members left Ready would be no quorum.
 *
 * Tested under mocks only: no k3s binary can be had where flotilla is developed.
 */
export class KubernetesCluster extends pulumi.ComponentResource implements IKubernetesCluster {
    /** Always `kubernetes`. */
    public readonly orchestrator = "kubernetes" as const;
    /** The distribution. */
    public readonly distribution: "k3s";
    /** What the cluster supports: a ClusterIP VIP, NodePorts, and LoadBalancer Services when servicelb runs. */
    public readonly capabilities: pulumi.Output<ClusterCapabilities>;
    /** Ports the nodes reach on each other. */
    public readonly ports: readonly ClusterPort[];
    /** The control-plane nodes (runtime: k3s' containerd), `ready` when Ready, labelled and tainted. */
    public readonly controlPlane: RuntimeHost[];
    /** The workers, `ready` when Ready, labelled and tainted. */
    public readonly workers: RuntimeHost[];
    /** Admin kubeconfig of the first server, its `server:` rewritten to `https://<apiEndpoint>:6443`. Secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The address the API server is reached at (given, else the first server's). */
    public readonly apiEndpoint: pulumi.Output<string>;
    /** The cluster token. Secret. */
    public readonly clusterToken: pulumi.Output<string>;
    /** The address each node advertises (`node-ip`), by host name. */
    public readonly advertisedAddresses: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(KUBERNETES_CLUSTER_TYPE, name);
        v.args(args, KUBERNETES_CLUSTER_KEYS, "KubernetesClusterArgs");
        if (args.distribution === ("kubeadm" as string)) {
            v.fail(
                "distribution",
                args.distribution,
                '"k3s": "kubeadm" is not yet available (upstream Kubernetes has no packages this project can install here; ' +
                    "its binaries and images must first be built and cached)",
            );
        }
        const distribution = v.oneOf("distribution", args.distribution, ["k3s"] as const);
        const hostExpected = "plain hosts from a pool (k3s brings its own containerd)";
        const controlPlane = v.hostList<Host>("controlPlane", args.controlPlane, {
            expected: `a list of 1, 3 or 5 ${hostExpected}`,
        });
        if (!(KUBERNETES_CONTROL_PLANE_COUNTS as readonly number[]).includes(controlPlane.length)) {
            v.fail(
                "controlPlane",
                `${controlPlane.length} hosts`,
                "1, 3 or 5 hosts: etcd keeps working while a majority of its members (a quorum) is up, so 3 tolerate 1 failure, " +
                    "5 tolerate 2, and an even number tolerates no more than the odd number below it",
            );
        }
        const workers =
            args.workers === undefined ? [] : v.hostList<Host>("workers", args.workers, { min: 0, expected: `a list of ${hostExpected} (may be empty)` });
        const seen = new Set<string>();
        [...controlPlane, ...workers].forEach((h, i) => {
            const property = i < controlPlane.length ? `controlPlane[${i}]` : `workers[${i - controlPlane.length}]`;
            if (!isHost(h)) {
                v.fail(property, h, "a Host (from a host pool's `hosts`)");
            }
            const runtime = (h as Partial<RuntimeHost>).runtime;
            if (runtime !== undefined) {
                v.fail(
                    property,
                    `host "${h.name}" with ${runtime.kind} installed`,
                    "a host without a container runtime: k3s installs and runs its own containerd; pass the pool's hosts, not a runtime's",
                );
            }
            v.dnsLabel(`${property}.name`, h.name);
            if (seen.has(h.name)) {
                v.fail(`${property}.name`, h.name, "each host at most once across controlPlane and workers");
            }
            seen.add(h.name);
        });
        const version = v.plain("version", args.version);
        if (typeof version !== "string" || !K3S_VERSION.test(version)) {
            v.fail("version", version, "a pinned k3s release like v1.33.5+k3s1 (see github.com/k3s-io/k3s/releases)");
        }
        const source = v.oneOf("source", args.source ?? "installer", ["installer", "airgap"] as const);
        const artefact = (property: "airgapBinaryUrl" | "airgapImagesUrl"): string => {
            const value = v.plain(property, args[property]);
            if (source === "installer") {
                if (value !== undefined) v.fail(property, value, 'nothing with source "installer" (set source: "airgap" to use it)');
                return "";
            }
            if (typeof value !== "string" || !/^(https?:\/\/\S+|\/\S+)$/.test(value)) {
                v.fail(property, value, 'with source "airgap", an http(s) URL or an absolute path on every host');
            }
            return value;
        };
        const airgapBinary = artefact("airgapBinaryUrl");
        const airgapImages = artefact("airgapImagesUrl");
        const podCidr = cidrArg(v, "podCidr", v.plain("podCidr", args.podCidr), "10.42.0.0/16");
        const serviceCidr = cidrArg(v, "serviceCidr", v.plain("serviceCidr", args.serviceCidr), "10.43.0.0/16");
        if (overlaps(podCidr, serviceCidr)) {
            v.fail("serviceCidr", serviceCidr.cidr, `a block that does not overlap podCidr ${podCidr.cidr}`);
        }
        const apiEndpointArg =
            args.apiEndpoint === undefined
                ? undefined
                : v.later<string>("apiEndpoint", args.apiEndpoint, "an IPv4 address or a DNS name, without scheme or port", (e) =>
                      typeof e === "string" && ENDPOINT.test(e) ? e : new Reason(),
                  );
        const clusterTokenArg =
            args.clusterToken === undefined
                ? undefined
                : v.later<string>(
                      "clusterToken",
                      args.clusterToken,
                      "a token of at least 16 characters without white space",
                      (t) => (typeof t === "string" && t.length >= 16 && !/\s/.test(t) ? t : new Reason()),
                      { secret: true },
                  );
        const nodeLabels = v.labels("nodeLabels", args.nodeLabels);
        const nodeTaints = v.list("nodeTaints", args.nodeTaints, "a list of taints key=value:Effect").map((t, i) => {
            if (typeof t !== "string" || !TAINT.test(t)) {
                v.fail(`nodeTaints[${i}]`, t, "a taint key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute");
            }
            return t;
        });
        const disable = v.list("disable", args.disable, "a list of k3s components").map((c, i) => v.oneOf(`disable[${i}]`, c, K3S_COMPONENTS));
        const flannelBackend = v.oneOf("flannelBackend", args.flannelBackend ?? "vxlan", K3S_FLANNEL_BACKENDS);
        const drainTimeout = v.integer("drainTimeoutSeconds", args.drainTimeoutSeconds ?? 300, 10, 3600);
        // The hosts' addresses (Outputs) must lie outside both networks: checked as they resolve.
        const checkAddress = (property: string, address: string) => {
            const conflict = addressConflict(address, { podCidr, serviceCidr });
            if (conflict) v.fail(property, address, `an address outside ${conflict} (pick another ${conflict.split(" ")[0]})`);
        };

        super(KUBERNETES_CLUSTER_TYPE, name, {}, opts);
        this.distribution = distribution;

        const first = controlPlane[0];
        const members = [...controlPlane, ...workers];
        const propertyOf = (i: number) => (i < controlPlane.length ? `controlPlane[${i}]` : `workers[${i - controlPlane.length}]`);
        // The address each node advertises: private when every member shares its network, public
        // otherwise; each depends on its own machine only.
        const networks = pulumi.all(members.map((h) => pulumi.output(h.network ?? "")));
        const advertise = (h: Host): pulumi.Output<string> => {
            const i = members.indexOf(h);
            return pulumi.all([networks, h.privateAddress, h.publicAddress]).apply(([nets, privateAddress, publicAddress]) => {
                checkAddress(`${propertyOf(i)}.privateAddress`, privateAddress);
                const resolved: ResolvedMember[] = members.map((m, j) => ({
                    name: m.name,
                    privateAddress: j === i ? privateAddress : "",
                    network: nets[j] || undefined,
                }));
                const address = advertisedAddress({ ...resolved[i], publicAddress }, resolved);
                if (typeof address !== "string") {
                    v.fail(propertyOf(i), h.name, `a host the other members can reach (${address.reason})`);
                }
                return address;
            });
        };
        this.advertisedAddresses = pulumi
            .all(members.map((h) => advertise(h).apply((a) => [h.name, a] as const)))
            .apply((pairs) => Object.fromEntries(pairs));
        const firstAddress = advertise(first);
        this.apiEndpoint = apiEndpointArg ?? firstAddress;
        const serverUrl = pulumi.interpolate`https://${firstAddress}:6443`;
        // The serving certificate: the endpoint and every server's addresses.
        const tlsSans = pulumi
            .all([this.apiEndpoint, ...controlPlane.flatMap((h) => [advertise(h), pulumi.output(h.privateAddress), pulumi.output(h.publicAddress)])])
            .apply((names) => [...new Set(names.filter((n): n is string => typeof n === "string" && n !== ""))]);
        const hostLabels = (h: Host) => nodeLabelLines({ ...h.labels, ...nodeLabels });
        // config.yaml of a node (the token goes to a root-only file, added by the script).
        const config = (h: Host, role: "server" | "agent", bootstrap: boolean): pulumi.Output<string> =>
            pulumi.all([advertise(h), hostLabels(h), tlsSans, serverUrl]).apply(([address, labels, sans, url]) => {
                const lines = [`node-name: ${q(h.name)}`, `node-ip: ${q(address)}`];
                if (!bootstrap) lines.push(`server: ${q(url)}`);
                if (role === "server") {
                    if (bootstrap) lines.push("cluster-init: true");
                    lines.push(`advertise-address: ${q(address)}`);
                    lines.push(`cluster-cidr: ${q(podCidr.cidr)}`, `service-cidr: ${q(serviceCidr.cidr)}`);
                    lines.push(`flannel-backend: ${q(flannelBackend)}`);
                    lines.push("tls-san:", ...sans.map((s) => `  - ${q(s)}`));
                    if (disable.length > 0) lines.push("disable:", ...disable.map((d) => `  - ${q(d)}`));
                    lines.push("write-kubeconfig-mode: \"0600\"");
                }
                const labelLines = labels.split("\n").filter((l) => l !== "");
                if (labelLines.length > 0) lines.push("node-label:", ...labelLines.map((l) => `  - ${q(l)}`));
                if (nodeTaints.length > 0) lines.push("node-taint:", ...nodeTaints.map((t) => `  - ${q(t)}`));
                return lines.join("\n");
            });
        const common = (h: Host, role: "server" | "agent", bootstrap: boolean): Record<string, pulumi.Input<string>> => ({
            ROLE: role,
            VERSION: version,
            SOURCE: source,
            ...(source === "airgap" ? { AIRGAP_BINARY: airgapBinary, AIRGAP_IMAGES: airgapImages } : {}),
            NODE_NAME: h.name,
            CONFIG: config(h, role, bootstrap),
            READY_TIMEOUT: "300",
        });

        const init = new RemoteScript(
            `${name}-init`,
            {
                connection: first.connection,
                script: bundledScript("cluster", "k3s-init.sh"),
                environment: common(first, "server", true),
                ...(clusterTokenArg ? { secretEnvironment: { CLUSTER_TOKEN: clusterTokenArg } } : {}),
                target: `k3s cluster-init on ${first.name}`,
                triggers: [first.instanceId],
                timeoutSeconds: 900,
            },
            { parent: this, dependsOn: first.ready, additionalSecretOutputs: ["result"] },
        );
        const initResult = init.result.apply((r) => JSON.parse(r) as InitResult);
        this.clusterToken = pulumi.secret(clusterTokenArg ?? initResult.apply((r) => r.token));
        this.kubeconfig = pulumi.secret(
            pulumi.all([initResult, this.apiEndpoint]).apply(([r, endpoint]) => rewriteKubeconfigServer(r.kubeconfig, `https://${endpoint}:6443`)),
        );
        const servicelb = !disable.includes("servicelb");
        this.capabilities = pulumi.output({ serviceVirtualIp: true, routingMesh: true, loadBalancer: servicelb });
        this.ports = flannelBackend === "wireguard-native" ? [...KUBERNETES_PORTS, ...K3S_WIREGUARD_PORTS] : KUBERNETES_PORTS;

        const joinScript = bundledScript("cluster", "k3s-join.sh");
        const nodeScript = bundledScript("cluster", "k3s-node.sh");
        const member = (host: Host, role: "server" | "agent", index: number): RuntimeHost => {
            const bootstrap = role === "server" && index === 0;
            let joined: pulumi.Resource;
            let cgroupDriver: pulumi.Output<CgroupDriver>;
            if (bootstrap) {
                joined = init;
                cgroupDriver = pulumi.unsecret(initResult.apply((r) => r.cgroupDriver));
            } else {
                const join = new RemoteScript(
                    `${name}-join-${host.name}`,
                    {
                        connection: host.connection,
                        script: joinScript,
                        environment: common(host, role, false),
                        secretEnvironment: { CLUSTER_TOKEN: this.clusterToken },
                        target: `k3s join of ${host.name} as ${role === "server" ? "a server" : "an agent"}`,
                        triggers: [host.instanceId],
                        timeoutSeconds: 900,
                    },
                    { parent: this, dependsOn: [...host.ready, init] },
                );
                joined = join;
                cgroupDriver = join.result.apply((r) => (JSON.parse(r) as { cgroupDriver: CgroupDriver }).cgroupDriver);
            }
            // Run by a server: the first one, else any other that answers, never the node itself.
            const otherServers = controlPlane.slice(1).filter((m) => m !== host).map((m) => m.connection);
            const node = new RemoteScript(
                `${name}-node-${host.name}`,
                {
                    connection: first.connection,
                    alternates: otherServers,
                    script: nodeScript,
                    environment: {
                        NODE_NAME: host.name,
                        ROLE: role,
                        LABELS: hostLabels(host),
                        TAINTS: nodeTaints.join("\n"),
                        BOOTSTRAP: String(bootstrap),
                        DRAIN_TIMEOUT: String(drainTimeout),
                    },
                    target: `k3s node ${host.name}`,
                    triggers: [host.instanceId],
                    timeoutSeconds: drainTimeout + 180,
                },
                { parent: this, dependsOn: [joined] },
            );
            const runtime: RuntimeInfo = { kind: "containerd", criSocket: K3S_CRI_SOCKET, cgroupDriver, liveRestore: false, swarmReady: false };
            return { ...host, runtime, ready: [node] };
        };
        this.controlPlane = controlPlane.map((h, i) => member(h, "server", i));
        this.workers = workers.map((h, i) => member(h, "agent", i));

        this.registerOutputs({
            distribution: this.distribution,
            apiEndpoint: this.apiEndpoint,
            kubeconfig: this.kubeconfig,
            clusterToken: this.clusterToken,
            capabilities: this.capabilities,
            ports: this.ports,
            advertisedAddresses: this.advertisedAddresses,
        });
    }
}

/** The kubeconfig with every cluster's `server:` set to `server` (k3s writes https://127.0.0.1:6443). */
export function rewriteKubeconfigServer(kubeconfig: string, server: string): string {
    return kubeconfig.replace(/^(\s*server:\s*).*$/gm, (_line, prefix: string) => `${prefix}${server}`);
}

/** The network (`podCidr 10.42.0.0/16`) that `address` lies in, or undefined (also for a name, not an address). */
export function addressConflict(address: string, networks: Record<string, Ipv4Subnet>): string | undefined {
    const n = parseIpv4(address);
    if (n === undefined) return undefined;
    const one: Ipv4Subnet = { cidr: `${address}/32`, network: n, prefix: 32, size: 1 };
    const hit = Object.entries(networks).find(([, net]) => overlaps(one, net));
    return hit ? `${hit[0]} ${hit[1].cidr}` : undefined;
}
