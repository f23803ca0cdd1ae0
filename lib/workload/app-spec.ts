/**
 * The orchestrator-neutral description of an application: one or more long-running services, each
 * an image with its replicas, published ports, environment, secrets, resources, volumes, placement,
 * health check and update policy, all reaching each other by service name on one private network
 * (web + db + a named volume, as a compose file would say it).
 *
 * Pure: nothing here creates a resource. A deployer (e.g. `SwarmApp`, later a Kubernetes renderer)
 * calls {@link normalizeAppSpec} in its constructor, before creating any child, and renders the
 * result. Everything that reaches the cluster is described in neutral terms; how each orchestrator
 * realises it is noted beside it (Swarm / Kubernetes) and lives in the renderers.
 *
 * Property paths in error messages are relative to the {@link AppSpec}, as when a construct's Args
 * extend it: `services.web.replicas`, `services.web.ports[0].published`,
 * `services.web.resources.limits.memory`, `secrets.db-password`. A construct that nests the spec
 * under a property passes that property as `prefix` (e.g. `"app."`).
 */
import * as pulumi from "@pulumi/pulumi";
import { Validator } from "../core/validate";
import { IMAGE_EXPECTED, ImageReference, parseImageReference } from "../core/image-ref";

export type { ImageReference } from "../core/image-ref";
export { parseImageReference } from "../core/image-ref";

// ---------------------------------------------------------------------------------------------
// The spec (what users write)
// ---------------------------------------------------------------------------------------------

/** How a service's tasks are counted: a fixed number, or one on every eligible node. */
export type ServiceMode = "replicated" | "global";

/**
 * How a published port reaches the service.
 * - `ingress`: the port is open on every node of the cluster and load-balanced to the service's
 *   tasks wherever they run (Swarm routing mesh; Kubernetes NodePort-style Service). Needs IPVS on
 *   Swarm.
 * - `host`: the port is open only on the nodes where a task runs, straight to that task (Swarm
 *   `mode: host`; Kubernetes `hostPort`). Works where the routing mesh does not (the lab's kernel
 *   has no IPVS); at most one task per node can publish a given port.
 */
export type PublishMode = "ingress" | "host";

/** Transport protocol of a port. */
export type PortProtocol = "tcp" | "udp";

/** Order of an update: start the new task before stopping the old one, or the other way round. */
export type UpdateOrder = "start-first" | "stop-first";

/** What to do when an updated task fails within the monitor period. */
export type UpdateFailureAction = "rollback" | "pause" | "continue";

/** An application: services that find each other by name on one private network. */
export interface AppSpec<V extends pulumi.Input<string> = pulumi.Input<string>> {
    /**
     * The services, by name. A name is a DNS label starting with a letter (at most 63 characters);
     * the other services reach this one at that host name (Swarm: network alias on the app's
     * overlay network; Kubernetes: a Service of that name). At least one.
     */
    readonly services: Readonly<Record<string, ServiceSpec<V>>>;
    /**
     * Secrets of the app, by name: each value is always treated as secret (never logged, never
     * written into a rendered file). A service lists the names it needs in its `secrets`; each one
     * appears in its containers as the file `/run/secrets/<name>` (Swarm secret; Kubernetes Secret
     * volume). Names: lower-case letters, digits, '-', '_' and '.', starting and ending with a
     * letter or digit. A changed value rolls the services that use it. Default none.
     */
    readonly secrets?: Readonly<Record<string, V>>;
    /**
     * Publish mode of every port that does not set its own `mode`. Default `"ingress"`; set
     * `"host"` where the routing mesh is unavailable (the lab).
     */
    readonly publishMode?: PublishMode;
}

