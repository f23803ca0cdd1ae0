import * as pulumi from "@pulumi/pulumi";
import { recordResources, rejectionOf, valueOf } from "../../mocks";
import {
    AppSpec,
    ServiceSpec,
    formatDuration,
    normalizeAppSpec,
    parseCpus,
    parseDuration,
    parseImageReference,
    parseMemory,
    parsePlacementConstraint,
    resolveAppSpec,
} from "../../../../lib/workload/app-spec";
import { messageOf } from "../../mocks";

const registered = recordResources();

const TYPE = "flotilla:workload:SwarmApp";
const PREFIX = `${TYPE} "shop": invalid `;
const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);


describe("parseMemory", () => {
    test.each([
        ["256Mi", 268435456],
        ["512M", 512000000],
        ["1G", 1000000000],
        ["1Gi", 1073741824],
        ["2Ti", 2199023255552],
        ["64k", 64000],
        ["64Ki", 65536],
        ["1.5Gi", 1610612736],
        ["0.5M", 500000],
        ["1048576", 1048576],
        [1048576, 1048576],
        [0, 0],
    ])("%p is %p bytes", (value, bytes) => {
        expect(parseMemory(value)).toBe(bytes);
    });

    test.each([
        ["512m", 'unknown unit "m" (use "Ki", "Mi", "Gi" for powers of 1024)'],
        ["1GB", 'unknown unit "GB" (use "Ki", "Mi", "Gi" for powers of 1024)'],
        ["1K", 'unknown unit "K" (use "Ki", "Mi", "Gi" for powers of 1024)'],
        ["1Xi", 'unknown unit "Xi"'],
        ["0.1", "not a whole number of bytes"],
        ["0.0001Ki", "not a whole number of bytes"],
        ["-1Mi", "not a decimal number with an optional unit"],
        [" 1Mi", "not a decimal number with an optional unit"],
        ["1 Mi", "not a decimal number with an optional unit"],
        ["", "not a decimal number with an optional unit"],
        ["Mi", "not a decimal number with an optional unit"],
        [1.5, "not a whole, non-negative number of bytes"],
        [-1, "not a whole, non-negative number of bytes"],
        [NaN, "not a whole, non-negative number of bytes"],
        ["9999999Ti", "too large"],
        [null, "not a number or a string"],
    ])("%p is rejected: %s", (value, reason) => {
        expect(parseMemory(value)).toBe(reason);
    });
});

describe("parseCpus", () => {
    test.each([
        ["0.5", 500_000_000],
        ["500m", 500_000_000],
        [2, 2_000_000_000],
        ["2", 2_000_000_000],
        [0.25, 250_000_000],
        [0.1, 100_000_000],
        ["1.001", 1_001_000_000],
        ["0.500000", 500_000_000],
        ["1m", 1_000_000],
        ["16", 16_000_000_000],
        ["0", 0],
    ])("%p is %p nano-CPUs", (value, nano) => {
        expect(parseCpus(value)).toBe(nano);
    });

    test.each([
        ["0.0005", "finer than 0.001 CPU"],
        [0.0001, "finer than 0.001 CPU"],
        [1e-7, 'not a decimal number of CPUs or a whole number of millicpus ("500m")'],
        ["1.5m", 'not a decimal number of CPUs or a whole number of millicpus ("500m")'],
        ["one", 'not a decimal number of CPUs or a whole number of millicpus ("500m")'],
        ["-1", 'not a decimal number of CPUs or a whole number of millicpus ("500m")'],
        ["", 'not a decimal number of CPUs or a whole number of millicpus ("500m")'],
        [-0.5, "not a finite, non-negative number"],
        [Infinity, "not a finite, non-negative number"],
        [true, "not a number or a string"],
    ])("%p is rejected: %s", (value, reason) => {
        expect(parseCpus(value)).toBe(reason);
    });
});

describe("parseDuration / formatDuration", () => {
    test.each([
        ["10s", 10_000],
        ["1m30s", 90_000],
        ["500ms", 500],
        ["1.5s", 1_500],
        ["1h", 3_600_000],
        ["1h2m3s4ms", 3_723_004],
        ["2m", 120_000],
        ["0s", 0],
        ["0", 0],
    ])("%p is %p ms", (text, ms) => {
        expect(parseDuration(text)).toBe(ms);
    });

    test.each([
        ["10", 'not a sequence of <number><unit> such as "1m30s"'],
        ["1s2", 'not a sequence of <number><unit> such as "1m30s"'],
        ["1 s", 'not a sequence of <number><unit> such as "1m30s"'],
        ["-1s", 'not a sequence of <number><unit> such as "1m30s"'],
        ["5us", 'unknown unit "us"'],
        ["1d", 'unknown unit "d"'],
        ["1S", 'not a sequence of <number><unit> such as "1m30s"'],
        ["0.5ms", "finer than a millisecond"],
        ["", "empty"],
        [10, "a number without a unit"],
        [undefined, "not a string"],
    ])("%p is rejected: %s", (text, reason) => {
        expect(parseDuration(text)).toBe(reason);
    });

    test.each([
        [0, "0s"],
        [500, "500ms"],
        [1_500, "1s500ms"],
        [10_000, "10s"],
        [90_000, "1m30s"],
        [3_600_000, "1h"],
        [3_723_004, "1h2m3s4ms"],
    ])("%p ms formats as %p (Go's time.ParseDuration reads it back)", (ms, text) => {
        expect(formatDuration(ms)).toBe(text);
        expect(parseDuration(text)).toBe(ms);
    });

    test("formatDuration refuses what is not whole milliseconds", () => {
        expect(() => formatDuration(1.5)).toThrow("not a whole, non-negative number of milliseconds: 1.5");
    });
});

