/**
 * `PulumiKubernetesApp`: an `AppSpec` on Kubernetes through `@pulumi/kubernetes`, one typed
 * resource per object `renderKubernetesManifest` renders. Behind the subpath `flotilla/kubernetes`
 * (`@pulumi/kubernetes` is an optional peer dependency): neither `lib/index.ts` nor
 * `lib/workload/index.ts` imports this file.
 */
// One module per resource, not `@pulumi/kubernetes`' index (which loads every API group).
import { DaemonSet } from "@pulumi/kubernetes/apps/v1/daemonSet";
import { Deployment } from "@pulumi/kubernetes/apps/v1/deployment";
import { Namespace } from "@pulumi/kubernetes/core/v1/namespace";
import { PersistentVolumeClaim } from "@pulumi/kubernetes/core/v1/persistentVolumeClaim";
import { Secret } from "@pulumi/kubernetes/core/v1/secret";
import { Service } from "@pulumi/kubernetes/core/v1/service";
import type { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { ClusterCapabilities, FULL_CAPABILITIES, IKubernetesCluster } from "../../../core/cluster";
import { Described, Validator, isPlainObject } from "../../../core/validate";
import { APP_KEYS, NormalizedAppSpec, normalizeAppSpec, resolveAppSpec } from "../../app-spec";
import {
    K8S_LABEL_NAME,
    K8sDaemonSet,
    K8sDeployment,
    K8sNamespace,
    K8sPersistentVolumeClaim,
    K8sSecret,
    K8sService,
    KubernetesObject,
    KubernetesRenderOptions,
    ResolvedRegistryCredential,
    checkKubernetesApp,
    renderKubernetes,
} from "../../render";
import { appSpecOf, checkRegistryAuthArg, checkRolloutTimeout } from "../app-deployer-args";
import { KUBERNETES_DEPLOYER_KEYS, KubernetesDeployerArgs, checkKubernetesDeployerArgs } from "../kubernetes-deployer-args";
import { ClusterProvider, checkKubernetesClusterArg } from "./cluster-provider";

/** Type token of {@link PulumiKubernetesApp}. */
export const PULUMI_KUBERNETES_APP_TYPE = "flotilla:workload:PulumiKubernetesApp";

/** Namespaces every cluster has: never created (nor deleted) by an app. */
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

/** Properties of {@link PulumiKubernetesAppArgs} besides the `AppSpec`'s. */
const PULUMI_KUBERNETES_APP_KEYS = ["cluster", "provider", ...KUBERNETES_DEPLOYER_KEYS, "capabilities"];

/**
 * Arguments of {@link PulumiKubernetesApp}: the app (an `AppSpec`, flat), where it goes
 * (`cluster` or `provider`), and the settings every Kubernetes deployer shares
 * ({@link KubernetesDeployerArgs}).
 */
export interface PulumiKubernetesAppArgs extends KubernetesDeployerArgs {
    /**
     * The cluster to deploy to (e.g. a `KubernetesCluster`): a {@link ClusterProvider} is made for
     * it, as the child `<name>-provider`. Give this or `provider`, not both.
     * @default none: `provider` is required then.
     */
    readonly cluster?: IKubernetesCluster;
    /**
     * The `@pulumi/kubernetes` Provider every object is created with (e.g. a
     * {@link ClusterProvider}, or one of your own for a cluster flotilla did not make). Give this
     * or `cluster`, not both.
     * @default none: a {@link ClusterProvider} made for `cluster`.
     */
    readonly provider?: Provider;
    /**
     * Create the namespace (a `Namespace` resource of this app: destroying the app deletes it and
     * everything in it); `false` when the namespace exists and is not the app's (required for
     * `default`, `kube-system`, `kube-public` and `kube-node-lease`).
     * @default true
     */
    readonly createNamespace?: boolean;
    /**
     * Seconds `@pulumi/kubernetes` waits for each Deployment's and DaemonSet's rollout (their
     * create and update `customTimeouts`) before `up` fails, 10 to 7200.
     * @default none given: `@pulumi/kubernetes`' own (10 minutes)
     */
    readonly rolloutTimeoutSeconds?: number;
    /**
     * Seconds a pod of a replicated service stays on a node that is not ready or unreachable
     * before Kubernetes evicts it (see `renderKubernetesManifest`'s option of that name),
     * 0 to 86400.
     * @default none rendered: Kubernetes' own 300 s
     */
    readonly nodeLossTolerationSeconds?: number;
    /**
     * Seconds a stopping pod of a service with ports keeps serving while it leaves the Services'
     * endpoints, before it gets SIGTERM (a `preStop` sleep, see
     * `renderKubernetesManifest`'s option of that name), 1 to 300.
     * @default none rendered: Kubernetes stops the pod at once
     */
    readonly drainSeconds?: number;
    /**
     * What the cluster supports, as far as it decides which objects exist: with `loadBalancer`, a
     * `loadBalancer` port gets a `LoadBalancer` Service `<service>-lb`, else a NodePort Service
     * `<service>-nodeport`; without `routingMesh`, `ingress` ports are refused now.
     * The objects' contents follow the cluster's own capabilities (with `cluster`, or a
     * {@link ClusterProvider}) when they resolve, and an `up` fails, naming this property, if those
     * would need other objects than these.
     * @default `{ serviceVirtualIp: true, routingMesh: true, loadBalancer: false }` (no load balancer).
     */
    readonly capabilities?: ClusterCapabilities;
}

/**
 * An app on a Kubernetes cluster, declaratively, through `@pulumi/kubernetes`: the objects of
 * `renderKubernetesManifest` (its documentation says how the spec maps), each one typed resource in
 * the app's namespace: `Namespace` (`<name>-namespace`), a `Secret` per app secret
 * (`<name>-secret-<secret>`, named after a hash of its value, so a new value is a new Secret and
 * rolls the pods using it), the image pull `Secret` (`<name>-registry`), a
 * `PersistentVolumeClaim` per volume (`<name>-pvc-<volume>`), `Service`s
 * (`<name>-service-<object name>`) and a `Deployment` or `DaemonSet` per service
 * (`<name>-deployment-<service>`, `<name>-daemonset-<service>`). Namespaced objects depend on the
 * Namespace, workloads on the Secrets and claims; `@pulumi/kubernetes` then waits for each rollout
 * (its own await logic and timeouts). Secrets' `data` is secret; so is a workload whose image or
 * env holds a secret Output.
 *
 * Refused at construction, nothing registered: everything `renderKubernetesManifest` refuses, two
 * objects of the same kind and name (e.g. a service `web-nodeport` beside a service `web`
 * publishing a NodePort), and bad Args. Values that are Outputs are checked when they resolve.
 */
export class PulumiKubernetesApp extends pulumi.ComponentResource {
    /** The app name. */
    public readonly appName: string;
    /** The namespace of every object. */
    public readonly namespace: string;
    /** The provider every object is created with (given, or the `<name>-provider` made for `cluster`). */
    public readonly provider: Provider;
    /** Every object's resource, in apply order. */
    public readonly resources: readonly pulumi.CustomResource[];
    /** The workload (`Deployment` or `DaemonSet`) of each service, by service name. */
    public readonly workloads: Readonly<Record<string, Deployment | DaemonSet>>;
    /** The object names, in apply order (`<Kind> <namespace>/<name>`; Secrets' names known once their values are). */
    public readonly objectNames: pulumi.Output<string[]>;

    constructor(name: string, args: PulumiKubernetesAppArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(PULUMI_KUBERNETES_APP_TYPE, name);
        v.args(args, [...PULUMI_KUBERNETES_APP_KEYS, ...APP_KEYS], "PulumiKubernetesAppArgs");
        const { cluster: clusterArg, provider: providerArg, createNamespace: createArg, registryAuth, capabilities: capabilitiesArg } = args;
        for (const key of ["cluster", "capabilities"] as const) {
            v.plain(key, args[key]);
        }
        const target = checkTarget(v, clusterArg, providerArg);
        const { appName, namespace, createNamespace, render: settings } = checkKubernetesDeployerArgs(v, name, args, {});
        const timeout = args.rolloutTimeoutSeconds === undefined ? undefined : checkRolloutTimeout(v, args);
        if (createNamespace && (SYSTEM_NAMESPACES as readonly string[]).includes(namespace)) {
            v.fail(
                "createNamespace",
                createArg ?? new Described("undefined (default true)"),
                `false for the namespace "${namespace}" (every cluster has it: it is not the app's to create or delete)`,
            );
        }
        const planned = capabilitiesArg ?? FULL_CAPABILITIES;
        const app = normalizeAppSpec(PULUMI_KUBERNETES_APP_TYPE, name, appSpecOf(args));
        const renderOpts: KubernetesRenderOptions = { ...settings, createNamespace, capabilities: planned };
        checkKubernetesApp(PULUMI_KUBERNETES_APP_TYPE, name, app, renderOpts);
        const auth = checkRegistryAuthArg(v, registryAuth);
        // Which objects exist: the render of the spec with every unresolved value a placeholder
        // (values change objects' contents and Secrets' names, never which objects there are).
        const plan = renderKubernetes(placeholders(app), { ...renderOpts, ...(auth ? { registryAuth: PLACEHOLDER_AUTH } : {}) });
        const roles = plan.map((o) => objectRole(o, appName));
        checkDistinct(v, plan, roles);

        super(PULUMI_KUBERNETES_APP_TYPE, name, {}, opts);
        this.appName = appName;
        this.namespace = namespace;
        this.provider = target.provider ?? new ClusterProvider(`${name}-provider`, { cluster: target.cluster! }, { parent: this });
        const cluster = target.cluster ?? (this.provider instanceof ClusterProvider ? this.provider.cluster : undefined);
        const capabilities = cluster ? cluster.capabilities : pulumi.output(planned);

        const rendered = pulumi
            .all([resolveAppSpec(app), capabilities, auth ? pulumi.all([auth.registry, auth.username, auth.password]) : undefined])
            .apply(([resolved, caps, a]) => {
                const registry: ResolvedRegistryCredential | undefined = a ? { registry: a[0], username: a[1], password: a[2] } : undefined;
                const o: KubernetesRenderOptions = { ...renderOpts, capabilities: caps, ...(registry ? { registryAuth: registry } : {}) };
                checkKubernetesApp(PULUMI_KUBERNETES_APP_TYPE, name, resolved, o);
                const objects = renderKubernetes(resolved, o);
                const got = objects.map((object) => objectRole(object, appName));
                if (got.join("\n") !== roles.join("\n")) {
                    const missing = got.filter((r) => !roles.includes(r));
                    const extra = roles.filter((r) => !got.includes(r));
                    v.fail(
                        "capabilities",
                        planned,
                        `the cluster's capabilities, ${JSON.stringify(caps)}, which need other objects (${[
                            ...missing.map((r) => `${r} added`),
                            ...extra.map((r) => `${r} gone`),
                        ].join(", ")}): set capabilities to them`,
                    );
                }
                return objects;
            });
        // Only Secrets' data is secret: the other objects hold names and settings (a Secret's
        // name reveals 32 bits of a salted hash of its value, as on Swarm), and a workload is
        // joined again with its own service's Inputs, so that it is secret if they are.
        const open = pulumi.unsecret(rendered);
        const object = <T extends KubernetesObject>(i: number): pulumi.Output<T> => open.apply((objects) => objects[i] as T);
        const childOpts = (dependsOn: pulumi.Resource[]): pulumi.CustomResourceOptions => ({ parent: this, provider: this.provider, dependsOn });

        const resources: pulumi.CustomResource[] = [];
        const workloads: Record<string, Deployment | DaemonSet> = {};
        let namespaceResource: Namespace | undefined;
        const podInputs: pulumi.Resource[] = [];
        plan.forEach((planObject, i) => {
            const resourceName = `${name}-${roles[i]}`;
            const inNamespace = namespaceResource ? [namespaceResource] : [];
            switch (planObject.kind) {
                case "Namespace": {
                    namespaceResource = new Namespace(resourceName, { metadata: object<K8sNamespace>(i).metadata }, childOpts([]));
                    resources.push(namespaceResource);
                    break;
                }
                case "Secret": {
                    const secret = new Secret(
                        resourceName,
                        {
                            metadata: object<K8sSecret>(i).metadata,
                            type: planObject.type,
                            immutable: true,
                            data: pulumi.secret(rendered.apply((objects) => (objects[i] as K8sSecret).data)),
                        },
                        childOpts(inNamespace),
                    );
                    podInputs.push(secret);
                    resources.push(secret);
                    break;
                }
                case "PersistentVolumeClaim": {
                    const o = object<K8sPersistentVolumeClaim>(i);
                    const claim = new PersistentVolumeClaim(resourceName, { metadata: o.metadata, spec: o.spec }, childOpts(inNamespace));
                    podInputs.push(claim);
                    resources.push(claim);
                    break;
                }
                case "Service": {
                    const o = object<K8sService>(i);
                    resources.push(new Service(resourceName, { metadata: o.metadata, spec: o.spec }, childOpts(inNamespace)));
                    break;
                }
                case "Deployment":
                case "DaemonSet": {
                    const service = app.services.find((s) => s.name === planObject.metadata.name)!;
                    // Secret exactly when the service's own image or env is.
                    const own = pulumi.all([service.image, pulumi.all({ ...service.env })]);
                    const o = pulumi.all([own, open]).apply(([, objects]) => objects[i] as K8sDeployment | K8sDaemonSet);
                    const after: pulumi.CustomResourceOptions = {
                        ...childOpts([...inNamespace, ...podInputs]),
                        ...(timeout !== undefined ? { customTimeouts: { create: `${timeout}s`, update: `${timeout}s` } } : {}),
                    };
                    const workload =
                        planObject.kind === "Deployment"
                            ? new Deployment(resourceName, { metadata: o.metadata, spec: (o as pulumi.Output<K8sDeployment>).spec }, after)
                            : new DaemonSet(resourceName, { metadata: o.metadata, spec: (o as pulumi.Output<K8sDaemonSet>).spec }, after);
                    workloads[service.name] = workload;
                    resources.push(workload);
                    break;
                }
            }
        });
        this.resources = resources;
        this.workloads = workloads;
        this.objectNames = open.apply((objects) => objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}${o.metadata.namespace ? "/" : ""}${o.metadata.name}`));

        this.registerOutputs({ appName, namespace, objectNames: this.objectNames });
    }
}

/** The target: exactly one of `cluster` and `provider`, each what it must be. */
function checkTarget(v: Validator, cluster: unknown, provider: unknown): { cluster?: IKubernetesCluster; provider?: Provider } {
    const expected = 'a @pulumi/kubernetes Provider (e.g. a ClusterProvider from "flotilla/kubernetes")';
    if (cluster !== undefined && provider !== undefined) {
        v.fail("provider", provider, "no provider beside cluster (a provider is made for the cluster): give one of cluster and provider");
    }
    if (provider !== undefined) {
        // Duck-typed (the program may load another copy of the SDK): a provider of package `kubernetes`.
        if (!pulumi.CustomResource.isInstance(provider) || (provider as unknown as { pkg?: unknown }).pkg !== "kubernetes") {
            v.fail("provider", provider, expected);
        }
        return { provider: provider as unknown as Provider };
    }
    if (cluster === undefined) {
        v.fail("cluster", cluster, `a Kubernetes cluster to deploy to (e.g. a KubernetesCluster), or give provider: ${expected}`);
    }
    return { cluster: checkKubernetesClusterArg(v, "cluster", cluster) };
}

/** Registry credentials standing for the real ones while planning (their values never decide which objects exist). */
const PLACEHOLDER_AUTH: ResolvedRegistryCredential = { registry: "registry.invalid", username: "plan", password: "plan" };

/** The spec with every Input a placeholder string, for planning which objects exist. */
function placeholders(app: NormalizedAppSpec): NormalizedAppSpec<string> {
    return {
        ...app,
        services: app.services.map((s) => ({
            ...s,
            image: typeof s.image === "string" ? s.image : "plan.invalid/plan:plan",
            env: Object.fromEntries(Object.keys(s.env).map((k) => [k, ""])),
        })),
        secrets: Object.fromEntries(Object.keys(app.secrets).map((k) => [k, "plan"])),
    };
}

/**
 * What an object is in the app, independent of any value: the suffix of its resource name.
 * `secret-<secret>`, `registry` (the pull secret), `pvc-<volume>`, else `<kind>-<object name>`.
 */
function objectRole(object: KubernetesObject, appName: string): string {
    switch (object.kind) {
        case "Namespace":
            return "namespace";
        case "Secret":
            return object.type === "kubernetes.io/dockerconfigjson" ? "registry" : `secret-${Object.keys(object.data)[0]}`;
        case "PersistentVolumeClaim":
            return `pvc-${object.metadata.name.slice(appName.length + 1)}`;
        default:
            return `${object.kind.toLowerCase()}-${object.metadata.name}`;
    }
}

/** Refuses two objects of one kind and name (the second would overwrite the first in the cluster). */
function checkDistinct(v: Validator, plan: readonly KubernetesObject[], roles: readonly string[]): void {
    const seen = new Map<string, number>();
    roles.forEach((role, i) => {
        const first = seen.get(role);
        if (first !== undefined) {
            const object = plan[i];
            const service = isPlainObject(object.metadata.labels) ? object.metadata.labels[K8S_LABEL_NAME] : undefined;
            const owner = plan[first].metadata.labels[K8S_LABEL_NAME];
            v.fail(
                `services.${service}`,
                service,
                `a service name whose objects have names of their own: its ${object.kind} "${object.metadata.name}" is also ` +
                    `service ${JSON.stringify(owner)}'s (rename one)`,
            );
        }
        seen.set(role, i);
    });
}