/** One service: an image run as one or more identical tasks (containers). */
export interface ServiceSpec<V extends pulumi.Input<string> = pulumi.Input<string>> {
    /**
     * Image reference, `[registry[:port]/]path[:tag][@digest]`, e.g. `postgres:16`,
     * `registry.lab:5000/shop/web:1.4.2`, `ghcr.io/org/app@sha256:…`. Path components are
     * lower-case. Without a registry the image comes from Docker Hub; credentials for a private
     * registry are the deployer's business. Without a tag: `latest`.
     */
    readonly image: string;
    /** `replicated` (a fixed number of tasks) or `global` (one task per eligible node). Default `replicated`. */
    readonly mode?: ServiceMode;
    /** Number of tasks of a replicated service, an integer from 0 to 1000. Default 1. Not allowed for a global service. */
    readonly replicas?: number;
    /** Arguments replacing the image's command (Docker CMD; Kubernetes `args`). Default: the image's. */
    readonly command?: readonly string[];
    /** Program replacing the image's entrypoint (Docker ENTRYPOINT; Kubernetes `command`). Default: the image's. */
    readonly entrypoint?: readonly string[];
    /** Environment variables: names `[A-Za-z_][A-Za-z0-9_]*`, values strings. Default none. */
    readonly env?: Readonly<Record<string, V>>;
    /**
     * Ports published outside the cluster. Services reach each other on any port over the app's
     * network without publishing. A published port (with its protocol) is used at most once in the
     * whole app. Default none.
     */
    readonly ports?: readonly PortSpec[];
    /** Names of the app's `secrets` this service gets as files `/run/secrets/<name>`. Default none. */
    readonly secrets?: readonly string[];
    /**
     * Named volumes to mount, by volume name (a DNS label): the mount path, or `{ path, readOnly }`.
     * The volume outlives the service; two services naming the same volume share it where they
     * run on the same node. With Docker's default driver a volume is local to a node: pin a
     * stateful service with `placement`. Default none.
     */
    readonly volumes?: Readonly<Record<string, string | VolumeMountSpec>>;
    /** CPU and memory limits and reservations. Default: none (unbounded, nothing reserved). */
    readonly resources?: ResourcesSpec;
    /**
     * Node label selectors, all of which a node must satisfy to run this service's tasks: each
     * `<label>==<value>` or `<label>!=<value>`, on the node labels the cluster sets from its hosts'
     * labels (`provider`, `pool`, `region`, `zone` and yours), e.g. `["zone==a", "pool!=spot"]`.
     * Label names: letters, digits, '.', '_' and '-' (no `prefix/`: Swarm constraints refuse '/');
     * values as Kubernetes label values. Swarm compares values ignoring case, Kubernetes does not:
     * keep them lower-case. Rendered for Swarm as `node.labels.<label> == <value>`; for Kubernetes
     * as node affinity. Default: any node.
     */
    readonly placement?: readonly string[];
    /** How to tell a task is healthy. Default: the image's own HEALTHCHECK, if any. */
    readonly healthcheck?: HealthcheckSpec;
    /** How a change rolls out. Defaults: see {@link UpdatePolicySpec}. */
    readonly update?: UpdatePolicySpec;
    /** Labels on the service and its containers. Keys starting with `flotilla.` are reserved. Default none. */
    readonly labels?: Readonly<Record<string, string>>;
}

/** A published port. */
export interface PortSpec {
    /** Port the container listens on, 1 to 65535. */
    readonly target: number;
    /** Port opened outside the cluster, 1 to 65535. Default: `target`. */
    readonly published?: number;
    /** `tcp` or `udp`. Default `tcp`. */
    readonly protocol?: PortProtocol;
    /** `ingress` or `host` (see {@link PublishMode}). Default: the app's `publishMode`. */
    readonly mode?: PublishMode;
}

/** A named volume's mount. */
export interface VolumeMountSpec {
    /** Absolute path in the container, not `/` and not under `/run/secrets`. */
    readonly path: string;
    /** Mount read-only. Default `false`. */
    readonly readOnly?: boolean;
}

/** CPU and memory quantities. */
export interface ResourceQuantities {
    /**
     * CPUs: a number (`0.5`, `2`) or a string of CPUs (`"0.5"`) or millicpus (`"500m"`), at a
     * precision of at most 0.001 CPU.
     */
    readonly cpu?: number | string;
    /**
     * Memory: a number of bytes, or a string with a Kubernetes-style suffix: `k`, `M`, `G`, `T`
     * (powers of 1000) or `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024), e.g. `"256Mi"`, `"1G"`. Note
     * `"512M"` is 512,000,000 bytes (Docker's `512m` is `"512Mi"` here).
     */
    readonly memory?: number | string;
}

/** Limits cap what a task may use; reservations are set aside for it when it is scheduled. */
export interface ResourcesSpec {
    /** Caps (Kubernetes `limits`). A memory limit is at least 6Mi (the Docker engine's minimum). Default none. */
    readonly limits?: ResourceQuantities;
    /** Reservations (Kubernetes `requests`), no larger than the limits. Default none. */
    readonly reservations?: ResourceQuantities;
}

/**
 * A health check: a command run inside the container. Durations are strings such as `"10s"`,
 * `"1m30s"`, `"500ms"` (units `h`, `m`, `s`, `ms`). Kubernetes probes count whole seconds, so
 * its renderer rounds up.
 */
export interface HealthcheckSpec {
    /**
     * The command: an array is run as is (Docker `CMD`; Kubernetes exec probe), a string by
     * `/bin/sh -c` (Docker `CMD-SHELL`). Exit status 0 means healthy.
     */
    readonly command: string | readonly string[];
    /** Time between checks, more than 0. Default `"10s"`. */
    readonly interval?: string;
    /** Time after which a check counts as failed, more than 0. Default `"5s"`. */
    readonly timeout?: string;
    /** Consecutive failures that make the task unhealthy, 1 to 100. Default 3. */
    readonly retries?: number;
    /** Time after start during which failures do not count. Default `"0s"`. */
    readonly startPeriod?: string;
}

/** How a change to a service (a new image, env, secret…) rolls out over its tasks. */
export interface UpdatePolicySpec {
    /** Tasks updated at a time, 1 to 1000. Default 1. */
    readonly parallelism?: number;
    /** Wait between batches, a duration (`"5s"`). Default `"5s"`. */
    readonly delay?: string;
    /**
     * `start-first` (a new task starts before the old one stops: no gap) or `stop-first`.
     * Default `start-first`, except `stop-first` for a service that publishes a port in `host`
     * mode (the old task holds the port on its node, so a new one could not start beside it) or
     * mounts a named volume read-write (two tasks would write the same data at once).
     */
    readonly order?: UpdateOrder;
    /**
     * On a task failing during the update: `rollback` to the previous version, `pause` the update,
     * or `continue`. Default `rollback`. A rollback itself uses the same parallelism, delay,
     * order and monitor, and pauses if it fails.
     */
    readonly failureAction?: UpdateFailureAction;
    /** How long each updated task is watched for failure, more than 0. Default `"10s"`. */
    readonly monitor?: string;
}

