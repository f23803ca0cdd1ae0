import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { ClusterCapabilities, IKubernetesCluster, isKubernetesCluster } from "../../core/cluster";
import { RemoteScript } from "../../shared/remote-script";
import { bundledScript } from "../../shared/scripts";
import { Validator } from "../../core/validate";
import { APP_KEYS, normalizeAppSpec, resolveAppSpec } from "../app-spec";
import { DEFAULT_NODE_PORT_RANGE, KubernetesObject, KubernetesRenderOptions, checkKubernetesApp, kubernetesManifest, renderKubernetes } from "../render";
import { appSpecOf, checkRegistryAuthArg, checkRolloutTimeout } from "./app-deployer-args";
import {
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_NODE_LOSS_TOLERATION_SECONDS,
    KUBERNETES_DEPLOYER_KEYS,
    KubernetesDeployerArgs,
    checkKubernetesDeployerArgs,
} from "./kubernetes-deployer-args";

/** Type token of {@link KubernetesApp}. */
export const KUBERNETES_APP_TYPE = "flotilla:workload:KubernetesApp";

/**
 * Arguments of {@link KubernetesApp}: the app (an {@link AppSpec}, flat), the cluster and the
 * settings every Kubernetes deployer shares ({@link KubernetesDeployerArgs}).
 */
export interface KubernetesAppArgs extends KubernetesDeployerArgs {
    /**
     * The cluster to deploy to, e.g. a `KubernetesCluster`: kubectl runs on its control-plane
     * nodes (any one that answers) with its admin `kubeconfig`.
     */
    readonly cluster: IKubernetesCluster;
    /**
     * Whether the deploy creates the namespace when it is missing (annotated as created for this
     * app, and then deleted with the app; an existing namespace is left as it is, and never
     * deleted). With `false` the namespace must exist (the deploy fails, naming it, if not) and is
     * never deleted.
     * @default true
     */
    readonly createNamespace?: boolean;
    /**
     * Seconds to wait after an apply for every Deployment and DaemonSet rollout to finish (all
     * of them together) before `up` fails with the pods' statuses and events, 10 to 7200.
     * @default 300
     */
    readonly rolloutTimeoutSeconds?: number;
    /**
     * Seconds a pod of a replicated service stays on a node that is not ready or unreachable
     * before Kubernetes evicts it and schedules it elsewhere (see
     * {@link KubernetesManifestOptions.nodeLossTolerationSeconds}), 0 to 86400.
     * @default 30 (Kubernetes' own default is 300)
     */
    readonly nodeLossTolerationSeconds?: number;
    /**
     * The API server's NodePort range (`--service-node-port-range`): every `ingress` port's
     * published number must lie in it, and is the Service's `nodePort`, open on every node; so
     * must a `loadBalancer` port's on a cluster whose `capabilities` say it provisions no load
     * balancer (a kubeadm cluster, k3s with servicelb disabled: such a port gets a NodePort
     * Service). On a cluster with one (k3s with servicelb) a `loadBalancer` port gets a
     * `LoadBalancer` Service on its published port, whatever its number. A port outside the range
     * (e.g. 80) is refused, naming the port and the range (a `loadBalancer` one when the cluster's
     * capabilities resolve, before the deploy is registered); publish such a port in `host` mode,
     * or put a load balancer in front of the nodes.
     * @default [30000, 32767] (Kubernetes' default)
     */
    readonly nodePortRange?: readonly [number, number];
    /**
     * Seconds a stopping pod of a service with ports keeps serving while it leaves the Services'
     * endpoints on every node, before it gets SIGTERM (a `preStop` sleep, see
     * {@link KubernetesManifestOptions.drainSeconds}), 1 to 300: what makes a rolling update lose no
     * request.
     * @default 5
     */
    readonly drainSeconds?: number;
}

