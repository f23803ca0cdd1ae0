/**
 * Renders a {@link NormalizedAppSpec} as Kubernetes objects: the Kubernetes twin of
 * {@link renderCompose}. Pure: the result is a list of plain, JSON-able objects
 * (`{ apiVersion, kind, metadata, ... }`) that `kubectl apply -f` or a server-side apply takes as
 * they are, and that `@pulumi/kubernetes` resources take as their args; nothing is created and no
 * Kubernetes library is needed. {@link kubernetesManifest} is the text form (a multi-document
 * YAML stream whose documents are JSON).
 *
 * THE RESULT HOLDS SECRETS: the app's secret values and the registry password are in the
 * `Secret` objects' `data`, base64-encoded (an encoding, not encryption). Callers must treat the
 * objects and their text form as secret: never log them, never print them in an error, mark them
 * secret in Pulumi (`pulumi.secret`) and send them to the API server only.
 *
 * The app lives in one namespace (`namespace`), which plays the part of Swarm's per-stack overlay
 * network: a service is reached by the other services at its bare name (a `Service` named after
 * it), so two apps with a service of the same name need two namespaces.
 *
 * Objects, in apply order (deterministic: the same spec and options give the same list, byte for
 * byte in text form):
 * 1. `Namespace` (only with `createNamespace`).
 * 2. `Secret` per app secret, sorted by name: `<app>-<secret>-<8 hex>`, the hash the Swarm side
 *    uses ({@link kubernetesSecretName}), `immutable: true`, the value under the key `<secret>`. A
 *    changed value is a new name, which changes the pod templates that mount it and rolls them;
 *    the deployer removes the old Secret after the rollout (pruning).
 * 3. The image pull `Secret` (`kubernetes.io/dockerconfigjson`) for `registryAuth`, named
 *    `<app>-registry-<8 hex>` the same way, referenced by every pod's `imagePullSecrets`.
 * 4. `PersistentVolumeClaim` per named volume, sorted: `<app>-<volume>`, `ReadWriteOnce`, the
 *    volume's size (else `defaultVolumeSize`), `storageClassName` = its class when given.
 * 5. `Service`s, in the order of the app's services: `<service>` for discovery by name, on the
 *    service's internal ports (`expose` and every published target), `ClusterIP` with
 *    `capabilities.serviceVirtualIp`, headless (`clusterIP: None`: DNS returns the pods'
 *    addresses, like Swarm's `dnsrr`) otherwise; none for a service without internal ports.
 *    Published ports: `ingress` → `<service>-nodeport`, type `NodePort`, `nodePort` = the
 *    published port (which must lie in the cluster's `nodePortRange`); `loadBalancer` →
 *    `<service>-lb`, type `LoadBalancer`, `port` = the published port, when
 *    `capabilities.loadBalancer`; without it like `ingress` (as on Swarm: put your own load
 *    balancer in front of the nodes). `host` → no Service: a `hostPort` on the container (open
 *    only on the nodes running a pod, at most one pod per node for a given port).
 * 6. `Deployment` per replicated service, `DaemonSet` per global one, named after the service.
 *
 * How the neutral spec maps (pod templates):
 * - `entrypoint` → the container's `command`; `command` → its `args`; `env` → `env` (sorted).
 *   Kubernetes expands `$(VAR)` and reduces `$$` to `$` in env values, command, args and exec
 *   probes: every `$` is rendered as `$$`, so values arrive as given.
 * - Resources: reservations → `requests`, limits → `limits`; CPUs in the canonical Kubernetes
 *   form (`0.25` → `"250m"`, `2` → `"2"`), memory exact in its shortest unit (`"256Mi"`, `"512M"`,
 *   else bytes), so a server-side apply reads back what it was given.
 * - Checks (durations rounded up to whole seconds, at least 1): readiness → `readinessProbe`,
 *   liveness → `livenessProbe` (`healthcheck` fills both): an `exec` probe (a string command runs
 *   as `/bin/sh -c <command>`, like Docker's `CMD-SHELL`), `periodSeconds` = interval,
 *   `timeoutSeconds` = timeout, `failureThreshold` = retries. `startPeriod` → the liveness
 *   probe's `initialDelaySeconds` (failures during it must not restart the pod); the readiness
 *   probe starts at once, since a failed readiness check only keeps the pod out of the endpoints,
 *   which is what Docker's start period does too (the task is `starting` until its first success).
 * - Update policy → `RollingUpdate` with the normalized `maxSurge` / `maxUnavailable` (Swarm's
 *   `order: start-first` + `parallelism` n → `maxSurge` n, `maxUnavailable` 0; `stop-first` →
 *   `maxSurge` 0, `maxUnavailable` n). Kubernetes waits for no delay between batches: a new pod
 *   counts as available once ready for `minReadySeconds` = `monitor` + `delay`, which is when
 *   the next batch may start (Swarm watches each batch for `monitor` then waits `delay`).
 *   Kubernetes never rolls back by itself: `failureAction` is left to the deployer, as the
 *   annotation `flotilla.dev/update-failure-action` on the workload. A Deployment's
 *   `progressDeadlineSeconds` is Kubernetes' default, 600, unless `minReadySeconds` reaches it
 *   (it must be larger): then `minReadySeconds` + 600. A read-write volume with a surge (an
 *   explicit `maxSurge` or `start-first`) can leave the new pod pending on another node, since a
 *   `ReadWriteOnce` claim attaches to one node.
 * - Placement: every `label==value` → node affinity `In [value]`, every `label!=value` → `NotIn
 *   [value]` (which also matches nodes without the label, as on Swarm), all in one required
 *   node selector term (all must hold). These are all the forms the AppSpec has.
 * - Secrets: one projected volume `flotilla-secrets` mounted read-only at `/run/secrets`, with the
 *   file `<secret>` of each secret the service lists, mode 0444 (the same path and mode as on
 *   Swarm).
 * - Named volumes: a pod volume named after the volume, on its claim, mounted at its path
 *   (`readOnly` as given).
 * - Labels: `app.kubernetes.io/name` = the service, `app.kubernetes.io/part-of` = the app,
 *   `app.kubernetes.io/managed-by` = `flotilla` on everything (the first two are the selector),
 *   beside the service's own labels (which lose to them).
 * - Node loss: with `nodeLossTolerationSeconds`, a Deployment's pods tolerate a not-ready or
 *   unreachable node for that long (`NoExecute` tolerations), then are evicted and rescheduled
 *   (Kubernetes' default is 300 s). DaemonSet pods get none.
 * - Draining: with `drainSeconds`, the container of a service with ports gets a `preStop` sleep of
 *   that long (it leaves the endpoints before SIGTERM), and the pod a grace period 30 s longer.
 * - Pods get `automountServiceAccountToken: false` (the app has no business with the API) and
 *   `enableServiceLinks: false` (no `<SERVICE>_PORT` variables: services find each other by name).
 *
 * What is refused ({@link checkKubernetesApp}), each an `InvalidArgumentError` naming the property:
 * an app or namespace name that is not a DNS label; a secret name that cannot be part of a
 * Kubernetes object name (`_`, or a `.` next to `-`/`.`); a volume named `flotilla-secrets`
 * (reserved); a global service mounting a named volume (one `ReadWriteOnce` claim cannot back a
 * pod on every node); a global service publishing a `host` port with `maxSurge` > 0 (the new pod
 * could never start beside the old one on its node); an `ingress` (or, without a load balancer,
 * `loadBalancer`) port on a cluster without the routing mesh, or outside `nodePortRange`; a
 * publishing service whose name leaves no room for `-nodeport`; a label that is not a Kubernetes
 * label; a duration beyond Kubernetes' int32 seconds (probe interval, timeout, liveness start
 * period; monitor + delay); a bad `defaultVolumeSize`, `nodePortRange`, `nodeLossTolerationSeconds`,
 * `drainSeconds` or `registryAuth`.
 */