// ---------------------------------------------------------------------------------------------
// The normalized spec (what renderers read): validated, every default resolved
// ---------------------------------------------------------------------------------------------


/** A published port with its defaults resolved. */
export interface NormalizedPort {
    readonly target: number;
    readonly published: number;
    readonly protocol: PortProtocol;
    readonly mode: PublishMode;
}

/** A named volume's mount, resolved. */
export interface NormalizedVolumeMount {
    /** Volume name. */
    readonly volume: string;
    readonly path: string;
    readonly readOnly: boolean;
}

/** Resource quantities in base units. */
export interface NormalizedQuantities {
    /** CPUs in billionths (nano-CPUs): 0.5 CPU is 500000000. */
    readonly nanoCpus?: number;
    /** Memory in bytes. */
    readonly memoryBytes?: number;
}

/** Limits and reservations, in base units. */
export interface NormalizedResources {
    readonly limits: NormalizedQuantities;
    readonly reservations: NormalizedQuantities;
}

/** A node label selector. */
export interface PlacementConstraint {
    /** Node label name, e.g. `zone`. */
    readonly label: string;
    /** `==` (label has this value) or `!=` (label is absent or has another value). */
    readonly operator: "==" | "!=";
    readonly value: string;
}

/** A health check with its defaults resolved; durations in milliseconds. */
export interface NormalizedHealthcheck {
    /** Array: exec form; string: run by `/bin/sh -c`. */
    readonly command: string | readonly string[];
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly startPeriodMs: number;
}

/** An update policy with its defaults resolved; durations in milliseconds. */
export interface NormalizedUpdatePolicy {
    readonly parallelism: number;
    readonly delayMs: number;
    readonly order: UpdateOrder;
    readonly failureAction: UpdateFailureAction;
    readonly monitorMs: number;
}

/** A service, validated, with every default resolved. */
export interface NormalizedService<V = pulumi.Input<string>> {
    readonly name: string;
    readonly image: string;
    readonly imageReference: ImageReference;
    readonly mode: ServiceMode;
    /** Number of tasks; undefined for a global service. */
    readonly replicas: number | undefined;
    /** Undefined: the image's. */
    readonly command: readonly string[] | undefined;
    /** Undefined: the image's. */
    readonly entrypoint: readonly string[] | undefined;
    /** Environment, by name in sorted order. */
    readonly env: Readonly<Record<string, V>>;
    readonly ports: readonly NormalizedPort[];
    /** Names of the app's secrets this service mounts, sorted. */
    readonly secrets: readonly string[];
    /** Volume mounts, sorted by volume name. */
    readonly volumes: readonly NormalizedVolumeMount[];
    readonly resources: NormalizedResources;
    readonly placement: readonly PlacementConstraint[];
    /** Undefined: the image's own. */
    readonly healthcheck: NormalizedHealthcheck | undefined;
    readonly update: NormalizedUpdatePolicy;
    /** User labels, sorted by key. */
    readonly labels: Readonly<Record<string, string>>;
}

/** An {@link AppSpec}, validated, with every default resolved. */
export interface NormalizedAppSpec<V = pulumi.Input<string>> {
    /** Services in the order given. */
    readonly services: readonly NormalizedService<V>[];
    /** Secret values by name, in sorted order. */
    readonly secrets: Readonly<Record<string, V>>;
    /** Every named volume some service mounts, sorted. */
    readonly volumes: readonly string[];
    /** The app's default publish mode. */
    readonly publishMode: PublishMode;
}

// ---------------------------------------------------------------------------------------------
// Defaults and limits
// ---------------------------------------------------------------------------------------------

/** Default number of tasks of a replicated service. */
export const DEFAULT_REPLICAS = 1;
/** Largest number of tasks of a replicated service. */
export const MAX_REPLICAS = 1000;
/** Default publish mode of a port. */
export const DEFAULT_PUBLISH_MODE: PublishMode = "ingress";
/** The smallest memory limit the Docker engine accepts: 6 MiB. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
/** Directory in which a service's secrets appear as files. */
export const SECRETS_DIR = "/run/secrets";

/**
 * Default update policy. For a service that publishes a host-mode port or mounts a named volume
 * read-write, `order` is `stop-first`.
 */
export const DEFAULT_UPDATE_POLICY: NormalizedUpdatePolicy = {
    parallelism: 1,
    delayMs: 5_000,
    order: "start-first",
    failureAction: "rollback",
    monitorMs: 10_000,
};

/** Defaults of a health check's timings. */
export const DEFAULT_HEALTHCHECK: Omit<NormalizedHealthcheck, "command"> = {
    intervalMs: 10_000,
    timeoutMs: 5_000,
    retries: 3,
    startPeriodMs: 0,
};

// ---------------------------------------------------------------------------------------------
// Parsers: each returns the value, or a reason the text is not one (for the caller's Validator)
// ---------------------------------------------------------------------------------------------

