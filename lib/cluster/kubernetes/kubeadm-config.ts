/**
 * Upstream Kubernetes with kubeadm: what {@link KubeadmCluster} renders for its nodes. Pure functions: the kubeadm configuration documents, containerd's CRI
 * section for Kubernetes, flannel's manifest. Nothing here creates a resource. The values and why
 * each setting is there: docs/kubernetes-lab.md.
 */

/** A pinned upstream Kubernetes release, `v1.37.2` (or a release candidate `v1.37.0-rc.1`). */
export const KUBEADM_VERSION = /^v1\.(\d{1,3})\.\d{1,3}(-(alpha|beta|rc)\.\d{1,3})?$/;
/** Oldest minor release this renders for (kubeadm.k8s.io/v1beta4, structured kubeletExtraArgs). */
export const KUBEADM_MIN_MINOR = 31;
/** Where the binaries come from: upstream's apt repository, or the node bundle image (air-gapped). */
export const KUBEADM_SOURCES = ["packages", "bundle"] as const satisfies readonly KubeadmSource[];
/** A kubeadm source. */
export type KubeadmSource = "packages" | "bundle";
/** Flannel backends offered with kubeadm (`none`: bring your own CNI). */
export const KUBEADM_FLANNEL_BACKENDS = ["vxlan", "host-gw", "none"] as const satisfies readonly KubeadmFlannelBackend[];
/** A kubeadm flannel backend. */
export type KubeadmFlannelBackend = "vxlan" | "host-gw" | "none";
/** Default image repository of the control-plane images. */
export const DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io";
/** The pause image tag kubeadm 1.37 deploys (its `PauseVersion`). */
export const KUBEADM_PAUSE_TAG = "3.10.2";
/** The flannel release whose manifest is rendered. */
export const FLANNEL_VERSION = "v0.28.10";
/** Default flannel image (upstream's). */
export const DEFAULT_FLANNEL_IMAGE = `ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`;
/** Default pod network of a kubeadm cluster (flannel's). */
export const KUBEADM_DEFAULT_POD_CIDR = "10.244.0.0/16";
/** Default Service network of a kubeadm cluster (kubeadm's). */
export const KUBEADM_DEFAULT_SERVICE_CIDR = "10.96.0.0/12";
/** The API server port. */
export const KUBEADM_API_PORT = 6443;
/** CNI plugins: Debian's `containernetworking-plugins` (bundle) or upstream's `kubernetes-cni` (packages). */
export const CNI_BIN_DIRS: Record<KubeadmSource, string> = { bundle: "/usr/lib/cni", packages: "/opt/cni/bin" };
/** Where each node's kubeadm patches are (written by kubeadm-common.sh). */
const PATCHES_DIR = "/etc/flotilla/kubeadm-patches";

/**
 * The name kubeadm's `controlPlaneEndpoint` gets when no `apiEndpoint` is given:
 * `flotilla-api.<cluster name as a DNS label>.internal`. Every node resolves it through a line in
 * its `/etc/hosts` that flotilla manages (see `KubeadmClusterArgs.apiEndpoint`), so it survives any
 * one control-plane node, unlike an address baked into every kubelet's kubeconfig.
 */
export function kubeadmApiName(clusterName: string): string {
    const label = clusterName.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+/, "").slice(0, 63).replace(/-+$/, "");
    return `flotilla-api.${label || "cluster"}.internal`;
}

/** One YAML scalar, quoted as JSON (valid YAML). */
const q = (s: string) => JSON.stringify(s);

/** What every node's configuration needs. */
export interface KubeadmNode {
    readonly name: string;
    readonly address: string;
    /** The CRI endpoint of the node's runtime (its `RuntimeInfo.criSocket`), e.g. `unix:///run/containerd/containerd.sock`. */
    readonly criSocket: string;
}

/** The cluster-wide settings. */
export interface KubeadmClusterSettings {
    readonly clusterName: string;
    readonly version: string;
    /** `host:port` every node and client reaches the API at. */
    readonly controlPlaneEndpoint: string;
    readonly imageRepository: string;
    readonly podCidr: string;
    readonly serviceCidr: string;
    /** Extra names/addresses in the API server's certificate. */
    readonly certSans: string[];
}