import { createHash } from "crypto";
import {
    NormalizedAppSpec,
    NormalizedHealthcheck,
    NormalizedPort,
    NormalizedQuantities,
    NormalizedService,
    SECRETS_DIR,
    formatDuration,
    parseMemory,
} from "./app-spec";
import { ClusterCapabilities, FULL_CAPABILITIES } from "../core/cluster";
import { REGISTRY_EXPECTED, parseRegistryAddress } from "../core/image-ref";
import { Described, Validator, isPlainObject, secretShown } from "../core/validate";

/** Type token in the messages of {@link renderKubernetes}'s checks. */
export const KUBERNETES_RENDER_TYPE = "flotilla:workload:kubernetes";
/** Label: the service (`app.kubernetes.io/name`). */
export const K8S_LABEL_NAME = "app.kubernetes.io/name";
/** Label: the app (`app.kubernetes.io/part-of`). */
export const K8S_LABEL_PART_OF = "app.kubernetes.io/part-of";
/** Label: who manages the object (`app.kubernetes.io/managed-by`). */
export const K8S_LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
/** Value of {@link K8S_LABEL_MANAGED_BY}. */
export const K8S_MANAGER = "flotilla";
/** Annotation on a workload: what the deployer does when its rollout fails (Kubernetes does nothing). */
export const K8S_ANNOTATION_FAILURE_ACTION = "flotilla.dev/update-failure-action";
/** Name of the pod volume holding a service's secrets, mounted at `/run/secrets`. Reserved. */
export const K8S_SECRETS_VOLUME = "flotilla-secrets";
/** The default NodePort range of a Kubernetes API server (`--service-node-port-range`). */
export const DEFAULT_NODE_PORT_RANGE: readonly [number, number] = [30000, 32767];
/** Size of a claim whose volume gives none. */
export const DEFAULT_VOLUME_SIZE = "1Gi";
/** Mode of the secret files, as on Swarm: read-only for everyone (0444). */
const SECRET_FILE_MODE = 0o444;
/** Kubernetes' default `progressDeadlineSeconds` of a Deployment. */
const PROGRESS_DEADLINE_SECONDS = 600;
/** Largest number of seconds in an int32 field (periods, delays). */
const MAX_SECONDS = 2 ** 31 - 1;
/** Hex digits of the value hash in a Secret name. */
const HASH_LENGTH = 8;
/** Suffixes of the Services of published ports. */
const NODE_PORT_SUFFIX = "-nodeport";
const LOAD_BALANCER_SUFFIX = "-lb";

/** Registry credentials, resolved. */
export interface ResolvedRegistryAuth {
    /** Registry address as in image references, `host[:port]`. */
    readonly server: string;
    /** User name. */
    readonly username: string;
    /** Password or token. Secret. */
    readonly password: string;
}

