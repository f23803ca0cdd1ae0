/**
 * k3s: what {@link K3sCluster} renders for its nodes (each node's `config.yaml`) and the k3s
 * constants. Pure functions: nothing here creates a resource.
 */
import type { ClusterPort } from "../../core/cluster";

/** Packaged k3s components that `disable` may turn off. */
export const K3S_COMPONENTS = ["traefik", "servicelb", "local-storage", "metrics-server", "coredns"] as const satisfies readonly K3sComponent[];
/** A packaged k3s component. */
export type K3sComponent = "traefik" | "servicelb" | "local-storage" | "metrics-server" | "coredns";

/** Flannel backends k3s offers. */
export const K3S_FLANNEL_BACKENDS = ["vxlan", "host-gw", "wireguard-native", "none"] as const satisfies readonly K3sFlannelBackend[];
/** A flannel backend. */
export type K3sFlannelBackend = "vxlan" | "host-gw" | "wireguard-native" | "none";

/** Where k3s comes from: the official installer script, or the airgap artefacts. */
export const K3S_SOURCES = ["installer", "airgap"] as const satisfies readonly K3sSource[];
/** A k3s source. */
export type K3sSource = "installer" | "airgap";

/** The k3s ports besides `KUBERNETES_PORTS`, for the WireGuard flannel backend (docs.k3s.io "Inbound Rules"). */
export const K3S_WIREGUARD_PORTS: readonly ClusterPort[] = [
    { port: 51820, protocol: "udp", purpose: "flannel WireGuard (IPv4)" },
    { port: 51821, protocol: "udp", purpose: "flannel WireGuard (IPv6)" },
];

/** The k3s CRI socket (its own containerd). */
export const K3S_CRI_SOCKET = "unix:///run/k3s/containerd/containerd.sock";

/** A pinned k3s release: `v1.33.5+k3s1` (or a release candidate, `v1.33.5-rc1+k3s1`). */
export const K3S_VERSION = /^v1\.\d{1,3}\.\d{1,3}(-rc\d+)?\+k3s\d+$/;

/** Default pod network of a k3s cluster. */
export const K3S_DEFAULT_POD_CIDR = "10.42.0.0/16";
/** Default Service network of a k3s cluster. */
export const K3S_DEFAULT_SERVICE_CIDR = "10.43.0.0/16";

/** One line of a YAML list/scalar, quoted as JSON (valid YAML). */
const q = (s: string) => JSON.stringify(s);

/** A k3s node's settings, every value resolved. */
export interface K3sNodeConfig {
    readonly name: string;
    readonly role: "server" | "agent";
    /** The first server (it runs `cluster-init`). */
    readonly bootstrap: boolean;
    /** The address the node advertises (`node-ip`, a server's `advertise-address`). */
    readonly address: string;
    /** The server it joins through (`host` of `https://<host>:6443`), "" for none. */
    readonly joinAddress: string;
    /** Node label lines `key=value`. */
    readonly labels: string;
    readonly taints: readonly string[];
}

/** The cluster's settings a server's configuration repeats. */
export interface K3sServerSettings {
    readonly podCidr: string;
    readonly serviceCidr: string;
    readonly flannelBackend: K3sFlannelBackend;
    readonly tlsSans: readonly string[];
    readonly disable: readonly K3sComponent[];
}

/** A node's `config.yaml` (the token goes to a root-only file, added by the script). */
export function k3sConfig(n: K3sNodeConfig, s: K3sServerSettings): string {
    const lines = [`node-name: ${q(n.name)}`, `node-ip: ${q(n.address)}`];
    if (n.joinAddress !== "") lines.push(`server: ${q(`https://${n.joinAddress}:6443`)}`);
    if (n.role === "server") {
        if (n.bootstrap) lines.push("cluster-init: true");
        lines.push(`advertise-address: ${q(n.address)}`);
        lines.push(`cluster-cidr: ${q(s.podCidr)}`, `service-cidr: ${q(s.serviceCidr)}`);
        lines.push(`flannel-backend: ${q(s.flannelBackend)}`);
        lines.push("tls-san:", ...s.tlsSans.map((x) => `  - ${q(x)}`));
        if (s.disable.length > 0) lines.push("disable:", ...s.disable.map((d) => `  - ${q(d)}`));
        lines.push('write-kubeconfig-mode: "0600"');
    }
    const labelLines = n.labels.split("\n").filter((l) => l !== "");
    if (labelLines.length > 0) lines.push("node-label:", ...labelLines.map((l) => `  - ${q(l)}`));
    if (n.taints.length > 0) lines.push("node-taint:", ...n.taints.map((t) => `  - ${q(t)}`));
    return lines.join("\n");
}