function nodeRegistration(node: KubeadmNode): string[] {
    return [
        "nodeRegistration:",
        `  name: ${q(node.name)}`,
        `  criSocket: ${q(node.criSocket)}`,
        "  kubeletExtraArgs:",
        "    - name: node-ip",
        `      value: ${q(node.address)}`,
    ];
}

/**
 * `kubeadm init --config` of the first control-plane node: Init-, Cluster-, Kubelet- and
 * KubeProxyConfiguration. No bootstrap token (each join gets its own, see kubeadm-token.sh); the
 * kubelet's cgroup driver, cgroupRoot and failCgroupV1 are per node (kubeadm patches).
 */
export function kubeadmInitConfig(node: KubeadmNode, c: KubeadmClusterSettings): string {
    const lines = [
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: InitConfiguration",
        "localAPIEndpoint:",
        `  advertiseAddress: ${q(node.address)}`,
        `  bindPort: ${KUBEADM_API_PORT}`,
        ...nodeRegistration(node),
        "patches:",
        `  directory: ${PATCHES_DIR}`,
        "---",
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: ClusterConfiguration",
        `clusterName: ${q(c.clusterName)}`,
        `kubernetesVersion: ${q(c.version)}`,
        `controlPlaneEndpoint: ${q(c.controlPlaneEndpoint)}`,
        `imageRepository: ${q(c.imageRepository)}`,
        "networking:",
        `  podSubnet: ${q(c.podCidr)}`,
        `  serviceSubnet: ${q(c.serviceCidr)}`,
        "  dnsDomain: cluster.local",
        "apiServer:",
        "  certSANs:",
        ...c.certSans.map((s) => `    - ${q(s)}`),
        "---",
        "apiVersion: kubelet.config.k8s.io/v1beta1",
        "kind: KubeletConfiguration",
        `containerRuntimeEndpoint: ${q(node.criSocket)}`,
        "---",
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1",
        "kind: KubeProxyConfiguration",
        "mode: iptables",
        "# 0 = leave alone: nf_conntrack_max is host-wide (a container machine may not set it), as kind does.",
        "conntrack:",
        "  maxPerCore: 0",
        "  tcpEstablishedTimeout: 0s",
        "  tcpCloseWaitTimeout: 0s",
    ];
    return `${lines.join("\n")}\n`;
}

/**
 * `kubeadm join --config` of a node: CA-pinned bootstrap-token discovery, with the placeholders
 * `__DISCOVERY_ENDPOINT__`, `__TOKEN__`, `__CA_CERT_HASH__` (and `__CERTIFICATE_KEY__` for a
 * control-plane node) the join script fills in from its secret environment.
 */
