/**
 * The parts of a service {@link normalizeAppSpec} checks one by one: ports, exposed ports, volume
 * mounts, resources, health checks, update policy, and string lists. Internal to the AppSpec's
 * normalization (not re-exported); messages as described there.
 */
import * as pulumi from "@pulumi/pulumi";
import { Validator, isPlainObject } from "../../core/validate";
import { parseCpus, parseDuration, parseMemory } from "./quantities";
import { DEFAULT_HEALTHCHECK, DEFAULT_UPDATE_POLICY, MAX_UPDATE_BATCH, MIN_MEMORY_LIMIT_BYTES, PUBLISH_MODES, SECRETS_DIR } from "./defaults";
import type {
    ExposedPortSpec,
    HealthcheckSpec,
    NormalizedExposedPort,
    NormalizedHealthcheck,
    NormalizedPort,
    NormalizedQuantities,
    NormalizedResources,
    NormalizedUpdatePolicy,
    NormalizedVolumeMount,
    PortProtocol,
    PortSpec,
    PublishMode,
    ResourceQuantities,
    ResourcesSpec,
    ServiceSpec,
    UpdateOrder,
    UpdatePolicySpec,
    VolumeMountSpec,
} from "./types";

const PORT_KEYS = ["mode", "protocol", "published", "target"];
const EXPOSE_KEYS = ["port", "protocol"];
const VOLUME_KEYS = ["path", "readOnly"];
const RESOURCES_KEYS = ["limits", "reservations"];
const QUANTITY_KEYS = ["cpu", "memory"];
const HEALTHCHECK_KEYS = ["command", "interval", "retries", "startPeriod", "timeout"];
const UPDATE_KEYS = ["delay", "failureAction", "maxSurge", "maxUnavailable", "monitor", "order", "parallelism"];
const PROTOCOLS: readonly PortProtocol[] = ["tcp", "udp"];

const MEMORY_EXPECTED =
    'a number of bytes or a string such as "256Mi", "512M", "1Gi" (units k, M, G, T: powers of 1000; ' +
    "Ki, Mi, Gi, Ti: powers of 1024)";
const CPU_EXPECTED = 'a number of CPUs more than 0 (0.5, 2, "0.5") or millicpus ("500m"), at most 3 decimals';
const DURATION_EXPECTED = 'a duration such as "10s", "1m30s" or "500ms" (units h, m, s, ms)';
const PATH_EXPECTED =
    `an absolute path in the container, not "/" and not under ${SECRETS_DIR}, without ".", ".." or empty segments`;

export function normalizePorts(
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
export function normalizeExpose(
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

export function normalizeMounts(
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

export function normalizeResources(v: Validator, at: string, resources: ResourcesSpec | undefined): NormalizedResources {
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
export function normalizeChecks(
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
export function normalizeUpdate(
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

export function stringList(v: Validator, at: string, value: unknown): string[] | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === "string")) {
        v.fail(at, value, "a non-empty list of strings");
    }
    return [...value];
}
