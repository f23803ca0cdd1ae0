/**
 * Validation of an {@link AppSpec} and resolution of its defaults ({@link normalizeAppSpec}), and
 * of its Inputs ({@link resolveAppSpec}). Pure: nothing here creates a resource. A deployer (e.g.
 * `SwarmApp`, later a Kubernetes renderer) calls {@link normalizeAppSpec} in its constructor,
 * before creating any child, and renders the result.
 *
 * The validation contract (DESIGN convention 14): unknown properties are errors everywhere, naming
 * the closest known property and listing them all; names are looked up as own keys only (a secret
 * named `constructor` is not found on the object prototype); a value that may be an Output (the
 * image, env and secret values) is checked now when plain, and when it resolves otherwise, with the
 * same message; a secret's value is never shown, only its length.
 *
 * Property paths in error messages are relative to the {@link AppSpec}, as when a construct's Args
 * extend it: `services.web.replicas`, `services.web.ports[0].published`,
 * `services.web.resources.limits.memory`, `secrets.db-password`. A construct that nests the spec
 * under a property passes that property as `prefix` (e.g. `"app."`).
 */
import * as pulumi from "@pulumi/pulumi";
import { Described, Reason, Validator, hasOwn, isPlainObject, secretShown } from "../../core/validate";
import { IMAGE_EXPECTED, ImageReference, parseImageReference } from "../../core/image-ref";
import { parseCpus, parseDuration, parseMemory } from "./quantities";
import type {
    AppSpec,
    ExposedPortSpec,
    HealthcheckSpec,
    NormalizedAppSpec,
    NormalizedExposedPort,
    NormalizedHealthcheck,
    NormalizedPort,
    NormalizedQuantities,
    NormalizedResources,
    NormalizedService,
    NormalizedUpdatePolicy,
    NormalizedVolume,
    NormalizedVolumeMount,
    PlacementConstraint,
    PortProtocol,
    PortSpec,
    PublishMode,
    ResourceQuantities,
    ResourcesSpec,
    ServiceSpec,
    UpdateOrder,
    UpdatePolicySpec,
    VolumeMountSpec,
    VolumeSpec,
} from "./types";

// ---------------------------------------------------------------------------------------------
// Defaults and limits
// ---------------------------------------------------------------------------------------------

/** Default number of tasks of a replicated service. */
export const DEFAULT_REPLICAS = 1;
/** Largest number of tasks of a replicated service. */
export const MAX_REPLICAS = 1000;
/** Default publish mode of a port. */
export const DEFAULT_PUBLISH_MODE: PublishMode = "ingress";
/** The publish modes, in the order error messages list them. */
export const PUBLISH_MODES: readonly PublishMode[] = ["ingress", "host", "loadBalancer"];
/** The smallest memory limit the Docker engine accepts: 6 MiB. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
/** Directory in which a service's secrets appear as files. */
export const SECRETS_DIR = "/run/secrets";
/** Largest `parallelism`, `maxSurge` and `maxUnavailable` of an update. */
export const MAX_UPDATE_BATCH = 1000;

/**
 * Default update policy: one task at a time, the new one started first (`maxSurge` 1,
 * `maxUnavailable` 0). For a service that publishes a host-mode port or mounts a named volume
 * read-write, `order` is `stop-first` (`maxSurge` 0, `maxUnavailable` 1).
 */
export const DEFAULT_UPDATE_POLICY: NormalizedUpdatePolicy = {
    parallelism: 1,
    delayMs: 5_000,
    order: "start-first",
    failureAction: "rollback",
    monitorMs: 10_000,
    maxSurge: 1,
    maxUnavailable: 0,
};

/** Defaults of a health check's timings. */
export const DEFAULT_HEALTHCHECK: Omit<NormalizedHealthcheck, "command"> = {
    intervalMs: 10_000,
    timeoutMs: 5_000,
    retries: 3,
    startPeriodMs: 0,
};

