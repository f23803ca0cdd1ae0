import * as pulumi from "@pulumi/pulumi";
import { ClusterCapabilities, ClusterPort, IKubernetesCluster, KUBERNETES_PORTS } from "../../core/cluster";
import { CgroupDriver, RuntimeHost } from "../../core/host";
import { knownHostsText } from "../../core/known-hosts";
import { RegistryCredential, checkRegistryCredentials } from "../../core/registry-credential";
import { Reason, Validator } from "../../core/validate";
import { RemoteScript } from "../../shared/remote-script";
import { bundledScript } from "../../shared/scripts";
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
    kubeadmApiName,
    kubeadmCriConfig,
    kubeadmInitConfig,
    kubeadmJoinConfig,
} from "./kubeadm-config";
import { DistributionRules, KubernetesClusterBaseArgs, checkMembers, checkNetworkAndNodes, runtimeOf, takeLegacyNaming } from "./kubernetes-cluster-base";
import { clusterAddresses, clusterInit, clusterNodes, clusterTeardown, joinNode, rewriteKubeconfigServer } from "./node-lifecycle";

/** Type token of {@link KubeadmCluster}. */
export const KUBEADM_CLUSTER_TYPE = "flotilla:cluster:KubeadmCluster";
/** The type token a kubeadm cluster had before flotilla 0.2 (`KubernetesCluster`), kept as an alias. */
const OLD_TYPE = "flotilla:cluster:KubernetesCluster";

/** Arguments of {@link KubeadmCluster}. */
export interface KubeadmClusterArgs extends KubernetesClusterBaseArgs {
    /**
     * Control-plane nodes (stacked etcd): hosts whose runtime serves CRI (reports a CRI socket,
     * e.g. a `Containerd`'s `hosts`: kubeadm runs the kubelet on that runtime). 1, 3 or 5; see
     * {@link KubernetesClusterBaseArgs.controlPlane}.
     */
    readonly controlPlane: RuntimeHost[];
    /**
     * Workers: hosts like `controlPlane`'s, 0 or more (none: see {@link KubeadmCluster.warnings}).
     * @default none.
     */
    readonly workers?: RuntimeHost[];
    /** The pinned upstream Kubernetes release, e.g. `v1.37.2` (1.31 or later). */
    readonly version: string;
    /**
     * Where Kubernetes comes from: `packages`, upstream's apt repository pkgs.k8s.io,
     * kubelet/kubeadm/kubectl pinned to `version` and held (the clouds' path); `bundle`
     * (air-gapped), the three binaries from `bundleImage` in a private registry, the control-plane
     * and CNI images from `imageRepository` (see `registryCredentials`).
     * @default `packages`
     */
    readonly source?: KubeadmSource;
    /**
     * `source: "bundle"`: the node bundle image `host[:port]/path:tag`, a FROM-scratch image with
     * `/kubeadm`, `/kubelet`, `/kubectl` at its root (scripts/kubernetes-build.sh makes one).
     * Fetched over the registry's v2 API, with the credentials of its registry from
     * `registryCredentials`; over plain HTTP when the runtime layer lists the registry as insecure.
     * @default none: required with `source: "bundle"`, refused otherwise.
     */
    readonly bundleImage?: pulumi.Input<string>;
    /**
     * `source: "packages"`: base URL of upstream's apt repository.
     * @default `https://pkgs.k8s.io/core:/stable:`.
     */
    readonly packagesUrl?: string;
    /**
     * Where the control-plane images (kube-apiserver, etcd, coredns, pause, ...) come from,
     * `host[:port][/path]`.
     * @default `registry.k8s.io`.
     */
    readonly imageRepository?: pulumi.Input<string>;
    /**
     * Credentials of private registries (the image repository, the bundle's, workload images),
     * written into containerd's CRI configuration (root-only) on every node, never on a command
     * line.
     * @default none.
     */
    readonly registryCredentials?: RegistryCredential[];
    /**
     * The flannel image.
     * @default `ghcr.io/flannel-io/flannel:v0.28.10` (upstream's).
     */
    readonly flannelImage?: pulumi.Input<string>;
    /**
     * The pod sandbox image.
     * @default `<imageRepository>/pause:3.10.2` (kubeadm 1.37's).
     */
    readonly pauseImage?: pulumi.Input<string>;
    /**
     * Address (or DNS name) the API server is reached at, e.g. a load balancer in front of the
     * control plane: kubeadm's `controlPlaneEndpoint`, in the serving certificate.
     * @default none,
     * and then
     * - the `kubeconfig` output and {@link KubeadmCluster.apiEndpoint} name the first listed
     *   control-plane node's address (it changes when that node leaves);
     * - `controlPlaneEndpoint` (what every node's kubelet, kube-proxy and admin kubeconfig reach
     *   the API at) is a stable name instead of the first node's address,
     *   `flotilla-api.<cluster name>.internal` (`kubeadmApiName`; `.internal` is reserved for
     *   private use), in the API server's certificate. Every node resolves it through a line
     *   flotilla manages in its `/etc/hosts` (restored at boot by a oneshot unit, and copied into
     *   the host-network pods' hosts files): on a control-plane node its own address, on a worker
     *   the first listed control-plane node's. When that node leaves, the workers' lines are
     *   rewritten (their join resources are updated) before its removal runs (removals come last
     *   in an `up`), so the cluster outlives its first node. The trade-off, without a load
     *   balancer: a worker follows ONE control-plane node; if that node fails, the worker's
     *   kubelet loses the API until the next `up` lists the nodes differently (failover at the
     *   next `up`, not at once). Give a load balancer here for failover without an `up`.
     */
    readonly apiEndpoint?: pulumi.Input<string>;
    /**
     * Flannel backend: `vxlan`, `host-gw` or `none` (bring your own CNI).
     * @default `vxlan`
     */
    readonly flannelBackend?: KubeadmFlannelBackend;
}

