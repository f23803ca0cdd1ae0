/**
 * `KubernetesCluster`, the one class both distributions had before flotilla 0.2: now a
 * constructor-like function that returns a {@link KubeadmCluster} or a {@link K3sCluster} by
 * `distribution`, with its Args and messages as they were. Deprecated: construct the
 * distribution's class.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../../core/host";
import type { RegistryCredential } from "../../core/registry-credential";
import { Validator, isPlainObject } from "../../core/validate";
import { K3sCluster, K3sClusterArgs } from "./k3s-cluster";
import { KubeadmCluster, KubeadmClusterArgs } from "./kubeadm-cluster";
import { constructAsLegacy } from "./kubernetes-cluster-base";

/**
 * Type token `KubernetesCluster` registered before flotilla 0.2; {@link KubeadmCluster} and
 * {@link K3sCluster} keep it as an alias, so a stack recorded then is not replaced.
 */
export const KUBERNETES_CLUSTER_TYPE = "flotilla:cluster:KubernetesCluster";

/** @deprecated Use `RegistryCredential` (the one registry-credential shape of every layer). */
export type KubeadmRegistryCredential = RegistryCredential;

/** The settings whose type differs between the distributions. */
type Differing = "controlPlane" | "workers" | "source" | "flannelBackend";

/**
 * Arguments of {@link KubernetesCluster}: the union of both distributions' settings. A setting of
 * the other distribution is refused as an unknown property.
 * @deprecated Use {@link KubeadmClusterArgs} or {@link K3sClusterArgs}.
 */
export interface KubernetesClusterArgs extends Omit<KubeadmClusterArgs, Differing>, Omit<K3sClusterArgs, Differing> {
    /**
     * Which Kubernetes distribution: `k3s` (a {@link K3sCluster}: k3s brings its own containerd)
     * or `kubeadm` (a {@link KubeadmCluster}: upstream Kubernetes on hosts with containerd from the
     * runtime layer: a `Containerd`'s `hosts`).
     */
    readonly distribution: "k3s" | "kubeadm";
    /** Control-plane hosts: see {@link K3sClusterArgs.controlPlane} and {@link KubeadmClusterArgs.controlPlane}. */
    readonly controlPlane: Host[];
    /**
     * Worker hosts, hosts like `controlPlane`'s.
     * @default none.
     */
    readonly workers?: Host[];
    /**
     * Where the distribution comes from: see {@link K3sClusterArgs.source} and {@link KubeadmClusterArgs.source}.
     * @default `installer` (k3s), `packages` (kubeadm).
     */
    readonly source?: K3sClusterArgs["source"] | KubeadmClusterArgs["source"];
    /**
     * Flannel backend: `vxlan`, `host-gw`, `wireguard-native` (k3s only) or `none`.
     * @default `vxlan`
     */
    readonly flannelBackend?: K3sClusterArgs["flannelBackend"] | KubeadmClusterArgs["flannelBackend"];
}

/**
 * A {@link KubeadmCluster} made through `KubernetesCluster`: it has the `clusterToken` every
 * `KubernetesCluster` had (empty: every kubeadm join gets its own bootstrap token).
 * @deprecated Use {@link KubeadmCluster}.
 */
export type LegacyKubeadmCluster = KubeadmCluster & {
    /** Always empty (kubeadm has no cluster token). Secret. */
    readonly clusterToken: pulumi.Output<string>;
};

/**
 * What `new KubernetesCluster(...)` returns: a {@link KubeadmCluster} or a {@link K3sCluster}.
 * @deprecated Use {@link KubeadmCluster} or {@link K3sCluster}.
 */
export type KubernetesCluster = LegacyKubeadmCluster | K3sCluster;

/** The constructor-like {@link KubernetesCluster}. */
export interface KubernetesClusterConstructor {
    new (name: string, args: KubernetesClusterArgs & { readonly distribution: "kubeadm" }, opts?: pulumi.ComponentResourceOptions): LegacyKubeadmCluster;
    new (name: string, args: KubernetesClusterArgs & { readonly distribution: "k3s" }, opts?: pulumi.ComponentResourceOptions): K3sCluster;
    new (name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions): KubernetesCluster;
}

const naming = { token: KUBERNETES_CLUSTER_TYPE, extraKeys: ["distribution"] } as const;

/**
 * A Kubernetes cluster, kubeadm or k3s: `new KubernetesCluster(name, { distribution, ... })`
 * constructs a {@link KubeadmCluster} (`distribution: "kubeadm"`) or a {@link K3sCluster}
 * (`"k3s"`) with the other settings, which registers its own type with the alias
 * `flotilla:cluster:KubernetesCluster` (nothing recorded before is replaced). Its refusals name
 * `KubernetesCluster`, as they did. `instanceof KubernetesCluster` holds for both classes.
 * @deprecated Use {@link KubeadmCluster} or {@link K3sCluster}.
 */
export const KubernetesCluster = function KubernetesCluster(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions): KubernetesCluster {
    const v = new Validator(KUBERNETES_CLUSTER_TYPE, name);
    if (!isPlainObject(args)) v.fail("args", args, 'a KubernetesClusterArgs object with distribution "kubeadm" or "k3s"');
    // The rest is the distribution's class's to check (the other distribution's settings are unknown there).
    const distribution = v.oneOf("distribution", args.distribution, ["k3s", "kubeadm"] as const);
    if (distribution === "k3s") return constructAsLegacy(naming, () => new K3sCluster(name, args as K3sClusterArgs, opts));
    const cluster = constructAsLegacy(naming, () => new KubeadmCluster(name, args as unknown as KubeadmClusterArgs, opts));
    Object.defineProperty(cluster, "clusterToken", { value: pulumi.secret(""), enumerable: true });
    return cluster as LegacyKubeadmCluster;
} as unknown as KubernetesClusterConstructor;

Object.defineProperty(KubernetesCluster, Symbol.hasInstance, {
    value: (x: unknown) => x instanceof KubeadmCluster || x instanceof K3sCluster,
});