/** Options of {@link renderKubernetes}. */
export interface KubernetesRenderOptions {
    /** Name of the app: `app.kubernetes.io/part-of`, prefix of its Secrets and claims. A DNS label. */
    readonly appName: string;
    /** Namespace of every object. A DNS label. */
    readonly namespace: string;
    /** Render a `Namespace` object first. Default `false` (the namespace exists). */
    readonly createNamespace?: boolean;
    /**
     * What the target cluster supports: without a service virtual IP the discovery Services are
     * headless; without the routing mesh `ingress` ports are refused; with a load balancer
     * `loadBalancer` ports get a `LoadBalancer` Service. Default {@link FULL_CAPABILITIES}.
     */
    readonly capabilities?: ClusterCapabilities;
    /** Credentials of a private registry: an image pull secret every pod uses. Default none. */
    readonly registryAuth?: ResolvedRegistryAuth;
    /**
     * The API server's NodePort range (`--service-node-port-range`), inclusive: every `ingress`
     * port's published number must lie in it. Default {@link DEFAULT_NODE_PORT_RANGE}.
     */
    readonly nodePortRange?: readonly [number, number];
    /** Claim size of a volume that gives none, a memory-like quantity. Default {@link DEFAULT_VOLUME_SIZE}. */
    readonly defaultVolumeSize?: string;
    /**
     * Seconds a Deployment's pod stays bound to a node that is not ready or unreachable before it
     * is evicted and rescheduled elsewhere: tolerations of `node.kubernetes.io/not-ready` and
     * `node.kubernetes.io/unreachable` (`NoExecute`) with this `tolerationSeconds`, an integer
     * from 0 to 86400. DaemonSet pods get none (they belong to their node). Default: none
     * rendered, i.e. Kubernetes' own 300 s.
     */
    readonly nodeLossTolerationSeconds?: number;
    /**
     * Seconds a stopping pod of a service with ports keeps running after it was told to stop,
     * so that it is out of every Service's endpoints (and kube-proxy's rules on every node) before
     * its process gets SIGTERM: a `preStop` sleep hook (`lifecycle.preStop.sleep`), an integer
     * from 1 to 300; `terminationGracePeriodSeconds` is then this + 30 (Kubernetes' default
     * grace period after the hook). Without it a rolling update can refuse the connections that
     * still reach a stopped pod. Default: none rendered (Kubernetes stops the pod at once).
     */
    readonly drainSeconds?: number;
}

/** Object metadata (the subset rendered). */
export interface K8sObjectMeta {
    readonly name: string;
    readonly namespace?: string;
    readonly labels: Record<string, string>;
    readonly annotations?: Record<string, string>;
}

/** A `Namespace`. */
export interface K8sNamespace {
    readonly apiVersion: "v1";
    readonly kind: "Namespace";
    readonly metadata: K8sObjectMeta;
}

/** A `Secret`: holds a secret value in `data` (base64). */
export interface K8sSecret {
    readonly apiVersion: "v1";
    readonly kind: "Secret";
    readonly metadata: K8sObjectMeta;
    readonly type: "Opaque" | "kubernetes.io/dockerconfigjson";
    readonly immutable: true;
    readonly data: Record<string, string>;
}

/** A `PersistentVolumeClaim`. */
export interface K8sPersistentVolumeClaim {
    readonly apiVersion: "v1";
    readonly kind: "PersistentVolumeClaim";
    readonly metadata: K8sObjectMeta;
    readonly spec: {
        readonly accessModes: ["ReadWriteOnce"];
        readonly resources: { readonly requests: { readonly storage: string } };
        readonly storageClassName?: string;
    };
}

/** A port of a `Service`. */
export interface K8sServicePort {
    readonly name: string;
    readonly protocol: "TCP" | "UDP";
    readonly port: number;
    readonly targetPort: number;
    readonly nodePort?: number;
}

/** A `Service`. */
export interface K8sService {
    readonly apiVersion: "v1";
    readonly kind: "Service";
    readonly metadata: K8sObjectMeta;
    readonly spec: {
        readonly type: "ClusterIP" | "NodePort" | "LoadBalancer";
        readonly clusterIP?: "None";
        readonly selector: Record<string, string>;
        readonly ports: K8sServicePort[];
    };
}

/** A probe. */
export interface K8sProbe {
    readonly exec: { readonly command: string[] };
    readonly initialDelaySeconds?: number;
    readonly periodSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
}

/** A container port. */
export interface K8sContainerPort {
    readonly containerPort: number;
    readonly protocol: "TCP" | "UDP";
    readonly hostPort?: number;
}

/** Requests or limits. (A type, not an interface: it must be assignable to `@pulumi/kubernetes`' `{ [key: string]: Input<string> }`.) */
export type K8sQuantities = {
    readonly cpu?: string;
    readonly memory?: string;
};

/** A container. */
export interface K8sContainer {
    readonly name: string;
    readonly image: string;
    readonly lifecycle?: { readonly preStop: { readonly sleep: { readonly seconds: number } } };
    readonly command?: string[];
    readonly args?: string[];
    readonly env?: { readonly name: string; readonly value: string }[];
    readonly ports?: K8sContainerPort[];
    readonly resources?: { readonly requests?: K8sQuantities; readonly limits?: K8sQuantities };
    readonly readinessProbe?: K8sProbe;
    readonly livenessProbe?: K8sProbe;
    readonly volumeMounts?: { readonly name: string; readonly mountPath: string; readonly readOnly: boolean }[];
}

/** A pod volume. */
export type K8sVolume =
    | { readonly name: string; readonly persistentVolumeClaim: { readonly claimName: string } }
    | {
          readonly name: string;
          readonly projected: {
              readonly defaultMode: number;
              readonly sources: {
                  readonly secret: { readonly name: string; readonly items: { readonly key: string; readonly path: string }[] };
              }[];
          };
      };

/** A pod template. */
export interface K8sPodTemplate {
    readonly metadata: { readonly labels: Record<string, string> };
    readonly spec: {
        readonly automountServiceAccountToken: false;
        readonly enableServiceLinks: false;
        readonly containers: K8sContainer[];
        readonly imagePullSecrets?: { readonly name: string }[];
        readonly volumes?: K8sVolume[];
        readonly tolerations?: K8sToleration[];
        readonly terminationGracePeriodSeconds?: number;
        readonly affinity?: {
            readonly nodeAffinity: {
                readonly requiredDuringSchedulingIgnoredDuringExecution: {
                    readonly nodeSelectorTerms: {
                        readonly matchExpressions: { readonly key: string; readonly operator: "In" | "NotIn"; readonly values: string[] }[];
                    }[];
                };
            };
        };
    };
}