/** Properties of {@link KubeadmClusterArgs}. */
const KUBEADM_CLUSTER_KEYS: readonly (keyof KubeadmClusterArgs)[] = [
    "controlPlane",
    "workers",
    "version",
    "source",
    "podCidr",
    "serviceCidr",
    "apiEndpoint",
    "nodeLabels",
    "nodeTaints",
    "flannelBackend",
    "drainTimeoutSeconds",
    "bundleImage",
    "packagesUrl",
    "imageRepository",
    "registryCredentials",
    "flannelImage",
    "pauseImage",
];

/** A registry reference prefix `host[:port]` or `host[:port]/path`. */
const REPOSITORY = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
/** An image reference with a registry host and a tag: `host[:port]/path:tag`. */
const REGISTRY_IMAGE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** What kubeadm takes: hosts whose runtime serves CRI (the kubelet runs on it). */
const KUBEADM_RULES: DistributionRules = {
    hostExpected: "hosts with containerd from the runtime layer (a Containerd's `hosts`)",
    checkHost: (v, property, h) => {
        const runtime = runtimeOf(h);
        if (runtime === undefined || typeof runtime.criSocket !== "string" || runtime.criSocket === "") {
            v.fail(
                property,
                runtime === undefined ? `host "${h.name}" without a runtime` : `host "${h.name}" with ${runtime.kind} (${runtime.criSocket || "no CRI socket"})`,
                "a host with containerd from the runtime layer: pass a Containerd's `hosts` (kubeadm runs the kubelet on that containerd)",
            );
        }
    },
    podCidr: KUBEADM_DEFAULT_POD_CIDR,
    serviceCidr: KUBEADM_DEFAULT_SERVICE_CIDR,
    labelsViaKubelet: false,
};

