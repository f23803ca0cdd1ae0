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
import { parseMemory } from "./quantities";
import { APP_KEYS, DEFAULT_PUBLISH_MODE, DEFAULT_REPLICAS, MAX_REPLICAS, PUBLISH_MODES, parsePlacementConstraint } from "./defaults";
import { normalizeChecks, normalizeExpose, normalizeMounts, normalizePorts, normalizeResources, normalizeUpdate, stringList } from "./normalize-service-parts";
import type {
    AppSpec,
    NormalizedAppSpec,
    NormalizedService,
    NormalizedVolume,
    PublishMode,
    ServiceSpec,
    VolumeSpec,
} from "./types";

const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A DNS subdomain (RFC 1123): Kubernetes storage class names; also plain Docker volume driver names.
const VOLUME_CLASS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Properties of a {@link ServiceSpec}. */
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
const VOLUME_SPEC_KEYS = ["class", "size"];

const SIZE_EXPECTED =
    'a size such as "1Gi", "500M" (units k, M, G, T: powers of 1000; Ki, Mi, Gi, Ti: powers of 1024)';
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