/** A pod toleration (the `NoExecute` form {@link KubernetesRenderOptions.nodeLossTolerationSeconds} renders). */
export interface K8sToleration {
    readonly key: string;
    readonly operator: "Exists";
    readonly effect: "NoExecute";
    readonly tolerationSeconds: number;
}

/** The rolling update of a workload. */
export interface K8sRollingUpdate {
    readonly type: "RollingUpdate";
    readonly rollingUpdate: { readonly maxSurge: number; readonly maxUnavailable: number };
}

/** A `Deployment` (a replicated service). */
export interface K8sDeployment {
    readonly apiVersion: "apps/v1";
    readonly kind: "Deployment";
    readonly metadata: K8sObjectMeta;
    readonly spec: {
        readonly replicas: number;
        readonly selector: { readonly matchLabels: Record<string, string> };
        readonly strategy: K8sRollingUpdate;
        readonly minReadySeconds: number;
        /** Only when `minReadySeconds` reaches Kubernetes' default (600): `minReadySeconds` + 600. */
        readonly progressDeadlineSeconds?: number;
        readonly template: K8sPodTemplate;
    };
}

/** A `DaemonSet` (a global service). */
export interface K8sDaemonSet {
    readonly apiVersion: "apps/v1";
    readonly kind: "DaemonSet";
    readonly metadata: K8sObjectMeta;
    readonly spec: {
        readonly selector: { readonly matchLabels: Record<string, string> };
        readonly updateStrategy: K8sRollingUpdate;
        readonly minReadySeconds: number;
        readonly template: K8sPodTemplate;
    };
}

/** Any object {@link renderKubernetes} renders. */
export type KubernetesObject = K8sNamespace | K8sSecret | K8sPersistentVolumeClaim | K8sService | K8sDeployment | K8sDaemonSet;

/**
 * What {@link renderKubernetes} returns: the objects in apply order. HOLDS SECRETS (the `Secret`
 * objects' `data`): never log it or its {@link kubernetesManifest} text; keep it in a secret Output.
 */
export type KubernetesObjectsWithSecrets = readonly KubernetesObject[];

/**
 * Name of the Secret holding `value` for secret `secret` of app `appName`:
 * `<app>-<secret>-<first 8 hex digits of sha256(app NUL secret NUL value)>`, the same hash as the
 * Swarm secret's ({@link swarmSecretName}), so an unchanged value keeps its Secret and a changed
 * one gets a new name. Like there, the name reveals 32 bits of a salted hash of the value.
 */
export function kubernetesSecretName(appName: string, secret: string, value: string): string {
    return `${appName}-${secret}-${hash(`${appName}\0${secret}\0${value}`)}`;
}

/** Name of the image pull Secret for `auth`: `<app>-registry-<8 hex of a salted sha256 of the credentials>`. */
export function kubernetesPullSecretName(appName: string, auth: ResolvedRegistryAuth): string {
    return `${appName}-registry-${hash(`${appName}\0registry\0${auth.server}\0${auth.username}\0${auth.password}`)}`;
}

function hash(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex").slice(0, HASH_LENGTH);
}

/** Kubernetes' canonical CPU quantity of nano-CPUs: whole CPUs as a number, else millicpus (`250000000` → `"250m"`). */
export function formatKubernetesCpu(nanoCpus: number): string {
    return nanoCpus % 1e9 === 0 ? String(nanoCpus / 1e9) : `${Math.round(nanoCpus / 1e6)}m`;
}

/**
 * A Kubernetes memory quantity of a byte count, exact and short: the largest binary unit
 * (`Ki`..`Ti`) and the largest decimal unit (`k`..`T`) that divide it, whichever is shorter
 * (binary on a tie), else bytes: `268435456` → `"256Mi"`, `512000000` → `"512M"`, `1001` →
 * `"1001"`. Kubernetes keeps a quantity in the unit it was given, so a server-side apply reads
 * back this text.
 */
export function formatKubernetesMemory(bytes: number): string {
    if (bytes === 0) {
        return "0";
    }
    const largest = (units: readonly (readonly [string, number])[]): string => {
        const found = units.find(([, size]) => bytes % size === 0);
        return found ? `${bytes / found[1]}${found[0]}` : String(bytes);
    };
    const binary = largest([["Ti", 1024 ** 4], ["Gi", 1024 ** 3], ["Mi", 1024 ** 2], ["Ki", 1024]]);
    const decimal = largest([["T", 1000 ** 4], ["G", 1000 ** 3], ["M", 1000 ** 2], ["k", 1000]]);
    return decimal.length < binary.length ? decimal : binary;
}

// Kubernetes name and label grammars (k8s.io/apimachinery/pkg/util/validation).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** True for a DNS-1123 label of at most 63 characters. */
export function isDns1123Label(name: string): boolean {
    return name.length <= 63 && DNS1123_LABEL.test(name);
}