/**
 * Upstream Kubernetes with kubeadm on hosts whose runtime serves CRI (a `Containerd`'s `hosts`).
 * The first control-plane node creates the cluster (`kubeadm init`, stacked etcd, the API's
 * certificate valid for the endpoint and every control-plane address); after that it is a
 * control-plane node like the others: the cluster-wide step runs on the first listed control-plane
 * node that answers and adopts the cluster it finds there, and no control-plane node is special:
 * each one (the first too) has a token, a join and a node resource named after it, so a list that
 * changes order or loses its first node changes nothing else (see
 * {@link KubeadmClusterArgs.apiEndpoint}). The other nodes join with fresh join secrets made on any
 * control-plane node, CA-pinned, each waiting (bounded) until Ready. Every node gets a resource,
 * run on another control-plane node, that labels and taints it, and on removal cordons, drains
 * (bounded), deletes it and removes its etcd member before its machine leaves; removing a
 * control-plane node is refused when the etcd members left Ready would be no quorum.
 */
export class KubeadmCluster extends pulumi.ComponentResource implements IKubernetesCluster {
    /** Always `kubernetes`. */
    public readonly orchestrator = "kubernetes" as const;
    /** Always `kubeadm`. */
    public readonly distribution = "kubeadm" as const;
    /** What the cluster supports: a ClusterIP VIP and NodePorts, no LoadBalancer Services. */
    public readonly capabilities: pulumi.Output<ClusterCapabilities>;
    /** Ports the nodes reach on each other (flannel's VXLAN port only with `vxlan`). */
    public readonly ports: readonly ClusterPort[];
    /** The control-plane nodes (the runtime they were given, its cgroup driver as the join found it), `ready` when Ready, labelled and tainted. */
    public readonly controlPlane: RuntimeHost[];
    /** The workers, `ready` when Ready, labelled and tainted. */
    public readonly workers: RuntimeHost[];
    /** Admin kubeconfig (of the control-plane node the cluster-wide step ran on), its `server:` rewritten to `https://<apiEndpoint>:6443`. Secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /**
     * What is accepted but will not work as one may expect (e.g. a cluster without workers, where
     * no app can be scheduled); each is also logged as a warning of the engine's output.
     */
    public readonly warnings: readonly string[];
    /**
     * known_hosts lines of the nodes, one per address (the pools' `sshConfig` snippets name the file
     * to keep them in). Not kept in the state.
     */
    public readonly knownHosts: pulumi.Output<string>;
    /** The address clients reach the API server at: `apiEndpoint` given, else the first listed control-plane node's address. */
    public readonly apiEndpoint: pulumi.Output<string>;
    /** The address each node advertises (`node-ip`), by host name. */
    public readonly advertisedAddresses: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: KubeadmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const legacy = takeLegacyNaming();
        const token = legacy?.token ?? KUBEADM_CLUSTER_TYPE;
        const v: Validator = new Validator(token, name);
        v.args(args, [...(legacy?.extraKeys ?? []), ...KUBEADM_CLUSTER_KEYS], legacy ? "KubernetesClusterArgs" : "KubeadmClusterArgs");
        const members = checkMembers<RuntimeHost>(v, args, KUBEADM_RULES);
        const version = v.plain("version", args.version);
        const m = typeof version === "string" ? KUBEADM_VERSION.exec(version) : null;
        if (!m || Number(m[1]) < KUBEADM_MIN_MINOR) {
            v.fail("version", version, `a pinned upstream Kubernetes release like v1.37.2 (1.${KUBEADM_MIN_MINOR} or later)`);
        }
        const source = v.oneOf("source", args.source ?? "packages", KUBEADM_SOURCES);
        const checked = checkNetworkAndNodes(v, args, members, KUBEADM_RULES);
        const flannelBackend = v.oneOf("flannelBackend", args.flannelBackend ?? "vxlan", KUBEADM_FLANNEL_BACKENDS);
        const image = (property: string, value: pulumi.Input<string> | undefined, pattern: RegExp, expected: string) =>
            value === undefined ? undefined : v.later<string>(property, value, expected, (x) => (typeof x === "string" && pattern.test(x) ? x : new Reason()));
        const bundleImage = image("bundleImage", args.bundleImage, REGISTRY_IMAGE, "an image reference host[:port]/path:tag in a registry");
        if (source === "bundle" && bundleImage === undefined) {
            v.fail("bundleImage", undefined, 'with source "bundle", the node bundle image host[:port]/path:tag');
        }
        if (source !== "bundle" && args.bundleImage !== undefined) {
            v.fail("bundleImage", "an image", 'nothing with source "packages" (set source: "bundle" to use it)');
        }
        const packagesUrl = v.plain("packagesUrl", args.packagesUrl);
        if (packagesUrl !== undefined && (source !== "packages" || typeof packagesUrl !== "string" || !/^https?:\/\/\S+$/.test(packagesUrl))) {
            v.fail("packagesUrl", packagesUrl, 'with source "packages", the http(s) base URL of the apt repository (e.g. https://pkgs.k8s.io/core:/stable:)');
        }
        const imageRepository =
            image("imageRepository", args.imageRepository, REPOSITORY, "a registry host[:port] with an optional path, e.g. registry.k8s.io") ??
            pulumi.output(DEFAULT_IMAGE_REPOSITORY);
        const flannelImage = image("flannelImage", args.flannelImage, REGISTRY_IMAGE, "an image reference host[:port]/path:tag") ?? pulumi.output(DEFAULT_FLANNEL_IMAGE);
        const pauseImage = image("pauseImage", args.pauseImage, REGISTRY_IMAGE, "an image reference host[:port]/path:tag");
        // The passwords go into TOML and curl configuration files (quoted): printable ASCII only.
        const credentials = checkRegistryCredentials(v, "registryCredentials", args.registryCredentials).map((c, i) => ({
            ...c,
            password: v.later<string>(
                `registryCredentials[${i}].password`,
                c.password,
                "a password of printable ASCII characters",
                (x) => (typeof x === "string" && /^[\x20-\x7e]+$/.test(x) ? x : new Reason()),
                { secret: true },
            ),
        }));
        // kubeadm taints every control-plane node node-role.kubernetes.io/control-plane:NoSchedule
        // (InitConfiguration/JoinConfiguration leave nodeRegistration.taints at kubeadm's default) and
        // nothing here removes it (nodeTaints only adds taints): without workers no pod could ever be
        // scheduled but the system's own. Warned, not refused: a cluster scaled down to its control
        // plane for a while (workers 1 -> 0) is a legitimate state.
        const warnings: string[] = [];
        if (members.workers.length === 0) {
            warnings.push(
                legacy
                    ? 'no workers with distribution "kubeadm": kubeadm taints every control-plane node ' +
                          "node-role.kubernetes.io/control-plane:NoSchedule and no setting of KubernetesCluster removes that taint, so no app " +
                          "can be scheduled until workers join; add workers (hosts like controlPlane's), or use distribution \"k3s\", " +
                          "whose servers run apps"
                    : "no workers: kubeadm taints every control-plane node node-role.kubernetes.io/control-plane:NoSchedule and no " +
                          "setting of KubeadmCluster removes that taint, so no app can be scheduled until workers join; add workers " +
                          "(hosts like controlPlane's), or use a K3sCluster, whose servers run apps",
            );
        }

