import * as pulumi from "@pulumi/pulumi";
import { ClusterCapabilities, ClusterPort, IKubernetesCluster, KUBERNETES_PORTS } from "../../core/cluster";
import { Host, RuntimeHost } from "../../core/host";
import { knownHostsText } from "../../core/known-hosts";
import { Reason, Validator } from "../../core/validate";
import { bundledScript } from "../../shared/scripts";
import {
    K3S_COMPONENTS,
    K3S_CRI_SOCKET,
    K3S_DEFAULT_POD_CIDR,
    K3S_DEFAULT_SERVICE_CIDR,
    K3S_FLANNEL_BACKENDS,
    K3S_SOURCES,
    K3S_VERSION,
    K3S_WIREGUARD_PORTS,
    K3sComponent,
    K3sFlannelBackend,
    K3sSource,
    k3sConfig,
} from "./k3s-config";
import { DistributionRules, KubernetesClusterBaseArgs, checkMembers, checkNetworkAndNodes, runtimeOf, takeLegacyNaming } from "./kubernetes-cluster-base";
import { clusterAddresses, clusterInit, clusterNodes, clusterTeardown, joinNode, rewriteKubeconfigServer } from "./node-lifecycle";

/** Type token of {@link K3sCluster}. */
export const K3S_CLUSTER_TYPE = "flotilla:cluster:K3sCluster";
/** The type token a k3s cluster had before flotilla 0.2 (`KubernetesCluster`), kept as an alias. */
const OLD_TYPE = "flotilla:cluster:KubernetesCluster";

/** Arguments of {@link K3sCluster}. */
export interface K3sClusterArgs extends KubernetesClusterBaseArgs {
    /**
     * Control-plane hosts (k3s servers): plain hosts from a pool, WITHOUT a container runtime (a
     * `DockerEngine`'s or `Containerd`'s hosts are refused: k3s brings its own containerd). 1, 3
     * or 5; see {@link KubernetesClusterBaseArgs.controlPlane}.
     */
    readonly controlPlane: Host[];
    /**
     * Agents: plain hosts like `controlPlane`'s, 0 or more.
     * @default none.
     */
    readonly workers?: Host[];
    /** The pinned k3s release, e.g. `v1.33.5+k3s1`. */
    readonly version: string;
    /**
     * Where k3s comes from: `installer`, the official `https://get.k3s.io` script with
     * `INSTALL_K3S_VERSION` (the hosts reach the internet: the clouds' path); `airgap`, the binary
     * and the images tarball from `airgapBinaryUrl` and `airgapImagesUrl`.
     * @default `installer`
     */
    readonly source?: K3sSource;
    /**
     * `source: "airgap"`: the k3s binary of `version`, an http(s) URL or an absolute path already on every host.
     * @default none: required with `source: "airgap"`, refused otherwise.
     */
    readonly airgapBinaryUrl?: string;
    /**
     * `source: "airgap"`: the images tarball (`k3s-airgap-images-<arch>.tar[.zst|.gz]`), an http(s) URL or an absolute path on every host.
     * @default none: required with `source: "airgap"`, refused otherwise.
     */
    readonly airgapImagesUrl?: string;
    /**
     * Address (or DNS name) the API server is reached at, e.g. a load balancer in front of the
     * servers, added to the serving certificate.
     * @default none, and then the `kubeconfig` and
     * {@link K3sCluster.apiEndpoint} name the first listed server's address; every node joins the
     * first listed server other than itself, and agents then keep their own list of every server
     * (k3s' client load balancer).
     */
    readonly apiEndpoint?: pulumi.Input<string>;
    /**
     * Cluster token (secret, at least 16 characters without white space).
     * @default the one k3s
     * generates on the first server, read back and kept secret.
     */
    readonly clusterToken?: pulumi.Input<string>;
    /**
     * Packaged components not to deploy (`traefik`, `servicelb`, `local-storage`, `metrics-server`, `coredns`).
     * @default none.
     */
    readonly disable?: K3sComponent[];
    /**
     * Flannel backend: `vxlan`, `host-gw`, `wireguard-native` or `none` (bring your own CNI).
     * @default `vxlan`
     */
    readonly flannelBackend?: K3sFlannelBackend;
}