/** True for a DNS-1123 subdomain of at most 253 characters. */
export function isDns1123Subdomain(name: string): boolean {
    return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/** True for a Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function isKubernetesLabelKey(key: string): boolean {
    const slash = key.lastIndexOf("/");
    const name = slash < 0 ? key : key.slice(slash + 1);
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    return (
        name.length <= 63 && LABEL_NAME_PART.test(name) && (prefix === undefined || (prefix !== "" && isDns1123Subdomain(prefix)))
    );
}

/** True for a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric (or empty). */
export function isKubernetesLabelValue(value: string): boolean {
    return value.length <= 63 && LABEL_VALUE.test(value);
}

/** Where a published port goes on Kubernetes, given the cluster's capabilities. */
export function kubernetesServiceType(port: NormalizedPort, capabilities: ClusterCapabilities): "NodePort" | "LoadBalancer" | "hostPort" {
    if (port.mode === "host") {
        return "hostPort";
    }
    return port.mode === "loadBalancer" && capabilities.loadBalancer ? "LoadBalancer" : "NodePort";
}

const LABEL_KEY_EXPECTED =
    "a Kubernetes label name: [prefix/]name, the name at most 63 letters, digits, '-', '_' and '.' starting and ending " +
    "with a letter or digit, the prefix a DNS subdomain";
const LABEL_VALUE_EXPECTED =
    "a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

/**
 * Checks that `app` can be rendered for Kubernetes with `opts` (everything {@link renderKubernetes}
 * refuses, listed in this module's documentation); pure and needing no resolved value but
 * `registryAuth`'s, so a deployer can call it at construction (without `registryAuth`) and again
 * on the cluster's reported capabilities. Throws an `InvalidArgumentError` of `construct` /
 * `resourceName`. Returns the options with their defaults.
 */
export function checkKubernetesApp(
    construct: string,
    resourceName: string,
    app: NormalizedAppSpec<unknown>,
    opts: KubernetesRenderOptions,
): Required<Omit<KubernetesRenderOptions, "registryAuth" | "nodeLossTolerationSeconds" | "drainSeconds">> & {
    defaultVolumeBytes: number;
    nodeLossTolerationSeconds: number | undefined;
    drainSeconds: number | undefined;
} {
    const v: Validator = new Validator(construct, resourceName);
    if (!isPlainObject(opts)) {
        v.fail("options", opts, "an object with at least appName and namespace");
    }
    v.known("", opts, [
        "appName",
        "namespace",
        "createNamespace",
        "capabilities",
        "registryAuth",
        "nodePortRange",
        "defaultVolumeSize",
        "nodeLossTolerationSeconds",
        "drainSeconds",
    ]);
    const appName = v.dnsLabel("appName", opts.appName);
    const namespace = v.dnsLabel("namespace", opts.namespace);
    const createNamespace = v.boolean("createNamespace", opts.createNamespace, false);
    const capabilities = opts.capabilities ?? FULL_CAPABILITIES;
    const capabilityKeys = ["serviceVirtualIp", "routingMesh", "loadBalancer"] as const;
    if (!isPlainObject(capabilities) || capabilityKeys.some((k) => typeof capabilities[k] !== "boolean")) {
        v.fail("capabilities", capabilities, `an object with the booleans ${capabilityKeys.join(", ")} (a cluster's capabilities)`);
    }
    v.known("capabilities", capabilities, capabilityKeys);
    const range = opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
    if (
        !Array.isArray(range) ||
        range.length !== 2 ||
        !range.every((n) => Number.isInteger(n) && n >= 1 && n <= 65535) ||
        range[0] > range[1]
    ) {
        v.fail("nodePortRange", range, "[first, last]: two integers from 1 to 65535, the first no larger than the last");
    }
    const sizeText = opts.defaultVolumeSize ?? DEFAULT_VOLUME_SIZE;
    const sizeBytes = parseMemory(sizeText);
    if (typeof sizeText !== "string" || typeof sizeBytes === "string" || sizeBytes === 0) {
        v.fail(
            "defaultVolumeSize",
            sizeText,
            'a size such as "1Gi", "500M" (units k, M, G, T: powers of 1000; Ki, Mi, Gi, Ti: powers of 1024), more than 0',
        );
    }
    if (opts.registryAuth !== undefined) {
        checkRegistryAuth(v, opts.registryAuth);
    }
    const nodeLossTolerationSeconds =
        opts.nodeLossTolerationSeconds === undefined ? undefined : v.integer("nodeLossTolerationSeconds", opts.nodeLossTolerationSeconds, 0, 86400);
    const drainSeconds = opts.drainSeconds === undefined ? undefined : v.integer("drainSeconds", opts.drainSeconds, 1, 300);

    for (const secret of Object.keys(app.secrets)) {
        // A secret name can be part of a DNS subdomain if the Secret's name is one.
        if (!isDns1123Subdomain(`${appName}-${secret}-${"0".repeat(HASH_LENGTH)}`)) {
            v.fail(
                `secrets.${secret}`,
                new Described(`the name ${JSON.stringify(secret)}`),
                "a secret name Kubernetes object names can hold: lower-case letters, digits, '-' and '.', each '.' " +
                    "between letters or digits (no '_')",
            );
        }
    }
    for (const service of app.services) {
        const at = `services.${service.name}`;
        for (const mount of service.volumes) {
            if (mount.volume === K8S_SECRETS_VOLUME) {
                v.fail(`${at}.volumes.${mount.volume}`, mount.volume, `a volume name other than "${K8S_SECRETS_VOLUME}" (reserved for the secrets)`);
            }
            if (service.mode === "global") {
                v.fail(
                    `${at}.volumes.${mount.volume}`,
                    mount.path,
                    "no named volume on a global service: on Kubernetes a volume is one ReadWriteOnce claim, which cannot " +
                        "back a pod on every node (make the service replicated)",
                );
            }
        }
        // Kubernetes counts these in int32 seconds; a Deployment's progress deadline is 600 more.
        const limit = MAX_SECONDS - PROGRESS_DEADLINE_SECONDS;
        if (seconds(service.update.monitorMs + service.update.delayMs) > limit) {
            v.fail(
                `${at}.update.monitor`,
                formatDuration(service.update.monitorMs),
                `a monitor (plus the delay, ${formatDuration(service.update.delayMs)}) of at most ${limit} seconds ` +
                    "(the workload's minReadySeconds on Kubernetes)",
            );
        }
        for (const [key, check] of [
            ["readiness", service.readiness],
            ["liveness", service.liveness],
        ] as const) {
            if (check === undefined) {
                continue;
            }
            const name = service.readiness === service.liveness ? "healthcheck" : key;
            for (const [field, ms, what] of [
                ["interval", check.intervalMs, "periodSeconds"],
                ["timeout", check.timeoutMs, "timeoutSeconds"],
                ["startPeriod", check.startPeriodMs, "initialDelaySeconds"],
            ] as const) {
                // The readiness probe has no initial delay (see above): its startPeriod is not rendered.
                if (seconds(ms) > MAX_SECONDS && !(key === "readiness" && field === "startPeriod")) {
                    v.fail(`${at}.${name}.${field}`, formatDuration(ms), `a duration of at most ${MAX_SECONDS} seconds (a probe's ${what} on Kubernetes)`);
                }
            }
        }
        const hostPorts = service.ports.some((p) => p.mode === "host");
        if (service.mode === "global" && hostPorts && service.update.maxSurge > 0) {
            v.fail(
                `${at}.update.maxSurge`,
                service.update.maxSurge,
                "0 for a global service publishing a port in \"host\" mode (the new pod could never start beside the " +
                    'old one, which holds the port on its node): set maxUnavailable instead, or order "stop-first"',
            );
        }
        for (const [key, value] of Object.entries(service.labels)) {
            if (!isKubernetesLabelKey(key)) {
                v.fail(`${at}.labels.${key}`, key, LABEL_KEY_EXPECTED);
            }
            if (!isKubernetesLabelValue(value)) {
                v.fail(`${at}.labels.${key}`, value, LABEL_VALUE_EXPECTED);
            }
        }
        const types = new Set(service.ports.map((p) => kubernetesServiceType(p, capabilities)));
        for (const [type, suffix] of [
            ["NodePort", NODE_PORT_SUFFIX],
            ["LoadBalancer", LOAD_BALANCER_SUFFIX],
        ] as const) {
            if (types.has(type) && !isDns1123Label(`${service.name}${suffix}`)) {
                v.fail(
                    at,
                    service.name,
                    `a service name of at most ${63 - suffix.length} characters, so that the ${type} Service ` +
                        `"<service>${suffix}" of its published ports fits in 63`,
                );
            }
        }
        service.ports.forEach((port, i) => {
            const type = kubernetesServiceType(port, capabilities);
            if (type !== "NodePort") {
                return;
            }
            const lb = port.mode === "loadBalancer" ? " (this cluster provisions no load balancer, so a NodePort Service)" : "";
            if (!capabilities.routingMesh) {
                v.fail(
                    `${at}.ports[${i}]`,
                    port,
                    `a port published in "host" mode (set its mode, or the app's publishMode, to "host"): this cluster has ` +
                        `no routing mesh, which "${port.mode}" publishing needs on Kubernetes${lb}`,
                );
            }
            if (port.published < range[0] || port.published > range[1]) {
                v.fail(
                    `${at}.ports[${i}].published`,
                    port.published,
                    `a port from ${range[0]} to ${range[1]} (the cluster's NodePort range), for "${port.mode}" publishing on ` +
                        `Kubernetes${lb}; or publish it in "host" mode`,
                );
            }
        });
    }
    return {
        appName,
        namespace,
        createNamespace,
        capabilities,
        nodePortRange: range,
        defaultVolumeSize: sizeText,
        defaultVolumeBytes: sizeBytes,
        nodeLossTolerationSeconds,
        drainSeconds,
    };
}

function checkRegistryAuth(v: Validator, auth: ResolvedRegistryAuth): void {
    if (!isPlainObject(auth)) {
        v.fail("registryAuth", auth, "an object { server, username, password }");
    }
    v.known("registryAuth", auth, ["server", "username", "password"]);
    const server = parseRegistryAddress(auth.server);
    if (typeof server === "string") {
        v.fail("registryAuth.server", auth.server, `${REGISTRY_EXPECTED} (${server})`);
    }
    if (typeof auth.username !== "string" || auth.username === "" || /[\s:]/.test(auth.username)) {
        v.fail("registryAuth.username", auth.username, "a non-empty user name without white space or ':'");
    }
    if (typeof auth.password !== "string" || auth.password === "") {
        v.fail("registryAuth.password", secretShown(auth.password), "a non-empty password or token");
    }
}

/**
 * Renders the Kubernetes objects of an app, every Input resolved ({@link resolveAppSpec}), in
 * apply order (see this module's documentation). Checks everything first
 * ({@link checkKubernetesApp}): an `InvalidArgumentError` of `flotilla:workload:kubernetes` /
 * `<appName>` names the property. Deterministic. THE RESULT HOLDS SECRETS: never log it.
 */
export function renderKubernetes(app: NormalizedAppSpec<string>, opts: KubernetesRenderOptions): KubernetesObjectsWithSecrets {
    const o = checkKubernetesApp(KUBERNETES_RENDER_TYPE, String(opts?.appName), app, opts);
    const { appName, namespace, capabilities } = o;
    const appLabels = { [K8S_LABEL_MANAGED_BY]: K8S_MANAGER, [K8S_LABEL_PART_OF]: appName };
    const objects: KubernetesObject[] = [];

    if (o.createNamespace) {
        objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { [K8S_LABEL_MANAGED_BY]: K8S_MANAGER } } });
    }
    const secretNames: Record<string, string> = {};
    for (const secret of Object.keys(app.secrets).sort()) {
        const name = kubernetesSecretName(appName, secret, app.secrets[secret]);
        secretNames[secret] = name;
        objects.push({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name, namespace, labels: appLabels },
            type: "Opaque",
            immutable: true,
            data: { [secret]: base64(app.secrets[secret]) },
        });
    }
    let pullSecret: string | undefined;
    if (opts.registryAuth !== undefined) {
        const { server, username, password } = opts.registryAuth;
        pullSecret = kubernetesPullSecretName(appName, opts.registryAuth);
        const config = { auths: { [server]: { username, password, auth: base64(`${username}:${password}`) } } };
        objects.push({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: pullSecret, namespace, labels: appLabels },
            type: "kubernetes.io/dockerconfigjson",
            immutable: true,
            data: { ".dockerconfigjson": base64(JSON.stringify(config)) },
        });
    }
    for (const volume of app.volumes) {
        objects.push({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name: claimName(appName, volume.name), namespace, labels: appLabels },
            spec: {
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: formatKubernetesMemory(volume.sizeBytes ?? o.defaultVolumeBytes) } },
                ...(volume.class !== undefined ? { storageClassName: volume.class } : {}),
            },
        });
    }
    for (const service of app.services) {
        objects.push(...services(service, appName, namespace, capabilities));
    }
    for (const service of app.services) {
        objects.push(workload(service, appName, namespace, secretNames, pullSecret, o.nodeLossTolerationSeconds, o.drainSeconds));
    }
    return objects;
}

