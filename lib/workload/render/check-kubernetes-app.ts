/**
 * What the Kubernetes rendering refuses ({@link checkKubernetesApp}): see {@link renderKubernetes}'s
 * module documentation for the list.
 */
import { NormalizedAppSpec, formatDuration, parseMemory } from "../app-spec";
import { FULL_CAPABILITIES } from "../../core/cluster";
import { REGISTRY_EXPECTED, parseRegistryAddress } from "../../core/image-ref";
import { Described, Validator, isPlainObject, secretShown } from "../../core/validate";
import {
    DEFAULT_NODE_PORT_RANGE,
    DEFAULT_VOLUME_SIZE,
    K8S_SECRETS_VOLUME,
    KubernetesRenderOptions,
    ResolvedRegistryAuth,
    ResolvedRegistryCredential,
} from "./kubernetes-objects";
import { HASH_LENGTH, LOAD_BALANCER_SUFFIX, MAX_SECONDS, NODE_PORT_SUFFIX, PROGRESS_DEADLINE_SECONDS, seconds } from "./kubernetes-limits";
import {
    isDns1123Label,
    isDns1123Subdomain,
    isKubernetesLabelKey,
    isKubernetesLabelValue,
    kubernetesServiceType,
} from "./kubernetes-names";

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

/**
 * Checks resolved credentials as core's `checkRegistryCredential` does a `RegistryCredential`:
 * `{ registry, username, password }`, or `server` in place of `registry` (the shape before
 * flotilla 0.2).
 */
function checkRegistryAuth(v: Validator, auth: ResolvedRegistryCredential | ResolvedRegistryAuth): void {
    if (!isPlainObject(auth)) {
        v.fail("registryAuth", auth, "an object { registry, username, password }");
    }
    const key = auth.registry === undefined && auth.server !== undefined ? "server" : "registry";
    v.known("registryAuth", auth, [key, "username", "password"]);
    const address = auth[key];
    const registry = parseRegistryAddress(address);
    if (typeof registry === "string") {
        v.fail(`registryAuth.${key}`, address, `${REGISTRY_EXPECTED} (${registry})`);
    }
    if (typeof auth.username !== "string" || auth.username === "" || /[\s:]/.test(auth.username)) {
        v.fail("registryAuth.username", auth.username, "a non-empty user name without white space or ':'");
    }
    if (typeof auth.password !== "string" || auth.password === "") {
        v.fail("registryAuth.password", secretShown(auth.password), "a non-empty password or token");
    }
}