/** Ready and desired pods of one service after a deploy. */
export interface KubernetesServiceReplicas {
    /** Pods ready. */
    readonly ready: number;
    /** Pods desired (the replicas, or one per eligible node for a global service). */
    readonly desired: number;
}

/**
 * An app deployed on a Kubernetes cluster, declaratively: each `up` renders the app to
 * Kubernetes objects ({@link renderKubernetesManifest} shows them) and runs kubectl on a control-plane node (any that
 * answers) with the cluster's admin kubeconfig (a secret, written 0600 to a temporary file that is
 * removed on exit): a server-side apply (field manager `flotilla`), a bounded wait for every
 * rollout, then pruning of what the spec dropped (this app's labelled objects that are no longer
 * rendered). A rollout that does not finish makes `up` fail with the pods' statuses and events
 * (rolled back first when the service's `failureAction` is `rollback`). Delete removes everything
 * it made. The Secret objects travel and are stored as secrets only; the other objects are kept
 * in the state compressed (marked secret as well when the spec holds a secret Output, since they
 * derive from it, as a `SwarmApp`'s compose file does).
 *
 * Kubeconfig: the cluster's `kubeconfig` output, not the node's own admin file, so the same
 * deployer serves kubeadm and k3s clusters (and any `IKubernetesCluster`); its `server` must be
 * reachable from the control-plane nodes too (a cluster's API endpoint is).
 */
export class KubernetesApp extends pulumi.ComponentResource {
    /** The app name (`app.kubernetes.io/part-of`). */
    public readonly appName: string;
    /** The namespace of its objects. */
    public readonly namespace: string;
    /** Ready and desired pods per service after the last deploy. */
    public readonly services: pulumi.Output<Record<string, KubernetesServiceReplicas>>;