function claimName(appName: string, volume: string): string {
    return `${appName}-${volume}`;
}

function selectorLabels(service: NormalizedService<unknown>, appName: string): Record<string, string> {
    return { [K8S_LABEL_NAME]: service.name, [K8S_LABEL_PART_OF]: appName };
}

function objectLabels(service: NormalizedService<unknown>, appName: string): Record<string, string> {
    return sortKeys({ ...service.labels, [K8S_LABEL_MANAGED_BY]: K8S_MANAGER, ...selectorLabels(service, appName) });
}

function protocol(p: "tcp" | "udp"): "TCP" | "UDP" {
    return p === "tcp" ? "TCP" : "UDP";
}

function services(service: NormalizedService<string>, appName: string, namespace: string, capabilities: ClusterCapabilities): K8sService[] {
    const labels = objectLabels(service, appName);
    const selector = selectorLabels(service, appName);
    const out: K8sService[] = [];
    if (service.expose.length > 0) {
        out.push({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: service.name, namespace, labels },
            spec: {
                type: "ClusterIP",
                ...(capabilities.serviceVirtualIp ? {} : { clusterIP: "None" as const }),
                selector,
                ports: service.expose.map((e) => ({ name: `${e.protocol}-${e.port}`, protocol: protocol(e.protocol), port: e.port, targetPort: e.port })),
            },
        });
    }
    for (const [type, suffix] of [
        ["NodePort", NODE_PORT_SUFFIX],
        ["LoadBalancer", LOAD_BALANCER_SUFFIX],
    ] as const) {
        const ports = service.ports.filter((p) => kubernetesServiceType(p, capabilities) === type);
        if (ports.length === 0) {
            continue;
        }
        out.push({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: `${service.name}${suffix}`, namespace, labels },
            spec: {
                type,
                selector,
                ports: ports.map((p) => ({
                    name: `${p.protocol}-${p.published}`,
                    protocol: protocol(p.protocol),
                    port: p.published,
                    targetPort: p.target,
                    ...(type === "NodePort" ? { nodePort: p.published } : {}),
                })),
            },
        });
    }
    return out;
}

