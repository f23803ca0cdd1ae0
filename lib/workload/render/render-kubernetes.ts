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
import { NormalizedAppSpec, NormalizedHealthcheck, NormalizedQuantities, NormalizedService, SECRETS_DIR } from "../app-spec";
import { ClusterCapabilities } from "../../core/cluster";

import {
    K8S_ANNOTATION_FAILURE_ACTION,
    K8S_LABEL_MANAGED_BY,
    K8S_LABEL_NAME,
    K8S_LABEL_PART_OF,
    K8S_MANAGER,
    K8S_SECRETS_VOLUME,
    KUBERNETES_RENDER_TYPE,
    K8sContainer,
    K8sContainerPort,
    K8sDaemonSet,
    K8sDeployment,
    K8sObjectMeta,
    K8sPodTemplate,
    K8sProbe,
    K8sRollingUpdate,
    K8sQuantities,
    K8sService,
    K8sToleration,
    K8sVolume,
    KubernetesObject,
    KubernetesObjectsWithSecrets,
    KubernetesRenderOptions,
} from "./kubernetes-objects";
import { LOAD_BALANCER_SUFFIX, NODE_PORT_SUFFIX, PROGRESS_DEADLINE_SECONDS, SECRET_FILE_MODE, registryOf, seconds } from "./kubernetes-limits";
import {
    formatKubernetesCpu,
    formatKubernetesMemory,
    kubernetesPullSecretName,
    kubernetesSecretName,
    kubernetesServiceType,
} from "./kubernetes-names";
import { checkKubernetesApp } from "./check-kubernetes-app";

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
        const { username, password } = opts.registryAuth;
        const server = registryOf(opts.registryAuth);
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
