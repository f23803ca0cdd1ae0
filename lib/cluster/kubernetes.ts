import * as pulumi from "@pulumi/pulumi";
import { checkKubernetesNodeLabels, kubernetesNodeLabelsArg, nodeLabelLines } from "./node-labels";
import { ClusterCapabilities, ClusterPort, IKubernetesCluster, KUBERNETES_PORTS } from "../core/cluster";
import { CgroupDriver, Host, ResolvedMember, RuntimeHost, RuntimeInfo, SshConnection, advertisedAddress, isHost } from "../core/host";
import { knownHostsText } from "../core/known-hosts";
import { Ipv4Subnet, overlaps, parseCidr, parseIpv4 } from "../core/ipv4";
import { Reason, Validator, hasOwn } from "../core/validate";
import { RemoteScript } from "../shared/remote-script";
import { bundledScript } from "../shared/scripts";
import { CONTAINERD_CRI_SOCKET } from "../runtime/containerd";
import {
    CNI_BIN_DIRS,
    DEFAULT_FLANNEL_IMAGE,
    DEFAULT_IMAGE_REPOSITORY,
    KUBEADM_API_PORT,
    KUBEADM_DEFAULT_POD_CIDR,
    KUBEADM_DEFAULT_SERVICE_CIDR,
    KUBEADM_FLANNEL_BACKENDS,
    KUBEADM_MIN_MINOR,
    KUBEADM_PAUSE_TAG,
    KUBEADM_SOURCES,
    KUBEADM_VERSION,
    KubeadmFlannelBackend,
    KubeadmSource,
    bundleAuth,
    flannelManifest,
    kubeadmCriConfig,
    kubeadmInitConfig,
    kubeadmJoinConfig,
} from "./kubeadm";

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
    "bundleImage",
    "packagesUrl",
    "imageRepository",
    "registryCredentials",
    "flannelImage",
    "pauseImage",
];
/** Properties only k3s takes. */
const K3S_ONLY = ["airgapBinaryUrl", "airgapImagesUrl", "clusterToken", "disable"] as const;
/** Properties only kubeadm takes. */
const KUBEADM_ONLY = ["bundleImage", "packagesUrl", "imageRepository", "registryCredentials", "flannelImage", "pauseImage"] as const;
/** A registry reference prefix `host[:port]` or `host[:port]/path`. */
const REPOSITORY = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
/** An image reference with a registry host and a tag: `host[:port]/path:tag`. */
const REGISTRY_IMAGE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A registry `host[:port]`. */
const REGISTRY_HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/;

/** Credentials of a private registry the nodes pull from (kubeadm). */
export interface KubeadmRegistryCredential {
    /** The registry as `host[:port]`, e.g. a `LabRegistry`'s `address`. */
    readonly registry: pulumi.Input<string>;
    /** User name. */
    readonly username: pulumi.Input<string>;
    /** Password. Secret: only in root-only files on the nodes, never on a command line. */
    readonly password: pulumi.Input<string>;
}

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
/**
 * The smallest IPv4 Service prefix the API server takes: `--service-cluster-ip-range` may hold at
 * most 2^20 addresses (kube-apiserver's options validation), so /12 or longer.
 */
export const MIN_SERVICE_CIDR_PREFIX = 12;
/**
 * The per-node pod range: every node gets a /24 of `podCidr` (kube-controller-manager's default
 * `--node-cidr-mask-size` for IPv4, which kubeadm and k3s keep), so the pod network needs a /24 for
 * each node.
 */
export const NODE_CIDR_PREFIX = 24;