const MEMORY_UNITS: Record<string, bigint> = {
    "": 1n,
    k: 1000n,
    M: 1000n ** 2n,
    G: 1000n ** 3n,
    T: 1000n ** 4n,
    Ki: 1024n,
    Mi: 1024n ** 2n,
    Gi: 1024n ** 3n,
    Ti: 1024n ** 4n,
};

/**
 * Parses a memory quantity to bytes: a whole number of bytes, or a string `<decimal><unit>` with
 * unit `k`, `M`, `G`, `T` (powers of 1000) or `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024), or none
 * (bytes). `"256Mi"` → 268435456, `"1G"` → 1000000000. Returns the bytes or why the value is not
 * a memory quantity.
 */
export function parseMemory(value: unknown): number | string {
    if (typeof value === "number") {
        return Number.isSafeInteger(value) && value >= 0 ? value : "not a whole, non-negative number of bytes";
    }
    if (typeof value !== "string") {
        return "not a number or a string";
    }
    const m = /^(\d+)(?:\.(\d+))?([A-Za-z]*)$/.exec(value);
    if (!m) {
        return "not a decimal number with an optional unit";
    }
    const [, whole, fraction = "", unit] = m;
    const multiplier = MEMORY_UNITS[unit];
    if (multiplier === undefined) {
        const hint = /^[mg]i?b?$|^[kmgt]b$|^[KMGT]B$|^K$/.test(unit) ? ` (use "Ki", "Mi", "Gi" for powers of 1024)` : "";
        return `unknown unit "${unit}"${hint}`;
    }
    const scale = 10n ** BigInt(fraction.length);
    const scaled = BigInt(whole + fraction) * multiplier;
    if (scaled % scale !== 0n) {
        return "not a whole number of bytes";
    }
    const bytes = scaled / scale;
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "too large";
    }
    return Number(bytes);
}

/**
 * Parses a CPU quantity to nano-CPUs (billionths of a CPU): a number of CPUs (`0.5`, `2`), the same
 * as a string (`"0.5"`), or millicpus (`"500m"`). Precision: at most 0.001 CPU, which both Swarm
 * and Kubernetes represent exactly. `"0.5"` → 500000000. Returns the nano-CPUs or why the value is
 * not a CPU quantity.
 */
export function parseCpus(value: unknown): number | string {
    let text: string;
    if (typeof value === "number") {
        if (!Number.isFinite(value) || value < 0) {
            return "not a finite, non-negative number";
        }
        text = String(value);
    } else if (typeof value === "string") {
        text = value;
    } else {
        return "not a number or a string";
    }
    let nano: bigint;
    const milli = /^(\d+)m$/.exec(text);
    const decimal = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (milli) {
        nano = BigInt(milli[1]) * 1_000_000n;
    } else if (decimal) {
        const fraction = decimal[2] ?? "";
        if (fraction.length > 3 && !/^0*$/.test(fraction.slice(3))) {
            return "finer than 0.001 CPU";
        }
        nano = BigInt(decimal[1]) * 1_000_000_000n + BigInt((fraction + "000").slice(0, 3)) * 1_000_000n;
    } else {
        return "not a decimal number of CPUs or a whole number of millicpus (\"500m\")";
    }
    if (nano > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "too large";
    }
    return Number(nano);
}

const DURATION_UNITS: Record<string, bigint> = { h: 3_600_000n, m: 60_000n, s: 1_000n, ms: 1n };

/**
 * Parses a duration to milliseconds: `"0"`, or one or more `<decimal><unit>` with unit `h`, `m`,
 * `s` or `ms` (a subset of Go's `time.ParseDuration`): `"10s"` → 10000, `"1m30s"` → 90000,
 * `"500ms"` → 500, `"1.5s"` → 1500. Returns the milliseconds or why the value is not a duration.
 */
export function parseDuration(value: unknown): number | string {
    if (typeof value === "number") {
        return "a number without a unit";
    }
    if (typeof value !== "string") {
        return "not a string";
    }
    if (value === "0") {
        return 0;
    }
    const part = /(\d+)(?:\.(\d+))?([a-zµ]+)/y;
    let total = 0n;
    let at = 0;
    while (at < value.length) {
        part.lastIndex = at;
        const m = part.exec(value);
        if (!m) {
            return "not a sequence of <number><unit> such as \"1m30s\"";
        }
        const [, whole, fraction = "", unit] = m;
        const perUnit = DURATION_UNITS[unit];
        if (perUnit === undefined) {
            return `unknown unit "${unit}"`;
        }
        const scale = 10n ** BigInt(fraction.length);
        const scaled = BigInt(whole + fraction) * perUnit;
        if (scaled % scale !== 0n) {
            return "finer than a millisecond";
        }
        total += scaled / scale;
        at = part.lastIndex;
    }
    if (at === 0) {
        return "empty";
    }
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "too large";
    }
    return Number(total);
}

/** Formats milliseconds as a Go duration string (`90000` → `"1m30s"`, `1500` → `"1s500ms"`, `0` → `"0s"`). */
export function formatDuration(ms: number): string {
    if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new Error(`not a whole, non-negative number of milliseconds: ${ms}`);
    }
    if (ms === 0) {
        return "0s";
    }
    let rest = ms;
    let text = "";
    for (const [unit, size] of [
        ["h", 3_600_000],
        ["m", 60_000],
        ["s", 1_000],
        ["ms", 1],
    ] as const) {
        const n = Math.floor(rest / size);
        if (n > 0) {
            text += `${n}${unit}`;
            rest -= n * size;
        }
    }
    return text;
}