// ---------------------------------------------------------------------------------------------
// Placement
// ---------------------------------------------------------------------------------------------

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
// A DNS subdomain (RFC 1123): Kubernetes storage class names; also plain Docker volume driver names.
const VOLUME_CLASS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Properties of {@link AppSpec}. */
export const APP_KEYS = ["publishMode", "secrets", "services", "volumes"];
const SERVICE_KEYS = [
    "command",
    "entrypoint",
    "env",
    "expose",
    "healthcheck",
    "image",
    "labels",
    "liveness",
    "mode",
    "placement",
    "ports",
    "readiness",
    "replicas",
    "resources",
    "secrets",
    "update",
    "volumes",
];
const PORT_KEYS = ["mode", "protocol", "published", "target"];
const EXPOSE_KEYS = ["port", "protocol"];
const VOLUME_KEYS = ["path", "readOnly"];
const VOLUME_SPEC_KEYS = ["class", "size"];
const RESOURCES_KEYS = ["limits", "reservations"];
const QUANTITY_KEYS = ["cpu", "memory"];
const HEALTHCHECK_KEYS = ["command", "interval", "retries", "startPeriod", "timeout"];
const UPDATE_KEYS = ["delay", "failureAction", "maxSurge", "maxUnavailable", "monitor", "order", "parallelism"];
const PROTOCOLS: readonly PortProtocol[] = ["tcp", "udp"];

const MEMORY_EXPECTED =
    'a number of bytes or a string such as "256Mi", "512M", "1Gi" (units k, M, G, T: powers of 1000; ' +
    "Ki, Mi, Gi, Ti: powers of 1024)";
const SIZE_EXPECTED =
    'a size such as "1Gi", "500M" (units k, M, G, T: powers of 1000; Ki, Mi, Gi, Ti: powers of 1024)';
const CPU_EXPECTED = 'a number of CPUs more than 0 (0.5, 2, "0.5") or millicpus ("500m"), at most 3 decimals';
const DURATION_EXPECTED = 'a duration such as "10s", "1m30s" or "500ms" (units h, m, s, ms)';
const PATH_EXPECTED =
    `an absolute path in the container, not "/" and not under ${SECRETS_DIR}, without ".", ".." or empty segments`;
const STRING_EXPECTED = "a string (or an Output of one)";
const SECRET_EXPECTED = "a non-empty string (or an Output of one)";
const CLASS_EXPECTED =
    "a storage class or volume driver name of 1 to 253 lower-case letters, digits, '-' and '.', each " +
    "dot-separated part starting and ending with a letter or digit";

