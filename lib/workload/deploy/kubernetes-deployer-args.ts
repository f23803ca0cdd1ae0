/**
 * What both Kubernetes deployers take ({@link KubernetesDeployerArgs}: `KubernetesApp`, which
 * applies the objects with kubectl, and `PulumiKubernetesApp`, which makes them `@pulumi/kubernetes`
 * resources) and its one check.
 */
import { IKubernetesCluster } from "../../core/cluster";
import { Validator } from "../../core/validate";
import { KubernetesRenderOptions } from "../render";
import { APP_DEPLOYER_KEYS, AppDeployerArgs } from "./app-deployer-args";

/** Default of {@link KubernetesDeployerArgs.nodeLossTolerationSeconds} for a `KubernetesApp`. */
export const DEFAULT_NODE_LOSS_TOLERATION_SECONDS = 30;

/** Default of {@link KubernetesDeployerArgs.drainSeconds} for a `KubernetesApp`. */
export const DEFAULT_DRAIN_SECONDS = 5;

/** Arguments both Kubernetes deployers take: the app, the cluster, and how the app's objects are named and rendered. */
export interface KubernetesDeployerArgs extends AppDeployerArgs<IKubernetesCluster> {
    /**
     * Name of the app: the `app.kubernetes.io/part-of` label of every object (what prune and
     * delete select by) and the prefix of its Secrets and claims. A DNS label.
     * @default the resource name
     */
    readonly appName?: string;
    /**
     * Namespace of the app's objects, a DNS label (services find each other by name inside it).
     * @default the app name
     */
    readonly namespace?: string;
    /**
     * Whether the app creates its namespace (and deletes it with the app); `false` when the
     * namespace exists and is not the app's. Each deployer says when it creates it.
     * @default true
     */
    readonly createNamespace?: boolean;
    /**
     * The API server's NodePort range (`--service-node-port-range`), inclusive: every `ingress`
     * port's published number must lie in it, and is the Service's `nodePort`, open on every node;
     * so must a `loadBalancer` port's on a cluster that provisions no load balancer (it gets a
     * NodePort Service). A port outside the range (e.g. 80) is refused, naming the port and the
     * range; publish such a port in `host` mode, or put a load balancer in front of the nodes.
     * @default [30000, 32767] (Kubernetes' default)
     */
    readonly nodePortRange?: readonly [number, number];
    /**
     * Claim size of a volume that gives none, a size such as `"1Gi"`.
     * @default "1Gi"
     */
    readonly defaultVolumeSize?: string;
    /**
     * Seconds a pod of a replicated service stays on a node that is not ready or unreachable
     * before Kubernetes evicts it and schedules it elsewhere (`NoExecute` tolerations, see
     * {@link KubernetesManifestOptions.nodeLossTolerationSeconds}), 0 to 86400.
     * @default 30 with `KubernetesApp`; none rendered (Kubernetes' own 300 s) with `PulumiKubernetesApp`.
     */
    readonly nodeLossTolerationSeconds?: number;
    /**
     * Seconds a stopping pod of a service with ports keeps serving while it leaves the Services'
     * endpoints on every node, before it gets SIGTERM (a `preStop` sleep, see
     * {@link KubernetesManifestOptions.drainSeconds}), 1 to 300: what makes a rolling update lose no
     * request.
     * @default 5 with `KubernetesApp`; none rendered (Kubernetes stops the pod at once) with `PulumiKubernetesApp`.
     */
    readonly drainSeconds?: number;
}

/** Properties of {@link KubernetesDeployerArgs} besides the {@link AppSpec}'s and `cluster`, in the order messages list them. */
export const KUBERNETES_DEPLOYER_KEYS = [
    "appName",
    "namespace",
    "createNamespace",
    ...APP_DEPLOYER_KEYS,
    "nodeLossTolerationSeconds",
    "nodePortRange",
    "drainSeconds",
    "defaultVolumeSize",
] as const;

/** The checked {@link KubernetesDeployerArgs} (but `cluster` and `registryAuth`, the deployer's to check). */
export interface KubernetesDeployerSettings {
    readonly appName: string;
    readonly namespace: string;
    readonly createNamespace: boolean;
    /** Render options from these settings (no capabilities, registry credentials or Namespace object). */
    readonly render: KubernetesRenderOptions;
}

/**
 * Checks the settings of {@link KubernetesDeployerArgs} every Kubernetes deployer reads the same
 * way: plain values, the app name (default: `name`) and namespace (default: the app name) DNS
 * labels, `createNamespace` a boolean (default true), the toleration (0 to 86400) and drain (1 to
 * 300) seconds, each defaulting to the deployer's `defaults` (undefined: none rendered).
 * `nodePortRange` and `defaultVolumeSize` are passed on to the renderer's own check
 * (`checkKubernetesApp`).
 */
export function checkKubernetesDeployerArgs(
    v: Validator,
    name: string,
    args: KubernetesDeployerArgs,
    defaults: { readonly nodeLossTolerationSeconds?: number; readonly drainSeconds?: number },
): KubernetesDeployerSettings {
    for (const key of ["appName", "namespace", "createNamespace", "nodeLossTolerationSeconds", "nodePortRange", "drainSeconds", "defaultVolumeSize"] as const) {
        v.plain(key, args[key]);
    }
    const appName = v.dnsLabel(args.appName === undefined ? "name" : "appName", args.appName ?? name);
    const namespace = v.dnsLabel("namespace", args.namespace ?? appName);
    const createNamespace = v.boolean("createNamespace", args.createNamespace, true);
    const toleration = args.nodeLossTolerationSeconds ?? defaults.nodeLossTolerationSeconds;
    const drain = args.drainSeconds ?? defaults.drainSeconds;
    const render: KubernetesRenderOptions = {
        appName,
        namespace,
        ...(args.nodePortRange !== undefined ? { nodePortRange: args.nodePortRange } : {}),
        ...(toleration !== undefined ? { nodeLossTolerationSeconds: v.integer("nodeLossTolerationSeconds", toleration, 0, 86400) } : {}),
        ...(drain !== undefined ? { drainSeconds: v.integer("drainSeconds", drain, 1, 300) } : {}),
        ...(args.defaultVolumeSize !== undefined ? { defaultVolumeSize: args.defaultVolumeSize } : {}),
    };
    return { appName, namespace, createNamespace, render };
}