/** Arguments of {@link KubernetesCluster}. */
export interface KubernetesClusterArgs {
    /**
     * Which Kubernetes distribution: `k3s` (k3s brings its own containerd) or `kubeadm` (upstream
     * Kubernetes on hosts with containerd from the runtime layer: a `Containerd`'s `hosts`).
     */
    readonly distribution: "k3s" | "kubeadm";
    /**
     * Control-plane hosts (k3s servers / kubeadm control-plane nodes, stacked etcd): 1, 3 or 5.
     * The first one creates the cluster; after that it is a control-plane node like the others and
     * can be removed or replaced (e.g. `[a, b, c]` → `[b, c, d]`, in one `up` or later): the
     * cluster keeps its identity (CA, etcd data), the leaving node is drained and its etcd member
     * removed like any other's, and the cluster-wide scripts run on the first listed control-plane
     * node that answers. So once the cluster exists, a node new to it must not be listed first
     * (refused loudly: a new node joins, `kubeadm init`/`cluster-init` never runs on a cluster that
     * exists). k3s: plain hosts from a pool, WITHOUT a container runtime (a `DockerEngine`'s or
     * `Containerd`'s hosts are refused). kubeadm: a `Containerd`'s `hosts`. Plain list: it decides
     * which resources exist.
     */
    readonly controlPlane: Host[];
    /** Worker hosts (k3s agents / kubeadm workers), 0 or more, hosts like `controlPlane`. Default none. */
    readonly workers?: Host[];
    /** The pinned release: k3s `v1.33.5+k3s1`; kubeadm `v1.37.2` (1.31 or later). */
    readonly version: string;
    /**
     * Where the distribution comes from. k3s: `installer` (default), the official
     * `https://get.k3s.io` script with `INSTALL_K3S_VERSION` (the hosts reach the internet: the
     * clouds' path); `airgap`, the binary and the images tarball from `airgapBinaryUrl` and
     * `airgapImagesUrl`. kubeadm: `packages` (default), upstream's apt repository pkgs.k8s.io,
     * kubelet/kubeadm/kubectl pinned to `version` and held (the clouds' path); `bundle`
     * (air-gapped), the three binaries from `bundleImage` in a private registry, the control-plane
     * and CNI images from `imageRepository` (see `registryCredentials`).
     */
    readonly source?: "installer" | "airgap" | KubeadmSource;
    /**
     * kubeadm, `source: "bundle"`: the node bundle image `host[:port]/path:tag`, a FROM-scratch
     * image with `/kubeadm`, `/kubelet`, `/kubectl` at its root (scripts/kubernetes-build.sh makes
     * one). Fetched over the registry's v2 API, with the credentials of its registry from
     * `registryCredentials`; over plain HTTP when the runtime layer lists the registry as insecure.
     */
    readonly bundleImage?: pulumi.Input<string>;
    /** kubeadm, `source: "packages"`: base URL of upstream's apt repository. Default `https://pkgs.k8s.io/core:/stable:`. */
    readonly packagesUrl?: string;
    /**
     * kubeadm: where the control-plane images (kube-apiserver, etcd, coredns, pause, ...) come from,
     * `host[:port][/path]`. Default `registry.k8s.io`.
     */
    readonly imageRepository?: pulumi.Input<string>;
    /**
     * kubeadm: credentials of private registries (the image repository, the bundle's, workload
     * images), written into containerd's CRI configuration (root-only) on every node. Default none.
     */
    readonly registryCredentials?: KubeadmRegistryCredential[];
    /** kubeadm: the flannel image. Default `ghcr.io/flannel-io/flannel:v0.28.10` (upstream's). */
    readonly flannelImage?: pulumi.Input<string>;
    /** kubeadm: the pod sandbox image. Default `<imageRepository>/pause:3.10.2` (kubeadm 1.37's). */
    readonly pauseImage?: pulumi.Input<string>;
    /** k3s airgap: the k3s binary of `version`, an http(s) URL or an absolute path already on every host. */
    readonly airgapBinaryUrl?: string;
    /** k3s airgap: the images tarball (`k3s-airgap-images-<arch>.tar[.zst|.gz]`), an http(s) URL or an absolute path on every host. */
    readonly airgapImagesUrl?: string;
    /**
     * Pod network. Default `10.42.0.0/16` (k3s), `10.244.0.0/16` (kubeadm). Must not overlap
     * `serviceCidr` nor the hosts' addresses, and must hold a /24 for every node (each node's pod
     * range, see {@link NODE_CIDR_PREFIX}): prefix /24 or shorter, e.g. /22 for up to 4 nodes.
     */
    readonly podCidr?: string;
    /**
     * Service network. Default `10.43.0.0/16` (k3s), `10.96.0.0/12` (kubeadm). Must not overlap
     * `podCidr` nor the hosts' addresses; at most 2^20 addresses (/12 or longer: the API server
     * refuses a larger one).
     */
    readonly serviceCidr?: string;
    /**
     * Address (or DNS name) the API server is reached at, e.g. a load balancer in front of the
     * servers; it is added to the serving certificate and is kubeadm's `controlPlaneEndpoint`.
     * Default: none, and then
     * - the `kubeconfig` output and {@link KubernetesCluster.apiEndpoint} name the first listed
     *   control-plane node's address (it changes when that node leaves);
     * - kubeadm: `controlPlaneEndpoint` (what every node's kubelet, kube-proxy and admin kubeconfig
     *   reach the API at) is a stable name instead of the first node's address,
     *   `flotilla-api.<cluster name>.internal` ({@link kubeadmApiName}; `.internal` is reserved for
     *   private use), in the API server's certificate. Every node resolves it through a line
     *   flotilla manages in its `/etc/hosts` (restored at boot by a oneshot unit, and copied into
     *   the host-network pods' hosts files): on a control-plane node its own address, on a worker
     *   the first listed control-plane node's. When that node leaves, the workers' lines are
     *   rewritten (their join resources are updated) before its removal runs (removals come last
     *   in an `up`), so the cluster outlives its first node. The trade-off, without a load
     *   balancer: a worker follows ONE control-plane node; if that node fails, the worker's
     *   kubelet loses the API until the next `up` lists the nodes differently (failover at the
     *   next `up`, not at once). Give a load balancer here for failover without an `up`;
     * - k3s: every node joins the first listed server other than itself; k3s agents then keep
     *   their own list of every server (k3s' client load balancer).
     */
    readonly apiEndpoint?: pulumi.Input<string>;
    /**
     * k3s: cluster token (secret, at least 16 characters without white space). Default: the one k3s
     * generates on the first server, read back and kept secret.
     */
    readonly clusterToken?: pulumi.Input<string>;
    /**
     * Node labels set on every node, besides each host's own labels (a key given here wins over a
     * host's). Both are checked by Kubernetes' label rules: key `[prefix/]name` (name at most 63
     * letters, digits, '-', '_', '.', starting and ending alphanumeric; prefix a DNS subdomain of at
     * most 253), value empty or at most 63 characters of the name's alphabet (no '/'). k3s: the labels
     * reach the kubelet (`node-label`), so kubernetes.io and k8s.io labels (e.g.
     * `node-role.kubernetes.io/worker`) are refused except the kubelet's own (`kubelet.kubernetes.io/`,
     * `node.kubernetes.io/`, the well-known topology/os/arch labels); kubeadm sets them with the admin
     * credentials, so they are allowed there. Default none.
     */
    readonly nodeLabels?: Record<string, string>;
    /** Taints set on every node, `key=value:Effect` (NoSchedule, PreferNoSchedule, NoExecute). Default none. */
    readonly nodeTaints?: string[];
    /** k3s: packaged components not to deploy (`traefik`, `servicelb`, `local-storage`, `metrics-server`, `coredns`). Default none. */
    readonly disable?: K3sComponent[];
    /**
     * Flannel backend: `vxlan` (default), `host-gw`, `wireguard-native` (k3s only) or `none` (bring
     * your own CNI).
     */
    readonly flannelBackend?: K3sFlannelBackend | KubeadmFlannelBackend;
    /** Seconds the drain of a node being removed may take. Default 300. */
    readonly drainTimeoutSeconds?: number;
}

