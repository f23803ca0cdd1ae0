import { createHash } from "crypto";
import { recordResources } from "./mocks";
import { AppSpec, NormalizedAppSpec, normalizeAppSpec } from "../../lib/workload/app-spec";
import {
    composeText,
    formatCpus,
    renderCompose,
    swarmConstraint,
    swarmSecretName,
    swarmSecrets,
    validateStackName,
} from "../../lib/workload/compose";
import { messageOf } from "./mocks";

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