/**
 * Parses a placement constraint `<label>==<value>` or `<label>!=<value>` (spaces around the
 * operator allowed). Returns it, or why the text is not one.
 */
export function parsePlacementConstraint(text: unknown): PlacementConstraint | string {
    if (typeof text !== "string") {
        return "not a string";
    }
    const m = /^\s*([^\s=!]+)\s*(==|!=)\s*(\S*)\s*$/.exec(text);
    if (!m) {
        return "not <label>==<value> or <label>!=<value>";
    }
    const [, label, operator, value] = m;
    if (label.startsWith("node.") || label.startsWith("engine.")) {
        return `"${label}" is orchestrator-specific: write the node label alone, e.g. "zone==a"`;
    }
    if (!LABEL_NAME.test(label)) {
        return `label "${label}" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`;
    }
    if (!LABEL_VALUE.test(value)) {
        return `value "${value}" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`;
    }
    return { label, operator: operator as "==" | "!=", value };
}

// Node label names: what both Swarm constraints (`^[a-z_][a-z0-9\-_.]+$`, case-insensitive) and
// Kubernetes label names accept. Values: Kubernetes label values (a subset of Swarm's).
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9._]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9._]{0,61}[A-Za-z0-9])?$/;

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const APP_KEYS = ["publishMode", "secrets", "services"];
const SERVICE_KEYS = [
    "command",
    "entrypoint",
    "env",
    "healthcheck",
    "image",
    "labels",
    "mode",
    "placement",
    "ports",
    "replicas",
    "resources",
    "secrets",
    "update",
    "volumes",
];
const PORT_KEYS = ["mode", "protocol", "published", "target"];
const VOLUME_KEYS = ["path", "readOnly"];
const RESOURCES_KEYS = ["limits", "reservations"];
const QUANTITY_KEYS = ["cpu", "memory"];
const HEALTHCHECK_KEYS = ["command", "interval", "retries", "startPeriod", "timeout"];
const UPDATE_KEYS = ["delay", "failureAction", "monitor", "order", "parallelism"];

const MEMORY_EXPECTED =
    'a number of bytes or a string such as "256Mi", "512M", "1Gi" (units k, M, G, T: powers of 1000; ' +
    "Ki, Mi, Gi, Ti: powers of 1024)";
const CPU_EXPECTED = 'a number of CPUs more than 0 (0.5, 2, "0.5") or millicpus ("500m"), at most 3 decimals';
const DURATION_EXPECTED = 'a duration such as "10s", "1m30s" or "500ms" (units h, m, s, ms)';
const PATH_EXPECTED =
    `an absolute path in the container, not "/" and not under ${SECRETS_DIR}, without ".", ".." or empty segments`;