/** True for an Output or a promise: an Input that is not known yet. */
function isPending(value: unknown): boolean {
    return (
        pulumi.Output.isInstance(value) ||
        (typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function")
    );
}

/**
 * Validates an {@link AppSpec} and resolves every default, before anything is created. Throws an
 * `InvalidArgumentError` of `construct` / `resourceName` naming the property (relative to the
 * spec, after `prefix`), the value received and what is accepted. Values that are Outputs (image,
 * env and secret values) are checked when they resolve: the returned spec carries Outputs that
 * fail with the same message.
 *
 * Checks: service names (DNS labels starting with a letter), image references, mode and replicas
 * (integers 0–1000, none for a global service), internal ports (1–65535, each once), published
 * ports (1–65535, tcp|udp, ingress|host|loadBalancer, no published port/protocol twice in the app),
 * env names and values, secret names, values (non-empty) and references, volume declarations (size,
 * class, mounted by some service), volume names and mount paths (unique per service), CPU and
 * memory quantities (reservations no larger than limits), placement selectors, health checks
 * (`healthcheck` alone, or `readiness`/`liveness`), update policy (one style, counts, durations),
 * labels, and unknown properties (typos).
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
    v.known(root, spec, APP_KEYS);
    const publishMode = v.oneOf(p("publishMode"), spec.publishMode ?? DEFAULT_PUBLISH_MODE, PUBLISH_MODES);

    // Secrets first: services refer to them.
    const secrets = normalizeSecrets(v, p("secrets"), spec.secrets);
    const declared = normalizeVolumeSpecs(v, p("volumes"), spec.volumes);

    const servicesIn = spec.services;
    if (!isPlainObject(servicesIn) || Object.keys(servicesIn).length === 0) {
        v.fail(p("services"), servicesIn, "an object with at least one service, by name");
    }
    const published = new Map<string, string>();
    const services: NormalizedService<V>[] = [];
    for (const [name, service] of Object.entries(servicesIn)) {
        services.push(normalizeService(v, p(`services.${name}`), name, service, publishMode, secrets, published));
    }
    const mounted = new Set(services.flatMap((s) => s.volumes.map((m) => m.volume)));
    for (const [name, volume] of declared) {
        if (!mounted.has(name)) {
            v.fail(
                p(`volumes.${name}`),
                volume.given,
                "a volume that some service mounts (none does: mount it in a service's volumes, or remove it)",
            );
        }
    }
    const volumes: NormalizedVolume[] = [...mounted].sort().map((name) => ({
        name,
        sizeBytes: declared.get(name)?.sizeBytes,
        class: declared.get(name)?.class,
    }));
    return { services, secrets, volumes, publishMode };
}

function normalizeSecrets<V extends pulumi.Input<string>>(
    v: Validator,
    at: string,
    secretsIn: Readonly<Record<string, V>> | undefined,
): Record<string, V> {
    if (secretsIn === undefined) {
        return {};
    }
    if (!isPlainObject(secretsIn)) {
        v.fail(at, secretsIn, "an object mapping secret names to values");
    }
    const secrets: Record<string, V> = {};
    for (const name of Object.keys(secretsIn).sort()) {
        const sat = `${at}.${name}`;
        if (!SECRET_NAME.test(name) || name.length > 63) {
            v.fail(
                sat,
                new Described(`the name ${JSON.stringify(name)}`),
                "a secret name of 1 to 63 lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
            );
        }
        const value: unknown = secretsIn[name];
        const check = (resolved: unknown): string | Reason =>
            typeof resolved === "string" && resolved !== "" ? resolved : new Reason();
        if (isPending(value)) {
            // Checked when it resolves, as Validator.later does with `secret`; the value is never
            // shown, only its length. Secret first, then checked: `pulumi.secret` over an Output
            // that fails would leave that Output's own isSecret promise rejected with no handler.
            secrets[name] = pulumi.secret(value as pulumi.Input<string>).apply((resolved: unknown) => {
                if (check(resolved) instanceof Reason) {
                    v.fail(sat, secretShown(resolved), SECRET_EXPECTED);
                }
                return resolved as string;
            }) as unknown as V;
        } else {
            if (check(value) instanceof Reason) {
                v.fail(sat, secretShown(value), SECRET_EXPECTED);
            }
            secrets[name] = value as V;
        }
    }
    return secrets;
}

/** A declared volume, with what was given (for the message if no service mounts it). */
interface DeclaredVolume {
    readonly given: unknown;
    readonly sizeBytes: number | undefined;
    readonly class: string | undefined;
}

function normalizeVolumeSpecs(
    v: Validator,
    at: string,
    volumesIn: Readonly<Record<string, VolumeSpec>> | undefined,
): Map<string, DeclaredVolume> {
    const declared = new Map<string, DeclaredVolume>();
    if (volumesIn === undefined) {
        return declared;
    }
    if (!isPlainObject(volumesIn)) {
        v.fail(at, volumesIn, 'an object mapping volume names to { size, class } (e.g. { "db-data": { size: "1Gi" } })');
    }
    for (const name of Object.keys(volumesIn).sort()) {
        const vat = `${at}.${name}`;
        v.dnsLabel(vat, name);
        const volume: unknown = volumesIn[name];
        if (!isPlainObject(volume)) {
            v.fail(vat, volume, 'an object with an optional size and class (e.g. { size: "1Gi" })');
        }
        v.known(vat, volume, VOLUME_SPEC_KEYS);
        let sizeBytes: number | undefined;
        if (volume.size !== undefined) {
            const bytes = typeof volume.size === "string" ? parseMemory(volume.size) : "not a string";
            if (typeof bytes === "string") {
                v.fail(`${vat}.size`, volume.size, `${SIZE_EXPECTED} (${bytes})`);
            }
            if (bytes === 0) {
                v.fail(`${vat}.size`, volume.size, `${SIZE_EXPECTED}, more than 0`);
            }
            sizeBytes = bytes;
        }
        let cls: string | undefined;
        if (volume.class !== undefined) {
            if (typeof volume.class !== "string" || volume.class.length > 253 || !VOLUME_CLASS.test(volume.class)) {
                v.fail(`${vat}.class`, volume.class, CLASS_EXPECTED);
            }
            cls = volume.class;
        }
        declared.set(name, { given: volume, sizeBytes, class: cls });
    }
    return declared;
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
    v.known(at, spec, SERVICE_KEYS);

    const { image, imageReference } = normalizeImage(v, `${at}.image`, spec.image);

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
    const env = normalizeEnv(v, `${at}.env`, spec.env);

    const ports = normalizePorts(v, at, name, spec.ports, publishMode, published);
    const expose = normalizeExpose(v, at, spec.expose, ports);

    const secretRefs = spec.secrets ?? [];
    if (!Array.isArray(secretRefs)) {
        v.fail(`${at}.secrets`, secretRefs, "a list of names of the app's secrets");
    }
    const known = Object.keys(secrets);
    secretRefs.forEach((ref: unknown, i: number) => {
        if (typeof ref !== "string" || !hasOwn(secrets, ref)) {
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

    const volumes = normalizeMounts(v, at, spec.volumes);
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

    const { readiness, liveness } = normalizeChecks(v, at, spec);
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
        image,
        imageReference,
        mode,
        replicas,
        command,
        entrypoint,
        env,
        expose,
        ports,
        secrets: [...(secretRefs as string[])].sort(),
        volumes,
        resources,
        placement,
        readiness,
        liveness,
        update,
        labels: Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
}

/** The image: parsed now when plain; when it resolves when an Output (same message). */
function normalizeImage<V extends pulumi.Input<string>>(
    v: Validator,
    at: string,
    image: V | string,
): { image: V | string; imageReference: ImageReference | undefined } {
    if (isPending(image)) {
        const checked = v.later(at, image as pulumi.Input<unknown>, IMAGE_EXPECTED, (resolved) => {
            const reference = parseImageReference(resolved);
            return typeof reference === "string" ? new Reason(reference) : (resolved as string);
        });
        return { image: checked as unknown as V, imageReference: undefined };
    }
    const reference = parseImageReference(image);
    if (typeof reference === "string") {
        v.fail(at, image, `${IMAGE_EXPECTED} (${reference})`);
    }
    return { image, imageReference: reference };
}

function normalizeEnv<V extends pulumi.Input<string>>(
    v: Validator,
    at: string,
    envIn: Readonly<Record<string, V>> | undefined,
): Record<string, V> {
    if (envIn === undefined) {
        return {};
    }
    if (!isPlainObject(envIn)) {
        v.fail(at, envIn, "an object mapping variable names to strings");
    }
    const env: Record<string, V> = {};
    for (const key of Object.keys(envIn).sort()) {
        const eat = `${at}.${key}`;
        if (!ENV_NAME.test(key)) {
            v.fail(eat, key, "a variable name of letters, digits and '_', not starting with a digit");
        }
        const value: unknown = envIn[key];
        if (isPending(value)) {
            // Checked when it resolves. The Output may be secret: show only what it resolved to.
            env[key] = pulumi.output(value as pulumi.Input<string>).apply((resolved: unknown) => {
                if (typeof resolved !== "string") {
                    v.fail(eat, new Described(`an Output of ${typeName(resolved)}`), STRING_EXPECTED);
                }
                return resolved;
            }) as unknown as V;
        } else {
            if (typeof value !== "string") {
                v.fail(eat, value, STRING_EXPECTED);
            }
            env[key] = value as V;
        }
    }
    return env;
}

function typeName(value: unknown): string {
    if (value === null) return "null";
    if (value === undefined) return "undefined";
    if (Array.isArray(value)) return "a list";
    return typeof value === "object" ? "an object" : `a ${typeof value}`;
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
        v.known(pat, port, PORT_KEYS);
        const target = v.integer(`${pat}.target`, port.target, 1, 65535);
        const publishedPort = v.integer(`${pat}.published`, port.published ?? target, 1, 65535);
        const protocol = v.oneOf(`${pat}.protocol`, port.protocol ?? "tcp", PROTOCOLS);
        const mode = v.oneOf(`${pat}.mode`, port.mode ?? publishMode, PUBLISH_MODES);
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

/** The internal ports: `expose` (each once) and the published ports' targets, sorted. */
function normalizeExpose(
    v: Validator,
    at: string,
    exposeIn: readonly (number | ExposedPortSpec)[] | undefined,
    ports: readonly NormalizedPort[],
): NormalizedExposedPort[] {
    const list = exposeIn ?? [];
    if (!Array.isArray(list)) {
        v.fail(`${at}.expose`, list, "a list of ports: numbers (TCP) or { port, protocol }");
    }
    const seen = new Map<string, number>();
    const out: NormalizedExposedPort[] = [];
    list.forEach((item: unknown, i: number) => {
        const eat = `${at}.expose[${i}]`;
        let port: number;
        let protocol: PortProtocol = "tcp";
        if (typeof item === "number") {
            port = v.integer(eat, item, 1, 65535);
        } else if (isPlainObject(item)) {
            v.known(eat, item, EXPOSE_KEYS);
            port = v.integer(`${eat}.port`, item.port, 1, 65535);
            protocol = v.oneOf(`${eat}.protocol`, item.protocol ?? "tcp", PROTOCOLS);
        } else {
            v.fail(eat, item, "a port number (TCP) or { port, protocol }");
        }
        const key = `${port}/${protocol}`;
        const first = seen.get(key);
        if (first !== undefined) {
            v.fail(eat, item, `a port not already exposed (${at}.expose[${first}] exposes ${key})`);
        }
        seen.set(key, i);
        out.push({ port, protocol });
    });
    for (const p of ports) {
        if (!seen.has(`${p.target}/${p.protocol}`)) {
            seen.set(`${p.target}/${p.protocol}`, -1);
            out.push({ port: p.target, protocol: p.protocol });
        }
    }
    return out.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}

function normalizeMounts(
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
            const mount: unknown = volumesIn[volume];
            let path: unknown;
            let readOnly: unknown = false;
            if (typeof mount === "string") {
                path = mount;
            } else if (isPlainObject(mount)) {
                v.known(vat, mount, VOLUME_KEYS);
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
    v.known(at, resources, RESOURCES_KEYS);
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
    v.known(at, q, QUANTITY_KEYS);
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

/** `healthcheck` fills both; otherwise `readiness` and `liveness` each on its own. */
function normalizeChecks(
    v: Validator,
    at: string,
    spec: ServiceSpec<pulumi.Input<string>>,
): { readiness: NormalizedHealthcheck | undefined; liveness: NormalizedHealthcheck | undefined } {
    const check = (key: "healthcheck" | "readiness" | "liveness") =>
        spec[key] === undefined ? undefined : normalizeHealthcheck(v, `${at}.${key}`, spec[key]);
    const both = check("healthcheck");
    if (both !== undefined) {
        for (const key of ["readiness", "liveness"] as const) {
            if (spec[key] !== undefined) {
                v.fail(
                    `${at}.${key}`,
                    spec[key],
                    `no ${key} together with healthcheck (healthcheck is both the readiness and the liveness check: ` +
                        "give healthcheck alone, or readiness and/or liveness)",
                );
            }
        }
        return { readiness: both, liveness: both };
    }
    return { readiness: check("readiness"), liveness: check("liveness") };
}

function normalizeHealthcheck(v: Validator, at: string, hc: HealthcheckSpec): NormalizedHealthcheck {
    if (!isPlainObject(hc)) {
        v.fail(at, hc, "an object with at least a command");
    }
    v.known(at, hc, HEALTHCHECK_KEYS);
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

/**
 * The update policy in both views. Neutral (`maxSurge`/`maxUnavailable`) → Swarm: a surge means
 * `start-first` with `parallelism` = `maxSurge`; no surge means `stop-first` with `parallelism` =
 * `maxUnavailable`. Swarm-style → neutral: `start-first` surges by `parallelism`, `stop-first`
 * takes `parallelism` tasks down.
 */
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
    v.known(at, u, UPDATE_KEYS);
    const d = DEFAULT_UPDATE_POLICY;
    const neutral = (["maxSurge", "maxUnavailable"] as const).find((k) => u[k] !== undefined);
    const swarm = (["parallelism", "order"] as const).find((k) => u[k] !== undefined);
    if (neutral !== undefined && swarm !== undefined) {
        v.fail(
            `${at}.${neutral}`,
            u[neutral],
            `no ${neutral} together with ${swarm} (give the pace either as maxSurge/maxUnavailable or, Swarm-style, ` +
                "as parallelism/order)",
        );
    }
    let parallelism: number;
    let order: UpdateOrder;
    let maxSurge: number;
    let maxUnavailable: number;
    if (neutral !== undefined) {
        maxSurge = v.integer(`${at}.maxSurge`, u.maxSurge ?? 0, 0, MAX_UPDATE_BATCH);
        maxUnavailable = v.integer(`${at}.maxUnavailable`, u.maxUnavailable ?? 0, 0, MAX_UPDATE_BATCH);
        if (maxSurge === 0 && maxUnavailable === 0) {
            const other = neutral === "maxSurge" ? "maxUnavailable" : "maxSurge";
            const defaulted = u[other] === undefined ? ` (its default when only ${neutral} is given)` : "";
            v.fail(`${at}.${neutral}`, 0, `more than 0 when ${other} is 0${defaulted}: otherwise no task could be replaced`);
        }
        order = maxSurge > 0 ? "start-first" : "stop-first";
        parallelism = maxSurge > 0 ? maxSurge : maxUnavailable;
    } else {
        parallelism = v.integer(`${at}.parallelism`, u.parallelism ?? d.parallelism, 1, MAX_UPDATE_BATCH);
        order = v.oneOf(`${at}.order`, u.order ?? (exclusive ? "stop-first" : d.order), ["start-first", "stop-first"]);
        maxSurge = order === "start-first" ? parallelism : 0;
        maxUnavailable = order === "stop-first" ? parallelism : 0;
    }
    return {
        parallelism,
        delayMs: duration(v, `${at}.delay`, u.delay, d.delayMs, 0),
        order,
        failureAction: v.oneOf(`${at}.failureAction`, u.failureAction ?? d.failureAction, ["rollback", "pause", "continue"]),
        monitorMs: duration(v, `${at}.monitor`, u.monitor, d.monitorMs, 1),
        maxSurge,
        maxUnavailable,
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

// ---------------------------------------------------------------------------------------------
// Resolution of Inputs
// ---------------------------------------------------------------------------------------------

/**
 * Resolves every `Input` of a normalized spec (images, env and secret values), for a renderer
 * that needs plain values; an Output that resolves to a value it does not accept fails here with
 * its validation message. The result is a secret Output when the app has secrets.
 */
export function resolveAppSpec(app: NormalizedAppSpec): pulumi.Output<NormalizedAppSpec<string>> {
    const envs = pulumi.all(app.services.map((s) => pulumi.all({ ...s.env })));
    const images = pulumi.all(app.services.map((s) => s.image));
    const values = pulumi.all({ ...app.secrets });
    // Secret as a whole. Joined with a secret rather than wrapped in `pulumi.secret`, which would
    // leave the isSecret promise of a value that failed its check rejected with no handler.
    const secrets =
        Object.keys(app.secrets).length > 0 ? pulumi.all([pulumi.secret(true), values]).apply(([, resolved]) => resolved) : values;
    return pulumi.all([envs, images, secrets]).apply(([resolvedEnvs, resolvedImages, resolvedSecrets]) => ({
        ...app,
        services: app.services.map((s, i) => ({
            ...s,
            image: resolvedImages[i],
            imageReference: s.imageReference ?? (parseImageReference(resolvedImages[i]) as ImageReference),
            env: resolvedEnvs[i] as Record<string, string>,
        })),
        secrets: resolvedSecrets as Record<string, string>,
    }));
}