        super(KUBEADM_CLUSTER_TYPE, name, {}, { ...opts, aliases: [{ type: OLD_TYPE }, ...(opts?.aliases ?? [])] });
        this.warnings = warnings;
        for (const w of warnings) void pulumi.log.warn(`${token} "${name}": ${w}`, this);

        const { controlPlane, workers } = members;
        const first = controlPlane[0];
        // Without a load balancer: a stable name for controlPlaneEndpoint (see apiEndpoint).
        const apiName = checked.apiEndpoint === undefined ? kubeadmApiName(name) : undefined;
        const a = clusterAddresses(v, controlPlane, workers, checked, apiName ? [apiName] : []);
        this.advertisedAddresses = a.advertisedAddresses;
        this.apiEndpoint = a.apiEndpoint;
        const podCidr = checked.podCidr.cidr;
        const serviceCidr = checked.serviceCidr.cidr;

        const endpoint = apiName ? pulumi.output(`${apiName}:${KUBEADM_API_PORT}`) : pulumi.interpolate`${this.apiEndpoint}:${KUBEADM_API_PORT}`;
        const sandboxImage = pauseImage ?? pulumi.interpolate`${imageRepository}/pause:${KUBEADM_PAUSE_TAG}`;
        const creds = pulumi.all(credentials.map((c) => pulumi.all([c.registry, c.username, c.password])));
        const plainCreds = creds.apply((cs) => cs.map(([registry, username, password]) => ({ registry, username, password })));
        // containerd's CRI section holds the credentials: secret whenever there are any.
        const criConfig = pulumi.secret(pulumi.all([sandboxImage, plainCreds]).apply(([img, cs]) => kubeadmCriConfig(img, CNI_BIN_DIRS[source], cs)));
        const secrets = (extra: Record<string, pulumi.Input<string>>): Record<string, pulumi.Input<string>> => {
            const env: Record<string, pulumi.Input<string>> = { CRI_CONFIG: criConfig, ...extra };
            if (source === "bundle" && bundleImage) {
                env.BUNDLE_AUTH = pulumi.secret(pulumi.all([bundleImage, plainCreds]).apply(([img, cs]) => bundleAuth(img, cs)));
            }
            return env;
        };
        const common = (h: RuntimeHost): Record<string, pulumi.Input<string>> => ({
            VERSION: version,
            SOURCE: source,
            ...(source === "bundle" ? { BUNDLE_IMAGE: bundleImage as pulumi.Output<string> } : {}),
            ...(packagesUrl ? { PACKAGES_URL: packagesUrl } : {}),
            CNI: flannelBackend === "none" ? "none" : "flannel",
            GUARD_CIDRS: `${serviceCidr} ${podCidr}`,
            NODE_NAME: h.name,
            NODE_IP: a.advertise(h),
            ...(apiName ? { API_NAME: apiName } : {}),
            READY_TIMEOUT: "300",
        });
        const settings = pulumi.all([endpoint, imageRepository, a.tlsSans]).apply(([e, repo, sans]) => ({
            clusterName: name,
            version,
            controlPlaneEndpoint: e,
            imageRepository: repo,
            podCidr,
            serviceCidr,
            certSans: sans,
        }));
        const node = (h: RuntimeHost) => a.advertise(h).apply((address) => ({ name: h.name, address, criSocket: h.runtime.criSocket as string }));
        const cniManifest = flannelBackend === "none" ? pulumi.output("") : flannelImage.apply((img) => flannelManifest(img, podCidr, flannelBackend));