function workload(
    service: NormalizedService<string>,
    appName: string,
    namespace: string,
    secretNames: Record<string, string>,
    pullSecret: string | undefined,
    nodeLossTolerationSeconds: number | undefined,
    drainSeconds: number | undefined,
): K8sDeployment | K8sDaemonSet {
    const labels = objectLabels(service, appName);
    const metadata: K8sObjectMeta = {
        name: service.name,
        namespace,
        labels,
        annotations: { [K8S_ANNOTATION_FAILURE_ACTION]: service.update.failureAction },
    };
    const rolling: K8sRollingUpdate = {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: service.update.maxSurge, maxUnavailable: service.update.maxUnavailable },
    };
    const minReadySeconds = seconds(service.update.monitorMs + service.update.delayMs);
    const selector = { matchLabels: selectorLabels(service, appName) };
    const template = podTemplate(service, appName, labels, secretNames, pullSecret, drainSeconds);
    if (service.mode === "global") {
        return { apiVersion: "apps/v1", kind: "DaemonSet", metadata, spec: { selector, updateStrategy: rolling, minReadySeconds, template } };
    }
    const tolerations: K8sToleration[] | undefined =
        nodeLossTolerationSeconds === undefined
            ? undefined
            : ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"].map((key) => ({
                  key,
                  operator: "Exists" as const,
                  effect: "NoExecute" as const,
                  tolerationSeconds: nodeLossTolerationSeconds,
              }));
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata,
        spec: {
            replicas: service.replicas ?? 1,
            selector,
            strategy: rolling,
            minReadySeconds,
            ...(minReadySeconds >= PROGRESS_DEADLINE_SECONDS ? { progressDeadlineSeconds: minReadySeconds + PROGRESS_DEADLINE_SECONDS } : {}),
            template: tolerations ? { ...template, spec: { ...template.spec, tolerations } } : template,
        },
    };
}