describe("parseImageReference", () => {
    test.each([
        ["nginx", { path: "nginx" }],
        ["nginx:1.25", { path: "nginx", tag: "1.25" }],
        ["library/nginx:latest", { path: "library/nginx", tag: "latest" }],
        ["registry.lab:5000/shop/web:1.4.2", { registry: "registry.lab:5000", path: "shop/web", tag: "1.4.2" }],
        ["10.213.0.1:5000/web", { registry: "10.213.0.1:5000", path: "web" }],
        ["localhost/app", { registry: "localhost", path: "app" }],
        ["registry:5000/a/b/c:v1", { registry: "registry:5000", path: "a/b/c", tag: "v1" }],
        ["[::1]:5000/app:1", { registry: "[::1]:5000", path: "app", tag: "1" }],
        [`ghcr.io/org/app:v1@${DIGEST}`, { registry: "ghcr.io", path: "org/app", tag: "v1", digest: DIGEST }],
        [`web@${DIGEST}`, { path: "web", digest: DIGEST }],
        ["abc/a.b-c_d__e/f--g:T_a.g-1", { path: "abc/a.b-c_d__e/f--g", tag: "T_a.g-1" }],
        ["Registry/app", { registry: "Registry", path: "app" }],
        [`web:${"t".repeat(128)}`, { path: "web", tag: "t".repeat(128) }],
        ["web:_x", { path: "web", tag: "_x" }],
    ])("%p is valid", (text, parts) => {
        expect(parseImageReference(text)).toEqual(parts);
    });

    test.each([
        ["", "empty"],
        [42, "not a string"],
        ["Nginx", 'path component "Nginx" is not lower-case'],
        ["registry.lab:5000/Shop/web", 'path component "Shop" is not lower-case'],
        ["my registry/app", `path component "my registry" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["a//b", `path component "" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["/web", `path component "" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["web/", `path component "" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["-web", `path component "-web" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["web_", `path component "web_" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["a___b", `path component "a___b" is not lower-case letters and digits separated by '.', '_', '__' or '-'`],
        ["web:", `tag "" is not 1 to 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_'`],
        ["web:-x", `tag "-x" is not 1 to 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_'`],
        [`web:${"t".repeat(129)}`, `tag "${"t".repeat(129)}" is not 1 to 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_'`],
        ["web@sha256:abc", 'digest "sha256:abc" is not sha256:<64 lower-case hex digits> (or sha384, sha512)'],
        [`web@md5:${"a".repeat(32)}`, `digest "md5:${"a".repeat(32)}" is not sha256:<64 lower-case hex digits> (or sha384, sha512)`],
        [`web@${DIGEST.toUpperCase()}`, `digest "${DIGEST.toUpperCase()}" is not sha256:<64 lower-case hex digits> (or sha384, sha512)`],
        ["registry.lab:port/web", 'registry "registry.lab:port" is not a host name or [IPv6 address] with an optional :port'],
        ["a.b_c/web", 'registry "a.b_c" is not a host name or [IPv6 address] with an optional :port'],
        ["reg_istry.lab/web", 'registry "reg_istry.lab" is not a host name or [IPv6 address] with an optional :port'],
        ["https://registry/web", 'registry "https:" is not a host name or [IPv6 address] with an optional :port'],
        ["a".repeat(256), "name longer than 255 characters"],
        ["0123456789abcdef".repeat(4), "a 64-hex-digit image ID, not a name"],
    ])("%p is rejected: %s", (text, reason) => {
        expect(parseImageReference(text)).toBe(reason);
    });
});

describe("parsePlacementConstraint", () => {
    test.each([
        ["zone==a", { label: "zone", operator: "==", value: "a" }],
        ["zone == eu-west-1a", { label: "zone", operator: "==", value: "eu-west-1a" }],
        ["pool!=spot", { label: "pool", operator: "!=", value: "spot" }],
        ["example.com_tier==front", { label: "example.com_tier", operator: "==", value: "front" }],
    ])("%p", (text, parsed) => {
        expect(parsePlacementConstraint(text)).toEqual(parsed);
    });

    test.each([
        ["zone=a", "not <label>==<value> or <label>!=<value>"],
        ["zone", "not <label>==<value> or <label>!=<value>"],
        ["==a", "not <label>==<value> or <label>!=<value>"],
        ["zone==", `value "" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`],
        ["zone==a b", "not <label>==<value> or <label>!=<value>"],
        ["node.labels.zone==a", `"node.labels.zone" is orchestrator-specific: write the node label alone, e.g. "zone==a"`],
        ["node.role==manager", `"node.role" is orchestrator-specific: write the node label alone, e.g. "zone==a"`],
        ["example.com/tier==front", `label "example.com/tier" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`],
        ["zone==a/b", `value "a/b" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`],
        [7, "not a string"],
    ])("%p is rejected: %s", (text, reason) => {
        expect(parsePlacementConstraint(text)).toBe(reason);
    });
});

/** A valid web + db app; tests break one property at a time. */
function shop(): AppSpec {
    return {
        secrets: { "db-password": "s3cret" },
        services: {
            web: {
                image: "registry.lab:5000/shop/web:1.4.2",
                replicas: 2,
                ports: [{ target: 8080, published: 80 }],
                env: { DB_HOST: "db" },
                secrets: ["db-password"],
                resources: { limits: { cpu: "0.5", memory: "256Mi" }, reservations: { cpu: "250m", memory: "128Mi" } },
            },
            db: {
                image: "postgres:16",
                volumes: { "db-data": "/var/lib/postgresql/data" },
                secrets: ["db-password"],
            },
        },
    };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** `shop()` with service `name` changed by `change`. */
function withService(name: string, change: (s: Mutable<ServiceSpec>) => void, app: AppSpec = shop()): AppSpec {
    const services = { ...app.services } as Record<string, Mutable<ServiceSpec>>;
    services[name] = { ...services[name] };
    change(services[name]);
    return { ...app, services };
}
const web = (change: (s: Mutable<ServiceSpec>) => void) => withService("web", change);
const bad = (x: unknown) => x as never;

describe("normalizeAppSpec defaults", () => {
    test("a minimal service gets every default", () => {
        const app = normalizeAppSpec(TYPE, "shop", { services: { web: { image: "nginx:1.25" } } });
        expect(app).toEqual({
            publishMode: "ingress",
            secrets: {},
            volumes: [],
            services: [
                {
                    name: "web",
                    image: "nginx:1.25",
                    imageReference: { path: "nginx", tag: "1.25" },
                    mode: "replicated",
                    replicas: 1,
                    command: undefined,
                    entrypoint: undefined,
                    env: {},
                    expose: [],
                    ports: [],
                    secrets: [],
                    volumes: [],
                    resources: { limits: {}, reservations: {} },
                    placement: [],
                    readiness: undefined,
                    liveness: undefined,
                    update: {
                        parallelism: 1,
                        delayMs: 5000,
                        order: "start-first",
                        failureAction: "rollback",
                        monitorMs: 10000,
                        maxSurge: 1,
                        maxUnavailable: 0,
                    },
                    labels: {},
                },
            ],
        });
    });

    test("ports, health check, resources and volumes resolve to base units", () => {
        const app = normalizeAppSpec(TYPE, "shop", {
            services: {
                web: {
                    image: "nginx",
                    ports: [{ target: 80 }, { target: 53, published: 5353, protocol: "udp", mode: "host" }],
                    healthcheck: { command: ["wget", "-q", "-O-", "http://localhost/"], retries: 5, startPeriod: "30s" },
                    resources: { limits: { cpu: 2, memory: "1Gi" } },
                    volumes: { cache: { path: "/cache", readOnly: true } },
                    placement: ["zone==a", "pool != spot"],
                    labels: { team: "web" },
                },
            },
        });
        const s = app.services[0];
        expect(s.ports).toEqual([
            { target: 80, published: 80, protocol: "tcp", mode: "ingress" },
            { target: 53, published: 5353, protocol: "udp", mode: "host" },
        ]);
        const check = {
            command: ["wget", "-q", "-O-", "http://localhost/"],
            intervalMs: 10000,
            timeoutMs: 5000,
            retries: 5,
            startPeriodMs: 30000,
        };
        // healthcheck is both the readiness and the liveness check.
        expect(s.readiness).toEqual(check);
        expect(s.liveness).toEqual(check);
        expect(s.resources).toEqual({ limits: { nanoCpus: 2_000_000_000, memoryBytes: 1073741824 }, reservations: {} });
        expect(s.volumes).toEqual([{ volume: "cache", path: "/cache", readOnly: true }]);
        expect(s.placement).toEqual([
            { label: "zone", operator: "==", value: "a" },
            { label: "pool", operator: "!=", value: "spot" },
        ]);
        expect(s.labels).toEqual({ team: "web" });
        expect(app.volumes).toEqual([{ name: "cache", sizeBytes: undefined, class: undefined }]);
        // A host-mode port: the old task holds it, so the update stops it first.
        expect(s.update.order).toBe("stop-first");
    });

    test("the app's publishMode applies to ports without their own mode", () => {
        const app = normalizeAppSpec(TYPE, "shop", {
            publishMode: "host",
            services: { web: { image: "nginx", ports: [{ target: 80 }, { target: 443, mode: "ingress" }] } },
        });
        expect(app.services[0].ports.map((p) => p.mode)).toEqual(["host", "ingress"]);
    });

    test.each([
        ["no ports or volumes", {}, "start-first"],
        ["an ingress port", { ports: [{ target: 80 }] }, "start-first"],
        ["a host port", { ports: [{ target: 80, mode: "host" }] }, "stop-first"],
        ["a read-write volume", { volumes: { data: "/data" } }, "stop-first"],
        ["a read-only volume", { volumes: { data: { path: "/data", readOnly: true } } }, "start-first"],
        ["a host port, order given", { ports: [{ target: 80, mode: "host" }], update: { order: "start-first" } }, "start-first"],
    ] as const)("default update order with %s: %s", (_what, extra, order) => {
        const app = normalizeAppSpec(TYPE, "shop", { services: { s: { image: "nginx", ...extra } } });
        expect(app.services[0].update.order).toBe(order);
    });

    test("a global service has no replicas", () => {
        const app = normalizeAppSpec(TYPE, "shop", { services: { agent: { image: "agent:1", mode: "global" } } });
        expect(app.services[0].mode).toBe("global");
        expect(app.services[0].replicas).toBeUndefined();
    });

    test("services keep their order; env, secrets, volumes and labels are sorted", () => {
        const app = normalizeAppSpec(TYPE, "shop", {
            secrets: { b: "2", a: "1" },
            services: {
                zeta: { image: "z", env: { Z: "1", A: "2" }, secrets: ["b", "a"], volumes: { y: "/y", x: "/x" } },
                alpha: { image: "a", labels: { z: "1", a: "2" } },
            },
        });
        expect(app.services.map((s) => s.name)).toEqual(["zeta", "alpha"]);
        expect(Object.keys(app.services[0].env)).toEqual(["A", "Z"]);
        expect(app.services[0].secrets).toEqual(["a", "b"]);
        expect(app.services[0].volumes.map((m) => m.volume)).toEqual(["x", "y"]);
        expect(Object.keys(app.services[1].labels)).toEqual(["a", "z"]);
        expect(Object.keys(app.secrets)).toEqual(["a", "b"]);
        expect(app.volumes.map((vol) => vol.name)).toEqual(["x", "y"]);
    });

    test("a valid web + db app passes and nothing is created", async () => {
        expect(() => normalizeAppSpec(TYPE, "shop", shop())).not.toThrow();
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});

describe("normalizeAppSpec rejects bad input, naming the property, the value and what is accepted", () => {
    const imageExpected = "expected a Docker image reference [registry[:port]/]path[:tag][@digest]";
    const memoryExpected =
        'expected a number of bytes or a string such as "256Mi", "512M", "1Gi" (units k, M, G, T: powers of 1000; ' +
        "Ki, Mi, Gi, Ti: powers of 1024)";
    const cpuExpected = 'expected a number of CPUs more than 0 (0.5, 2, "0.5") or millicpus ("500m"), at most 3 decimals';
    const durationExpected = 'expected a duration such as "10s", "1m30s" or "500ms" (units h, m, s, ms)';
    const serviceNameExpected =
        "expected a service name of 1 to 63 characters: lower-case letters, digits and '-', starting with a letter " +
        "and ending with a letter or digit.";
    const pathExpected =
        'expected an absolute path in the container, not "/" and not under /run/secrets, without ".", ".." or empty segments.';
    const serviceKeys =
        "command, entrypoint, env, expose, healthcheck, image, labels, liveness, mode, placement, ports, readiness, replicas, resources, secrets, update, volumes";

    test.each<[string, AppSpec, string]>([
        // replicas and mode
        ["negative replicas", web((s) => (s.replicas = -1)), "services.web.replicas: received -1; expected an integer from 0 to 1000."],
        ["fractional replicas", web((s) => (s.replicas = 1.5)), "services.web.replicas: received 1.5; expected an integer from 0 to 1000."],
        ["too many replicas", web((s) => (s.replicas = 1001)), "services.web.replicas: received 1001; expected an integer from 0 to 1000."],
        ["replicas as text", web((s) => (s.replicas = bad("2"))), 'services.web.replicas: received "2"; expected an integer from 0 to 1000.'],
        ["unknown mode", web((s) => (s.mode = bad("daemon"))), 'services.web.mode: received "daemon"; expected one of "replicated", "global".'],
        [
            "replicas on a global service",
            web((s) => (s.mode = "global")),
            "services.web.replicas: received 2; expected no replicas for a global service (it runs one task per eligible node).",
        ],
        // ports
        ["published port 0", web((s) => (s.ports = [{ target: 8080, published: 0 }])), "services.web.ports[0].published: received 0; expected an integer from 1 to 65535."],
        ["published port 65536", web((s) => (s.ports = [{ target: 8080, published: 65536 }])), "services.web.ports[0].published: received 65536; expected an integer from 1 to 65535."],
        ["target port 70000", web((s) => (s.ports = [{ target: 70000 }])), "services.web.ports[0].target: received 70000; expected an integer from 1 to 65535."],
        ["fractional target port", web((s) => (s.ports = [{ target: 80.5 }])), "services.web.ports[0].target: received 80.5; expected an integer from 1 to 65535."],
        ["missing target port", web((s) => (s.ports = [bad({ published: 80 })])), "services.web.ports[0].target: received undefined; expected an integer from 1 to 65535."],
        ["unknown protocol", web((s) => (s.ports = [{ target: 80, protocol: bad("sctp") }])), 'services.web.ports[0].protocol: received "sctp"; expected one of "tcp", "udp".'],
        ["unknown port mode", web((s) => (s.ports = [{ target: 80, mode: bad("mesh") }])), 'services.web.ports[0].mode: received "mesh"; expected one of "ingress", "host", "loadBalancer".'],
        ["unknown publishMode", { ...shop(), publishMode: bad("mesh") }, 'publishMode: received "mesh"; expected one of "ingress", "host", "loadBalancer".'],
        [
            "the same published port twice in a service",
            web((s) => (s.ports = [{ target: 8080, published: 80 }, { target: 8081, published: 80 }])),
            "services.web.ports[1].published: received 80; expected a port not published elsewhere in the app (services.web.ports[0] already publishes 80/tcp).",
        ],
        [
            "the same published port in two services",
            withService("db", (s) => (s.ports = [{ target: 5432, published: 80 }])),
            "services.db.ports[0].published: received 80; expected a port not published elsewhere in the app (services.web.ports[0] already publishes 80/tcp).",
        ],
        [
            "a defaulted published port colliding with another service's",
            withService("db", (s) => (s.ports = [{ target: 80 }])),
            "services.db.ports[0].published: received 80; expected a port not published elsewhere in the app (services.web.ports[0] already publishes 80/tcp).",
        ],
        ["ports not a list", web((s) => (s.ports = bad({ target: 80 }))), 'services.web.ports: received {"target":80}; expected a list of ports.'],
        // image
        ["an empty image", web((s) => (s.image = "")), `services.web.image: received ""; ${imageExpected} (empty).`],
        ["an upper-case image path", web((s) => (s.image = "registry.lab:5000/Shop/web:1")), `services.web.image: received "registry.lab:5000/Shop/web:1"; ${imageExpected} (path component "Shop" is not lower-case).`],
        ["a bad tag", web((s) => (s.image = "web:-1")), `services.web.image: received "web:-1"; ${imageExpected} (tag "-1" is not 1 to 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_').`],
        ["a bad digest", web((s) => (s.image = "web@sha256:1234")), `services.web.image: received "web@sha256:1234"; ${imageExpected} (digest "sha256:1234" is not sha256:<64 lower-case hex digits> (or sha384, sha512)).`],
        ["a missing image", web((s) => delete (s as { image?: string }).image), `services.web.image: received undefined; ${imageExpected} (not a string).`],
        // resources
        ["memory that does not parse", web((s) => (s.resources = { limits: { memory: "lots" } })), `services.web.resources.limits.memory: received "lots"; ${memoryExpected} (not a decimal number with an optional unit).`],
        ["Docker's lower-case m", web((s) => (s.resources = { limits: { memory: "512m" } })), `services.web.resources.limits.memory: received "512m"; ${memoryExpected} (unknown unit "m" (use "Ki", "Mi", "Gi" for powers of 1024)).`],
        ["a memory limit under 6Mi", web((s) => (s.resources = { limits: { memory: "4Mi" } })), 'services.web.resources.limits.memory: received "4Mi"; expected a memory limit of at least "6Mi" (6291456 bytes).'],
        ["a zero memory reservation", web((s) => (s.resources = { reservations: { memory: 0 } })), "services.web.resources.reservations.memory: received 0; expected more than 0 bytes."],
        ["CPU that does not parse", web((s) => (s.resources = { limits: { cpu: "two" } })), `services.web.resources.limits.cpu: received "two"; ${cpuExpected} (not a decimal number of CPUs or a whole number of millicpus ("500m")).`],
        ["a CPU limit too precise", web((s) => (s.resources = { limits: { cpu: "0.0001" } })), `services.web.resources.limits.cpu: received "0.0001"; ${cpuExpected} (finer than 0.001 CPU).`],
        ["a zero CPU limit", web((s) => (s.resources = { limits: { cpu: 0 } })), `services.web.resources.limits.cpu: received 0; ${cpuExpected}.`],
        [
            "a CPU reservation above the limit",
            web((s) => (s.resources = { limits: { cpu: "500m" }, reservations: { cpu: 1 } })),
            'services.web.resources.reservations.cpu: received 1; expected no more than the CPU limit ("500m").',
        ],
        [
            "a memory reservation above the limit",
            web((s) => (s.resources = { limits: { memory: "256Mi" }, reservations: { memory: "1Gi" } })),
            'services.web.resources.reservations.memory: received "1Gi"; expected no more than the memory limit ("256Mi").',
        ],
        ["a misspelt quantity", web((s) => (s.resources = { limits: bad({ cpus: 1 }) })), 'services.web.resources.limits.cpus: received 1; expected no such property (did you mean "cpu"?); known: cpu, memory.'],
        // names
        ["a service name with upper case", { services: { Web: { image: "nginx" } } }, `services.Web: received "Web"; ${serviceNameExpected}`],
        ["a service name with '_'", { services: { web_1: { image: "nginx" } } }, `services.web_1: received "web_1"; ${serviceNameExpected}`],
        ["a service name starting with a digit", { services: { "1web": { image: "nginx" } } }, `services.1web: received "1web"; ${serviceNameExpected}`],
        ["a service name ending with '-'", { services: { "web-": { image: "nginx" } } }, `services.web-: received "web-"; ${serviceNameExpected}`],
        ["a 64-character service name", { services: { ["a".repeat(64)]: { image: "nginx" } } }, `services.${"a".repeat(64)}: received "${"a".repeat(64)}"; ${serviceNameExpected}`],
        ["no services", { services: {} }, "services: received {}; expected an object with at least one service, by name."],
        ["services not an object", { services: bad([]) }, "services: received []; expected an object with at least one service, by name."],
        // env
        ["an env name with '-'", web((s) => (s.env = { "DB-HOST": "db" })), `services.web.env.DB-HOST: received "DB-HOST"; expected a variable name of letters, digits and '_', not starting with a digit.`],
        ["an env value that is a number", web((s) => (s.env = { PORT: bad(8080) })), "services.web.env.PORT: received 8080; expected a string (or an Output of one)."],
        // secrets
        ["a reference to an unknown secret", web((s) => (s.secrets = ["api-key"])), 'services.web.secrets[0]: received "api-key"; expected the name of one of the app\'s secrets: "db-password".'],
        [
            "a reference when the app has no secrets",
            { services: { web: { image: "nginx", secrets: ["api-key"] } } },
            "services.web.secrets[0]: received \"api-key\"; expected the name of one of the app's secrets (it has none: declare them in secrets).",
        ],
        ["a secret listed twice", web((s) => (s.secrets = ["db-password", "db-password"])), 'services.web.secrets[1]: received "db-password"; expected a secret not already listed.'],
        [
            "a secret name with upper case",
            { ...shop(), secrets: { DbPassword: "x" } },
            "secrets.DbPassword: received the name \"DbPassword\"; expected a secret name of 1 to 63 lower-case letters, digits, '-', '_' and '.', starting and ending with a letter or digit.",
        ],
        ["a secret value that is not a string", { ...shop(), secrets: { "db-password": bad(1234) } }, 'secrets.db-password: received a secret number; expected a non-empty string (or an Output of one).'],
        // volumes
        ["a relative mount path", withService("db", (s) => (s.volumes = { "db-data": "data" })), `services.db.volumes.db-data: received "data"; ${pathExpected}`],
        ["a mount at /", withService("db", (s) => (s.volumes = { "db-data": "/" })), `services.db.volumes.db-data: received "/"; ${pathExpected}`],
        ["a mount path with ..", withService("db", (s) => (s.volumes = { "db-data": { path: "/var/../etc" } })), `services.db.volumes.db-data.path: received "/var/../etc"; ${pathExpected}`],
        ["a mount over the secrets", withService("db", (s) => (s.volumes = { "db-data": "/run/secrets/x" })), `services.db.volumes.db-data: received "/run/secrets/x"; ${pathExpected}`],
        [
            "two volumes at one path",
            withService("db", (s) => (s.volumes = { a: "/data", b: "/data" })),
            'services.db.volumes.b: received "/data"; expected a path no other volume of the service is mounted at (volume "a" is).',
        ],
        [
            "a volume name that is not DNS-safe",
            withService("db", (s) => (s.volumes = { "Db_Data": "/data" })),
            "services.db.volumes.Db_Data: received \"Db_Data\"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.",
        ],
        ["readOnly not a boolean", withService("db", (s) => (s.volumes = { data: { path: "/data", readOnly: bad("yes") } })), 'services.db.volumes.data.readOnly: received "yes"; expected true or false.'],
        // placement
        [
            "a Swarm-style constraint",
            web((s) => (s.placement = ["node.labels.zone == a"])),
            'services.web.placement[0]: received "node.labels.zone == a"; expected a node label selector "<label>==<value>" or "<label>!=<value>" ("node.labels.zone" is orchestrator-specific: write the node label alone, e.g. "zone==a").',
        ],
        [
            "a constraint without an operator",
            web((s) => (s.placement = ["zone==a", "zone=b"])),
            'services.web.placement[1]: received "zone=b"; expected a node label selector "<label>==<value>" or "<label>!=<value>" (not <label>==<value> or <label>!=<value>).',
        ],
        // health check
        ["a bad interval", web((s) => (s.healthcheck = { command: "true", interval: "10" })), `services.web.healthcheck.interval: received "10"; ${durationExpected} (not a sequence of <number><unit> such as "1m30s").`],
        ["a zero timeout", web((s) => (s.healthcheck = { command: "true", timeout: "0s" })), `services.web.healthcheck.timeout: received "0s"; ${durationExpected}, more than 0.`],
        ["a timeout as a number", web((s) => (s.healthcheck = { command: "true", timeout: bad(5) })), `services.web.healthcheck.timeout: received 5; ${durationExpected} (a number without a unit).`],
        ["zero retries", web((s) => (s.healthcheck = { command: "true", retries: 0 })), "services.web.healthcheck.retries: received 0; expected an integer from 1 to 100."],
        ["an empty command", web((s) => (s.healthcheck = { command: [] })), "services.web.healthcheck.command: received []; expected a non-empty list of strings (run as is) or a non-empty shell command string."],
        ["a blank command", web((s) => (s.healthcheck = { command: "  " })), 'services.web.healthcheck.command: received "  "; expected a non-empty list of strings (run as is) or a non-empty shell command string.'],
        // update policy
        ["zero parallelism", web((s) => (s.update = { parallelism: 0 })), "services.web.update.parallelism: received 0; expected an integer from 1 to 1000."],
        ["a bad delay", web((s) => (s.update = { delay: "5 seconds" })), `services.web.update.delay: received "5 seconds"; ${durationExpected} (not a sequence of <number><unit> such as "1m30s").`],
        ["a zero monitor", web((s) => (s.update = { monitor: "0" })), `services.web.update.monitor: received "0"; ${durationExpected}, more than 0.`],
        ["an unknown order", web((s) => (s.update = { order: bad("blue-green") })), 'services.web.update.order: received "blue-green"; expected one of "start-first", "stop-first".'],
        ["an unknown failure action", web((s) => (s.update = { failureAction: bad("retry") })), 'services.web.update.failureAction: received "retry"; expected one of "rollback", "pause", "continue".'],
        // command, labels, typos
        ["an empty command list", web((s) => (s.command = [])), "services.web.command: received []; expected a non-empty list of strings."],
        ["a command that is a string", web((s) => (s.entrypoint = bad("sh -c x"))), 'services.web.entrypoint: received "sh -c x"; expected a non-empty list of strings.'],
        ["a reserved label", web((s) => (s.labels = { "flotilla.app": "x" })), 'services.web.labels.flotilla.app: received "flotilla.app"; expected a label name not starting with "flotilla." (reserved).'],
        ["a misspelt service property", web((s) => Object.assign(s, { replica: 3 })), `services.web.replica: received 3; expected no such property (did you mean "replicas"?); known: ${serviceKeys}.`],
        ["a misspelt app property", { ...shop(), service: {} } as AppSpec, 'service: received an empty object; expected no such property (did you mean "services"?); known: publishMode, secrets, services, volumes.'],
        ["a misspelt port property", web((s) => (s.ports = [bad({ target: 80, host: 80 })])), "services.web.ports[0].host: received 80; expected no such property; known: mode, protocol, published, target."],
    ])("%s", (_what, spec, message) => {
        expect(messageOf(() => normalizeAppSpec(TYPE, "shop", spec))).toBe(PREFIX + message);
    });

    test("a secret's value is never shown, even when it is the wrong type", () => {
        const message = messageOf(() => normalizeAppSpec(TYPE, "shop", { ...shop(), secrets: { "db-password": bad(["hunter2"]) } }));
        expect(message).not.toContain("hunter2");
    });

    test("a construct nesting the spec passes a prefix", () => {
        expect(messageOf(() => normalizeAppSpec(TYPE, "shop", web((s) => (s.replicas = -1)), "app."))).toBe(
            PREFIX + "app.services.web.replicas: received -1; expected an integer from 0 to 1000.",
        );
        expect(messageOf(() => normalizeAppSpec(TYPE, "shop", { ...shop(), extra: 1 } as AppSpec, "app."))).toBe(
            PREFIX + "app.extra: received 1; expected no such property; known: publishMode, secrets, services, volumes.",
        );
    });
});

describe("resolveAppSpec", () => {
    test("resolves env and secret Outputs; the result is secret", async () => {
        const app = normalizeAppSpec(TYPE, "shop", {
            secrets: { token: pulumi.output("t0ken") },
            services: { web: { image: "nginx", env: { HOST: pulumi.output("db"), PORT: "5432" }, secrets: ["token"] } },
        });
        const resolved = resolveAppSpec(app);
        const value = await valueOf(resolved);
        expect(value.services[0].env).toEqual({ HOST: "db", PORT: "5432" });
        expect(value.secrets).toEqual({ token: "t0ken" });
        expect(await pulumi.isSecret(resolved)).toBe(true);
    });

    test("without secrets the result is not secret", async () => {
        const resolved = resolveAppSpec(normalizeAppSpec(TYPE, "shop", { services: { web: { image: "nginx" } } }));
        expect((await valueOf(resolved)).services[0].env).toEqual({});
        expect(await pulumi.isSecret(resolved)).toBe(false);
    });
});


describe("units are own keys, never the object prototype's", () => {
    test.each(["1constructor", "1toString", "2valueOf", "1__proto__"])("parseMemory(%p) is an unknown unit", (text) => {
        expect(parseMemory(text)).toMatch(/^unknown unit "|^not a decimal number/);
        expect(typeof parseMemory(text)).toBe("string");
    });

    test.each([
        ["1constructor", 'unknown unit "constructor"'],
        ["1toString", 'unknown unit "toString"'],
    ])("parseMemory(%p): %s", (text, reason) => {
        expect(parseMemory(text)).toBe(reason);
    });

    test.each([
        ["1constructor", 'unknown unit "constructor"'],
        ["1s2constructor", 'unknown unit "constructor"'],
    ])("parseDuration(%p): %s", (text, reason) => {
        expect(parseDuration(text)).toBe(reason);
    });
});

describe("update policy: neutral (maxSurge/maxUnavailable) or Swarm-style (parallelism/order), both views normalized", () => {
    test.each<[string, Partial<ServiceSpec>, { parallelism: number; order: string; maxSurge: number; maxUnavailable: number }]>([
        ["the default", {}, { parallelism: 1, order: "start-first", maxSurge: 1, maxUnavailable: 0 }],
        ["the default of a host-port service", { ports: [{ target: 80, mode: "host" }] }, { parallelism: 1, order: "stop-first", maxSurge: 0, maxUnavailable: 1 }],
        ["the default with a read-write volume", { volumes: { data: "/data" } }, { parallelism: 1, order: "stop-first", maxSurge: 0, maxUnavailable: 1 }],
        ["maxSurge alone", { update: { maxSurge: 2 } }, { parallelism: 2, order: "start-first", maxSurge: 2, maxUnavailable: 0 }],
        ["maxUnavailable alone", { update: { maxUnavailable: 3 } }, { parallelism: 3, order: "stop-first", maxSurge: 0, maxUnavailable: 3 }],
        ["maxSurge 0 and maxUnavailable 2", { update: { maxSurge: 0, maxUnavailable: 2 } }, { parallelism: 2, order: "stop-first", maxSurge: 0, maxUnavailable: 2 }],
        ["both above 0 (Swarm bounds the surge only)", { update: { maxSurge: 1, maxUnavailable: 3 } }, { parallelism: 1, order: "start-first", maxSurge: 1, maxUnavailable: 3 }],
        ["maxSurge on a host-port service (given wins)", { ports: [{ target: 80, mode: "host" }], update: { maxSurge: 1 } }, { parallelism: 1, order: "start-first", maxSurge: 1, maxUnavailable: 0 }],
        ["parallelism alone", { update: { parallelism: 3 } }, { parallelism: 3, order: "start-first", maxSurge: 3, maxUnavailable: 0 }],
        ["stop-first, parallelism 2", { update: { order: "stop-first", parallelism: 2 } }, { parallelism: 2, order: "stop-first", maxSurge: 0, maxUnavailable: 2 }],
        ["start-first on a host-port service", { ports: [{ target: 80, mode: "host" }], update: { order: "start-first" } }, { parallelism: 1, order: "start-first", maxSurge: 1, maxUnavailable: 0 }],
    ])("%s", (_what, extra, expected) => {
        const app = normalizeAppSpec(TYPE, "shop", { services: { s: { image: "nginx", ...extra } } });
        expect(app.services[0].update).toEqual({ delayMs: 5000, failureAction: "rollback", monitorMs: 10000, ...expected });
    });
});

describe("internal ports, publishing, volumes, readiness and liveness", () => {
    test("expose and the published ports' targets are the internal ports, sorted, each once", () => {
        const app = normalizeAppSpec(TYPE, "shop", {
            services: {
                db: { image: "postgres:16", expose: [5432, { port: 53, protocol: "udp" }, { port: 53 }, 8080], ports: [{ target: 8080, published: 80 }, { target: 9090, protocol: "udp" }] },
            },
        });
        expect(app.services[0].expose).toEqual([
            { port: 53, protocol: "tcp" },
            { port: 53, protocol: "udp" },
            { port: 5432, protocol: "tcp" },
            { port: 8080, protocol: "tcp" },
            { port: 9090, protocol: "udp" },
        ]);
    });

    test.each(["ingress", "host", "loadBalancer"] as const)("publish mode %p, per port or for the app", (mode) => {
        expect(normalizeAppSpec(TYPE, "shop", { services: { web: { image: "nginx", ports: [{ target: 80, mode }] } } }).services[0].ports[0].mode).toBe(mode);
        expect(normalizeAppSpec(TYPE, "shop", { publishMode: mode, services: { web: { image: "nginx", ports: [{ target: 80 }] } } }).services[0].ports[0].mode).toBe(mode);
    });

    test("a load-balanced port keeps the start-first default (no port held on a node)", () => {
        const app = normalizeAppSpec(TYPE, "shop", { services: { web: { image: "nginx", ports: [{ target: 80, mode: "loadBalancer" }] } } });
        expect(app.services[0].update.order).toBe("start-first");
    });

    test("declared volumes get their size and class; mounted, undeclared ones the defaults", () => {
        const app = normalizeAppSpec(TYPE, "shop", {
            volumes: { "db-data": { size: "1Gi", class: "fast-ssd" }, logs: { class: "local" }, cache: { size: "500M" } },
            services: {
                db: { image: "postgres:16", volumes: { "db-data": "/var/lib/postgresql/data", logs: "/logs" } },
                web: { image: "nginx", volumes: { cache: "/cache", constructor: "/c", tmp: { path: "/tmp", readOnly: false } } },
            },
        });
        expect(app.volumes).toEqual([
            { name: "cache", sizeBytes: 500_000_000, class: undefined },
            { name: "constructor", sizeBytes: undefined, class: undefined },
            { name: "db-data", sizeBytes: 1073741824, class: "fast-ssd" },
            { name: "logs", sizeBytes: undefined, class: "local" },
            { name: "tmp", sizeBytes: undefined, class: undefined },
        ]);
    });

    const check = (command: string) => ({ command, intervalMs: 10000, timeoutMs: 5000, retries: 3, startPeriodMs: 0 });
    test.each<[string, Partial<ServiceSpec>, unknown, unknown]>([
        ["healthcheck: both", { healthcheck: { command: "hc" } }, check("hc"), check("hc")],
        ["readiness alone", { readiness: { command: "ready" } }, check("ready"), undefined],
        ["liveness alone", { liveness: { command: "live" } }, undefined, check("live")],
        ["readiness and liveness", { readiness: { command: "ready" }, liveness: { command: "live" } }, check("ready"), check("live")],
        ["none", {}, undefined, undefined],
    ])("%s", (_what, extra, readiness, liveness) => {
        const s = normalizeAppSpec(TYPE, "shop", { services: { web: { image: "nginx", ...extra } } }).services[0];
        expect(s.readiness).toEqual(readiness);
        expect(s.liveness).toEqual(liveness);
    });
});

describe("the validation contract: closest known name, own keys, Outputs checked when they resolve", () => {
    const imageExpected = "expected a Docker image reference [registry[:port]/]path[:tag][@digest]";
    const sizeExpected =
        'expected a size such as "1Gi", "500M" (units k, M, G, T: powers of 1000; Ki, Mi, Gi, Ti: powers of 1024)';
    const classExpected =
        "expected a storage class or volume driver name of 1 to 253 lower-case letters, digits, '-' and '.', each " +
        "dot-separated part starting and ending with a letter or digit.";
    const both = (key: string) =>
        `expected no ${key} together with healthcheck (healthcheck is both the readiness and the liveness check: ` +
        "give healthcheck alone, or readiness and/or liveness).";
    const styles = (neutral: string, swarm: string) =>
        `expected no ${neutral} together with ${swarm} (give the pace either as maxSurge/maxUnavailable or, Swarm-style, as parallelism/order).`;
    const db = (change: (s: Mutable<ServiceSpec>) => void) => withService("db", change);

    test.each<[string, AppSpec, string]>([
        // the closest known name, at every level
        ["a misspelt port property", web((s) => (s.ports = [bad({ target: 80, publshed: 81 })])), 'services.web.ports[0].publshed: received 81; expected no such property (did you mean "published"?); known: mode, protocol, published, target.'],
        ["a misspelt resources property", web((s) => (s.resources = bad({ limit: {} }))), 'services.web.resources.limit: received an empty object; expected no such property (did you mean "limits"?); known: limits, reservations.'],
        ["a misspelt mount property", db((s) => (s.volumes = { "db-data": bad({ path: "/data", readonly: true }) })), 'services.db.volumes.db-data.readonly: received true; expected no such property (did you mean "readOnly"?); known: path, readOnly.'],
        ["a misspelt health check property", web((s) => (s.healthcheck = bad({ command: "true", intervall: "1s" }))), 'services.web.healthcheck.intervall: received a string of 2 characters; expected no such property (did you mean "interval"?); known: command, interval, retries, startPeriod, timeout.'],
        ["a misspelt update property", web((s) => (s.update = bad({ maxsurge: 1 }))), 'services.web.update.maxsurge: received 1; expected no such property (did you mean "maxSurge"?); known: delay, failureAction, maxSurge, maxUnavailable, monitor, order, parallelism.'],
        ["a misspelt service property", web((s) => Object.assign(s, { exposes: [80] })), 'services.web.exposes: received a list of 1; expected no such property (did you mean "expose"?); known: command, entrypoint, env, expose, healthcheck, image, labels, liveness, mode, placement, ports, readiness, replicas, resources, secrets, update, volumes.'],
        ["a misspelt app property", { ...shop(), volume: {} } as AppSpec, 'volume: received an empty object; expected no such property (did you mean "volumes"?); known: publishMode, secrets, services, volumes.'],
        ["a misspelt volume property", { ...shop(), volumes: { "db-data": bad({ sise: "1Gi" }) } }, 'volumes.db-data.sise: received a string of 3 characters; expected no such property (did you mean "size"?); known: class, size.'],
        ["a misspelt expose property", db((s) => (s.expose = [bad({ port: 5432, proto: "tcp" })])), 'services.db.expose[0].proto: received a string of 3 characters; expected no such property; known: port, protocol.'],
        // secrets: own keys only, never empty, never shown
        ...["constructor", "toString", "hasOwnProperty", "__proto__"].map(
            (name): [string, AppSpec, string] => [
                `a reference to the prototype's ${name}`,
                web((s) => (s.secrets = [name])),
                `services.web.secrets[0]: received "${name}"; expected the name of one of the app's secrets: "db-password".`,
            ],
        ),
        [
            "a reference to constructor when the app has no secrets",
            { services: { web: { image: "nginx", secrets: ["constructor"] } } },
            "services.web.secrets[0]: received \"constructor\"; expected the name of one of the app's secrets (it has none: declare them in secrets).",
        ],
        ["an empty secret", { ...shop(), secrets: { "db-password": "" } }, "secrets.db-password: received a secret of 0 characters; expected a non-empty string (or an Output of one)."],
        ["a secret that is a list", { ...shop(), secrets: { "db-password": bad(["hunter2"]) } }, "secrets.db-password: received a secret object; expected a non-empty string (or an Output of one)."],
        // update policy
        ["maxSurge with parallelism", web((s) => (s.update = { maxSurge: 1, parallelism: 2 })), "services.web.update.maxSurge: received 1; " + styles("maxSurge", "parallelism")],
        ["maxUnavailable with order", web((s) => (s.update = { maxUnavailable: 1, order: "stop-first" })), "services.web.update.maxUnavailable: received 1; " + styles("maxUnavailable", "order")],
        ["maxSurge with order", web((s) => (s.update = { maxSurge: 2, maxUnavailable: 0, order: "start-first" })), "services.web.update.maxSurge: received 2; " + styles("maxSurge", "order")],
        ["maxSurge 0 alone", web((s) => (s.update = { maxSurge: 0 })), "services.web.update.maxSurge: received 0; expected more than 0 when maxUnavailable is 0 (its default when only maxSurge is given): otherwise no task could be replaced."],
        ["maxUnavailable 0 alone", web((s) => (s.update = { maxUnavailable: 0 })), "services.web.update.maxUnavailable: received 0; expected more than 0 when maxSurge is 0 (its default when only maxUnavailable is given): otherwise no task could be replaced."],
        ["both 0", web((s) => (s.update = { maxSurge: 0, maxUnavailable: 0 })), "services.web.update.maxSurge: received 0; expected more than 0 when maxUnavailable is 0: otherwise no task could be replaced."],
        ["a negative maxSurge", web((s) => (s.update = { maxSurge: -1 })), "services.web.update.maxSurge: received -1; expected an integer from 0 to 1000."],
        ["a fractional maxUnavailable", web((s) => (s.update = { maxUnavailable: 1.5 })), "services.web.update.maxUnavailable: received 1.5; expected an integer from 0 to 1000."],
        ["maxSurge over 1000", web((s) => (s.update = { maxSurge: 1001, maxUnavailable: 1 })), "services.web.update.maxSurge: received 1001; expected an integer from 0 to 1000."],
        ["maxUnavailable as text", web((s) => (s.update = { maxSurge: 1, maxUnavailable: bad("25%") })), 'services.web.update.maxUnavailable: received "25%"; expected an integer from 0 to 1000.'],
        // internal ports
        ["a port exposed twice", db((s) => (s.expose = [5432, 5432])), "services.db.expose[1]: received 5432; expected a port not already exposed (services.db.expose[0] exposes 5432/tcp)."],
        ["a port exposed twice, once as an object", db((s) => (s.expose = [5432, { port: 5432, protocol: "tcp" }])), 'services.db.expose[1]: received {"port":5432,"protocol":"tcp"}; expected a port not already exposed (services.db.expose[0] exposes 5432/tcp).'],
        ["an exposed port 0", db((s) => (s.expose = [0])), "services.db.expose[0]: received 0; expected an integer from 1 to 65535."],
        ["an exposed port 65536", db((s) => (s.expose = [{ port: 65536 }])), "services.db.expose[0].port: received 65536; expected an integer from 1 to 65535."],
        ["an exposed port as text", db((s) => (s.expose = [bad("5432")])), 'services.db.expose[0]: received "5432"; expected a port number (TCP) or { port, protocol }.'],
        ["an unknown exposed protocol", db((s) => (s.expose = [{ port: 5432, protocol: bad("sctp") }])), 'services.db.expose[0].protocol: received "sctp"; expected one of "tcp", "udp".'],
        ["expose not a list", db((s) => (s.expose = bad(5432))), "services.db.expose: received 5432; expected a list of ports: numbers (TCP) or { port, protocol }."],
        // volumes
        ["a declared volume no service mounts", { ...shop(), volumes: { cache: { size: "1Gi" } } }, 'volumes.cache: received {"size":"1Gi"}; expected a volume that some service mounts (none does: mount it in a service\'s volumes, or remove it).'],
        ["a declared volume named after the prototype's constructor", { ...shop(), volumes: { constructor: {} } }, "volumes.constructor: received {}; expected a volume that some service mounts (none does: mount it in a service's volumes, or remove it)."],
        ["a size that does not parse", { ...shop(), volumes: { "db-data": { size: "lots" } } }, `volumes.db-data.size: received "lots"; ${sizeExpected} (not a decimal number with an optional unit).`],
        ["a size in GB", { ...shop(), volumes: { "db-data": { size: "1GB" } } }, `volumes.db-data.size: received "1GB"; ${sizeExpected} (unknown unit "GB" (use "Ki", "Mi", "Gi" for powers of 1024)).`],
        ["a zero size", { ...shop(), volumes: { "db-data": { size: "0Gi" } } }, `volumes.db-data.size: received "0Gi"; ${sizeExpected}, more than 0.`],
        ["a size as a number", { ...shop(), volumes: { "db-data": { size: bad(1024) } } }, `volumes.db-data.size: received 1024; ${sizeExpected} (not a string).`],
        ["a class with upper case", { ...shop(), volumes: { "db-data": { class: "Fast_SSD" } } }, `volumes.db-data.class: received "Fast_SSD"; ${classExpected}`],
        ["an empty class", { ...shop(), volumes: { "db-data": { class: "" } } }, `volumes.db-data.class: received ""; ${classExpected}`],
        ["a class with a slash", { ...shop(), volumes: { "db-data": { class: "rexray/ebs" } } }, `volumes.db-data.class: received "rexray/ebs"; ${classExpected}`],
        ["a volume name that is not DNS-safe", { ...shop(), volumes: { Data: {} } }, "volumes.Data: received \"Data\"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit."],
        ["a volume given as its size", { ...shop(), volumes: { "db-data": bad("1Gi") } }, 'volumes.db-data: received "1Gi"; expected an object with an optional size and class (e.g. { size: "1Gi" }).'],
        ["volumes not an object", { ...shop(), volumes: bad(["db-data"]) }, 'volumes: received ["db-data"]; expected an object mapping volume names to { size, class } (e.g. { "db-data": { size: "1Gi" } }).'],
        // readiness and liveness
        ["healthcheck with readiness", web((s) => ((s.healthcheck = { command: "true" }), (s.readiness = { command: "ready" }))), 'services.web.readiness: received {"command":"ready"}; ' + both("readiness")],
        ["healthcheck with liveness", web((s) => ((s.healthcheck = { command: "true" }), (s.liveness = { command: "live" }))), 'services.web.liveness: received {"command":"live"}; ' + both("liveness")],
        ["a bad readiness interval", web((s) => (s.readiness = { command: "true", interval: "10" })), 'services.web.readiness.interval: received "10"; expected a duration such as "10s", "1m30s" or "500ms" (units h, m, s, ms) (not a sequence of <number><unit> such as "1m30s").'],
        ["a liveness without a command", web((s) => (s.liveness = bad({ retries: 2 }))), "services.web.liveness.command: received undefined; expected a non-empty list of strings (run as is) or a non-empty shell command string."],
        // image
        ["an image that is a number", web((s) => (s.image = bad(42))), `services.web.image: received 42; ${imageExpected} (not a string).`],
    ])("%s", (_what, spec, message) => {
        expect(messageOf(() => normalizeAppSpec(TYPE, "shop", spec))).toBe(PREFIX + message);
    });

    test("a secret named constructor, declared, is found", () => {
        const app = normalizeAppSpec(TYPE, "shop", { secrets: { constructor: "x" }, services: { web: { image: "nginx", secrets: ["constructor"] } } });
        expect(app.services[0].secrets).toEqual(["constructor"]);
    });

    const badImage = "registry.lab:5000/Shop/web:1";
    const badImageMessage = `${PREFIX}services.web.image: received "${badImage}"; ${imageExpected} (path component "Shop" is not lower-case).`;

    test("an image is checked at construction when plain", () => {
        expect(messageOf(() => normalizeAppSpec(TYPE, "shop", web((s) => (s.image = badImage))))).toBe(badImageMessage);
    });

    test.each([
        ["an Output", () => pulumi.output(badImage), badImageMessage],
        ["a promise", () => Promise.resolve(badImage), badImageMessage],
        // Marked secret by the caller: never shown, only its length.
        ["a secret Output", () => pulumi.secret(badImage), badImageMessage.replace(`"${badImage}"`, `a secret of ${badImage.length} characters`)],
    ])("an image given as %s is checked when it resolves", async (_what, image, message) => {
        const app = normalizeAppSpec(TYPE, "shop", web((s) => (s.image = image())));
        expect(await rejectionOf(app.services[0].image as pulumi.Output<string>)).toBe(message);
        expect(await rejectionOf(resolveAppSpec(app))).toBe(message);
    });

    test("an image Output that is valid resolves, with its parts", async () => {
        const app = normalizeAppSpec(TYPE, "shop", web((s) => (s.image = pulumi.output("registry.lab:5000/shop/web:1.4.2"))));
        expect(app.services[0].imageReference).toBeUndefined();
        const resolved = await valueOf(resolveAppSpec(app));
        const webService = resolved.services.find((s) => s.name === "web");
        expect(webService?.image).toBe("registry.lab:5000/shop/web:1.4.2");
        expect(webService?.imageReference).toEqual({ registry: "registry.lab:5000", path: "shop/web", tag: "1.4.2" });
        expect(resolved.services.find((s) => s.name === "db")?.imageReference).toEqual({ path: "postgres", tag: "16" });
    });

    test.each([
        ["an Output", () => pulumi.output("")],
        ["a secret Output", () => pulumi.secret("")],
        ["a promise", () => Promise.resolve("")],
    ])("an empty secret given as %s fails when it resolves, showing only its length", async (_what, value) => {
        const app = normalizeAppSpec(TYPE, "shop", { ...shop(), secrets: { "db-password": value() } });
        const message = await rejectionOf(resolveAppSpec(app));
        expect(message).toBe(`${PREFIX}secrets.db-password: received a secret of 0 characters; expected a non-empty string (or an Output of one).`);
    });

    test("a secret Output resolving to something else than a string is not shown", async () => {
        const app = normalizeAppSpec(TYPE, "shop", { ...shop(), secrets: { "db-password": pulumi.secret(1234 as unknown as string) } });
        const message = await rejectionOf(resolveAppSpec(app));
        expect(message).toBe(`${PREFIX}secrets.db-password: received a secret number; expected a non-empty string (or an Output of one).`);
        expect(message).not.toContain("1234");
    });

    test("a valid secret Output stays secret once checked", async () => {
        const app = normalizeAppSpec(TYPE, "shop", { ...shop(), secrets: { "db-password": pulumi.output("hunter2") } });
        expect(await pulumi.isSecret(app.secrets["db-password"] as pulumi.Output<string>)).toBe(true);
        expect((await valueOf(resolveAppSpec(app))).secrets).toEqual({ "db-password": "hunter2" });
    });

    test("an env Output resolving to something else than a string fails then, without showing it", async () => {
        const app = normalizeAppSpec(TYPE, "shop", web((s) => (s.env = { PORT: pulumi.secret(8080 as unknown as string) })));
        const message = await rejectionOf(resolveAppSpec(app));
        expect(message).toBe(`${PREFIX}services.web.env.PORT: received an Output of a number; expected a string (or an Output of one).`);
    });
});