/** True for a string, a promise or an Output: what a `pulumi.Input<string>` can be. */
function isStringInput(value: unknown): boolean {
    return (
        typeof value === "string" ||
        pulumi.Output.isInstance(value) ||
        (typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function")
    );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !pulumi.Output.isInstance(value);
}

/**
 * Validates an {@link AppSpec} and resolves every default, before anything is created. Throws an
 * `InvalidArgumentError` of `construct` / `resourceName` naming the property (relative to the
 * spec, after `prefix`), the value received and what is accepted.
 *
 * Checks: service names (DNS labels starting with a letter), image references, mode and replicas
 * (integers 0–1000, none for a global service), ports (1–65535, tcp|udp, ingress|host, no
 * published port/protocol twice in the app), env names, secret names and references, volume
 * names and mount paths (unique per service), CPU and memory quantities (reservations no larger
 * than limits), placement selectors, health check and update durations and counts, labels, and
 * unknown properties (typos).
 */
export function normalizeAppSpec<V extends pulumi.Input<string>>(
    construct: string,
    resourceName: string,
    spec: AppSpec<V>,
    prefix = "",
): NormalizedAppSpec<V> {
    const v: Validator = new Validator(construct, resourceName);
    const p = (path: string) => `${prefix}${path}`;
    const root = prefix.replace(/\.$/, "");
    if (!isPlainObject(spec)) {
        v.fail(root || "spec", spec, "an object with services");
    }
    checkKeys(v, root, spec, APP_KEYS);
    const publishMode = v.oneOf(p("publishMode"), spec.publishMode ?? DEFAULT_PUBLISH_MODE, ["ingress", "host"]);

    // Secrets first: services refer to them.
    const secretsIn = spec.secrets ?? {};
    if (!isPlainObject(secretsIn)) {
        v.fail(p("secrets"), secretsIn, "an object mapping secret names to values");
    }
    const secrets: Record<string, V> = {};
    for (const name of Object.keys(secretsIn).sort()) {
        if (!SECRET_NAME.test(name) || name.length > 63) {
            v.fail(
                p(`secrets.${name}`),
                name,
                "a secret name of 1 to 63 lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            );
        }
        const value = (secretsIn as Record<string, V>)[name];
        if (!isStringInput(value)) {
            // Never show a secret's value, even a wrong one: only its type.
            v.fail(p(`secrets.${name}`), `<${value === null ? "null" : typeof value}>`, "a string (or an Output of one)");
        }
        secrets[name] = value;
    }

    const servicesIn = spec.services;
    if (!isPlainObject(servicesIn) || Object.keys(servicesIn).length === 0) {
        v.fail(p("services"), servicesIn, "an object with at least one service, by name");
    }
    const published = new Map<string, string>();
    const services: NormalizedService<V>[] = [];
    for (const [name, service] of Object.entries(servicesIn)) {
        services.push(normalizeService(v, p(`services.${name}`), name, service, publishMode, secrets, published));
    }
    const volumes = [...new Set(services.flatMap((s) => s.volumes.map((m) => m.volume)))].sort();
    return { services, secrets, volumes, publishMode };
}

function normalizeService<V extends pulumi.Input<string>>(
    v: Validator,
    at: string,
    name: string,
    spec: ServiceSpec<V>,
    publishMode: PublishMode,
    secrets: Record<string, V>,
    published: Map<string, string>,
): NormalizedService<V> {
    if (!SERVICE_NAME.test(name) || name.length > 63) {
        v.fail(
            at,
            name,
            "a service name of 1 to 63 characters: lower-case letters, digits and '-', starting with a letter " +
                "and ending with a letter or digit",
        );
    }
    if (!isPlainObject(spec)) {
        v.fail(at, spec, "an object with at least an image");
    }
    checkKeys(v, at, spec, SERVICE_KEYS);

    const reference = parseImageReference(spec.image);
    if (typeof reference === "string") {
        v.fail(`${at}.image`, spec.image, `${IMAGE_EXPECTED} (${reference})`);
    }

    const mode = v.oneOf(`${at}.mode`, spec.mode ?? "replicated", ["replicated", "global"]);
    let replicas: number | undefined;
    if (mode === "global") {
        if (spec.replicas !== undefined) {
            v.fail(`${at}.replicas`, spec.replicas, 'no replicas for a global service (it runs one task per eligible node)');
        }
    } else {
        replicas = v.integer(`${at}.replicas`, spec.replicas ?? DEFAULT_REPLICAS, 0, MAX_REPLICAS);
    }

    const command = stringList(v, `${at}.command`, spec.command);
    const entrypoint = stringList(v, `${at}.entrypoint`, spec.entrypoint);

    const envIn = spec.env ?? {};
    if (!isPlainObject(envIn)) {
        v.fail(`${at}.env`, envIn, "an object mapping variable names to strings");
    }
    const env: Record<string, V> = {};
    for (const key of Object.keys(envIn).sort()) {
        if (!ENV_NAME.test(key)) {
            v.fail(`${at}.env.${key}`, key, "a variable name of letters, digits and '_', not starting with a digit");
        }
        const value = (envIn as Record<string, V>)[key];
        if (!isStringInput(value)) {
            v.fail(`${at}.env.${key}`, value, "a string (or an Output of one)");
        }
        env[key] = value;
    }

    const ports = normalizePorts(v, at, name, spec.ports, publishMode, published);

    const secretRefs = spec.secrets ?? [];
    if (!Array.isArray(secretRefs)) {
        v.fail(`${at}.secrets`, secretRefs, "a list of names of the app's secrets");
    }
    const known = Object.keys(secrets);
    secretRefs.forEach((ref: unknown, i: number) => {
        if (typeof ref !== "string" || !(ref in secrets)) {
            v.fail(
                `${at}.secrets[${i}]`,
                ref,
                known.length === 0
                    ? "the name of one of the app's secrets (it has none: declare them in secrets)"
                    : `the name of one of the app's secrets: ${known.map((k) => JSON.stringify(k)).join(", ")}`,
            );
        }
        if (secretRefs.indexOf(ref) !== i) {
            v.fail(`${at}.secrets[${i}]`, ref, "a secret not already listed");
        }
    });

    const volumes = normalizeVolumes(v, at, spec.volumes);
    const resources = normalizeResources(v, `${at}.resources`, spec.resources);

    const placementIn = spec.placement ?? [];
    if (!Array.isArray(placementIn)) {
        v.fail(`${at}.placement`, placementIn, 'a list of node label selectors such as "zone==a"');
    }
    const placement = placementIn.map((text: unknown, i: number) => {
        const c = parsePlacementConstraint(text);
        if (typeof c === "string") {
            v.fail(`${at}.placement[${i}]`, text, `a node label selector "<label>==<value>" or "<label>!=<value>" (${c})`);
        }
        return c;
    });

    const healthcheck = spec.healthcheck === undefined ? undefined : normalizeHealthcheck(v, `${at}.healthcheck`, spec.healthcheck);
    const exclusive = ports.some((port) => port.mode === "host") || volumes.some((m) => !m.readOnly);
    const update = normalizeUpdate(v, `${at}.update`, spec.update, exclusive);

    const labels = v.labels(`${at}.labels`, spec.labels);
    for (const key of Object.keys(labels)) {
        if (key.startsWith("flotilla.")) {
            v.fail(`${at}.labels.${key}`, key, 'a label name not starting with "flotilla." (reserved)');
        }
    }

    return {
        name,
        image: spec.image,
        imageReference: reference,
        mode,
        replicas,
        command,
        entrypoint,
        env,
        ports,
        secrets: [...(secretRefs as string[])].sort(),
        volumes,
        resources,
        placement,
        healthcheck,
        update,
        labels: Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
}

function normalizePorts(
    v: Validator,
    at: string,
    service: string,
    portsIn: readonly PortSpec[] | undefined,
    publishMode: PublishMode,
    published: Map<string, string>,
): NormalizedPort[] {
    if (portsIn === undefined) {
        return [];
    }
    if (!Array.isArray(portsIn)) {
        v.fail(`${at}.ports`, portsIn, "a list of ports");
    }
    return portsIn.map((port: unknown, i: number) => {
        const pat = `${at}.ports[${i}]`;
        if (!isPlainObject(port)) {
            v.fail(pat, port, "an object with at least a target port");
        }
        checkKeys(v, pat, port, PORT_KEYS);
        const target = v.integer(`${pat}.target`, port.target, 1, 65535);
        const publishedPort = v.integer(`${pat}.published`, port.published ?? target, 1, 65535);
        const protocol = v.oneOf(`${pat}.protocol`, port.protocol ?? "tcp", ["tcp", "udp"]);
        const mode = v.oneOf(`${pat}.mode`, port.mode ?? publishMode, ["ingress", "host"]);
        const key = `${publishedPort}/${protocol}`;
        const first = published.get(key);
        if (first !== undefined) {
            v.fail(
                `${pat}.published`,
                publishedPort,
                `a port not published elsewhere in the app (${first} already publishes ${key})`,
            );
        }
        published.set(key, `services.${service}.ports[${i}]`);
        return { target, published: publishedPort, protocol, mode };
    });
}

function normalizeVolumes(
    v: Validator,
    at: string,
    volumesIn: Readonly<Record<string, string | VolumeMountSpec>> | undefined,
): NormalizedVolumeMount[] {
    if (volumesIn === undefined) {
        return [];
    }
    if (!isPlainObject(volumesIn)) {
        v.fail(`${at}.volumes`, volumesIn, "an object mapping volume names to mount paths");
    }
    const paths = new Map<string, string>();
    return Object.keys(volumesIn)
        .sort()
        .map((volume) => {
            const vat = `${at}.volumes.${volume}`;
            v.dnsLabel(vat, volume);
            const mount = volumesIn[volume];
            let path: unknown;
            let readOnly: unknown = false;
            if (typeof mount === "string") {
                path = mount;
            } else if (isPlainObject(mount)) {
                checkKeys(v, vat, mount, VOLUME_KEYS);
                path = mount.path;
                readOnly = mount.readOnly ?? false;
            } else {
                v.fail(vat, mount, "a mount path or { path, readOnly }");
            }
            const pathAt = typeof mount === "string" ? vat : `${vat}.path`;
            if (!isMountPath(path)) {
                v.fail(pathAt, path, PATH_EXPECTED);
            }
            const other = paths.get(path);
            if (other !== undefined) {
                v.fail(pathAt, path, `a path no other volume of the service is mounted at (volume "${other}" is)`);
            }
            paths.set(path, volume);
            if (typeof readOnly !== "boolean") {
                v.fail(`${vat}.readOnly`, readOnly, "true or false");
            }
            return { volume, path, readOnly };
        });
}

function isMountPath(path: unknown): path is string {
    if (typeof path !== "string" || !path.startsWith("/") || path === "/" || [...path].some((c) => c < " ")) {
        return false;
    }
    const segments = path.slice(1).split("/");
    if (segments.some((s) => s === "" || s === "." || s === "..")) {
        return false;
    }
    return path !== SECRETS_DIR && !path.startsWith(`${SECRETS_DIR}/`);
}

function normalizeResources(v: Validator, at: string, resources: ResourcesSpec | undefined): NormalizedResources {
    if (resources === undefined) {
        return { limits: {}, reservations: {} };
    }
    if (!isPlainObject(resources)) {
        v.fail(at, resources, "an object with limits and/or reservations");
    }
    checkKeys(v, at, resources, RESOURCES_KEYS);
    const r = resources as ResourcesSpec;
    const limits = quantities(v, `${at}.limits`, r.limits, true);
    const reservations = quantities(v, `${at}.reservations`, r.reservations, false);
    if (limits.nanoCpus !== undefined && reservations.nanoCpus !== undefined && reservations.nanoCpus > limits.nanoCpus) {
        v.fail(`${at}.reservations.cpu`, r.reservations?.cpu, `no more than the CPU limit (${show(r.limits?.cpu)})`);
    }
    if (
        limits.memoryBytes !== undefined &&
        reservations.memoryBytes !== undefined &&
        reservations.memoryBytes > limits.memoryBytes
    ) {
        v.fail(`${at}.reservations.memory`, r.reservations?.memory, `no more than the memory limit (${show(r.limits?.memory)})`);
    }
    return { limits, reservations };
}

function show(value: unknown): string {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function quantities(v: Validator, at: string, q: ResourceQuantities | undefined, isLimit: boolean): NormalizedQuantities {
    if (q === undefined) {
        return {};
    }
    if (!isPlainObject(q)) {
        v.fail(at, q, "an object with cpu and/or memory");
    }
    checkKeys(v, at, q, QUANTITY_KEYS);
    const out: { nanoCpus?: number; memoryBytes?: number } = {};
    if (q.cpu !== undefined) {
        const nano = parseCpus(q.cpu);
        if (typeof nano === "string" || nano === 0) {
            v.fail(`${at}.cpu`, q.cpu, typeof nano === "string" ? `${CPU_EXPECTED} (${nano})` : CPU_EXPECTED);
        }
        out.nanoCpus = nano;
    }
    if (q.memory !== undefined) {
        const bytes = parseMemory(q.memory);
        const min = isLimit ? MIN_MEMORY_LIMIT_BYTES : 1;
        if (typeof bytes === "string") {
            v.fail(`${at}.memory`, q.memory, `${MEMORY_EXPECTED} (${bytes})`);
        }
        if (bytes < min) {
            v.fail(`${at}.memory`, q.memory, isLimit ? 'a memory limit of at least "6Mi" (6291456 bytes)' : "more than 0 bytes");
        }
        out.memoryBytes = bytes;
    }
    return out;
}

function duration(v: Validator, at: string, value: unknown, fallbackMs: number, minMs: number): number {
    if (value === undefined) {
        return fallbackMs;
    }
    const ms = parseDuration(value);
    if (typeof ms === "string") {
        v.fail(at, value, `${DURATION_EXPECTED} (${ms})`);
    }
    if (ms < minMs) {
        v.fail(at, value, `${DURATION_EXPECTED}, more than 0`);
    }
    return ms;
}

function normalizeHealthcheck(v: Validator, at: string, hc: HealthcheckSpec): NormalizedHealthcheck {
    if (!isPlainObject(hc)) {
        v.fail(at, hc, "an object with at least a command");
    }
    checkKeys(v, at, hc, HEALTHCHECK_KEYS);
    let command: string | readonly string[];
    if (typeof hc.command === "string" && hc.command.trim() !== "") {
        command = hc.command;
    } else if (
        Array.isArray(hc.command) &&
        hc.command.length > 0 &&
        hc.command.every((c: unknown) => typeof c === "string") &&
        hc.command[0] !== ""
    ) {
        command = [...(hc.command as string[])];
    } else {
        v.fail(`${at}.command`, hc.command, "a non-empty list of strings (run as is) or a non-empty shell command string");
    }
    return {
        command,
        intervalMs: duration(v, `${at}.interval`, hc.interval, DEFAULT_HEALTHCHECK.intervalMs, 1),
        timeoutMs: duration(v, `${at}.timeout`, hc.timeout, DEFAULT_HEALTHCHECK.timeoutMs, 1),
        retries: v.integer(`${at}.retries`, hc.retries ?? DEFAULT_HEALTHCHECK.retries, 1, 100),
        startPeriodMs: duration(v, `${at}.startPeriod`, hc.startPeriod, DEFAULT_HEALTHCHECK.startPeriodMs, 0),
    };
}

function normalizeUpdate(
    v: Validator,
    at: string,
    update: UpdatePolicySpec | undefined,
    exclusive: boolean,
): NormalizedUpdatePolicy {
    const u = update ?? {};
    if (!isPlainObject(u)) {
        v.fail(at, u, "an object");
    }
    checkKeys(v, at, u, UPDATE_KEYS);
    const d = DEFAULT_UPDATE_POLICY;
    return {
        parallelism: v.integer(`${at}.parallelism`, u.parallelism ?? d.parallelism, 1, 1000),
        delayMs: duration(v, `${at}.delay`, u.delay, d.delayMs, 0),
        order: v.oneOf(`${at}.order`, u.order ?? (exclusive ? "stop-first" : d.order), ["start-first", "stop-first"]),
        failureAction: v.oneOf(`${at}.failureAction`, u.failureAction ?? d.failureAction, ["rollback", "pause", "continue"]),
        monitorMs: duration(v, `${at}.monitor`, u.monitor, d.monitorMs, 1),
    };
}

function stringList(v: Validator, at: string, value: unknown): string[] | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === "string")) {
        v.fail(at, value, "a non-empty list of strings");
    }
    return [...value];
}

/** Fails on a property that is not in `known` (a typo would otherwise be silently ignored). */
function checkKeys(v: Validator, at: string, obj: object, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
        if (!known.includes(key)) {
            const path = at === "" ? key : `${at}.${key}`;
            v.fail(path, (obj as Record<string, unknown>)[key], `no such property (known: ${known.join(", ")})`);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution of Inputs
// ---------------------------------------------------------------------------------------------

/**
 * Resolves every `Input` of a normalized spec (env and secret values), for a renderer that needs
 * plain values. The result is a secret Output when the app has secrets.
 */
export function resolveAppSpec(app: NormalizedAppSpec): pulumi.Output<NormalizedAppSpec<string>> {
    const envs = pulumi.all(app.services.map((s) => pulumi.all({ ...s.env })));
    const values = pulumi.all({ ...app.secrets });
    const secrets = Object.keys(app.secrets).length > 0 ? pulumi.secret(values) : values;
    return pulumi.all([envs, secrets]).apply(([resolvedEnvs, resolvedSecrets]) => ({
        ...app,
        services: app.services.map((s, i) => ({ ...s, env: resolvedEnvs[i] as Record<string, string> })),
        secrets: resolvedSecrets as Record<string, string>,
    }));
}