/** The validated kubeadm settings {@link KubernetesCluster} builds from. */
interface KubeadmPlan {
    controlPlane: RuntimeHost[];
    workers: RuntimeHost[];
    version: string;
    source: KubeadmSource;
    bundleImage: pulumi.Output<string> | undefined;
    packagesUrl: string | undefined;
    imageRepository: pulumi.Output<string>;
    flannelImage: pulumi.Output<string> | undefined;
    pauseImage: pulumi.Output<string> | undefined;
    credentials: { registry: pulumi.Output<string>; username: pulumi.Output<string>; password: pulumi.Output<string> }[];
    podCidr: string;
    serviceCidr: string;
    flannelBackend: KubeadmFlannelBackend;
    nodeTaints: string[];
    drainTimeout: number;
    advertise: (h: Host) => pulumi.Output<string>;
    hostLabels: (h: Host) => pulumi.Output<string>;
    tlsSans: pulumi.Output<string[]>;
    /** The stable controlPlaneEndpoint name (no `apiEndpoint` given), else undefined. */
    apiName: string | undefined;
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

/**
 * Refuses a pod network too small for its nodes: each node gets a /{@link NODE_CIDR_PREFIX} of it
 * (kube-controller-manager refuses a block with a longer prefix, and gives no range, so no pod
 * network, to a node once the /24s are used up).
 */
function checkPodCidr(v: Validator, podCidr: Ipv4Subnet, nodes: number): void {
    const ranges = podCidr.prefix > NODE_CIDR_PREFIX ? 0 : 2 ** (NODE_CIDR_PREFIX - podCidr.prefix);
    if (ranges >= nodes) return;
    const longest = NODE_CIDR_PREFIX - Math.ceil(Math.log2(Math.max(nodes, 1)));
    v.fail(
        "podCidr",
        podCidr.cidr,
        `a block with a /${NODE_CIDR_PREFIX} for each of the ${nodes} node${nodes === 1 ? "" : "s"} (every node gets a ` +
            `/${NODE_CIDR_PREFIX} of the pod network), so /${longest} or shorter; ${podCidr.cidr} holds ` +
            `${ranges === 0 ? "no" : ranges} /${NODE_CIDR_PREFIX} range${ranges > 1 ? "s" : ""}`,
    );
}

/** One line of a YAML list/scalar, quoted as JSON (valid YAML). */
const q = (s: string) => JSON.stringify(s);

/**
 * A Kubernetes cluster, kubeadm (upstream Kubernetes on a `Containerd`'s hosts) or k3s. The first
 * control-plane host creates the cluster (`kubeadm init` / k3s `cluster-init`, stacked/embedded
 * etcd, the API's certificate valid for the endpoint and every control-plane address); after that
 * it is a control-plane node like the others: the cluster-wide step runs on the first listed
 * control-plane node that answers and adopts the cluster it finds there, every node (the first
 * too) has its own join and node resources, and the first node can be removed or replaced (see
 * {@link KubernetesClusterArgs.controlPlane} and {@link KubernetesClusterArgs.apiEndpoint}). The
 * other nodes join (kubeadm: with fresh join secrets made on any control-plane node, CA-pinned;
 * k3s: the token through a root-only `token-file`, never a command line), each waiting (bounded)
 * until Ready. Every node gets a resource, run on another control-plane node, that labels and
 * taints it, and on removal cordons, drains (bounded) and deletes it (kubeadm: and removes its
 * etcd member) before its machine leaves; removing a control-plane node is refused when the etcd
 * members left Ready would be no quorum.
 *
 * k3s is tested under mocks only: no k3s binary can be had where flotilla is developed.
 */
export class KubernetesCluster extends pulumi.ComponentResource implements IKubernetesCluster {
    /** Always `kubernetes`. */
    public readonly orchestrator = "kubernetes" as const;
    /** The distribution. */
    public readonly distribution: "k3s" | "kubeadm";
    /** What the cluster supports: a ClusterIP VIP, NodePorts, and LoadBalancer Services when servicelb runs. */
    public readonly capabilities: pulumi.Output<ClusterCapabilities>;
    /** Ports the nodes reach on each other. */
    public readonly ports: readonly ClusterPort[];
    /** The control-plane nodes (runtime: k3s' containerd), `ready` when Ready, labelled and tainted. */
    public readonly controlPlane: RuntimeHost[];
    /** The workers, `ready` when Ready, labelled and tainted. */
    public readonly workers: RuntimeHost[];
    /** Admin kubeconfig (of the control-plane node the cluster-wide step ran on), its `server:` rewritten to `https://<apiEndpoint>:6443`. Secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /**
     * What is accepted but will not work as one may expect (e.g. a kubeadm cluster without workers,
     * where no app can be scheduled); each is also logged as a warning of the engine's output.
     */
    public readonly warnings: readonly string[];
    /**
     * known_hosts lines of the nodes, one per address (the pools' `sshConfig` snippets name the file
     * to keep them in): `ssh`, `DOCKER_HOST=ssh://...` and `docker context` check host keys strictly.
     * Not kept in the state.
     */
    public readonly knownHosts: pulumi.Output<string>;
    /** The address clients reach the API server at: `apiEndpoint` given, else the first listed control-plane node's address. */
    public readonly apiEndpoint: pulumi.Output<string>;
    /** The k3s cluster token (empty for kubeadm: every join gets its own bootstrap token). Secret. */
    public readonly clusterToken: pulumi.Output<string>;
    /** The address each node advertises (`node-ip`), by host name. */
    public readonly advertisedAddresses: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(KUBERNETES_CLUSTER_TYPE, name);
        v.args(args, KUBERNETES_CLUSTER_KEYS, "KubernetesClusterArgs");
        const distribution = v.oneOf("distribution", args.distribution, ["k3s", "kubeadm"] as const);
        const kubeadm = distribution === "kubeadm";
        for (const key of kubeadm ? K3S_ONLY : KUBEADM_ONLY) {
            if (args[key] !== undefined) v.fail(key, args[key], `nothing with distribution "${distribution}" (a ${kubeadm ? "k3s" : "kubeadm"} setting)`);
        }
        const hostExpected = kubeadm
            ? "hosts with containerd from the runtime layer (a Containerd's `hosts`)"
            : "plain hosts from a pool (k3s brings its own containerd)";
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
            if (!kubeadm && runtime !== undefined) {
                v.fail(
                    property,
                    `host "${h.name}" with ${runtime.kind} installed`,
                    "a host without a container runtime: k3s installs and runs its own containerd; pass the pool's hosts, not a runtime's",
                );
            }
            if (kubeadm && (runtime === undefined || runtime.kind !== "containerd" || runtime.criSocket !== CONTAINERD_CRI_SOCKET)) {
                v.fail(
                    property,
                    runtime === undefined ? `host "${h.name}" without a runtime` : `host "${h.name}" with ${runtime.kind} (${runtime.criSocket ?? "no CRI socket"})`,
                    "a host with containerd from the runtime layer: pass a Containerd's `hosts` (kubeadm runs the kubelet on that containerd)",
                );
            }
            v.dnsLabel(`${property}.name`, h.name);
            if (seen.has(h.name)) {
                v.fail(`${property}.name`, h.name, "each host at most once across controlPlane and workers");
            }
            seen.add(h.name);
        });
        const version = v.plain("version", args.version);
        if (!kubeadm && (typeof version !== "string" || !K3S_VERSION.test(version))) {
            v.fail("version", version, "a pinned k3s release like v1.33.5+k3s1 (see github.com/k3s-io/k3s/releases)");
        }
        if (kubeadm) {
            const m = typeof version === "string" ? KUBEADM_VERSION.exec(version) : null;
            if (!m || Number(m[1]) < KUBEADM_MIN_MINOR) {
                v.fail("version", version, `a pinned upstream Kubernetes release like v1.37.2 (1.${KUBEADM_MIN_MINOR} or later)`);
            }
        }
        const source = kubeadm
            ? v.oneOf("source", args.source ?? "packages", KUBEADM_SOURCES)
            : v.oneOf("source", args.source ?? "installer", ["installer", "airgap"] as const);
        const artefact = (property: "airgapBinaryUrl" | "airgapImagesUrl"): string => {
            const value = v.plain(property, args[property]);
            if (source !== "airgap") {
                if (value !== undefined) v.fail(property, value, 'nothing with source "installer" (set source: "airgap" to use it)');
                return "";
            }
            if (typeof value !== "string" || !/^(https?:\/\/\S+|\/\S+)$/.test(value)) {
                v.fail(property, value, 'with source "airgap", an http(s) URL or an absolute path on every host');
            }
            return value;
        };
        const airgapBinary = kubeadm ? "" : artefact("airgapBinaryUrl");
        const airgapImages = kubeadm ? "" : artefact("airgapImagesUrl");
        const podCidr = cidrArg(v, "podCidr", v.plain("podCidr", args.podCidr), kubeadm ? KUBEADM_DEFAULT_POD_CIDR : "10.42.0.0/16");
        const serviceCidr = cidrArg(v, "serviceCidr", v.plain("serviceCidr", args.serviceCidr), kubeadm ? KUBEADM_DEFAULT_SERVICE_CIDR : "10.43.0.0/16");
        // What the API server and kube-controller-manager refuse only once the machines exist.
        if (serviceCidr.prefix < MIN_SERVICE_CIDR_PREFIX) {
            v.fail("serviceCidr", serviceCidr.cidr, `a block of at most 2^20 addresses (/${MIN_SERVICE_CIDR_PREFIX} or longer): the API server refuses a larger Service range`);
        }
        checkPodCidr(v, podCidr, controlPlane.length + workers.length);
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
        // Kubernetes' label rules, not Swarm's. On k3s the labels reach the kubelet's --node-labels
        // (config.yaml `node-label`), which refuses most kubernetes.io/k8s.io labels; on kubeadm only
        // the node resource sets them (kubernetes-node-common.sh: `kubectl label` with the admin
        // kubeconfig, NodeRestriction does not apply), so those labels are allowed there.
        const labelRules = { viaKubelet: !kubeadm };
        const nodeLabels = kubernetesNodeLabelsArg(v, "nodeLabels", args.nodeLabels, labelRules);
        // Each host's own labels become node labels too (those nodeLabels does not override).
        const memberLabels = new Map<Host, Record<string, pulumi.Input<string>>>(
            [...controlPlane, ...workers].map((h, i) => {
                const property = i < controlPlane.length ? `controlPlane[${i}]` : `workers[${i - controlPlane.length}]`;
                const own = Object.fromEntries(Object.entries({ ...h.labels }).filter(([key]) => !hasOwn(nodeLabels, key)));
                return [h, checkKubernetesNodeLabels(v, `${property}.labels`, own, labelRules)];
            }),
        );
        const nodeTaints = v.list("nodeTaints", args.nodeTaints, "a list of taints key=value:Effect").map((t, i) => {
            if (typeof t !== "string" || !TAINT.test(t)) {
                v.fail(`nodeTaints[${i}]`, t, "a taint key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute");
            }
            return t;
        });
        const disable = v.list("disable", args.disable, "a list of k3s components").map((c, i) => v.oneOf(`disable[${i}]`, c, K3S_COMPONENTS));
        const flannelBackend = kubeadm
            ? v.oneOf("flannelBackend", args.flannelBackend ?? "vxlan", KUBEADM_FLANNEL_BACKENDS)
            : v.oneOf("flannelBackend", args.flannelBackend ?? "vxlan", K3S_FLANNEL_BACKENDS);
        const drainTimeout = v.integer("drainTimeoutSeconds", args.drainTimeoutSeconds ?? 300, 10, 3600);
        // kubeadm's own settings.
        const checked = (property: string, value: pulumi.Input<string> | undefined, pattern: RegExp, expected: string) =>
            value === undefined ? undefined : v.later<string>(property, value, expected, (x) => (typeof x === "string" && pattern.test(x) ? x : new Reason()));
        const bundleImage = checked("bundleImage", args.bundleImage, REGISTRY_IMAGE, "an image reference host[:port]/path:tag in a registry");
        if (kubeadm && source === "bundle" && bundleImage === undefined) {
            v.fail("bundleImage", undefined, 'with source "bundle", the node bundle image host[:port]/path:tag');
        }
        if (kubeadm && source !== "bundle" && args.bundleImage !== undefined) {
            v.fail("bundleImage", "an image", 'nothing with source "packages" (set source: "bundle" to use it)');
        }
        const packagesUrl = v.plain("packagesUrl", args.packagesUrl);
        if (packagesUrl !== undefined && (source !== "packages" || typeof packagesUrl !== "string" || !/^https?:\/\/\S+$/.test(packagesUrl))) {
            v.fail("packagesUrl", packagesUrl, 'with source "packages", the http(s) base URL of the apt repository (e.g. https://pkgs.k8s.io/core:/stable:)');
        }
        const imageRepository =
            checked("imageRepository", args.imageRepository, REPOSITORY, "a registry host[:port] with an optional path, e.g. registry.k8s.io") ??
            pulumi.output(DEFAULT_IMAGE_REPOSITORY);
        const flannelImage = checked("flannelImage", args.flannelImage, REGISTRY_IMAGE, "an image reference host[:port]/path:tag");
        const pauseImage = checked("pauseImage", args.pauseImage, REGISTRY_IMAGE, "an image reference host[:port]/path:tag");
        const credentials = v.list("registryCredentials", args.registryCredentials, "a list of { registry, username, password }").map((c, i) => {
            if (typeof c !== "object" || c === null) v.fail(`registryCredentials[${i}]`, c, "{ registry, username, password }");
            v.known(`registryCredentials[${i}]`, c as object, ["registry", "username", "password"]);
            const cred = c as KubeadmRegistryCredential;
            return {
                registry: v.later<string>(`registryCredentials[${i}].registry`, cred.registry, "a registry host[:port]", (x) =>
                    typeof x === "string" && REGISTRY_HOST.test(x) ? x : new Reason(),
                ),
                username: v.later<string>(`registryCredentials[${i}].username`, cred.username, "a user name without ':' or white space", (x) =>
                    typeof x === "string" && /^[^:\s]+$/.test(x) ? x : new Reason(),
                ),
                password: v.later<string>(
                    `registryCredentials[${i}].password`,
                    cred.password,
                    "a password of printable ASCII characters",
                    (x) => (typeof x === "string" && x.length > 0 && /^[\x20-\x7e]*$/.test(x) ? x : new Reason()),
                    { secret: true },
                ),
            };
        });
        // kubeadm taints every control-plane node node-role.kubernetes.io/control-plane:NoSchedule
        // (InitConfiguration/JoinConfiguration leave nodeRegistration.taints at kubeadm's default) and
        // nothing here removes it (nodeTaints only adds taints): without workers no pod could ever be
        // scheduled but the system's own. Warned, not refused: a cluster scaled down to its control
        // plane for a while (workers 1 -> 0) is a legitimate state.
        const warnings: string[] = [];
        if (kubeadm && workers.length === 0) {
            warnings.push(
                'no workers with distribution "kubeadm": kubeadm taints every control-plane node ' +
                    "node-role.kubernetes.io/control-plane:NoSchedule and no setting of KubernetesCluster removes that taint, so no app " +
                    "can be scheduled until workers join; add workers (hosts like controlPlane's), or use distribution \"k3s\", " +
                    "whose servers run apps",
            );
        }
        // The hosts' addresses (Outputs) must lie outside both networks: checked as they resolve.
        const checkAddress = (property: string, address: string) => {
            const conflict = addressConflict(address, { podCidr, serviceCidr });
            if (conflict) v.fail(property, address, `an address outside ${conflict} (pick another ${conflict.split(" ")[0]})`);
        };

        super(KUBERNETES_CLUSTER_TYPE, name, {}, opts);
        this.warnings = warnings;
        for (const w of warnings) void pulumi.log.warn(`${KUBERNETES_CLUSTER_TYPE} "${name}": ${w}`, this);
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
        // kubeadm without a load balancer: a stable name for controlPlaneEndpoint (see apiEndpoint).
        const apiName = kubeadm && apiEndpointArg === undefined ? kubeadmApiName(name) : undefined;
        // The serving certificate: the endpoint (and the stable name) and every control-plane node's addresses.
        const tlsSans = pulumi
            .all([
                this.apiEndpoint,
                ...(apiName ? [pulumi.output(apiName)] : []),
                ...controlPlane.flatMap((h) => [advertise(h), pulumi.output(h.privateAddress), pulumi.output(h.publicAddress)]),
            ])
            .apply((names) => [...new Set(names.filter((n): n is string => typeof n === "string" && n !== ""))]);
        const hostLabels = (h: Host) => nodeLabelLines({ ...memberLabels.get(h), ...nodeLabels });

        if (kubeadm) {
            const built = this.kubeadmCluster(name, {
                controlPlane: controlPlane as RuntimeHost[],
                workers: workers as RuntimeHost[],
                version: version as string,
                source: source as KubeadmSource,
                bundleImage,
                packagesUrl: packagesUrl as string | undefined,
                imageRepository,
                flannelImage,
                pauseImage,
                credentials,
                podCidr: podCidr.cidr,
                serviceCidr: serviceCidr.cidr,
                flannelBackend: flannelBackend as KubeadmFlannelBackend,
                nodeTaints,
                drainTimeout,
                advertise,
                hostLabels,
                tlsSans,
                apiName,
            });
            this.controlPlane = built.controlPlane;
            this.workers = built.workers;
            this.kubeconfig = built.kubeconfig;
            this.clusterToken = pulumi.secret("");
            this.capabilities = pulumi.output({ serviceVirtualIp: true, routingMesh: true, loadBalancer: false });
            this.ports = flannelBackend === "vxlan" ? KUBERNETES_PORTS : KUBERNETES_PORTS.filter((p) => p.port !== 8472);
            this.knownHosts = knownHostsText([...this.controlPlane, ...this.workers]);
        this.registerOutputs({
                distribution: this.distribution,
                apiEndpoint: this.apiEndpoint,
                kubeconfig: this.kubeconfig,
                capabilities: this.capabilities,
                ports: this.ports,
                advertisedAddresses: this.advertisedAddresses,
            });
            return;
        }

        // The server a node joins: the first listed server other than itself (none for a single
        // server: it is the one that ran cluster-init). Once the node is in the cluster k3s does not
        // need it, so its change (the first server removed) restarts nothing (k3s-common.sh).
        const joinTarget = (h: Host): Host | undefined => controlPlane.find((m) => m !== h);
        // config.yaml of a node (the token goes to a root-only file, added by the script).
        const config = (h: Host, role: "server" | "agent", bootstrap: boolean): pulumi.Output<string> => {
            const target = bootstrap ? undefined : joinTarget(h);
            return pulumi.all([advertise(h), hostLabels(h), tlsSans, target ? advertise(target) : pulumi.output("")]).apply(([address, labels, sans, url]) => {
                const lines = [`node-name: ${q(h.name)}`, `node-ip: ${q(address)}`];
                if (url !== "") lines.push(`server: ${q(`https://${url}:6443`)}`);
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
        };
        const common = (h: Host, role: "server" | "agent", bootstrap: boolean): Record<string, pulumi.Input<string>> => ({
            ROLE: role,
            VERSION: version,
            SOURCE: source,
            ...(source === "airgap" ? { AIRGAP_BINARY: airgapBinary, AIRGAP_IMAGES: airgapImages } : {}),
            NODE_NAME: h.name,
            CONFIG: config(h, role, bootstrap),
            READY_TIMEOUT: "300",
        });

        // The cluster: cluster-init on the first listed server that answers, unless a server of the
        // cluster is there already (it adopts the cluster) or answers elsewhere (refused). Deleting
        // it removes nothing: every server (the first too) has its own join resource.
        const init = new RemoteScript(
            `${name}-init`,
            {
                connection: first.connection,
                alternates: controlPlane.slice(1).map((m) => m.connection),
                script: bundledScript("cluster", "k3s-init.sh"),
                environment: {
                    ...common(first, "server", true),
                    OTHER_SERVERS: pulumi.all(controlPlane.slice(1).map((m) => advertise(m))).apply((a) => a.map((x) => `${x}:6443`).join(" ")),
                },
                ...(clusterTokenArg ? { secretEnvironment: { CLUSTER_TOKEN: clusterTokenArg } } : {}),
                target: `the k3s cluster (cluster-init or adopt, on its first server that answers, ${first.name} first)`,
                // A single server re-created is a new cluster; with more, the cluster outlives any one.
                triggers: controlPlane.length === 1 ? [first.instanceId] : [],
                timeoutSeconds: 900,
            },
            { parent: this, dependsOn: controlPlane.flatMap((m) => m.ready), additionalSecretOutputs: ["result"] },
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
        // Every node joins, the servers too (the one that ran cluster-init is a member already: a
        // no-op), so none of them is special when the list changes.
        const join = (host: Host, role: "server" | "agent") =>
            new RemoteScript(
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
        const serverJoins = controlPlane.map((h) => join(h, "server"));
        const agentJoins = workers.map((h) => join(h, "agent"));
        // Server node resources one after the other (a removal checks the etcd quorum left).
        let previousNode: pulumi.Resource | undefined;
        const member = (host: Host, role: "server" | "agent", joined: RemoteScript): RuntimeHost => {
            // Run by a server that answers, never the node itself unless it is the only server; after
            // every server joined (any of them may run it).
            const others = controlPlane.filter((m) => m !== host);
            const runners = others.length > 0 ? others : [host];
            const node = new RemoteScript(
                `${name}-node-${host.name}`,
                {
                    connection: runners[0].connection,
                    alternates: nodeAlternates(runners),
                    script: nodeScript,
                    environment: {
                        NODE_NAME: host.name,
                        ROLE: role,
                        LABELS: hostLabels(host),
                        TAINTS: nodeTaints.join("\n"),
                        DRAIN_TIMEOUT: String(drainTimeout),
                    },
                    target: `k3s node ${host.name}`,
                    triggers: [host.instanceId],
                    timeoutSeconds: drainTimeout + 180,
                },
                { parent: this, dependsOn: [joined, ...serverJoins, ...(role === "server" && previousNode ? [previousNode] : [])] },
            );
            if (role === "server") previousNode = node;
            const cgroupDriver = joined.result.apply((r) => (JSON.parse(r) as { cgroupDriver: CgroupDriver }).cgroupDriver);
            const runtime: RuntimeInfo = { kind: "containerd", criSocket: K3S_CRI_SOCKET, cgroupDriver, liveRestore: false, swarmReady: false };
            return { ...host, runtime, ready: [node] };
        };
        this.controlPlane = controlPlane.map((h, i) => member(h, "server", serverJoins[i]));
        this.workers = workers.map((h, i) => member(h, "agent", agentJoins[i]));
        // Deleted first when the whole cluster goes (it depends on every node): marks the teardown
        // so the node deletes skip drains and Node deletes (a server already out of etcd could not
        // run the next one); each machine uninstalls k3s with its join.
        new RemoteScript(
            `${name}-teardown`,
            {
                connection: controlPlane[0].connection,
                alternates: controlPlane.slice(1).map((m) => m.connection),
                script: bundledScript("cluster", "kubernetes-teardown.sh"),
                environment: { DISTRIBUTION: "k3s" },
                target: `the k3s cluster's removal (on its first server that answers, ${controlPlane[0].name} first)`,
                timeoutSeconds: 240,
            },
            { parent: this, dependsOn: [...this.controlPlane, ...this.workers].flatMap((m) => m.ready), deleteBeforeReplace: true },
        );

        this.knownHosts = knownHostsText([...this.controlPlane, ...this.workers]);
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
    /**
     * The kubeadm cluster's resources (validated settings only). No control-plane node is special
     * once the cluster exists: each one (the first too) has a token, a join and a node resource
     * named after it, so a list that changes order or loses its first node changes nothing else;
     * the init resource is about the cluster (it runs on the first listed control-plane node that
     * answers, adopting a cluster that node is in) and removes nothing when deleted.
     */
    private kubeadmCluster(name: string, k: KubeadmPlan): { controlPlane: RuntimeHost[]; workers: RuntimeHost[]; kubeconfig: pulumi.Output<string> } {
        const first = k.controlPlane[0];
        const endpoint = k.apiName ? pulumi.output(`${k.apiName}:${KUBEADM_API_PORT}`) : pulumi.interpolate`${this.apiEndpoint}:${KUBEADM_API_PORT}`;
        const sandboxImage = k.pauseImage ?? pulumi.interpolate`${k.imageRepository}/pause:${KUBEADM_PAUSE_TAG}`;
        const flannelImage = k.flannelImage ?? pulumi.output(DEFAULT_FLANNEL_IMAGE);
        const creds = pulumi.all(k.credentials.map((c) => pulumi.all([c.registry, c.username, c.password])));
        const plainCreds = creds.apply((cs) => cs.map(([registry, username, password]) => ({ registry, username, password })));
        // containerd's CRI section holds the credentials: secret whenever there are any.
        const criConfig = pulumi.secret(
            pulumi.all([sandboxImage, plainCreds]).apply(([image, cs]) => kubeadmCriConfig(image, CNI_BIN_DIRS[k.source], cs)),
        );
        const secrets = (extra: Record<string, pulumi.Input<string>>): Record<string, pulumi.Input<string>> => {
            const env: Record<string, pulumi.Input<string>> = { CRI_CONFIG: criConfig, ...extra };
            if (k.source === "bundle" && k.bundleImage) {
                env.BUNDLE_AUTH = pulumi.secret(pulumi.all([k.bundleImage, plainCreds]).apply(([image, cs]) => bundleAuth(image, cs)));
            }
            return env;
        };
        const common = (h: RuntimeHost): Record<string, pulumi.Input<string>> => ({
            VERSION: k.version,
            SOURCE: k.source,
            ...(k.source === "bundle" ? { BUNDLE_IMAGE: k.bundleImage as pulumi.Output<string> } : {}),
            ...(k.packagesUrl ? { PACKAGES_URL: k.packagesUrl } : {}),
            CNI: k.flannelBackend === "none" ? "none" : "flannel",
            GUARD_CIDRS: `${k.serviceCidr} ${k.podCidr}`,
            NODE_NAME: h.name,
            NODE_IP: k.advertise(h),
            ...(k.apiName ? { API_NAME: k.apiName } : {}),
            READY_TIMEOUT: "300",
        });
        const settings = pulumi.all([endpoint, k.imageRepository, k.tlsSans]).apply(([e, repo, sans]) => ({
            clusterName: name,
            version: k.version,
            controlPlaneEndpoint: e,
            imageRepository: repo,
            podCidr: k.podCidr,
            serviceCidr: k.serviceCidr,
            certSans: sans,
        }));
        const cniManifest =
            k.flannelBackend === "none" ? pulumi.output("") : flannelImage.apply((image) => flannelManifest(image, k.podCidr, k.flannelBackend as "vxlan" | "host-gw"));
        // Any control-plane node, the first listed first.
        const anyControlPlane = { connection: first.connection, alternates: k.controlPlane.slice(1).map((m) => m.connection) };

        const init = new RemoteScript(
            `${name}-init`,
            {
                ...anyControlPlane,
                script: bundledScript("cluster", "kubeadm-init.sh"),
                environment: {
                    ...common(first),
                    CONFIG: pulumi.all([k.advertise(first), settings]).apply(([address, c]) => kubeadmInitConfig({ name: first.name, address }, c)),
                    CNI_MANIFEST: cniManifest,
                    // Where else the cluster may already run (an API server there: never init again).
                    OTHER_APIS: pulumi.all(k.controlPlane.slice(1).map((m) => k.advertise(m))).apply((a) => a.map((x) => `${x}:${KUBEADM_API_PORT}`).join(" ")),
                },
                secretEnvironment: secrets({}),
                target: `the kubeadm cluster (init or adopt, on its first control-plane node that answers, ${first.name} first)`,
                // A single control-plane node re-created is a new cluster; with more, the cluster outlives any one.
                triggers: k.controlPlane.length === 1 ? [first.instanceId] : [],
                timeoutSeconds: 1500,
            },
            { parent: this, dependsOn: k.controlPlane.flatMap((m) => m.ready), additionalSecretOutputs: ["result"] },
        );
        const initResult = init.result.apply((r) => JSON.parse(r) as { kubeconfig: string; caCertHash: string; cgroupDriver: CgroupDriver });
        const kubeconfig = pulumi.secret(
            pulumi.all([initResult, this.apiEndpoint]).apply(([r, e]) => rewriteKubeconfigServer(r.kubeconfig, `https://${e}:${KUBEADM_API_PORT}`)),
        );

        const tokenScript = bundledScript("cluster", "kubeadm-token.sh");
        const joinScript = bundledScript("cluster", "kubeadm-join.sh");
        const nodeScript = bundledScript("cluster", "kubeadm-node.sh");
        // Control-plane nodes join one after the other (each adds an etcd member; etcd takes one
        // learner at a time); workers join in parallel after init.
        let previousControlPlane: pulumi.Resource = init;
        const controlPlaneJoins: pulumi.Resource[] = [];
        const join = (host: RuntimeHost, role: "control-plane" | "worker"): RemoteScript => {
            // Join secrets made on a control-plane node: the first listed one (itself, when it is the
            // first: the node that ran init joins too, a no-op), else any other that answers.
            const others = k.controlPlane.filter((m) => m !== host);
            const runners = host === first ? [host, ...others] : others;
            const token = new RemoteScript(
                `${name}-token-${host.name}`,
                {
                    connection: runners[0].connection,
                    alternates: runners.slice(1).map((m) => m.connection),
                    script: tokenScript,
                    environment: { ROLE: role, NODE_NAME: host.name },
                    target: `kubeadm join secrets for ${host.name}`,
                    triggers: [host.instanceId],
                    timeoutSeconds: 300,
                },
                // A control-plane node's certificate key is made right before its join: each upload
                // replaces the previous key.
                { parent: this, dependsOn: [init, ...(role === "control-plane" ? [previousControlPlane] : [])], additionalSecretOutputs: ["result"] },
            );
            // The address the node's API name points at (see apiEndpoint): its own on a control-plane
            // node, the first listed control-plane node's on a worker.
            const apiAddress: Record<string, pulumi.Input<string>> = k.apiName ? { API_ADDRESS: k.advertise(role === "control-plane" ? host : first) } : {};
            const joined = new RemoteScript(
                `${name}-join-${host.name}`,
                {
                    connection: host.connection,
                    script: joinScript,
                    environment: {
                        ...common(host),
                        ...apiAddress,
                        CONFIG: k.advertise(host).apply((address) => kubeadmJoinConfig({ name: host.name, address }, role === "control-plane")),
                    },
                    secretEnvironment: secrets({ JOIN: token.result }),
                    target: `kubeadm join of ${host.name} as ${role === "control-plane" ? "a control-plane node" : "a worker"}`,
                    triggers: [host.instanceId],
                    timeoutSeconds: 1500,
                    // A vanished machine is forgotten quickly (its node was removed by the node resource).
                    deleteConnectTimeoutSeconds: 30,
                },
                {
                    parent: this,
                    // A worker's API name points at the first control-plane node: after that one joined.
                    dependsOn: [...host.ready, init, token, ...(role === "control-plane" ? [previousControlPlane] : controlPlaneJoins.slice(0, 1))],
                },
            );
            if (role === "control-plane") {
                previousControlPlane = joined;
                controlPlaneJoins.push(joined);
            }
            return joined;
        };
        const cpJoins = k.controlPlane.map((h) => join(h, "control-plane"));
        const workerJoins = k.workers.map((h) => join(h, "worker"));
        // Control-plane node resources one after the other (a removal checks the etcd quorum left:
        // removals in parallel would each count the others as still there).
        let previousNode: pulumi.Resource | undefined;
        const member = (host: RuntimeHost, role: "control-plane" | "worker", joined: RemoteScript): RuntimeHost => {
            // Run on a control-plane node that answers, never the node itself (it may be the one
            // leaving) unless it is the only one; after every control-plane node joined (any may run it).
            const others = k.controlPlane.filter((m) => m !== host);
            const runners = others.length > 0 ? others : [host];
            const node = new RemoteScript(
                `${name}-node-${host.name}`,
                {
                    connection: runners[0].connection,
                    alternates: nodeAlternates(runners),
                    script: nodeScript,
                    environment: {
                        NODE_NAME: host.name,
                        ROLE: role,
                        LABELS: k.hostLabels(host),
                        TAINTS: k.nodeTaints.join("\n"),
                        DRAIN_TIMEOUT: String(k.drainTimeout),
                    },
                    target: `kubeadm node ${host.name}`,
                    triggers: [host.instanceId],
                    timeoutSeconds: k.drainTimeout + 180,
                },
                { parent: this, dependsOn: [joined, ...cpJoins, ...(role === "control-plane" && previousNode ? [previousNode] : [])] },
            );
            if (role === "control-plane") previousNode = node;
            const cgroupDriver = joined.result.apply((r) => (JSON.parse(r) as { cgroupDriver: CgroupDriver }).cgroupDriver);
            const runtime: RuntimeInfo = { ...host.runtime, kind: "containerd", criSocket: CONTAINERD_CRI_SOCKET, cgroupDriver, liveRestore: false, swarmReady: false };
            return { ...host, runtime, ready: [node] };
        };
        const controlPlaneMembers = k.controlPlane.map((h, i) => member(h, "control-plane", cpJoins[i]));
        const workerMembers = k.workers.map((h, i) => member(h, "worker", workerJoins[i]));
        // Deleted first when the whole cluster goes (it depends on every node): marks the teardown
        // so the node deletes skip drains, Node deletes and etcd member removals (a control-plane
        // node already out of etcd could not run the next one); each machine resets with its join.
        new RemoteScript(
            `${name}-teardown`,
            {
                ...anyControlPlane,
                script: bundledScript("cluster", "kubernetes-teardown.sh"),
                environment: { DISTRIBUTION: "kubeadm" },
                target: `the kubeadm cluster's removal (on its first control-plane node that answers, ${first.name} first)`,
                timeoutSeconds: 240,
            },
            {
                parent: this,
                dependsOn: [...controlPlaneMembers, ...workerMembers].flatMap((m) => m.ready),
                // Replaced (a single control-plane node re-created): the old mark is written, then removed.
                deleteBeforeReplace: true,
            },
        );
        return { controlPlane: controlPlaneMembers, workers: workerMembers, kubeconfig };
    }
}

/**
 * The alternates of a node resource: the runners after the first, or the only runner again. Never
 * empty, so the resource is always a cluster script for the RemoteScript provider: another runner
 * (e.g. the control plane shrinking to the node itself, or growing from it) is an update. A
 * replace would run the old copy's delete, which removes the node from the cluster.
 */
function nodeAlternates(runners: Host[]): SshConnection[] {
    return (runners.length > 1 ? runners.slice(1) : runners).map((m) => m.connection);
}

/**
 * The name kubeadm's `controlPlaneEndpoint` gets when no `apiEndpoint` is given:
 * `flotilla-api.<cluster name as a DNS label>.internal`. Every node resolves it through a line in
 * its `/etc/hosts` that flotilla manages (see {@link KubernetesClusterArgs.apiEndpoint}), so it
 * survives any one control-plane node, unlike an address baked into every kubelet's kubeconfig.
 */
export function kubeadmApiName(clusterName: string): string {
    const label = clusterName.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+/, "").slice(0, 63).replace(/-+$/, "");
    return `flotilla-api.${label || "cluster"}.internal`;
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
