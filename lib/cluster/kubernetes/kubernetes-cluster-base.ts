/**
 * What {@link KubeadmCluster} and {@link K3sCluster} share before any resource exists: the Args
 * every distribution takes ({@link KubernetesClusterBaseArgs}) and their validation. A setting of
 * one distribution only is declared in that distribution's Args, so given to the other it is an
 * unknown property (refused with the closest known name, its value never shown).
 */
import * as pulumi from "@pulumi/pulumi";
import { checkKubernetesNodeLabels, kubernetesNodeLabelsArg } from "../node-labels";
import { Host, RuntimeHost, isHost } from "../../core/host";
import { Ipv4Subnet, overlaps, parseCidr } from "../../core/ipv4";
import { Reason, Validator, hasOwn } from "../../core/validate";

/** Control-plane node counts accepted (stacked etcd needs an odd number for a useful quorum). */
export const KUBERNETES_CONTROL_PLANE_COUNTS = [1, 3, 5] as const;
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

/** A taint `key=value:Effect` or `key:Effect` (key as a label key, value as a label value). */
const TAINT = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]{0,61}[a-zA-Z0-9])?(=[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
/** An address or DNS name the API server is reached at. */
const ENDPOINT = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** Arguments every Kubernetes distribution takes ({@link KubeadmClusterArgs}, {@link K3sClusterArgs}). */
export interface KubernetesClusterBaseArgs {
    /**
     * Control-plane hosts (k3s servers / kubeadm control-plane nodes, stacked etcd): 1, 3 or 5.
     * The first one creates the cluster; after that it is a control-plane node like the others and
     * can be removed or replaced (e.g. `[a, b, c]` → `[b, c, d]`, in one `up` or later): the
     * cluster keeps its identity (CA, etcd data), the leaving node is drained and its etcd member
     * removed like any other's, and the cluster-wide scripts run on the first listed control-plane
     * node that answers. So once the cluster exists, a node new to it must not be listed first
     * (refused loudly: a new node joins, `kubeadm init`/`cluster-init` never runs on a cluster that
     * exists). Which hosts: see the distribution's Args. Plain list: it decides which resources exist.
     */
    readonly controlPlane: Host[];
    /**
     * Worker hosts (k3s agents / kubeadm workers), 0 or more, hosts like `controlPlane`.
     * @default none.
     */
    readonly workers?: Host[];
    /** The pinned release: k3s `v1.33.5+k3s1`; kubeadm `v1.37.2` (1.31 or later). */
    readonly version: string;
    /**
     * Pod network.
     * @default `10.42.0.0/16` (k3s), `10.244.0.0/16` (kubeadm). Must not overlap
     * `serviceCidr` nor the hosts' addresses, and must hold a /24 for every node (each node's pod
     * range, a /24): prefix /24 or shorter, e.g. /22 for up to 4 nodes.
     */
    readonly podCidr?: string;
    /**
     * Service network.
     * @default `10.43.0.0/16` (k3s), `10.96.0.0/12` (kubeadm). Must not overlap
     * `podCidr` nor the hosts' addresses; at most 2^20 addresses (/12 or longer: the API server
     * refuses a larger one).
     */
    readonly serviceCidr?: string;
    /**
     * Address (or DNS name) the API server is reached at, e.g. a load balancer in front of the
     * servers; it is added to the serving certificate (and is kubeadm's `controlPlaneEndpoint`).
     * @default none, and then the `kubeconfig` output and the cluster's `apiEndpoint` name the first
     * listed control-plane node's address (it changes when that node leaves); what the nodes reach
     * the API at without it: see the distribution's Args.
     */
    readonly apiEndpoint?: pulumi.Input<string>;
    /**
     * Node labels set on every node, besides each host's own labels (a key given here wins over a
     * host's). Both are checked by Kubernetes' label rules: key `[prefix/]name` (name at most 63
     * letters, digits, '-', '_', '.', starting and ending alphanumeric; prefix a DNS subdomain of at
     * most 253), value empty or at most 63 characters of the name's alphabet (no '/'). k3s: the labels
     * reach the kubelet (`node-label`), so kubernetes.io and k8s.io labels (e.g.
     * `node-role.kubernetes.io/worker`) are refused except the kubelet's own (`kubelet.kubernetes.io/`,
     * `node.kubernetes.io/`, the well-known topology/os/arch labels); kubeadm sets them with the admin
     * credentials, so they are allowed there.
     * @default none.
     */
    readonly nodeLabels?: Record<string, string>;
    /**
     * Taints set on every node, `key=value:Effect` (NoSchedule, PreferNoSchedule, NoExecute).
     * @default none.
     */
    readonly nodeTaints?: string[];
    /**
     * Seconds the drain of a node being removed may take.
     * @default 300.
     */
    readonly drainTimeoutSeconds?: number;
}

/** What a distribution tells the shared validation. */
export interface DistributionRules {
    /** What the hosts must be, for messages ("plain hosts from a pool (...)"). */
    readonly hostExpected: string;
    /** Refuses a host the distribution cannot run on (its runtime), naming `property`. */
    readonly checkHost: (v: Validator, property: string, host: Host) => void;
    /** The default pod and Service networks. */
    readonly podCidr: string;
    readonly serviceCidr: string;
    /** The node labels reach the kubelet's `--node-labels` (k3s), which refuses some. */
    readonly labelsViaKubelet: boolean;
}

/** The validated members: control plane (1, 3 or 5) and workers, each host once, DNS-safe names. */
export interface CheckedMembers<H extends Host> {
    readonly controlPlane: H[];
    readonly workers: H[];
}

/** `controlPlane` and `workers`: lists of hosts the distribution takes ({@link DistributionRules.checkHost}). */
export function checkMembers<H extends Host>(v: Validator, args: KubernetesClusterBaseArgs, rules: DistributionRules): CheckedMembers<H> {
    const controlPlane = v.hostList<H>("controlPlane", args.controlPlane, { expected: `a list of 1, 3 or 5 ${rules.hostExpected}` });
    if (!(KUBERNETES_CONTROL_PLANE_COUNTS as readonly number[]).includes(controlPlane.length)) {
        v.fail(
            "controlPlane",
            `${controlPlane.length} hosts`,
            "1, 3 or 5 hosts: etcd keeps working while a majority of its members (a quorum) is up, so 3 tolerate 1 failure, " +
                "5 tolerate 2, and an even number tolerates no more than the odd number below it",
        );
    }
    const workers =
        args.workers === undefined ? [] : v.hostList<H>("workers", args.workers, { min: 0, expected: `a list of ${rules.hostExpected} (may be empty)` });
    const seen = new Set<string>();
    [...controlPlane, ...workers].forEach((h, i) => {
        const property = memberProperty(controlPlane.length, i);
        if (!isHost(h)) {
            v.fail(property, h, "a Host (from a host pool's `hosts`)");
        }
        rules.checkHost(v, property, h);
        v.dnsLabel(`${property}.name`, h.name);
        if (seen.has(h.name)) {
            v.fail(`${property}.name`, h.name, "each host at most once across controlPlane and workers");
        }
        seen.add(h.name);
    });
    return { controlPlane, workers };
}

/** The property of member `i` (control plane first, then workers). */
export function memberProperty(controlPlaneCount: number, i: number): string {
    return i < controlPlaneCount ? `controlPlane[${i}]` : `workers[${i - controlPlaneCount}]`;
}

/** The validated settings every distribution has besides its members. */
export interface CheckedNetworkAndNodes {
    readonly podCidr: Ipv4Subnet;
    readonly serviceCidr: Ipv4Subnet;
    /** `apiEndpoint`, checked (when it resolves, for an Output); undefined when not given. */
    readonly apiEndpoint: pulumi.Output<string> | undefined;
    /** `nodeLabels`, checked. */
    readonly nodeLabels: Record<string, string>;
    /** Each member's own labels that `nodeLabels` does not override, checked. */
    readonly memberLabels: Map<Host, Record<string, pulumi.Input<string>>>;
    readonly nodeTaints: string[];
    /** `drainTimeoutSeconds` (default 300). */
    readonly drainTimeout: number;
}

/**
 * `podCidr`, `serviceCidr` (what the API server and kube-controller-manager refuse only once the
 * machines exist is refused now), `apiEndpoint`, node labels (the cluster's and each member's own,
 * by Kubernetes' label rules), `nodeTaints`, `drainTimeoutSeconds`.
 */
export function checkNetworkAndNodes(v: Validator, args: KubernetesClusterBaseArgs, members: CheckedMembers<Host>, rules: DistributionRules): CheckedNetworkAndNodes {
    const { controlPlane, workers } = members;
    const podCidr = cidrArg(v, "podCidr", v.plain("podCidr", args.podCidr), rules.podCidr);
    const serviceCidr = cidrArg(v, "serviceCidr", v.plain("serviceCidr", args.serviceCidr), rules.serviceCidr);
    if (serviceCidr.prefix < MIN_SERVICE_CIDR_PREFIX) {
        v.fail("serviceCidr", serviceCidr.cidr, `a block of at most 2^20 addresses (/${MIN_SERVICE_CIDR_PREFIX} or longer): the API server refuses a larger Service range`);
    }
    checkPodCidr(v, podCidr, controlPlane.length + workers.length);
    if (overlaps(podCidr, serviceCidr)) {
        v.fail("serviceCidr", serviceCidr.cidr, `a block that does not overlap podCidr ${podCidr.cidr}`);
    }
    const apiEndpoint =
        args.apiEndpoint === undefined
            ? undefined
            : v.later<string>("apiEndpoint", args.apiEndpoint, "an IPv4 address or a DNS name, without scheme or port", (e) =>
                  typeof e === "string" && ENDPOINT.test(e) ? e : new Reason(),
              );
    // Kubernetes' label rules, not Swarm's. On k3s the labels reach the kubelet's --node-labels
    // (config.yaml `node-label`), which refuses most kubernetes.io/k8s.io labels; on kubeadm only
    // the node resource sets them (kubernetes-node-common.sh: `kubectl label` with the admin
    // kubeconfig, NodeRestriction does not apply), so those labels are allowed there.
    const labelRules = { viaKubelet: rules.labelsViaKubelet };
    const nodeLabels = kubernetesNodeLabelsArg(v, "nodeLabels", args.nodeLabels, labelRules);
    // Each host's own labels become node labels too (those nodeLabels does not override).
    const memberLabels = new Map<Host, Record<string, pulumi.Input<string>>>(
        [...controlPlane, ...workers].map((h, i) => {
            const own = Object.fromEntries(Object.entries({ ...h.labels }).filter(([key]) => !hasOwn(nodeLabels, key)));
            return [h, checkKubernetesNodeLabels(v, `${memberProperty(controlPlane.length, i)}.labels`, own, labelRules)];
        }),
    );
    const nodeTaints = v.list("nodeTaints", args.nodeTaints, "a list of taints key=value:Effect").map((t, i) => {
        if (typeof t !== "string" || !TAINT.test(t)) {
            v.fail(`nodeTaints[${i}]`, t, "a taint key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute");
        }
        return t;
    });
    const drainTimeout = v.integer("drainTimeoutSeconds", args.drainTimeoutSeconds ?? 300, 10, 3600);
    return { podCidr, serviceCidr, apiEndpoint, nodeLabels, memberLabels, nodeTaints, drainTimeout };
}

/** A member given to kubeadm must run a CRI runtime; to k3s, none (it brings its own). */
export function runtimeOf(h: Host): RuntimeHost["runtime"] | undefined {
    return (h as Partial<RuntimeHost>).runtime;
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

/**
 * How a cluster built through the deprecated `KubernetesCluster` names itself in its messages
 * (the token and Args the user wrote) and which extra property it accepts (`distribution`). Set
 * only while `KubernetesCluster` constructs one, read once by the class's constructor.
 */
export interface LegacyNaming {
    /** The token messages start with: `flotilla:cluster:KubernetesCluster`. */
    readonly token: string;
    /** Properties accepted besides the class's own (`distribution`). */
    readonly extraKeys: readonly string[];
}

let legacy: LegacyNaming | undefined;

/** Runs `construct` with {@link LegacyNaming} in effect for the cluster it constructs. */
export function constructAsLegacy<T>(naming: LegacyNaming, construct: () => T): T {
    legacy = naming;
    try {
        return construct();
    } finally {
        legacy = undefined;
    }
}

/** The {@link LegacyNaming} in effect (once: a cluster constructed inside gets none). */
export function takeLegacyNaming(): LegacyNaming | undefined {
    const naming = legacy;
    legacy = undefined;
    return naming;
}