        // The cluster (init or adopt; deleting it removes nothing).
        const init = clusterInit(this, name, controlPlane, {
            script: bundledScript("cluster", "kubeadm-init.sh"),
            environment: {
                ...common(first),
                CONFIG: pulumi.all([node(first), settings]).apply(([n, c]) => kubeadmInitConfig(n, c)),
                CNI_MANIFEST: cniManifest,
                // Where else the cluster may already run (an API server there: never init again).
                OTHER_APIS: pulumi.all(controlPlane.slice(1).map((h) => a.advertise(h))).apply((x) => x.map((s) => `${s}:${KUBEADM_API_PORT}`).join(" ")),
            },
            secretEnvironment: secrets({}),
            target: `the kubeadm cluster (init or adopt, on its first control-plane node that answers, ${first.name} first)`,
            timeoutSeconds: 1500,
        });
        const initResult = init.result.apply((r) => JSON.parse(r) as { kubeconfig: string; caCertHash: string; cgroupDriver: CgroupDriver });
        this.kubeconfig = pulumi.secret(
            pulumi.all([initResult, this.apiEndpoint]).apply(([r, e]) => rewriteKubeconfigServer(r.kubeconfig, `https://${e}:${KUBEADM_API_PORT}`)),
        );
        this.capabilities = pulumi.output({ serviceVirtualIp: true, routingMesh: true, loadBalancer: false });
        this.ports = flannelBackend === "vxlan" ? KUBERNETES_PORTS : KUBERNETES_PORTS.filter((p) => p.port !== 8472);

