/**
 * The Kubernetes objects {@link renderKubernetes} renders (plain, JSON-able types), its options,
 * and the names and labels they carry.
 */
import { ClusterCapabilities } from "../../core/cluster";
import { RegistryCredential } from "../../core/registry-credential";

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

/** Registry credentials, resolved: a `RegistryCredential` (core) of plain strings. */
export interface ResolvedRegistryCredential {
    /** Registry address as in image references, `host[:port]`. */
    readonly registry: string;
    /** User name. */
    readonly username: string;
    /** Password or token. Secret. */
    readonly password: string;
}

/**
 * Registry credentials, resolved, in the shape `registryAuth` had before flotilla 0.2.
 * @deprecated Use {@link ResolvedRegistryCredential} (`registry` in place of `server`).
 */
export interface ResolvedRegistryAuth {
    /** Registry address as in image references, `host[:port]`. */
    readonly server: string;
    /** User name. */
    readonly username: string;
    /** Password or token. Secret. */
    readonly password: string;
}

/**
 * Options of {@link renderKubernetesManifest}: how an app's Kubernetes objects are named and
 * what the target cluster supports.
 */
export interface KubernetesManifestOptions {
    /** Name of the app: `app.kubernetes.io/part-of`, prefix of its Secrets and claims. A DNS label. */
    readonly appName: string;
    /** Namespace of every object. A DNS label. */
    readonly namespace: string;
    /**
     * Render a `Namespace` object first.
     * @default false: no `Namespace` object (the namespace exists).
     */
    readonly createNamespace?: boolean;
    /**
     * What the target cluster supports: without a service virtual IP the discovery Services are
     * headless; without the routing mesh `ingress` ports are refused; with a load balancer
     * `loadBalancer` ports get a `LoadBalancer` Service.
     * @default `{ serviceVirtualIp: true, routingMesh: true, loadBalancer: false }`: ClusterIP
     * Services, `ingress` ports as NodePorts, `loadBalancer` ports as NodePorts too.
     */
    readonly capabilities?: ClusterCapabilities;
    /**
     * Credentials of a private registry: an image pull secret every pod uses (its password is
     * rendered into a `Secret` object).
     * @default none: no pull secret; images come from public registries or ones that need no log-in.
     */
    readonly registryAuth?: RegistryCredential;
    /**
     * The API server's NodePort range (`--service-node-port-range`), inclusive: every `ingress`
     * port's published number must lie in it.
     * @default `[30000, 32767]`, Kubernetes' own range.
     */
    readonly nodePortRange?: readonly [number, number];
    /**
     * Claim size of a volume that gives none, a memory-like quantity.
     * @default `"1Gi"`
     */
    readonly defaultVolumeSize?: string;
    /**
     * Seconds a Deployment's pod stays bound to a node that is not ready or unreachable before it
     * is evicted and rescheduled elsewhere: tolerations of `node.kubernetes.io/not-ready` and
     * `node.kubernetes.io/unreachable` (`NoExecute`) with this `tolerationSeconds`, an integer
     * from 0 to 86400. DaemonSet pods get none (they belong to their node).
     * @default none rendered: Kubernetes' own 300 s apply.
     */
    readonly nodeLossTolerationSeconds?: number;
    /**
     * Seconds a stopping pod of a service with ports keeps running after it was told to stop,
     * so that it is out of every Service's endpoints (and kube-proxy's rules on every node) before
     * its process gets SIGTERM: a `preStop` sleep hook (`lifecycle.preStop.sleep`), an integer
     * from 1 to 300; `terminationGracePeriodSeconds` is then this + 30 (Kubernetes' default
     * grace period after the hook). Without it a rolling update can refuse the connections that
     * still reach a stopped pod.
     * @default none rendered: Kubernetes stops the pod at once.
     */
    readonly drainSeconds?: number;
}

/**
 * Options of {@link renderKubernetes}: {@link KubernetesManifestOptions} with the registry
 * credentials resolved to plain strings (`server` is accepted in place of `registry`, the shape
 * before flotilla 0.2). Defaults: {@link FULL_CAPABILITIES}, {@link DEFAULT_NODE_PORT_RANGE},
 * {@link DEFAULT_VOLUME_SIZE}.
 */
export interface KubernetesRenderOptions extends Omit<KubernetesManifestOptions, "registryAuth"> {
    /** Credentials of a private registry, resolved. Default none. */
    readonly registryAuth?: ResolvedRegistryCredential | ResolvedRegistryAuth;
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