/** Properties of {@link K3sClusterArgs}. */
const K3S_CLUSTER_KEYS: readonly (keyof K3sClusterArgs)[] = [
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

/** What k3s takes: plain hosts (it installs and runs its own containerd). */
const K3S_RULES: DistributionRules = {
    hostExpected: "plain hosts from a pool (k3s brings its own containerd)",
    checkHost: (v, property, h) => {
        const runtime = runtimeOf(h);
        if (runtime !== undefined) {
            v.fail(
                property,
                `host "${h.name}" with ${runtime.kind} installed`,
                "a host without a container runtime: k3s installs and runs its own containerd; pass the pool's hosts, not a runtime's",
            );
        }
    },
    podCidr: K3S_DEFAULT_POD_CIDR,
    serviceCidr: K3S_DEFAULT_SERVICE_CIDR,
    labelsViaKubelet: true,
};

/** What the first server's script prints (kept secret). */
interface InitResult {
    token: string;
    kubeconfig: string;
}

/**
 * A k3s cluster on plain hosts (k3s brings its own containerd). The first server creates the
 * cluster (`cluster-init`, embedded etcd, the API's certificate valid for the endpoint and every
 * server address); after that it is a server like the others: the cluster-wide step runs on the
 * first listed server that answers and adopts the cluster it finds there, every node (the first
 * too) has its own join and node resources, and the first server can be removed or replaced. The
 * other nodes join with the token through a root-only `token-file` (never a command line), each
 * waiting (bounded) until Ready. Every node gets a resource, run on another server, that labels and
 * taints it, and on removal cordons, drains (bounded) and deletes it before its machine leaves;
 * removing a server is refused when the etcd members left Ready would be no quorum.
 *
 * Tested under mocks only: no k3s binary can be had where flotilla is developed.
 */
export class K3sCluster extends pulumi.ComponentResource implements IKubernetesCluster {
    /** Always `kubernetes`. */
    public readonly orchestrator = "kubernetes" as const;
    /** Always `k3s`. */
    public readonly distribution = "k3s" as const;
    /** What the cluster supports: a ClusterIP VIP, NodePorts, and LoadBalancer Services when servicelb runs. */
    public readonly capabilities: pulumi.Output<ClusterCapabilities>;
    /** Ports the nodes reach on each other (the WireGuard ones too with `wireguard-native`). */
    public readonly ports: readonly ClusterPort[];
    /** The servers (runtime: k3s' containerd), `ready` when Ready, labelled and tainted. */
    public readonly controlPlane: RuntimeHost[];
    /** The agents, `ready` when Ready, labelled and tainted. */
    public readonly workers: RuntimeHost[];
    /** Admin kubeconfig (of the server the cluster-wide step ran on), its `server:` rewritten to `https://<apiEndpoint>:6443`. Secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** What is accepted but will not work as one may expect; each is also logged as a warning. None so far. */
    public readonly warnings: readonly string[];
    /**
     * known_hosts lines of the nodes, one per address (the pools' `sshConfig` snippets name the file
     * to keep them in). Not kept in the state.
     */
    public readonly knownHosts: pulumi.Output<string>;
    /** The address clients reach the API server at: `apiEndpoint` given, else the first listed server's address. */
    public readonly apiEndpoint: pulumi.Output<string>;
    /** The cluster token (the one given, else the one k3s generated). Secret. */
    public readonly clusterToken: pulumi.Output<string>;
    /** The address each node advertises (`node-ip`), by host name. */
    public readonly advertisedAddresses: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const legacy = takeLegacyNaming();
        const v: Validator = new Validator(legacy?.token ?? K3S_CLUSTER_TYPE, name);
        v.args(args, [...(legacy?.extraKeys ?? []), ...K3S_CLUSTER_KEYS], legacy ? "KubernetesClusterArgs" : "K3sClusterArgs");
        const members = checkMembers<Host>(v, args, K3S_RULES);
        const version = v.plain("version", args.version);
        if (typeof version !== "string" || !K3S_VERSION.test(version)) {
            v.fail("version", version, "a pinned k3s release like v1.33.5+k3s1 (see github.com/k3s-io/k3s/releases)");
        }
        const source = v.oneOf("source", args.source ?? "installer", K3S_SOURCES);
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
        const airgapBinary = artefact("airgapBinaryUrl");
        const airgapImages = artefact("airgapImagesUrl");
        const checked = checkNetworkAndNodes(v, args, members, K3S_RULES);
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
        const disable = v.list("disable", args.disable, "a list of k3s components").map((c, i) => v.oneOf(`disable[${i}]`, c, K3S_COMPONENTS));
        const flannelBackend = v.oneOf("flannelBackend", args.flannelBackend ?? "vxlan", K3S_FLANNEL_BACKENDS);

        super(K3S_CLUSTER_TYPE, name, {}, { ...opts, aliases: [{ type: OLD_TYPE }, ...(opts?.aliases ?? [])] });
        this.warnings = [];
        const { controlPlane, workers } = members;
        const first = controlPlane[0];
        const a = clusterAddresses(v, controlPlane, workers, checked, []);
        this.advertisedAddresses = a.advertisedAddresses;
        this.apiEndpoint = a.apiEndpoint;

        // The server a node joins: the first listed server other than itself (none for a single
        // server: it is the one that ran cluster-init). Once the node is in the cluster k3s does not
        // need it, so its change (the first server removed) restarts nothing (k3s-common.sh).
        const joinTarget = (h: Host): Host | undefined => controlPlane.find((m) => m !== h);
        const settings = { podCidr: checked.podCidr.cidr, serviceCidr: checked.serviceCidr.cidr, flannelBackend, disable };
        const config = (h: Host, role: "server" | "agent", bootstrap: boolean): pulumi.Output<string> => {
            const target = bootstrap ? undefined : joinTarget(h);
            return pulumi
                .all([a.advertise(h), a.hostLabels(h), a.tlsSans, target ? a.advertise(target) : pulumi.output("")])
                .apply(([address, labels, tlsSans, joinAddress]) =>
                    k3sConfig({ name: h.name, role, bootstrap, address, joinAddress, labels, taints: checked.nodeTaints }, { ...settings, tlsSans }),
                );
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
        const init = clusterInit(this, name, controlPlane, {
            script: bundledScript("cluster", "k3s-init.sh"),
            environment: {
                ...common(first, "server", true),
                OTHER_SERVERS: pulumi.all(controlPlane.slice(1).map((m) => a.advertise(m))).apply((x) => x.map((s) => `${s}:6443`).join(" ")),
            },
            ...(clusterTokenArg ? { secretEnvironment: { CLUSTER_TOKEN: clusterTokenArg } } : {}),
            target: `the k3s cluster (cluster-init or adopt, on its first server that answers, ${first.name} first)`,
            timeoutSeconds: 900,
        });
        const initResult = init.result.apply((r) => JSON.parse(r) as InitResult);
        this.clusterToken = pulumi.secret(clusterTokenArg ?? initResult.apply((r) => r.token));
        this.kubeconfig = pulumi.secret(
            pulumi.all([initResult, this.apiEndpoint]).apply(([r, endpoint]) => rewriteKubeconfigServer(r.kubeconfig, `https://${endpoint}:6443`)),
        );
        const servicelb = !disable.includes("servicelb");
        this.capabilities = pulumi.output({ serviceVirtualIp: true, routingMesh: true, loadBalancer: servicelb });
        this.ports = flannelBackend === "wireguard-native" ? [...KUBERNETES_PORTS, ...K3S_WIREGUARD_PORTS] : KUBERNETES_PORTS;

        // Every node joins, the servers too (the one that ran cluster-init is a member already: a
        // no-op), so none of them is special when the list changes.
        const joinScript = bundledScript("cluster", "k3s-join.sh");
        const join = (host: Host, role: "server" | "agent") =>
            joinNode(
                this,
                name,
                host,
                {
                    script: joinScript,
                    environment: common(host, role, false),
                    secretEnvironment: { CLUSTER_TOKEN: this.clusterToken },
                    target: `k3s join of ${host.name} as ${role === "server" ? "a server" : "an agent"}`,
                    timeoutSeconds: 900,
                },
                [init],
            );
        const nodes = clusterNodes(
            this,
            name,
            { controlPlane, workers, controlPlaneJoins: controlPlane.map((h) => join(h, "server")), workerJoins: workers.map((h) => join(h, "agent")) },
            {
                distribution: "k3s",
                script: bundledScript("cluster", "k3s-node.sh"),
                roles: ["server", "agent"],
                hostLabels: a.hostLabels,
                nodeTaints: checked.nodeTaints,
                drainTimeout: checked.drainTimeout,
                runtime: (_host, cgroupDriver) => ({ kind: "containerd", criSocket: K3S_CRI_SOCKET, cgroupDriver, liveRestore: false, swarmReady: false }),
            },
        );
        this.controlPlane = nodes.controlPlane;
        this.workers = nodes.workers;
        // Each machine uninstalls k3s with its join.
        clusterTeardown(
            this,
            name,
            "k3s",
            controlPlane,
            [...this.controlPlane, ...this.workers],
            `the k3s cluster's removal (on its first server that answers, ${first.name} first)`,
            bundledScript("cluster", "kubernetes-teardown.sh"),
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
}