        const tokenScript = bundledScript("cluster", "kubeadm-token.sh");
        const joinScript = bundledScript("cluster", "kubeadm-join.sh");
        // Control-plane nodes join one after the other (each adds an etcd member; etcd takes one
        // learner at a time); workers join in parallel after init.
        let previousControlPlane: pulumi.Resource = init;
        const controlPlaneJoins: RemoteScript[] = [];
        const join = (host: RuntimeHost, role: "control-plane" | "worker"): RemoteScript => {
            // Join secrets made on a control-plane node: the first listed one (itself, when it is the
            // first: the node that ran init joins too, a no-op), else any other that answers.
            const others = controlPlane.filter((x) => x !== host);
            const runners = host === first ? [host, ...others] : others;
            const joinSecrets = new RemoteScript(
                `${name}-token-${host.name}`,
                {
                    connection: runners[0].connection,
                    alternates: runners.slice(1).map((x) => x.connection),
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
            const apiAddress: Record<string, pulumi.Input<string>> = apiName ? { API_ADDRESS: a.advertise(role === "control-plane" ? host : first) } : {};
            const joined = joinNode(
                this,
                name,
                host,
                {
                    script: joinScript,
                    environment: { ...common(host), ...apiAddress, CONFIG: node(host).apply((n) => kubeadmJoinConfig(n, role === "control-plane")) },
                    secretEnvironment: secrets({ JOIN: joinSecrets.result }),
                    target: `kubeadm join of ${host.name} as ${role === "control-plane" ? "a control-plane node" : "a worker"}`,
                    timeoutSeconds: 1500,
                    // A vanished machine is forgotten quickly (its node was removed by the node resource).
                    deleteConnectTimeoutSeconds: 30,
                },
                // A worker's API name points at the first control-plane node: after that one joined.
                [init, joinSecrets, ...(role === "control-plane" ? [previousControlPlane] : controlPlaneJoins.slice(0, 1))],
            );
            if (role === "control-plane") {
                previousControlPlane = joined;
                controlPlaneJoins.push(joined);
            }
            return joined;
        };
        const nodes = clusterNodes(
            this,
            name,
            {
                controlPlane,
                workers,
                controlPlaneJoins: controlPlane.map((h) => join(h, "control-plane")),
                workerJoins: workers.map((h) => join(h, "worker")),
            },
            {
                distribution: "kubeadm",
                script: bundledScript("cluster", "kubeadm-node.sh"),
                roles: ["control-plane", "worker"],
                hostLabels: a.hostLabels,
                nodeTaints: checked.nodeTaints,
                drainTimeout: checked.drainTimeout,
                // The runtime the host was given (its CRI socket), with the cgroup driver its join found.
                runtime: (host, cgroupDriver) => ({ ...(host as RuntimeHost).runtime, cgroupDriver, liveRestore: false, swarmReady: false }),
            },
        );
        this.controlPlane = nodes.controlPlane;
        this.workers = nodes.workers;
        // Each machine resets with its join (kubeadm reset).
        clusterTeardown(
            this,
            name,
            "kubeadm",
            controlPlane,
            [...this.controlPlane, ...this.workers],
            `the kubeadm cluster's removal (on its first control-plane node that answers, ${first.name} first)`,
            bundledScript("cluster", "kubernetes-teardown.sh"),
        );

        this.knownHosts = knownHostsText([...this.controlPlane, ...this.workers]);
        this.registerOutputs({
            distribution: this.distribution,
            apiEndpoint: this.apiEndpoint,
            kubeconfig: this.kubeconfig,
            capabilities: this.capabilities,
            ports: this.ports,
            advertisedAddresses: this.advertisedAddresses,
        });
    }
}
