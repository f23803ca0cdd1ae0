import { createHash } from "crypto";
import { recordResources } from "../../mocks";
import { AppSpec, NormalizedAppSpec, normalizeAppSpec } from "../../../../lib/workload/app-spec";
import { ClusterCapabilities, FULL_CAPABILITIES } from "../../../../lib/core/cluster";
import {
    checkSwarmCapabilities,
    composeText,
    formatCpus,
    renderCompose,
    swarmConstraint,
    swarmEndpointMode,
    swarmPublishMode,
    swarmSecretName,
    swarmSecrets,
    validateStackName,
} from "../../../../lib/workload/render";
import { messageOf, valueOf } from "../../mocks";
import { webDbApp, webDbCompose } from "../../../../examples/web-db";

const registered = recordResources();
const TYPE = "flotilla:workload:SwarmApp";

function normalize(spec: AppSpec<string>): NormalizedAppSpec<string> {
    return normalizeAppSpec(TYPE, "shop", spec);
}

/** The secret name computed independently of the code under test. */
function expectedSecretName(stack: string, secret: string, value: string): string {
    return `${stack}_${secret}_${createHash("sha256").update(`${stack}\0${secret}\0${value}`).digest("hex").slice(0, 8)}`;
}


const webDb: AppSpec<string> = {
    secrets: { "db-password": "s3cret" },
    services: {
        web: {
            image: "registry.lab:5000/shop/web:1.4.2",
            replicas: 2,
            ports: [{ target: 8080, published: 80 }],
            env: { DB_PASSWORD_FILE: "/run/secrets/db-password", DB_HOST: "db" },
            secrets: ["db-password"],
            resources: { limits: { cpu: "0.5", memory: "256Mi" }, reservations: { cpu: "250m", memory: "128Mi" } },
            healthcheck: { command: ["wget", "-q", "-O-", "http://localhost:8080/health"], interval: "15s", startPeriod: "20s" },
            labels: { team: "shop" },
        },
        db: {
            image: "postgres:16",
            env: { POSTGRES_PASSWORD_FILE: "/run/secrets/db-password" },
            secrets: ["db-password"],
            volumes: { "db-data": "/var/lib/postgresql/data" },
            placement: ["zone==a"],
            resources: { limits: { memory: "1Gi" } },
            healthcheck: { command: "pg_isready -U postgres", retries: 5 },
        },
    },
};