    constructor(name: string, args: KubernetesAppArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(KUBERNETES_APP_TYPE, name);
        v.args(args, [...KUBERNETES_APP_KEYS, ...APP_KEYS], "KubernetesAppArgs");
        const { cluster, registryAuth } = args;
        if (!isKubernetesCluster(cluster)) {
            v.fail(
                "cluster",
                cluster,
                'a Kubernetes cluster (a KubernetesCluster, or anything offering IKubernetesCluster: orchestrator "kubernetes", controlPlane, workers, kubeconfig)',
            );
        }
        const timeout = checkRolloutTimeout(v, args);
        const { appName, namespace, createNamespace, render: settings } = checkKubernetesDeployerArgs(v, name, args, {
            nodeLossTolerationSeconds: DEFAULT_NODE_LOSS_TOLERATION_SECONDS,
            drainSeconds: DEFAULT_DRAIN_SECONDS,
        });
        const app = normalizeAppSpec(KUBERNETES_APP_TYPE, name, appSpecOf(args));
        const render: KubernetesRenderOptions = { nodePortRange: DEFAULT_NODE_PORT_RANGE, ...settings };
        // Everything plain is checked now (names, NodePort range, volumes, labels…) as for a
        // cluster with every capability, a load balancer included: whether a `loadBalancer` port
        // is a LoadBalancer Service (any port) or a NodePort one (a port in the range) is the
        // cluster's to say, through its own capabilities, checked again when they resolve (one
        // deploy script holds every object, so they decide no resource).
        checkKubernetesApp(KUBERNETES_APP_TYPE, name, app, { ...render, capabilities: EVERY_CAPABILITY });
        const auth = checkRegistryAuthArg(v, registryAuth);
        const controlPlane = cluster.controlPlane;
        if (controlPlane.length === 0) {
            v.fail("cluster", "a cluster without control-plane nodes", "a cluster with at least one control-plane node (kubectl runs there)");
        }

        super(KUBERNETES_APP_TYPE, name, {}, opts);
        this.appName = appName;
        this.namespace = namespace;

        const resolved = resolveAppSpec(app);
        const authResolved = auth
            ? pulumi.all([auth.registry, auth.username, auth.password]).apply(([registry, username, password]) => ({ registry, username, password }))
            : pulumi.output(undefined);
        const objects = pulumi.all([resolved, cluster.capabilities, authResolved]).apply(([r, capabilities, a]) => {
            // Refusals for the cluster's capabilities name this construct (the renderer checks again).
            checkKubernetesApp(KUBERNETES_APP_TYPE, name, r, { ...render, capabilities });
            return renderKubernetes(r, { ...render, capabilities, ...(a ? { registryAuth: a } : {}) });
        });
        const plain = objects.apply((o) => o.filter((x) => x.kind !== "Secret"));
        const secretObjects = pulumi.secret(objects.apply((o) => o.filter((x) => x.kind === "Secret")));
        const names = (o: readonly KubernetesObject[], kinds: readonly string[]) => o.filter((x) => kinds.includes(x.kind)).map(objectName);
        const deploy = new RemoteScript(
            `${name}-deploy`,
            {
                connection: controlPlane[0].connection,
                alternates: controlPlane.slice(1).map((h) => h.connection),
                script: bundledScript("workload", "kubernetes-app.sh"),
                environment: {
                    APP: appName,
                    NAMESPACE: namespace,
                    // Compressed: the manifest is kept in the state (twice), and compresses well.
                    MANIFEST_GZ: plain.apply(gzipManifest),
                    // Names only: plain (a Secret's name shows 32 bits of a salted hash of its value, as on Swarm).
                    WANTED: pulumi.unsecret(objects.apply((o) => names(o, PRUNED_KINDS).join(" "))),
                    WORKLOADS: pulumi.unsecret(plain.apply((o) => names(o, ["Deployment", "DaemonSet"]).map((n) => n.replace(".apps/", "/")).join(" "))),
                    ROLLOUT_TIMEOUT: String(timeout),
                    // Only when false: the default leaves the environment (and the state) as it was.
                    ...(createNamespace ? {} : { CREATE_NAMESPACE: "false" }),
                },
                secretEnvironment: {
                    KUBECONFIG_B64: cluster.kubeconfig.apply((k) => Buffer.from(k, "utf8").toString("base64")),
                    SECRETS_GZ: secretObjects.apply((o) => (o.length === 0 ? "" : gzipManifest(o))),
                },
                target: `app ${appName} in namespace ${namespace}`,
                timeoutSeconds: timeout + 300,
            },
            { parent: this, dependsOn: [...cluster.controlPlane, ...cluster.workers].flatMap((h) => h.ready) },
        );
        this.services = deploy.result.apply((r) => JSON.parse(r) as Record<string, KubernetesServiceReplicas>);

        this.registerOutputs({ appName: this.appName, namespace: this.namespace, services: this.services });
    }
}

/**
 * A cluster that offers everything (a service VIP, the routing mesh, LoadBalancer Services): what
 * the construction-time check assumes, leaving what depends on the cluster to its own capabilities.
 */
const EVERY_CAPABILITY: ClusterCapabilities = { serviceVirtualIp: true, routingMesh: true, loadBalancer: true };

/** Properties of {@link KubernetesAppArgs} besides the {@link AppSpec}'s. */
const KUBERNETES_APP_KEYS = ["cluster", ...KUBERNETES_DEPLOYER_KEYS];

/** Kinds the deployer prunes and deletes (the script's KINDS). */
const PRUNED_KINDS = ["Deployment", "DaemonSet", "Service", "PersistentVolumeClaim", "Secret"];

/** An object's name as `kubectl get -o name` prints it: `deployment.apps/web`, `service/web`. */
function objectName(o: KubernetesObject): string {
    const group = o.apiVersion.includes("/") ? `.${o.apiVersion.split("/")[0]}` : "";
    return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}

function gzipManifest(objects: readonly KubernetesObject[]): string {
    return zlib.gzipSync(Buffer.from(kubernetesManifest(objects), "utf8"), { level: 9 }).toString("base64");
}