function podTemplate(
    s: NormalizedService<string>,
    appName: string,
    labels: Record<string, string>,
    secretNames: Record<string, string>,
    pullSecret: string | undefined,
    drainSeconds: number | undefined,
): K8sPodTemplate {
    const volumes: K8sVolume[] = [];
    const mounts: { name: string; mountPath: string; readOnly: boolean }[] = [];
    if (s.secrets.length > 0) {
        volumes.push({
            name: K8S_SECRETS_VOLUME,
            projected: { defaultMode: SECRET_FILE_MODE, sources: s.secrets.map((secret) => ({ secret: { name: secretNames[secret], items: [{ key: secret, path: secret }] } })) },
        });
        mounts.push({ name: K8S_SECRETS_VOLUME, mountPath: SECRETS_DIR, readOnly: true });
    }
    for (const m of s.volumes) {
        volumes.push({ name: m.volume, persistentVolumeClaim: { claimName: claimName(appName, m.volume) } });
        mounts.push({ name: m.volume, mountPath: m.path, readOnly: m.readOnly });
    }
    const requests = quantities(s.resources.reservations);
    const limits = quantities(s.resources.limits);
    const ports: K8sContainerPort[] = [];
    for (const e of s.expose) {
        const hostPorts = s.ports
            .filter((p) => p.mode === "host" && p.target === e.port && p.protocol === e.protocol)
            .map((p) => p.published)
            .sort((a, b) => a - b);
        if (hostPorts.length === 0) {
            ports.push({ containerPort: e.port, protocol: protocol(e.protocol) });
        }
        for (const hostPort of hostPorts) {
            ports.push({ containerPort: e.port, protocol: protocol(e.protocol), hostPort });
        }
    }
    const env = Object.keys(s.env).sort();
    const drain = drainSeconds !== undefined && (s.expose.length > 0 || s.ports.length > 0) ? drainSeconds : undefined;
    const container: K8sContainer = {
        name: s.name,
        image: s.image,
        ...(drain !== undefined ? { lifecycle: { preStop: { sleep: { seconds: drain } } } } : {}),
        ...(s.entrypoint ? { command: s.entrypoint.map(escapeDollars) } : {}),
        ...(s.command ? { args: s.command.map(escapeDollars) } : {}),
        ...(env.length > 0 ? { env: env.map((name) => ({ name, value: escapeDollars(s.env[name]) })) } : {}),
        ...(ports.length > 0 ? { ports } : {}),
        ...(requests || limits ? { resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } } : {}),
        ...(s.readiness ? { readinessProbe: probe(s.readiness, false) } : {}),
        ...(s.liveness ? { livenessProbe: probe(s.liveness, true) } : {}),
        ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    };
    return {
        metadata: { labels },
        spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            ...(drain !== undefined ? { terminationGracePeriodSeconds: drain + 30 } : {}),
            containers: [container],
            ...(pullSecret !== undefined ? { imagePullSecrets: [{ name: pullSecret }] } : {}),
            ...(volumes.length > 0 ? { volumes } : {}),
            ...(s.placement.length > 0
                ? {
                      affinity: {
                          nodeAffinity: {
                              requiredDuringSchedulingIgnoredDuringExecution: {
                                  nodeSelectorTerms: [
                                      {
                                          matchExpressions: s.placement.map((c) => ({
                                              key: c.label,
                                              operator: c.operator === "==" ? ("In" as const) : ("NotIn" as const),
                                              values: [c.value],
                                          })),
                                      },
                                  ],
                              },
                          },
                      },
                  }
                : {}),
        },
    };
}

function quantities(q: NormalizedQuantities): K8sQuantities | undefined {
    if (q.nanoCpus === undefined && q.memoryBytes === undefined) {
        return undefined;
    }
    return {
        ...(q.nanoCpus !== undefined ? { cpu: formatKubernetesCpu(q.nanoCpus) } : {}),
        ...(q.memoryBytes !== undefined ? { memory: formatKubernetesMemory(q.memoryBytes) } : {}),
    };
}

/** Whole seconds, rounded up, at least `min`. */
function seconds(ms: number, min = 0): number {
    return Math.max(min, Math.ceil(ms / 1000));
}

function probe(h: NormalizedHealthcheck, liveness: boolean): K8sProbe {
    const command = typeof h.command === "string" ? ["/bin/sh", "-c", h.command] : [...h.command];
    const delay = liveness ? seconds(h.startPeriodMs) : 0;
    return {
        exec: { command: command.map(escapeDollars) },
        ...(delay > 0 ? { initialDelaySeconds: delay } : {}),
        periodSeconds: seconds(h.intervalMs, 1),
        timeoutSeconds: seconds(h.timeoutMs, 1),
        failureThreshold: h.retries,
    };
}

/** Kubernetes reads `$$` as `$` (and expands `$(VAR)`): doubling every `$` gives the value back. */
function escapeDollars(text: string): string {
    return text.replace(/\$/g, "$$$$");
}

function base64(text: string): string {
    return Buffer.from(text, "utf8").toString("base64");
}

function sortKeys(record: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The objects as text for `kubectl apply -f -`: a YAML stream with one document per object, each
 * `---` then the object as JSON (two-space indented; JSON is YAML), newline at the end. Characters
 * that JSON leaves raw but YAML 1.1 reads differently (DEL, C1 controls, U+2028, U+2029, U+FEFF,
 * U+FFFE, U+FFFF) are `\uXXXX` escapes. HOLDS SECRETS when the objects do: never log it.
 */
export function kubernetesManifest(objects: KubernetesObjectsWithSecrets): string {
    return objects
        .map((object) => {
            const json = JSON.stringify(object, null, 2).replace(
                /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
                (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
            );
            return `---\n${json}\n`;
        })
        .join("");
}