describe("renderCompose", () => {
    test("web + db + named volume renders exactly", () => {
        const secret = expectedSecretName("shop", "db-password", "s3cret");
        const labels = (service: string) => ({ "flotilla.app": "shop", "flotilla.service": service });
        expect(renderCompose("shop", normalize(webDb))).toEqual({
            version: "3.8",
            services: {
                web: {
                    image: "registry.lab:5000/shop/web:1.4.2",
                    environment: { DB_HOST: "db", DB_PASSWORD_FILE: "/run/secrets/db-password" },
                    ports: [{ target: 8080, published: 80, protocol: "tcp", mode: "ingress" }],
                    secrets: [{ source: "db-password", target: "db-password" }],
                    healthcheck: {
                        test: ["CMD", "wget", "-q", "-O-", "http://localhost:8080/health"],
                        interval: "15s",
                        timeout: "5s",
                        retries: 3,
                        start_period: "20s",
                    },
                    networks: ["default"],
                    labels: { ...labels("web"), team: "shop" },
                    deploy: {
                        mode: "replicated",
                        replicas: 2,
                        labels: { ...labels("web"), team: "shop" },
                        resources: {
                            limits: { cpus: "0.5", memory: "268435456" },
                            reservations: { cpus: "0.25", memory: "134217728" },
                        },
                        restart_policy: { condition: "any", delay: "5s" },
                        update_config: { parallelism: 1, delay: "5s", order: "start-first", failure_action: "rollback", monitor: "10s" },
                        rollback_config: { parallelism: 1, delay: "5s", order: "start-first", failure_action: "pause", monitor: "10s" },
                    },
                },
                db: {
                    image: "postgres:16",
                    environment: { POSTGRES_PASSWORD_FILE: "/run/secrets/db-password" },
                    volumes: [{ type: "volume", source: "db-data", target: "/var/lib/postgresql/data", read_only: false }],
                    secrets: [{ source: "db-password", target: "db-password" }],
                    healthcheck: { test: ["CMD-SHELL", "pg_isready -U postgres"], interval: "10s", timeout: "5s", retries: 5, start_period: "0s" },
                    networks: ["default"],
                    labels: labels("db"),
                    deploy: {
                        mode: "replicated",
                        replicas: 1,
                        labels: labels("db"),
                        resources: { limits: { memory: "1073741824" } },
                        restart_policy: { condition: "any", delay: "5s" },
                        placement: { constraints: ["node.labels.zone == a"] },
                        // A read-write volume: never two databases on the same data.
                        update_config: { parallelism: 1, delay: "5s", order: "stop-first", failure_action: "rollback", monitor: "10s" },
                        rollback_config: { parallelism: 1, delay: "5s", order: "stop-first", failure_action: "pause", monitor: "10s" },
                    },
                },
            },
            networks: { default: { driver: "overlay", attachable: true, labels: { "flotilla.app": "shop" } } },
            volumes: { "db-data": { labels: { "flotilla.app": "shop" } } },
            secrets: { "db-password": { external: true, name: secret } },
        });
    });

    test("a global service with host-mode ports renders exactly", () => {
        const app = normalize({
            publishMode: "host",
            services: {
                edge: {
                    image: "registry.lab:5000/edge@sha256:" + "ab".repeat(32),
                    mode: "global",
                    command: ["httpd", "-f", "-p", "8080"],
                    entrypoint: ["/bin/busybox"],
                    ports: [
                        { target: 8080, published: 80 },
                        { target: 8443, published: 443, mode: "host" },
                        { target: 53, protocol: "udp" },
                    ],
                    placement: ["pool!=spot"],
                    update: { parallelism: 2, delay: "1m30s", monitor: "500ms", failureAction: "pause" },
                },
            },
        });
        const labels = { "flotilla.app": "edge", "flotilla.service": "edge", "pulumi.stack": "dev" };
        expect(renderCompose("edge", app, { labels: { "pulumi.stack": "dev" } })).toEqual({
            version: "3.8",
            services: {
                edge: {
                    image: "registry.lab:5000/edge@sha256:" + "ab".repeat(32),
                    command: ["httpd", "-f", "-p", "8080"],
                    entrypoint: ["/bin/busybox"],
                    ports: [
                        { target: 8080, published: 80, protocol: "tcp", mode: "host" },
                        { target: 8443, published: 443, protocol: "tcp", mode: "host" },
                        { target: 53, published: 53, protocol: "udp", mode: "host" },
                    ],
                    networks: ["default"],
                    labels,
                    deploy: {
                        mode: "global",
                        labels,
                        restart_policy: { condition: "any", delay: "5s" },
                        placement: { constraints: ["node.labels.pool != spot"] },
                        update_config: { parallelism: 2, delay: "1m30s", order: "stop-first", failure_action: "pause", monitor: "500ms" },
                        rollback_config: { parallelism: 2, delay: "1m30s", order: "stop-first", failure_action: "pause", monitor: "500ms" },
                    },
                },
            },
            networks: { default: { driver: "overlay", attachable: true, labels: { "flotilla.app": "edge", "pulumi.stack": "dev" } } },
        });
    });

    test("the flotilla labels win over the caller's", () => {
        const compose = renderCompose("shop", normalize({ services: { web: { image: "nginx" } } }), {
            labels: { "flotilla.app": "other", "flotilla.service": "other" },
        });
        expect(compose.services.web.labels).toEqual({ "flotilla.app": "shop", "flotilla.service": "web" });
    });

    test("every $ is doubled, so the compose loader's interpolation gives the value back", () => {
        const compose = renderCompose(
            "shop",
            normalize({
                services: {
                    web: {
                        image: "nginx",
                        env: { PRICE: "$5", REF: "${HOME}" },
                        command: ["echo", "$PATH"],
                        healthcheck: { command: "test $$ -gt 0" },
                    },
                },
            }),
        );
        expect(compose.services.web.environment).toEqual({ PRICE: "$$5", REF: "$${HOME}" });
        expect(compose.services.web.command).toEqual(["echo", "$$PATH"]);
        expect(compose.services.web.healthcheck?.test).toEqual(["CMD-SHELL", "test $$$$ -gt 0"]);
    });

    test("secret values never appear in the compose file", () => {
        const text = composeText(renderCompose("shop", normalize(webDb)));
        expect(text).not.toContain("s3cret");
    });

    test("renderCompose checks the stack name again", () => {
        expect(messageOf(() => renderCompose("Shop", normalize(webDb)))).toBe(
            'flotilla:workload:compose "Shop": invalid stackName: received "Shop"; expected a DNS-safe name of 1 to 63 ' +
                "characters: lower-case letters, digits and '-', starting and ending with a letter or digit.",
        );
    });

    test("rendering creates nothing", async () => {
        renderCompose("shop", normalize(webDb));
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});

describe("Swarm secrets", () => {
    test("names are <stack>_<secret>_<8 hex of a salted sha256>, deterministic", () => {
        const name = swarmSecretName("shop", "db-password", "s3cret");
        expect(name).toBe(expectedSecretName("shop", "db-password", "s3cret"));
        expect(name).toMatch(/^shop_db-password_[0-9a-f]{8}$/);
        expect(swarmSecretName("shop", "db-password", "s3cret")).toBe(name);
    });

    test("a changed value, stack or secret name gives a new name (so the service rolls)", () => {
        const name = swarmSecretName("shop", "db-password", "s3cret");
        expect(swarmSecretName("shop", "db-password", "s3cret2")).not.toBe(name);
        expect(swarmSecretName("shop2", "db-password", "s3cret")).not.toBe(name.replace("shop_", "shop2_"));
        expect(swarmSecretName("shop", "db-pass", "s3cret").split("_")[2]).not.toBe(name.split("_")[2]);
    });

    test("the compose file refers to exactly the secrets the deployer creates", () => {
        const app = normalize({ ...webDb, secrets: { "db-password": "s3cret", "api-key": "k3y" } });
        const secrets = swarmSecrets("shop", app);
        expect(secrets).toEqual([
            {
                secret: "api-key",
                name: expectedSecretName("shop", "api-key", "k3y"),
                value: "k3y",
                labels: { "flotilla.app": "shop", "flotilla.secret": "api-key" },
            },
            {
                secret: "db-password",
                name: expectedSecretName("shop", "db-password", "s3cret"),
                value: "s3cret",
                labels: { "flotilla.app": "shop", "flotilla.secret": "db-password" },
            },
        ]);
        expect(renderCompose("shop", app).secrets).toEqual(
            Object.fromEntries(secrets.map((s) => [s.secret, { external: true, name: s.name }])),
        );
    });
});

describe("validateStackName", () => {
    const app = normalize({
        secrets: { "a-rather-long-secret-name-here": "x" },
        services: { "a-service-name-of-thirty-chars": { image: "nginx", secrets: ["a-rather-long-secret-name-here"] } },
    });

    test("accepts a name that leaves room for Swarm's derived names", () => {
        // <stack>_<30-char service> ≤ 63 and <stack>_<30-char secret>_<8> ≤ 64: at most 24 characters.
        expect(validateStackName(TYPE, "shop", "stackName", "s".repeat(24), app)).toBe("s".repeat(24));
    });

    test.each([
        [
            "s".repeat(25),
            'expected a name of at most 24 characters for this app, so that Swarm\'s names fit: <stack>_<service> in 63 (longest service "a-service-name-of-thirty-chars") and <stack>_<secret>_<hash> in 64 (longest secret "a-rather-long-secret-name-here").',
        ],
        [
            "Shop",
            "expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.",
        ],
        ["shop_1", "expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit."],
        ["", "expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit."],
    ])("rejects %p", (name, expected) => {
        expect(messageOf(() => validateStackName(TYPE, "shop", "stackName", name, app))).toBe(
            `${TYPE} "shop": invalid stackName: received ${JSON.stringify(name)}; ${expected}`,
        );
    });

    test("without secrets only the service names count", () => {
        const plain = normalize({ services: { ["w".repeat(60)]: { image: "nginx" } } });
        expect(validateStackName(TYPE, "shop", "stackName", "ab", plain)).toBe("ab");
        expect(messageOf(() => validateStackName(TYPE, "shop", "stackName", "abc", plain))).toBe(
            `${TYPE} "shop": invalid stackName: received "abc"; expected a name of at most 2 characters for this app, ` +
                `so that Swarm's names fit: <stack>_<service> in 63 (longest service "${"w".repeat(60)}").`,
        );
    });
});

describe("formatting", () => {
    test.each([
        [500_000_000, "0.5"],
        [250_000_000, "0.25"],
        [1_000_000, "0.001"],
        [2_000_000_000, "2"],
        [1_500_000_000, "1.5"],
        [16_001_000_000, "16.001"],
    ])("%p nano-CPUs is %p", (nano, text) => {
        expect(formatCpus(nano)).toBe(text);
    });

    test.each([
        [{ label: "zone", operator: "==", value: "a" }, "node.labels.zone == a"],
        [{ label: "pool", operator: "!=", value: "spot" }, "node.labels.pool != spot"],
    ] as const)("%p is %p", (c, text) => {
        expect(swarmConstraint(c)).toBe(text);
    });

    test("composeText is JSON, ends with a newline, and escapes what YAML 1.1 reads differently", () => {
        const compose = renderCompose(
            "shop",
            normalize({ services: { web: { image: "nginx", env: { A: "line\u2028sep", B: "next\u0085line", C: "del\u007f", D: "é ☃ 😀" } } } }),
        );
        const text = composeText(compose);
        expect(text.endsWith("}\n")).toBe(true);
        expect(text).toContain('"A": "line\\u2028sep"');
        expect(text).toContain('"B": "next\\u0085line"');
        expect(text).toContain('"C": "del\\u007f"');
        expect(text).toContain('"D": "é ☃ 😀"');
        expect(text).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
        expect(JSON.parse(text)).toEqual(compose);
    });
});

/** The lab: no IPVS in the kernel, so neither service virtual IPs nor the routing mesh. */
const LAB: ClusterCapabilities = { serviceVirtualIp: false, routingMesh: false, loadBalancer: false };

describe("neutral spec → Swarm", () => {
    const one = (service: AppSpec<string>["services"][string], app: Partial<AppSpec<string>> = {}) =>
        renderCompose("shop", normalize({ ...app, services: { web: service } }));

    test.each<[string, AppSpec<string>["services"][string]["update"], { parallelism: number; order: string }]>([
        ["maxSurge 2", { maxSurge: 2 }, { parallelism: 2, order: "start-first" }],
        ["maxUnavailable 2", { maxUnavailable: 2 }, { parallelism: 2, order: "stop-first" }],
        ["maxSurge 0, maxUnavailable 3", { maxSurge: 0, maxUnavailable: 3 }, { parallelism: 3, order: "stop-first" }],
        ["maxSurge 1, maxUnavailable 3 (Swarm bounds the surge)", { maxSurge: 1, maxUnavailable: 3 }, { parallelism: 1, order: "start-first" }],
        ["parallelism 3, stop-first", { parallelism: 3, order: "stop-first" }, { parallelism: 3, order: "stop-first" }],
    ])("update %s renders as %p, the rollback alike", (_what, update, pace) => {
        const deploy = one({ image: "nginx", update }).services.web.deploy;
        expect(deploy.update_config).toEqual({ ...pace, delay: "5s", failure_action: "rollback", monitor: "10s" });
        expect(deploy.rollback_config).toEqual({ ...pace, delay: "5s", failure_action: "pause", monitor: "10s" });
    });

    test("the neutral form of the default policy renders byte for byte as the default", () => {
        expect(composeText(one({ image: "nginx", update: { maxSurge: 1, maxUnavailable: 0 } }))).toBe(composeText(one({ image: "nginx" })));
        expect(composeText(one({ image: "nginx", update: { maxUnavailable: 1 }, volumes: { d: "/d" } }))).toBe(
            composeText(one({ image: "nginx", volumes: { d: "/d" } })),
        );
    });

    test("internal ports render nothing: every port is reachable on the overlay network", () => {
        const base: AppSpec<string>["services"][string] = { image: "postgres:16", ports: [{ target: 8080 }] };
        expect(composeText(one({ ...base, expose: [5432, { port: 53, protocol: "udp" }] }))).toBe(composeText(one(base)));
    });

    test.each([
        ["host", "host"],
        ["ingress", "ingress"],
        ["loadBalancer", "ingress"],
    ] as const)("a %p port is published in Swarm mode %p", (mode, swarm) => {
        expect(one({ image: "nginx", ports: [{ target: 8080, published: 80, mode }] }).services.web.ports).toEqual([
            { target: 8080, published: 80, protocol: "tcp", mode: swarm },
        ]);
        expect(swarmPublishMode({ target: 8080, published: 80, protocol: "tcp", mode })).toBe(swarm);
    });

    test("a volume's class is its driver; its size is not rendered; undeclared volumes as before", () => {
        const compose = renderCompose(
            "shop",
            normalize({
                volumes: { "db-data": { size: "10Gi", class: "fast-ssd" }, logs: { size: "1Gi" } },
                services: { db: { image: "postgres:16", volumes: { "db-data": "/var/lib/postgresql/data", logs: "/logs", tmp: "/tmp" } } },
            }),
        );
        const labels = { "flotilla.app": "shop" };
        expect(compose.volumes).toEqual({ "db-data": { driver: "fast-ssd", labels }, logs: { labels }, tmp: { labels } });
        expect(composeText(compose)).not.toMatch(/10Gi|10737418240|size/);
    });

    test("declaring a volume without a class changes nothing in the compose file", () => {
        const spec = (volumes?: AppSpec<string>["volumes"]) =>
            composeText(renderCompose("shop", normalize({ ...webDb, ...(volumes ? { volumes } : {}) })));
        expect(spec({ "db-data": { size: "1Gi" } })).toBe(spec());
    });

    const hc = (command: string) => ({ test: ["CMD-SHELL", command], interval: "10s", timeout: "5s", retries: 3, start_period: "0s" });
    test.each<[string, Partial<AppSpec<string>["services"][string]>, unknown]>([
        ["healthcheck", { healthcheck: { command: "hc" } }, hc("hc")],
        ["liveness alone", { liveness: { command: "live" } }, hc("live")],
        ["readiness alone (so an update waits for ready tasks)", { readiness: { command: "ready" } }, hc("ready")],
        ["readiness and liveness: Swarm's one check restarts, so liveness", { readiness: { command: "ready" }, liveness: { command: "live" } }, hc("live")],
        ["none", {}, undefined],
    ])("Swarm's one health check, given %s", (_what, checks, expected) => {
        expect(one({ image: "nginx", ...checks }).services.web.healthcheck).toEqual(expected);
    });
});

describe("discovery and publishing by the cluster's capabilities", () => {
    const hostOnly: AppSpec<string> = { ...webDb, publishMode: "host" };

    test("told nothing, or everything is supported: byte for byte as before", () => {
        const text = composeText(renderCompose("shop", normalize(webDb)));
        expect(composeText(renderCompose("shop", normalize(webDb), { capabilities: FULL_CAPABILITIES }))).toBe(text);
        expect(text).not.toContain("endpoint_mode");
    });

    test("without service virtual IPs every service uses DNS round-robin endpoints, and nothing else changes", () => {
        const full = renderCompose("shop", normalize(hostOnly));
        const lab = renderCompose("shop", normalize(hostOnly), { capabilities: LAB });
        expect(lab.services.web.deploy.endpoint_mode).toBe("dnsrr");
        expect(lab.services.db.deploy.endpoint_mode).toBe("dnsrr");
        const withoutEndpointMode = JSON.parse(composeText(lab), (key, value) => (key === "endpoint_mode" ? undefined : value));
        expect(withoutEndpointMode).toEqual(full);
        expect(Object.keys(lab.services.web.deploy).slice(0, 4)).toEqual(["mode", "replicas", "endpoint_mode", "labels"]);
    });

    test.each([
        [{ serviceVirtualIp: true, routingMesh: true, loadBalancer: false }, "vip"],
        [{ serviceVirtualIp: false, routingMesh: false, loadBalancer: false }, "dnsrr"],
    ] as const)("swarmEndpointMode(%p) is %p", (capabilities, mode) => {
        expect(swarmEndpointMode(capabilities)).toBe(mode);
    });

    const fix = 'expected a port published in "host" mode (set its mode, or the app\'s publishMode, to "host")';
    const noMesh = (mode: string) => `: this cluster has no routing mesh (e.g. no IPVS in its kernel), which "${mode}" publishing needs on Swarm.`;
    const noVip =
        ': this cluster has no service virtual IP (e.g. no IPVS in its kernel), so services use DNS round-robin endpoints (endpoint_mode "dnsrr"), ' +
        "which Swarm refuses for ports published through the routing mesh.";
    test.each<[string, AppSpec<string>, ClusterCapabilities, string]>([
        [
            "an ingress port without the routing mesh",
            webDb,
            LAB,
            'services.web.ports[0]: received {"target":8080,"published":80,"protocol":"tcp","mode":"ingress"}; ' + fix + noMesh("ingress"),
        ],
        [
            "a load-balanced port without the routing mesh",
            { ...hostOnly, services: { ...hostOnly.services, db: { ...hostOnly.services.db, ports: [{ target: 5432, mode: "loadBalancer" }] } } },
            LAB,
            'services.db.ports[0]: received {"target":5432,"published":5432,"protocol":"tcp","mode":"loadBalancer"}; ' + fix + noMesh("loadBalancer"),
        ],
        [
            "an ingress port with the routing mesh but without service virtual IPs",
            { ...hostOnly, services: { web: { image: "nginx", ports: [{ target: 80, mode: "host" }, { target: 443, mode: "ingress" }] } } },
            { serviceVirtualIp: false, routingMesh: true, loadBalancer: false },
            'services.web.ports[1]: received {"target":443,"published":443,"protocol":"tcp","mode":"ingress"}; ' + fix + noVip,
        ],
    ])("%s is refused, naming the port, the reason and the fix", (_what, spec, capabilities, message) => {
        const app = normalize(spec);
        expect(messageOf(() => renderCompose("shop", app, { capabilities }))).toBe(`flotilla:workload:compose "shop": invalid ${message}`);
        expect(messageOf(() => checkSwarmCapabilities(TYPE, "web", app, capabilities))).toBe(`${TYPE} "web": invalid ${message}`);
    });

    test("host-mode ports need neither the routing mesh nor virtual IPs", () => {
        expect(() => checkSwarmCapabilities(TYPE, "web", normalize(hostOnly), LAB)).not.toThrow();
        expect(() => checkSwarmCapabilities(TYPE, "web", normalize(webDb), FULL_CAPABILITIES)).not.toThrow();
    });
});

describe("examples/web-db", () => {
    test("renders for the lab: host-mode ports, DNS round-robin endpoints, readiness as the health check", async () => {
        const compose = JSON.parse(await valueOf(webDbCompose("shop", "pw", LAB)));
        expect(compose.services.web.ports).toEqual([{ target: 8080, published: 80, protocol: "tcp", mode: "host" }]);
        expect(compose.services.web.deploy.endpoint_mode).toBe("dnsrr");
        expect(compose.services.db.deploy.endpoint_mode).toBe("dnsrr");
        expect(compose.services.web.healthcheck.test).toEqual(["CMD", "wget", "-q", "-O-", "http://localhost:8080/health"]);
        expect(compose.services.web.deploy.update_config).toMatchObject({ parallelism: 1, order: "start-first" });
        expect(compose.volumes).toEqual({ "db-data": { labels: { "flotilla.app": "shop" } } });
        expect(compose.services.db.ports).toBeUndefined();
    });

    test("the spec normalizes with the neutral fields", () => {
        const app = normalizeAppSpec("example:web-db", "shop", webDbApp("pw"));
        expect(app.volumes).toEqual([{ name: "db-data", sizeBytes: 10 * 1024 ** 3, class: undefined }]);
        expect(app.services.find((s) => s.name === "db")?.expose).toEqual([{ port: 5432, protocol: "tcp" }]);
        expect(app.services.find((s) => s.name === "web")?.liveness).toBeUndefined();
    });
});