export function kubeadmJoinConfig(node: KubeadmNode, controlPlane: boolean): string {
    const lines = [
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: JoinConfiguration",
        "discovery:",
        "  bootstrapToken:",
        '    apiServerEndpoint: "__DISCOVERY_ENDPOINT__"',
        '    token: "__TOKEN__"',
        '    caCertHashes: ["__CA_CERT_HASH__"]',
        ...nodeRegistration(node),
        "patches:",
        `  directory: ${PATCHES_DIR}`,
    ];
    if (controlPlane) {
        lines.push(
            "controlPlane:",
            "  localAPIEndpoint:",
            `    advertiseAddress: ${q(node.address)}`,
            `    bindPort: ${KUBEADM_API_PORT}`,
            '  certificateKey: "__CERTIFICATE_KEY__"',
        );
    }
    return `${lines.join("\n")}\n`;
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

/**
 * containerd's CRI plugin section for Kubernetes, a drop-in (`/etc/containerd/conf.d/`) that the
 * runtime layer's `config.toml` imports; it replaces that file's CRI section whole (containerd 1.6
 * merges imported plugin sections by replacing them), so it repeats what the kubelet needs:
 * sandbox image, runc with the cgroup driver, the registry configuration directory of the runtime
 * layer (mirrors, insecure registries), registry credentials, the CNI plugins. Placeholders
 * `__SYSTEMD_CGROUP__` and `__IN_CONTAINER__` are filled in on the node (container machines use
 * cgroupfs, clamp oom_score_adj and run privileged containers without the host's devices, see
 * docs/kubernetes-lab.md failure 4).
 */
export function kubeadmCriConfig(
    sandboxImage: string,
    cniBinDir: string,
    credentials: { registry: string; username: string; password: string }[],
): string {
    const lines = [
        "# Managed by flotilla (KubernetesCluster, kubeadm): the CRI settings Kubernetes needs.",
        "version = 2",
        "",
        `[${CRI}]`,
        `  sandbox_image = ${q(sandboxImage)}`,
        "  restrict_oom_score_adj = __IN_CONTAINER__",
        "",
        `[${CRI}.containerd]`,
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        "",
        `[${CRI}.containerd.runtimes.runc]`,
        '  runtime_type = "io.containerd.runc.v2"',
        "  privileged_without_host_devices = __IN_CONTAINER__",
        "",
        `[${CRI}.containerd.runtimes.runc.options]`,
        "  SystemdCgroup = __SYSTEMD_CGROUP__",
        "",
        `[${CRI}.cni]`,
        `  bin_dir = ${q(cniBinDir)}`,
        '  conf_dir = "/etc/cni/net.d"',
        "",
        `[${CRI}.registry]`,
        '  config_path = "/etc/containerd/certs.d"',
    ];
    for (const c of credentials) {
        lines.push(
            "",
            `[${CRI}.registry.configs.${q(c.registry)}.auth]`,
            `  username = ${q(c.username)}`,
            `  password = ${q(c.password)}`,
        );
    }
    return `${lines.join("\n")}\n`;
}

/** curl's config line with the credentials of `registry` (the bundle's), or empty. */
export function bundleAuth(bundleImage: string, credentials: { registry: string; username: string; password: string }[]): string {
    const registry = bundleImage.split("/")[0];
    const c = credentials.find((x) => x.registry === registry);
    return c ? `user = ${q(`${c.username}:${c.password}`)}` : "";
}

/**
 * flannel as a DaemonSet, after upstream's `Documentation/kube-flannel.yml` without its two init
 * containers (flannel's CNI plugin: each node writes its bridge configuration itself), vxlan or
 * host-gw, not privileged (NET_ADMIN, NET_RAW).
 */
export function flannelManifest(image: string, podCidr: string, backend: "vxlan" | "host-gw"): string {
    const netConf = JSON.stringify({ Network: podCidr, EnableNFTables: false, Backend: { Type: backend } });
    return `apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: flannel
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get]
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [nodes/status]
    verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: flannel
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: flannel
subjects:
  - kind: ServiceAccount
    name: flannel
    namespace: kube-flannel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: ${q(netConf)}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  selector:
    matchLabels: { app: flannel }
  template:
    metadata:
      labels: { app: flannel }
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations:
        - operator: Exists
      serviceAccountName: flannel
      containers:
        - name: kube-flannel
          image: ${q(image)}
          command: [/opt/bin/flanneld]
          args: [--ip-masq, --kube-subnet-mgr, --healthz-port=8081]
          readinessProbe:
            httpGet: { path: /readyz, port: 8081 }
            initialDelaySeconds: 2
            periodSeconds: 5
          securityContext:
            privileged: false
            capabilities:
              add: [NET_ADMIN, NET_RAW]
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: POD_NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
          volumeMounts:
            - { name: run, mountPath: /run/flannel }
            - { name: flannel-cfg, mountPath: /etc/kube-flannel/ }
            - { name: xtables-lock, mountPath: /run/xtables.lock }
      volumes:
        - name: run
          hostPath: { path: /run/flannel }
        - name: flannel-cfg
          configMap: { name: kube-flannel-cfg }
        - name: xtables-lock
          hostPath: { path: /run/xtables.lock, type: FileOrCreate }
`;
}
