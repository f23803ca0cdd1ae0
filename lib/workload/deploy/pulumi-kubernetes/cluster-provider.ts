/**
 * `ClusterProvider`: a `@pulumi/kubernetes` Provider for a flotilla cluster. Behind the subpath
 * `flotilla/kubernetes` (`@pulumi/kubernetes` is an optional peer dependency): neither
 * `lib/index.ts` nor `lib/workload/index.ts` imports this file.
 */
// The provider's own module, not `@pulumi/kubernetes`' index (which loads every API group).
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { IKubernetesCluster, isKubernetesCluster } from "../../../core/cluster";
import { Reason, Validator, isPlainObject } from "../../../core/validate";
import { isDns1123Label } from "../../render";

/** Token in the messages of {@link ClusterProvider} (the resource itself is a `pulumi:providers:kubernetes`). */
export const CLUSTER_PROVIDER_TYPE = "flotilla:workload:ClusterProvider";

/** Properties of {@link ClusterProviderArgs}. */
const CLUSTER_PROVIDER_KEYS = ["cluster", "namespace", "deleteUnreachable"];

/** Arguments of {@link ClusterProvider}. */
export interface ClusterProviderArgs {
    /**
     * The cluster to manage objects in: anything offering `IKubernetesCluster` (e.g. a
     * `KubernetesCluster`). Its admin kubeconfig (a secret, kept secret) is the provider's, and
     * the provider waits until every node of the cluster is Ready.
     */
    readonly cluster: IKubernetesCluster;
    /**
     * Namespace of the objects that name none (a DNS label; an Output is checked when it
     * resolves).
     * @default the kubeconfig context's namespace, else `default`.
     */
    readonly namespace?: pulumi.Input<string>;
    /**
     * When the cluster cannot be reached, drop its objects from the state instead of failing
     * (for a cluster whose machines are gone for good).
     * @default `false`: an unreachable cluster
     * fails the `up`, and nothing is forgotten silently.
     */
    readonly deleteUnreachable?: pulumi.Input<boolean>;
}

/**
 * A `@pulumi/kubernetes` Provider whose kubeconfig is a flotilla cluster's (secret), for any
 * `@pulumi/kubernetes` resource (`{ provider }`) or a {@link PulumiKubernetesApp}. Server-side
 * apply (`@pulumi/kubernetes` 4's default) stays on. Depends on every node's readiness, so that
 * nothing is applied to a cluster still forming.
 */
export class ClusterProvider extends Provider {
    /** The cluster this provider manages objects in. */
    public readonly cluster: IKubernetesCluster;

    constructor(name: string, args: ClusterProviderArgs, opts?: pulumi.ResourceOptions) {
        const v: Validator = new Validator(CLUSTER_PROVIDER_TYPE, name);
        v.args(args, CLUSTER_PROVIDER_KEYS, "ClusterProviderArgs");
        const cluster = checkKubernetesClusterArg(v, "cluster", args.cluster);
        const namespace =
            args.namespace === undefined
                ? undefined
                : v.later("namespace", args.namespace, "a namespace name (a DNS label of at most 63 characters)", (n: unknown) =>
                      typeof n === "string" && isDns1123Label(n) ? n : new Reason(),
                  );
        const deleteUnreachable =
            args.deleteUnreachable === undefined
                ? false
                : v.later("deleteUnreachable", args.deleteUnreachable, "true or false", (b: unknown) => (typeof b === "boolean" ? b : new Reason()));
        const ready = [...cluster.controlPlane, ...cluster.workers].flatMap((h) => h.ready);
        super(
            name,
            {
                kubeconfig: pulumi.secret(cluster.kubeconfig),
                ...(namespace !== undefined ? { namespace } : {}),
                deleteUnreachable,
            },
            pulumi.mergeOptions(opts, { dependsOn: ready }),
        );
        this.cluster = cluster;
    }
}

/** Checks a `cluster` argument: a Kubernetes cluster (a Swarm, or a pool, is named as such). */
export function checkKubernetesClusterArg(v: Validator, property: string, value: unknown): IKubernetesCluster {
    if (!isKubernetesCluster(value)) {
        const swarm = isPlainObject(value) || (typeof value === "object" && value !== null) ? (value as { orchestrator?: unknown }).orchestrator === "swarm" : false;
        v.fail(
            property,
            value,
            "a Kubernetes cluster (a KubernetesCluster, or anything offering IKubernetesCluster: orchestrator \"kubernetes\", " +
                `controlPlane, workers, kubeconfig)${swarm ? ": this is a Swarm (deploy to it with SwarmApp)" : ""}`,
        );
    }
    const c = value as IKubernetesCluster;
    if (!Array.isArray(c.workers) || !pulumi.Output.isInstance(c.kubeconfig)) {
        v.fail(property, value, "a Kubernetes cluster with its workers (a list) and kubeconfig (an Output)");
    }
    return c;
}
