import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { messageOf, recordResources, valueOf } from "../../mocks";
import { AppSpec, NormalizedAppSpec, ServiceSpec, normalizeAppSpec } from "../../../../lib/workload/app-spec";
import { ClusterCapabilities, FULL_CAPABILITIES } from "../../../../lib/core/cluster";
import { swarmSecretName } from "../../../../lib/workload/render";
import {
    KubernetesObject,
    KubernetesRenderOptions,
    checkKubernetesApp,
    formatKubernetesCpu,
    formatKubernetesMemory,
    kubernetesManifest,
    kubernetesSecretName,
    renderKubernetes,
} from "../../../../lib/workload/render";
import { webDbApp, webDbKubernetes } from "../../../../examples/web-db";

const registered = recordResources();
const TYPE = "flotilla:workload:kubernetes";

function normalize(spec: AppSpec<string>): NormalizedAppSpec<string> {
    return normalizeAppSpec("test", "shop", spec);
}

const OPTS: KubernetesRenderOptions = { appName: "shop", namespace: "shop" };

/** Renders `spec` as app "shop" in namespace "shop". */
function render(spec: AppSpec<string>, opts: Partial<KubernetesRenderOptions> = {}): KubernetesObject[] {
    return [...renderKubernetes(normalize(spec), { ...OPTS, ...opts })];
}

/** The object of `kind` named `name`. */
function find(objects: readonly KubernetesObject[], kind: string, name: string): any {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) {
        throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
    }
    return found;
}

/** The one container of the workload of service `name`. */
function container(objects: readonly KubernetesObject[], name: string): any {
    const w: any = objects.find((o) => (o.kind === "Deployment" || o.kind === "DaemonSet") && o.metadata.name === name);
    return w.spec.template.spec.containers[0];
}

/** The Secret name computed independently of the code under test. */
function secretName(app: string, secret: string, value: string): string {
    return `${app}-${secret}-${createHash("sha256").update(`${app}\0${secret}\0${value}`).digest("hex").slice(0, 8)}`;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const selector = (service: string) => ({ "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": "shop" });
const labels = (service: string) => ({ "app.kubernetes.io/managed-by": "flotilla", ...selector(service) });
const appLabels = { "app.kubernetes.io/managed-by": "flotilla", "app.kubernetes.io/part-of": "shop" };
const podDefaults = { automountServiceAccountToken: false, enableServiceLinks: false };
const rollback = { "flotilla.dev/update-failure-action": "rollback" };
const LAB: ClusterCapabilities = { serviceVirtualIp: false, routingMesh: false, loadBalancer: false };

describe("renderKubernetes: exact objects", () => {
    test("a one-service app: a Deployment and nothing else (no internal port, no Service)", () => {
        expect(render({ services: { web: { image: "nginx:1.27" } } })).toEqual([
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "web", namespace: "shop", labels: labels("web"), annotations: rollback },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: selector("web") },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    minReadySeconds: 15,
                    template: {
                        metadata: { labels: labels("web") },
                        spec: { ...podDefaults, containers: [{ name: "web", image: "nginx:1.27" }] },
                    },
                },
            },
        ]);
    });

    test("the web + db example: discovery by name, a claim, the secret file, readiness, placement", () => {
        const app = normalizeAppSpec("test", "shop", webDbApp("pw"));
        const secret = secretName("shop", "db-password", "pw");
        const secretsVolume = {
            name: "flotilla-secrets",
            projected: { defaultMode: 0o444, sources: [{ secret: { name: secret, items: [{ key: "db-password", path: "db-password" }] } }] },
        };
        const secretsMount = { name: "flotilla-secrets", mountPath: "/run/secrets", readOnly: true };
        expect(renderKubernetes(app as NormalizedAppSpec<string>, { ...OPTS, createNamespace: true })).toEqual([
            { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { "app.kubernetes.io/managed-by": "flotilla" } } },
            {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: secret, namespace: "shop", labels: appLabels },
                type: "Opaque",
                immutable: true,
                data: { "db-password": b64("pw") },
            },
            {
                apiVersion: "v1",
                kind: "PersistentVolumeClaim",
                metadata: { name: "shop-db-data", namespace: "shop", labels: appLabels },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
            },
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "web", namespace: "shop", labels: labels("web") },
                spec: {
                    type: "ClusterIP",
                    selector: selector("web"),
                    ports: [{ name: "tcp-8080", protocol: "TCP", port: 8080, targetPort: 8080 }],
                },
            },
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "db", namespace: "shop", labels: labels("db") },
                spec: {
                    type: "ClusterIP",
                    selector: selector("db"),
                    ports: [{ name: "tcp-5432", protocol: "TCP", port: 5432, targetPort: 5432 }],
                },
            },
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "web", namespace: "shop", labels: labels("web"), annotations: rollback },
                spec: {
                    replicas: 2,
                    selector: { matchLabels: selector("web") },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    minReadySeconds: 15,
                    template: {
                        metadata: { labels: labels("web") },
                        spec: {
                            ...podDefaults,
                            containers: [
                                {
                                    name: "web",
                                    image: "registry.lab:5000/shop/web:1.4.2",
                                    env: [
                                        { name: "DB_HOST", value: "db" },
                                        { name: "DB_PASSWORD_FILE", value: "/run/secrets/db-password" },
                                    ],
                                    // Published in host mode (the example's publishMode): a hostPort.
                                    ports: [{ containerPort: 8080, protocol: "TCP", hostPort: 80 }],
                                    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                                    readinessProbe: {
                                        exec: { command: ["wget", "-q", "-O-", "http://localhost:8080/health"] },
                                        periodSeconds: 10,
                                        timeoutSeconds: 5,
                                        failureThreshold: 3,
                                    },
                                    volumeMounts: [secretsMount],
                                },
                            ],
                            volumes: [secretsVolume],
                        },
                    },
                },
            },
            {
                apiVersion: "apps/v1",
                kind: "Deployment",
                metadata: { name: "db", namespace: "shop", labels: labels("db"), annotations: rollback },
                spec: {
                    replicas: 1,
                    selector: { matchLabels: selector("db") },
                    // A read-write volume: the old pod goes first.
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
                    minReadySeconds: 15,
                    template: {
                        metadata: { labels: labels("db") },
                        spec: {
                            ...podDefaults,
                            containers: [
                                {
                                    name: "db",
                                    image: "postgres:16",
                                    env: [{ name: "POSTGRES_PASSWORD_FILE", value: "/run/secrets/db-password" }],
                                    ports: [{ containerPort: 5432, protocol: "TCP" }],
                                    resources: { limits: { memory: "1Gi" } },
                                    readinessProbe: {
                                        exec: { command: ["/bin/sh", "-c", "pg_isready -U postgres"] },
                                        periodSeconds: 10,
                                        timeoutSeconds: 5,
                                        failureThreshold: 3,
                                    },
                                    livenessProbe: {
                                        exec: { command: ["/bin/sh", "-c", "pg_isready -U postgres"] },
                                        initialDelaySeconds: 30,
                                        periodSeconds: 10,
                                        timeoutSeconds: 5,
                                        failureThreshold: 3,
                                    },
                                    volumeMounts: [secretsMount, { name: "db-data", mountPath: "/var/lib/postgresql/data", readOnly: false }],
                                },
                            ],
                            volumes: [secretsVolume, { name: "db-data", persistentVolumeClaim: { claimName: "shop-db-data" } }],
                            affinity: {
                                nodeAffinity: {
                                    requiredDuringSchedulingIgnoredDuringExecution: {
                                        nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }],
                                    },
                                },
                            },
                        },
                    },
                },
            },
        ]);
    });

    test("the example's manifest: one document per object, secret, and the same objects", async () => {
        const text = webDbKubernetes("shop", "shop", "pw");
        const manifest = await valueOf(text);
        const docs = manifest.split(/^---\n/m).slice(1);
        expect(docs.map((d) => JSON.parse(d).kind)).toEqual(["Secret", "PersistentVolumeClaim", "Service", "Service", "Deployment", "Deployment"]);
        expect(docs.map((d) => JSON.parse(d))).toEqual(renderKubernetes(normalizeAppSpec("test", "shop", webDbApp("pw")) as NormalizedAppSpec<string>, OPTS));
        expect(await pulumi.isSecret(text)).toBe(true);
    });

    test("a global service is a DaemonSet (no replicas), host ports as hostPorts, stop-first by default", () => {
        const objects = render({
            publishMode: "host",
            services: {
                edge: {
                    image: "registry.lab:5000/edge:2",
                    mode: "global",
                    entrypoint: ["/bin/busybox"],
                    command: ["httpd", "-f", "-p", "8080"],
                    ports: [{ target: 8080, published: 80 }, { target: 8080, published: 8080 }, { target: 53, protocol: "udp" }],
                    placement: ["pool!=spot", "zone==a"],
                    update: { maxUnavailable: 2, failureAction: "pause", monitor: "1s", delay: "0s" },
                },
            },
        });
        expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Service/edge", "DaemonSet/edge"]);
        expect(objects[1]).toEqual({
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            metadata: { name: "edge", namespace: "shop", labels: labels("edge"), annotations: { "flotilla.dev/update-failure-action": "pause" } },
            spec: {
                selector: { matchLabels: selector("edge") },
                updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 2 } },
                minReadySeconds: 1,
                template: {
                    metadata: { labels: labels("edge") },
                    spec: {
                        ...podDefaults,
                        containers: [
                            {
                                name: "edge",
                                image: "registry.lab:5000/edge:2",
                                command: ["/bin/busybox"],
                                args: ["httpd", "-f", "-p", "8080"],
                                ports: [
                                    { containerPort: 53, protocol: "UDP", hostPort: 53 },
                                    { containerPort: 8080, protocol: "TCP", hostPort: 80 },
                                    { containerPort: 8080, protocol: "TCP", hostPort: 8080 },
                                ],
                            },
                        ],
                        affinity: {
                            nodeAffinity: {
                                requiredDuringSchedulingIgnoredDuringExecution: {
                                    nodeSelectorTerms: [
                                        {
                                            matchExpressions: [
                                                { key: "pool", operator: "NotIn", values: ["spot"] },
                                                { key: "zone", operator: "In", values: ["a"] },
                                            ],
                                        },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
        });
        // The default policy of a global service with host ports: stop-first, one at a time.
        const plain = render({ services: { edge: { image: "nginx", mode: "global", ports: [{ target: 80, mode: "host" }] } } });
        expect(find(plain, "DaemonSet", "edge").spec.updateStrategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    });
});

describe("Services by the cluster's capabilities", () => {
    const spec: AppSpec<string> = {
        services: {
            api: { image: "api:1", expose: [9000, { port: 53, protocol: "udp" }], ports: [{ target: 8080, published: 30080 }] },
            web: {
                image: "web:1",
                ports: [
                    { target: 8080, published: 80, mode: "loadBalancer" },
                    { target: 8443, published: 30443 },
                ],
            },
        },
    };

    test("with virtual IPs: ClusterIP for discovery; ingress → NodePort on the published port; no load balancer → NodePort too", () => {
        const objects = render({ ...spec, services: { api: spec.services.api } });
        expect(objects.filter((o) => o.kind === "Service")).toEqual([
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "api", namespace: "shop", labels: labels("api") },
                spec: {
                    type: "ClusterIP",
                    selector: selector("api"),
                    ports: [
                        { name: "udp-53", protocol: "UDP", port: 53, targetPort: 53 },
                        { name: "tcp-8080", protocol: "TCP", port: 8080, targetPort: 8080 },
                        { name: "tcp-9000", protocol: "TCP", port: 9000, targetPort: 9000 },
                    ],
                },
            },
            {
                apiVersion: "v1",
                kind: "Service",
                metadata: { name: "api-nodeport", namespace: "shop", labels: labels("api") },
                spec: {
                    type: "NodePort",
                    selector: selector("api"),
                    ports: [{ name: "tcp-30080", protocol: "TCP", port: 30080, targetPort: 8080, nodePort: 30080 }],
                },
            },
        ]);
        // Not published in host mode: no hostPort.
        expect(container(objects, "api").ports).toEqual([
            { containerPort: 53, protocol: "UDP" },
            { containerPort: 8080, protocol: "TCP" },
            { containerPort: 9000, protocol: "TCP" },
        ]);
        // A load-balanced port on a cluster without load balancers: a NodePort Service, as Swarm renders it as ingress.
        const noLb = render({ services: { web: { image: "web:1", ports: [{ target: 8080, published: 30080, mode: "loadBalancer" }] } } });
        expect(find(noLb, "Service", "web-nodeport").spec).toEqual({
            type: "NodePort",
            selector: selector("web"),
            ports: [{ name: "tcp-30080", protocol: "TCP", port: 30080, targetPort: 8080, nodePort: 30080 }],
        });
    });

    test("with a load balancer: a LoadBalancer Service on the published port (any number), beside the NodePort one", () => {
        const objects = render(spec, { capabilities: { ...FULL_CAPABILITIES, loadBalancer: true } });
        expect(objects.filter((o) => o.kind === "Service").map((o) => o.metadata.name)).toEqual(["api", "api-nodeport", "web", "web-nodeport", "web-lb"]);
        expect(find(objects, "Service", "web-lb")).toEqual({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "web-lb", namespace: "shop", labels: labels("web") },
            spec: { type: "LoadBalancer", selector: selector("web"), ports: [{ name: "tcp-80", protocol: "TCP", port: 80, targetPort: 8080 }] },
        });
        expect(find(objects, "Service", "web-nodeport").spec.ports).toEqual([
            { name: "tcp-30443", protocol: "TCP", port: 30443, targetPort: 8443, nodePort: 30443 },
        ]);
    });

    test("without virtual IPs: headless discovery Services (clusterIP None), nothing else changes", () => {
        const hostOnly: AppSpec<string> = {
            publishMode: "host",
            services: { api: spec.services.api, web: { image: "web:1", ports: [{ target: 8080, published: 80 }] } },
        };
        const full = render(hostOnly);
        const lab = render(hostOnly, { capabilities: LAB });
        expect(find(lab, "Service", "api").spec).toEqual({ ...find(full, "Service", "api").spec, clusterIP: "None" });
        expect(find(lab, "Service", "web").spec.clusterIP).toBe("None");
        const strip = (objects: KubernetesObject[]) => JSON.parse(JSON.stringify(objects), (k, v) => (k === "clusterIP" ? undefined : v));
        expect(strip(lab)).toEqual(full);
        expect(full.some((o) => o.kind === "Service" && (o as any).spec.type !== "ClusterIP")).toBe(false);
    });

    test("a nodePortRange option moves the accepted published ports", () => {
        const objects = render({ services: { web: { image: "nginx", ports: [{ target: 80 }] } } }, { nodePortRange: [1, 32767] });
        expect(find(objects, "Service", "web-nodeport").spec.ports).toEqual([{ name: "tcp-80", protocol: "TCP", port: 80, targetPort: 80, nodePort: 80 }]);
    });
});

describe("neutral spec → Kubernetes tables", () => {
    const one = (service: ServiceSpec<string>, opts: Partial<KubernetesRenderOptions> = {}) => render({ services: { web: service } }, opts);

    test.each<[ServiceSpec<string>["resources"], unknown]>([
        [{ limits: { cpu: "0.25" } }, { limits: { cpu: "250m" } }],
        [{ limits: { cpu: 2, memory: "32Mi" } }, { limits: { cpu: "2", memory: "32Mi" } }],
        [{ reservations: { cpu: "1500m", memory: "512M" } }, { requests: { cpu: "1500m", memory: "512M" } }],
        [{ reservations: { cpu: "0.001", memory: 1000001 } }, { requests: { cpu: "1m", memory: "1000001" } }],
        [{ reservations: { memory: "1024Mi" }, limits: { memory: "1.5Gi", cpu: "1000m" } }, { requests: { memory: "1Gi" }, limits: { cpu: "1", memory: "1536Mi" } }],
        [{ limits: { memory: "2Ti" } }, { limits: { memory: "2Ti" } }],
        [{ limits: { memory: "64M" } }, { limits: { memory: "64M" } }],
    ])("resources %p → %p", (resources, expected) => {
        expect(container(one({ image: "nginx", resources }), "web").resources).toEqual(expected);
    });

    test.each([
        [250_000_000, "250m"],
        [2_000_000_000, "2"],
        [1_500_000_000, "1500m"],
        [1_000_000, "1m"],
    ])("cpu %p nano-CPUs is %p", (nano, text) => {
        expect(formatKubernetesCpu(nano)).toBe(text);
    });

    test.each([
        [33554432, "32Mi"],
        [512_000_000, "512M"],
        [1_000_000_000, "1G"],
        [3072, "3Ki"],
        [1536, "1536"],
        [64000, "64k"],
        [1_048_576_000, "1000Mi"],
        [1001, "1001"],
        [0, "0"],
    ])("memory %p bytes is %p", (bytes, text) => {
        expect(formatKubernetesMemory(bytes)).toBe(text);
    });

    const probe = (command: string[], extra: Record<string, number> = {}) => ({
        exec: { command },
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold: 3,
        ...extra,
    });
    test.each<[string, Partial<ServiceSpec<string>>, unknown, unknown]>([
        ["healthcheck: both, liveness delayed by the start period", { healthcheck: { command: ["hc"], startPeriod: "20s" } }, probe(["hc"]), probe(["hc"], { initialDelaySeconds: 20 })],
        ["readiness alone", { readiness: { command: "ready" } }, probe(["/bin/sh", "-c", "ready"]), undefined],
        ["liveness alone", { liveness: { command: ["live"], retries: 5 } }, undefined, probe(["live"], { failureThreshold: 5 })],
        [
            "both, durations rounded up to whole seconds (at least 1)",
            { readiness: { command: ["r"], interval: "1500ms", timeout: "200ms", startPeriod: "1m" }, liveness: { command: ["l"], interval: "1m30s", timeout: "2s", startPeriod: "2500ms" } },
            { exec: { command: ["r"] }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 },
            { exec: { command: ["l"] }, initialDelaySeconds: 3, periodSeconds: 90, timeoutSeconds: 2, failureThreshold: 3 },
        ],
        ["none", {}, undefined, undefined],
    ])("checks, %s", (_what, checks, readiness, liveness) => {
        const c = container(one({ image: "nginx", ...checks }), "web");
        expect(c.readinessProbe).toEqual(readiness);
        expect(c.livenessProbe).toEqual(liveness);
    });

    test.each<[string, ServiceSpec<string>, { maxSurge: number; maxUnavailable: number }, number]>([
        ["default (start-first, 1)", { image: "nginx" }, { maxSurge: 1, maxUnavailable: 0 }, 15],
        ["maxSurge 2", { image: "nginx", update: { maxSurge: 2 } }, { maxSurge: 2, maxUnavailable: 0 }, 15],
        ["maxUnavailable 3", { image: "nginx", update: { maxUnavailable: 3 } }, { maxSurge: 0, maxUnavailable: 3 }, 15],
        ["both bounded (Kubernetes keeps both)", { image: "nginx", update: { maxSurge: 1, maxUnavailable: 3 } }, { maxSurge: 1, maxUnavailable: 3 }, 15],
        ["Swarm-style start-first, parallelism 2", { image: "nginx", update: { order: "start-first", parallelism: 2 } }, { maxSurge: 2, maxUnavailable: 0 }, 15],
        ["Swarm-style stop-first, parallelism 2", { image: "nginx", update: { order: "stop-first", parallelism: 2 } }, { maxSurge: 0, maxUnavailable: 2 }, 15],
        ["a read-write volume (stop-first)", { image: "nginx", volumes: { d: "/d" } }, { maxSurge: 0, maxUnavailable: 1 }, 15],
        ["a read-only volume (start-first)", { image: "nginx", volumes: { d: { path: "/d", readOnly: true } } }, { maxSurge: 1, maxUnavailable: 0 }, 15],
        ["monitor 1m and delay 500ms → minReadySeconds 61", { image: "nginx", update: { monitor: "1m", delay: "500ms" } }, { maxSurge: 1, maxUnavailable: 0 }, 61],
        ["monitor 9m54s → minReadySeconds 599", { image: "nginx", update: { monitor: "9m54s" } }, { maxSurge: 1, maxUnavailable: 0 }, 599],
        ["monitor 9m55s → minReadySeconds 600 (and a longer progress deadline)", { image: "nginx", update: { monitor: "9m55s" } }, { maxSurge: 1, maxUnavailable: 0 }, 600],
    ])("update %s", (_what, service, rollingUpdate, minReadySeconds) => {
        const d = find(one(service), "Deployment", "web");
        expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate });
        expect(d.spec.minReadySeconds).toBe(minReadySeconds);
        // Kubernetes wants progressDeadlineSeconds > minReadySeconds; its default is 600.
        expect(d.spec.progressDeadlineSeconds).toBe(minReadySeconds >= 600 ? minReadySeconds + 600 : undefined);
    });

    test.each(["rollback", "pause", "continue"] as const)("failureAction %p is the workload's annotation (the deployer acts on it)", (failureAction) => {
        expect(find(one({ image: "nginx", update: { failureAction } }), "Deployment", "web").metadata.annotations).toEqual({
            "flotilla.dev/update-failure-action": failureAction,
        });
    });

    test("every $ is doubled in env, command, args and probes, so Kubernetes' $(VAR) expansion gives the value back", () => {
        const c = container(
            one({ image: "nginx", env: { PRICE: "$5", REF: "$(HOME)" }, entrypoint: ["sh", "$$"], command: ["echo", "$(PATH)"], healthcheck: { command: "test $$ -gt 0" } }),
            "web",
        );
        expect(c.env).toEqual([
            { name: "PRICE", value: "$$5" },
            { name: "REF", value: "$$(HOME)" },
        ]);
        expect(c.command).toEqual(["sh", "$$$$"]);
        expect(c.args).toEqual(["echo", "$$(PATH)"]);
        expect(c.readinessProbe.exec.command).toEqual(["/bin/sh", "-c", "test $$$$ -gt 0"]);
    });

    test("user labels on the objects and pods, ours win; the selector has only ours", () => {
        const d = find(one({ image: "nginx", labels: { team: "shop", "example.com/tier": "front", "app.kubernetes.io/name": "x" } }), "Deployment", "web");
        expect(d.metadata.labels).toEqual({ ...labels("web"), team: "shop", "example.com/tier": "front" });
        expect(d.spec.template.metadata.labels).toEqual(d.metadata.labels);
        expect(d.spec.selector).toEqual({ matchLabels: selector("web") });
    });

    test("volumes: size (else defaultVolumeSize) and class on the claim; mounts read-only as given", () => {
        const objects = render(
            {
                volumes: { "db-data": { size: "10Gi", class: "fast-ssd" }, logs: { size: "500M" } },
                services: { db: { image: "postgres:16", volumes: { "db-data": "/data", logs: { path: "/logs", readOnly: true }, tmp: "/tmp" } } },
            },
            { defaultVolumeSize: "2Gi" },
        );
        expect(objects.filter((o) => o.kind === "PersistentVolumeClaim").map((o: any) => [o.metadata.name, o.spec])).toEqual([
            ["shop-db-data", { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } }, storageClassName: "fast-ssd" }],
            ["shop-logs", { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "500M" } } }],
            ["shop-tmp", { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } }],
        ]);
        expect(container(objects, "db").volumeMounts).toEqual([
            { name: "db-data", mountPath: "/data", readOnly: false },
            { name: "logs", mountPath: "/logs", readOnly: true },
            { name: "tmp", mountPath: "/tmp", readOnly: false },
        ]);
        expect(find(render({ services: { db: { image: "postgres:16", volumes: { d: "/d" } } } }), "PersistentVolumeClaim", "shop-d").spec.resources).toEqual({
            requests: { storage: "1Gi" },
        });
    });
});

describe("Secrets", () => {
    const spec = (password: string, key = "k3y"): AppSpec<string> => ({
        secrets: { "db-password": password, "api-key": key },
        services: {
            web: { image: "web:1", secrets: ["db-password", "api-key"] },
            db: { image: "postgres:16", secrets: ["db-password"] },
            cache: { image: "redis:7" },
        },
    });
    const secretsOf = (objects: KubernetesObject[]) => objects.filter((o) => o.kind === "Secret") as any[];
    const templates = (objects: KubernetesObject[]) =>
        Object.fromEntries(objects.filter((o) => o.kind === "Deployment").map((o: any) => [o.metadata.name, JSON.stringify(o.spec.template)]));

    test("immutable, named <app>-<secret>-<8 hex> (the Swarm side's hash), the value base64 under its name, mounted as files", () => {
        const objects = render(spec("s3cret"));
        expect(secretsOf(objects)).toEqual([
            {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: secretName("shop", "api-key", "k3y"), namespace: "shop", labels: appLabels },
                type: "Opaque",
                immutable: true,
                data: { "api-key": b64("k3y") },
            },
            {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: secretName("shop", "db-password", "s3cret"), namespace: "shop", labels: appLabels },
                type: "Opaque",
                immutable: true,
                data: { "db-password": b64("s3cret") },
            },
        ]);
        expect(kubernetesSecretName("shop", "db-password", "s3cret").slice(-8)).toBe(swarmSecretName("shop", "db-password", "s3cret").slice(-8));
        const web = find(objects, "Deployment", "web").spec.template.spec;
        expect(web.volumes).toEqual([
            {
                name: "flotilla-secrets",
                projected: {
                    defaultMode: 0o444,
                    sources: [
                        { secret: { name: secretName("shop", "api-key", "k3y"), items: [{ key: "api-key", path: "api-key" }] } },
                        { secret: { name: secretName("shop", "db-password", "s3cret"), items: [{ key: "db-password", path: "db-password" }] } },
                    ],
                },
            },
        ]);
        expect(web.containers[0].volumeMounts).toEqual([{ name: "flotilla-secrets", mountPath: "/run/secrets", readOnly: true }]);
        expect(find(objects, "Deployment", "cache").spec.template.spec.volumes).toBeUndefined();
    });

    test("a changed value changes that Secret's name and the pods that mount it, and nothing else", () => {
        const before = render(spec("s3cret"));
        const after = render(spec("s3cret2"));
        expect(secretsOf(after).map((s) => s.metadata.name)).toEqual([secretName("shop", "api-key", "k3y"), secretName("shop", "db-password", "s3cret2")]);
        expect(secretsOf(after)[1].metadata.name).not.toBe(secretsOf(before)[1].metadata.name);
        const [t0, t1] = [templates(before), templates(after)];
        expect(t1.web).not.toBe(t0.web);
        expect(t1.db).not.toBe(t0.db);
        expect(t1.cache).toBe(t0.cache);
        // Another key: only web mounts it.
        const t2 = templates(render(spec("s3cret", "other")));
        expect([t2.web !== t0.web, t2.db === t0.db, t2.cache === t0.cache]).toEqual([true, true, true]);
        // The same value: the same names.
        expect(secretsOf(render(spec("s3cret")))).toEqual(secretsOf(before));
        // Another app: another hash.
        expect(kubernetesSecretName("shop2", "db-password", "s3cret").slice(-8)).not.toBe(kubernetesSecretName("shop", "db-password", "s3cret").slice(-8));
    });

    test("registryAuth: a dockerconfigjson pull Secret named after a hash of the credentials, on every pod", () => {
        const auth = { server: "registry.lab:5000", username: "ci", password: "t0ken" };
        const objects = render(spec("s3cret"), { registryAuth: auth });
        const pull = secretsOf(objects)[2];
        const name = `shop-registry-${createHash("sha256").update("shop\0registry\0registry.lab:5000\0ci\0t0ken").digest("hex").slice(0, 8)}`;
        expect(pull).toEqual({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name, namespace: "shop", labels: appLabels },
            type: "kubernetes.io/dockerconfigjson",
            immutable: true,
            data: { ".dockerconfigjson": expect.any(String) },
        });
        expect(JSON.parse(Buffer.from(pull.data[".dockerconfigjson"], "base64").toString())).toEqual({
            auths: { "registry.lab:5000": { username: "ci", password: "t0ken", auth: b64("ci:t0ken") } },
        });
        for (const w of objects.filter((o) => o.kind === "Deployment") as any[]) {
            expect(w.spec.template.spec.imagePullSecrets).toEqual([{ name }]);
        }
        const rotated = secretsOf(render(spec("s3cret"), { registryAuth: { ...auth, password: "t0ken2" } }))[2];
        expect(rotated.metadata.name).not.toBe(name);
        expect(render(spec("s3cret")).some((o: any) => o.spec?.template?.spec?.imagePullSecrets)).toBe(false);
    });

    test("secret values appear only base64-encoded in the Secrets' data", () => {
        const text = kubernetesManifest(render(spec("s3cret-value"), { registryAuth: { server: "r.lab", username: "ci", password: "t0ken-value" } }));
        expect(text).not.toContain("s3cret-value");
        expect(text).not.toContain("t0ken-value");
        expect(text).toContain(b64("s3cret-value"));
    });
});

describe("determinism and text form", () => {
    test("a second render gives identical objects and text", () => {
        const spec = webDbApp("pw");
        const a = kubernetesManifest(renderKubernetes(normalizeAppSpec("t", "a", spec) as NormalizedAppSpec<string>, { ...OPTS, createNamespace: true }));
        const b = kubernetesManifest(renderKubernetes(normalizeAppSpec("t", "a", spec) as NormalizedAppSpec<string>, { ...OPTS, createNamespace: true }));
        expect(b).toBe(a);
        expect(createHash("sha256").update(a).digest("hex")).toBe(createHash("sha256").update(b).digest("hex"));
    });

    test("kubernetesManifest: '---' then a JSON document per object, newline at the end, YAML 1.1 oddities escaped", () => {
        const objects = render({ services: { web: { image: "nginx", env: { A: "line\u2028sep", B: "next\u0085line", D: "é ☃" } } } }, { createNamespace: true });
        const text = kubernetesManifest(objects);
        expect(text.startsWith("---\n{\n")).toBe(true);
        expect(text.endsWith("}\n")).toBe(true);
        expect(text.match(/^---$/gm)).toHaveLength(2);
        expect(text).toContain('"value": "line\\u2028sep"');
        expect(text).toContain('"value": "next\\u0085line"');
        expect(text).toContain('"value": "é ☃"');
        expect(text).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
        expect(text.split(/^---\n/m).slice(1).map((d) => JSON.parse(d))).toEqual(objects);
        expect(kubernetesManifest([])).toBe("");
    });

    test("rendering creates nothing", async () => {
        render(webDbApp("pw") as AppSpec<string>, { createNamespace: true, registryAuth: { server: "r.lab", username: "u", password: "p" } });
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});

// ---------------------------------------------------------------------------------------------
// Every rendered object against the rules Kubernetes applies to the fields set
// ---------------------------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function shapeProblems(o: any, nodePorts: [number, number] = [30000, 32767]): string[] {
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => {
        if (!ok) problems.push(`${o.kind}/${o.metadata?.name}: ${what}`);
    };
    const label = (s: string) => s.length <= 63 && DNS_LABEL.test(s);
    const subdomain = (s: string) => s.length <= 253 && SUBDOMAIN.test(s);
    const port = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
    const labelsOk = (labels: Record<string, string>, at: string) => {
        for (const [k, v] of Object.entries(labels ?? {})) {
            const [prefix, name] = k.includes("/") ? [k.slice(0, k.lastIndexOf("/")), k.slice(k.lastIndexOf("/") + 1)] : [undefined, k];
            check(name.length <= 63 && QUALIFIED_NAME.test(name) && (prefix === undefined || subdomain(prefix)), `${at} label key ${k}`);
            check(v.length <= 63 && LABEL_VALUE.test(v), `${at} label value ${v}`);
        }
    };
    check(typeof o.apiVersion === "string" && typeof o.kind === "string", "apiVersion and kind");
    const name: string = o.metadata.name;
    labelsOk(o.metadata.labels, "metadata");
    if (o.kind === "Namespace") check(label(name), "namespace name is a DNS-1123 label");
    else check(label(o.metadata.namespace), "namespace is a DNS-1123 label");
    if (o.kind === "Secret") {
        check(subdomain(name), "name is a DNS subdomain");
        check(o.immutable === true, "immutable");
        for (const [k, v] of Object.entries(o.data)) {
            check(/^[-._a-zA-Z0-9]+$/.test(k) && k.length <= 253, `data key ${k}`);
            check(Buffer.from(v as string, "base64").toString("base64") === v, `data ${k} is base64`);
        }
    }
    if (o.kind === "PersistentVolumeClaim") {
        check(subdomain(name), "name is a DNS subdomain");
        check(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(o.spec.resources.requests.storage), "storage quantity");
        if (o.spec.storageClassName !== undefined) check(subdomain(o.spec.storageClassName), "storage class");
    }
    if (o.kind === "Service") {
        check(name.length <= 63 && DNS1035_LABEL.test(name), "name is a DNS-1035 label");
        labelsOk(o.spec.selector, "selector");
        const seen = new Set<string>();
        for (const p of o.spec.ports) {
            check(port(p.port) && port(p.targetPort), `ports ${p.port} → ${p.targetPort}`);
            check(p.name.length <= 15 && IANA_SVC_NAME.test(p.name) && /[a-z]/.test(p.name) && !p.name.includes("--"), `port name ${p.name}`);
            check(!seen.has(`${p.port}/${p.protocol}`) && !seen.has(p.name), `port ${p.port}/${p.protocol} unique`);
            seen.add(`${p.port}/${p.protocol}`);
            seen.add(p.name);
            check(["TCP", "UDP"].includes(p.protocol), "protocol");
            if (p.nodePort !== undefined) {
                check(o.spec.type === "NodePort" || o.spec.type === "LoadBalancer", "nodePort only on NodePort/LoadBalancer");
                check(p.nodePort >= nodePorts[0] && p.nodePort <= nodePorts[1], `nodePort ${p.nodePort} in range`);
            }
        }
        check(o.spec.clusterIP === undefined || o.spec.type === "ClusterIP", "headless only for ClusterIP");
        check(o.spec.ports.length > 0, "at least one port");
    }
    if (o.kind === "Deployment" || o.kind === "DaemonSet") {
        check(subdomain(name), "name is a DNS subdomain");
        const t = o.spec.template;
        labelsOk(t.metadata.labels, "template");
        for (const [k, v] of Object.entries(o.spec.selector.matchLabels)) check(t.metadata.labels[k] === v, `selector ${k} matches the template`);
        const ru = (o.spec.strategy ?? o.spec.updateStrategy).rollingUpdate;
        check(ru.maxSurge + ru.maxUnavailable > 0, "maxSurge and maxUnavailable not both 0");
        if (o.kind === "Deployment") check(Number.isInteger(o.spec.replicas) && o.spec.replicas >= 0, "replicas");
        const volumes = new Set<string>();
        for (const v of t.spec.volumes ?? []) {
            check(label(v.name) && !volumes.has(v.name), `volume ${v.name}`);
            volumes.add(v.name);
            if (v.persistentVolumeClaim) check(subdomain(v.persistentVolumeClaim.claimName), "claim name");
            for (const s of v.projected?.sources ?? []) check(subdomain(s.secret.name), "secret name");
        }
        for (const s of t.spec.imagePullSecrets ?? []) check(subdomain(s.name), "pull secret name");
        for (const c of t.spec.containers) {
            check(label(c.name), "container name is a DNS-1123 label");
            for (const p of c.ports ?? []) {
                check(port(p.containerPort) && (p.hostPort === undefined || port(p.hostPort)), `container port ${p.containerPort}`);
            }
            for (const e of c.env ?? []) check(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name), `env ${e.name}`);
            for (const m of c.volumeMounts ?? []) check(volumes.has(m.name) && m.mountPath.startsWith("/"), `mount ${m.name}`);
            for (const p of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
                check(p.periodSeconds >= 1 && p.timeoutSeconds >= 1 && p.failureThreshold >= 1 && (p.initialDelaySeconds ?? 0) >= 0, "probe");
            }
            for (const q of [c.resources?.requests, c.resources?.limits].filter(Boolean)) {
                if (q.cpu) check(/^\d+m?$/.test(q.cpu), `cpu ${q.cpu}`);
                if (q.memory) check(/^\d+(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(q.memory), `memory ${q.memory}`);
            }
        }
        for (const term of t.spec.affinity?.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms ?? []) {
            for (const e of term.matchExpressions) {
                check(["In", "NotIn"].includes(e.operator) && e.values.length > 0, "node selector requirement");
                labelsOk({ [e.key]: e.values[0] }, "node selector");
            }
        }
    }
    return problems;
}

describe("every rendered object has the shape Kubernetes requires", () => {
    const long = "s" + "x".repeat(53); // 54 characters: the longest that leaves room for "-nodeport"
    const apps: [string, AppSpec<string>, Partial<KubernetesRenderOptions>][] = [
        ["web + db", webDbApp("pw") as AppSpec<string>, { createNamespace: true, registryAuth: { server: "10.213.0.5:5000", username: "u", password: "p" } }],
        ["web + db without virtual IPs", webDbApp("pw") as AppSpec<string>, { capabilities: LAB }],
        [
            "long names, every port kind",
            {
                secrets: { ["a".repeat(63)]: "v", "a.b-c": "w" },
                volumes: { ["v".repeat(63)]: { size: "1.5Gi", class: "a.b-c" } },
                services: {
                    [long]: {
                        image: "nginx",
                        secrets: ["a".repeat(63), "a.b-c"],
                        volumes: { ["v".repeat(63)]: "/data" },
                        expose: [1, 65535, { port: 53, protocol: "udp" }],
                        ports: [{ target: 65535, published: 32767 }, { target: 1, published: 1, mode: "host" }, { target: 80, published: 65535, mode: "loadBalancer" }],
                        placement: ["a.b_c==X.y-Z", "zone!=b"],
                        labels: { "example.com/tier": "front", team: "" },
                        healthcheck: { command: "true", interval: "1ms", timeout: "1ms" },
                        resources: { limits: { cpu: "0.001", memory: 6291457 } },
                    },
                    daemon: { image: "busybox", mode: "global", ports: [{ target: 8080, published: 30000 }] },
                },
            },
            { appName: "a".repeat(63), namespace: "n".repeat(63), capabilities: { serviceVirtualIp: true, routingMesh: true, loadBalancer: true } },
        ],
    ];
    test.each(apps)("%s", (_what, spec, opts) => {
        const objects = render(spec, opts);
        expect(objects.length).toBeGreaterThan(3);
        expect(objects.flatMap((o) => shapeProblems(o))).toEqual([]);
    });

    test("the shape check itself finds what is wrong", () => {
        const [deployment] = render({ services: { web: { image: "nginx", ports: [{ target: 80, published: 30080 }] } } }).filter((o) => o.kind === "Service");
        const bad = JSON.parse(JSON.stringify(deployment));
        bad.metadata.name = "Web_1";
        bad.spec.ports[0].nodePort = 80;
        bad.metadata.labels.team = "a/b";
        expect(shapeProblems(bad)).toEqual([
            "Service/Web_1: metadata label value a/b",
            "Service/Web_1: name is a DNS-1035 label",
            "Service/Web_1: nodePort only on NodePort/LoadBalancer",
            "Service/Web_1: nodePort 80 in range",
        ]);
    });
});

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

describe("what Kubernetes cannot express is refused, naming the property", () => {
    const at = (app: string) => `${TYPE} "${app}": invalid `;
    const nodePortFix = (mode: string, lb = "") =>
        `expected a port from 30000 to 32767 (the cluster's NodePort range), for "${mode}" publishing on Kubernetes${lb}; or publish it in "host" mode.`;
    test.each<[string, AppSpec<string>, Partial<KubernetesRenderOptions>, string]>([
        ["an app name that is not a DNS label", { services: { web: { image: "nginx" } } }, { appName: "Shop" }, `appName: received "Shop"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`],
        ["a namespace that is not a DNS label", { services: { web: { image: "nginx" } } }, { namespace: "a.b" }, `namespace: received "a.b"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`],
        ["an unknown option", { services: { web: { image: "nginx" } } }, { namespaces: "x" } as never, 'namespaces: received a string of 1 character; expected no such property (did you mean "namespace"?); known: appName, namespace, createNamespace, capabilities, registryAuth, nodePortRange, defaultVolumeSize, nodeLossTolerationSeconds, drainSeconds.'],
        [
            "a secret name with '_'",
            { secrets: { db_password: "x" }, services: { web: { image: "nginx", secrets: ["db_password"] } } },
            {},
            `secrets.db_password: received the name "db_password"; expected a secret name Kubernetes object names can hold: lower-case letters, digits, '-' and '.', each '.' between letters or digits (no '_').`,
        ],
        [
            "a secret name with '.-'",
            { secrets: { "a.-b": "x" }, services: { web: { image: "nginx" } } },
            {},
            `secrets.a.-b: received the name "a.-b"; expected a secret name Kubernetes object names can hold: lower-case letters, digits, '-' and '.', each '.' between letters or digits (no '_').`,
        ],
        [
            "a volume named like the secrets volume",
            { services: { web: { image: "nginx", volumes: { "flotilla-secrets": "/s" } } } },
            {},
            `services.web.volumes.flotilla-secrets: received "flotilla-secrets"; expected a volume name other than "flotilla-secrets" (reserved for the secrets).`,
        ],
        [
            "a global service mounting a named volume",
            { services: { agent: { image: "agent:1", mode: "global", volumes: { state: "/state" } } } },
            {},
            `services.agent.volumes.state: received "/state"; expected no named volume on a global service: on Kubernetes a volume is one ReadWriteOnce claim, which cannot back a pod on every node (make the service replicated).`,
        ],
        [
            "a global service with host ports and a surge",
            { services: { edge: { image: "nginx", mode: "global", ports: [{ target: 80, mode: "host" }], update: { maxSurge: 1 } } } },
            {},
            `services.edge.update.maxSurge: received 1; expected 0 for a global service publishing a port in "host" mode (the new pod could never start beside the old one, which holds the port on its node): set maxUnavailable instead, or order "stop-first".`,
        ],
        [
            "a label value Kubernetes refuses",
            { services: { web: { image: "nginx", labels: { team: "a/b" } } } },
            {},
            `services.web.labels.team: received "a/b"; expected a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit.`,
        ],
        [
            "a label name Kubernetes refuses",
            { services: { web: { image: "nginx", labels: { "a_b/c": "x" } } } },
            {},
            `services.web.labels.a_b/c: received "a_b/c"; expected a Kubernetes label name: [prefix/]name, the name at most 63 letters, digits, '-', '_' and '.' starting and ending with a letter or digit, the prefix a DNS subdomain.`,
        ],
        [
            "an ingress port outside the NodePort range",
            { services: { web: { image: "nginx", ports: [{ target: 8080, published: 80 }] } } },
            {},
            `services.web.ports[0].published: received 80; ${nodePortFix("ingress")}`,
        ],
        [
            "a load-balanced port outside the NodePort range on a cluster without load balancers",
            { services: { web: { image: "nginx", ports: [{ target: 8080, published: 30080 }, { target: 8443, published: 443, mode: "loadBalancer" }] } } },
            {},
            `services.web.ports[1].published: received 443; ${nodePortFix("loadBalancer", " (this cluster provisions no load balancer, so a NodePort Service)")}`,
        ],
        [
            "an ingress port without the routing mesh",
            { services: { web: { image: "nginx", ports: [{ target: 8080, published: 30080 }] } } },
            { capabilities: LAB },
            `services.web.ports[0]: received {"target":8080,"published":30080,"protocol":"tcp","mode":"ingress"}; expected a port published in "host" mode (set its mode, or the app's publishMode, to "host"): this cluster has no routing mesh, which "ingress" publishing needs on Kubernetes.`,
        ],
        [
            "a load-balanced port without the routing mesh or a load balancer",
            { services: { web: { image: "nginx", ports: [{ target: 8080, published: 30080, mode: "loadBalancer" }] } } },
            { capabilities: LAB },
            `services.web.ports[0]: received {"target":8080,"published":30080,"protocol":"tcp","mode":"loadBalancer"}; expected a port published in "host" mode (set its mode, or the app's publishMode, to "host"): this cluster has no routing mesh, which "loadBalancer" publishing needs on Kubernetes (this cluster provisions no load balancer, so a NodePort Service).`,
        ],
        [
            "a publishing service whose name leaves no room for -nodeport",
            { services: { ["s" + "x".repeat(54)]: { image: "nginx", ports: [{ target: 8080, published: 30080 }] } } },
            {},
            `services.s${"x".repeat(54)}: received "s${"x".repeat(54)}"; expected a service name of at most 54 characters, so that the NodePort Service "<service>-nodeport" of its published ports fits in 63.`,
        ],
        [
            "a monitor beyond int32 seconds",
            { services: { web: { image: "nginx", update: { monitor: "596524h" } } } },
            {},
            `services.web.update.monitor: received "596524h"; expected a monitor (plus the delay, 5s) of at most 2147483047 seconds (the workload's minReadySeconds on Kubernetes).`,
        ],
        [
            "a health check interval beyond int32 seconds",
            { services: { web: { image: "nginx", healthcheck: { command: "true", interval: "596524h" } } } },
            {},
            `services.web.healthcheck.interval: received "596524h"; expected a duration of at most 2147483647 seconds (a probe's periodSeconds on Kubernetes).`,
        ],
        [
            "a liveness start period beyond int32 seconds",
            { services: { web: { image: "nginx", readiness: { command: "true", startPeriod: "596524h" }, liveness: { command: "true", startPeriod: "596524h" } } } },
            {},
            `services.web.liveness.startPeriod: received "596524h"; expected a duration of at most 2147483647 seconds (a probe's initialDelaySeconds on Kubernetes).`,
        ],
        [
            "a readiness timeout beyond int32 seconds",
            { services: { web: { image: "nginx", readiness: { command: "true", timeout: "596524h" } } } },
            {},
            `services.web.readiness.timeout: received "596524h"; expected a duration of at most 2147483647 seconds (a probe's timeoutSeconds on Kubernetes).`,
        ],
        [
            "capabilities that are not a cluster's",
            { services: { web: { image: "nginx" } } },
            { capabilities: { serviceVirtualIp: true, routingMesh: "yes" } as never },
            `capabilities: received {"serviceVirtualIp":true,"routingMesh":"yes"}; expected an object with the booleans serviceVirtualIp, routingMesh, loadBalancer (a cluster's capabilities).`,
        ],
        ["a bad nodePortRange", { services: { web: { image: "nginx" } } }, { nodePortRange: [32767, 30000] }, "nodePortRange: received [32767,30000]; expected [first, last]: two integers from 1 to 65535, the first no larger than the last."],
        [
            "a nodeLossTolerationSeconds beyond a day",
            { services: { web: { image: "nginx" } } },
            { nodeLossTolerationSeconds: 86401 },
            "nodeLossTolerationSeconds: received 86401; expected an integer from 0 to 86400.",
        ],
        [
            "a drainSeconds of 0",
            { services: { web: { image: "nginx" } } },
            { drainSeconds: 0 },
            "drainSeconds: received 0; expected an integer from 1 to 300.",
        ],
        [
            "a bad defaultVolumeSize",
            { services: { web: { image: "nginx" } } },
            { defaultVolumeSize: "1GB" },
            `defaultVolumeSize: received "1GB"; expected a size such as "1Gi", "500M" (units k, M, G, T: powers of 1000; Ki, Mi, Gi, Ti: powers of 1024), more than 0.`,
        ],
        [
            "a registry server that is a URL",
            { services: { web: { image: "nginx" } } },
            { registryAuth: { server: "https://r.lab", username: "u", password: "p" } },
            `registryAuth.server: received "https://r.lab"; expected a registry address host[:port] as image references start with, e.g. "10.213.0.5:5000" or "registry.example.com" (a URL: give host[:port] without a scheme).`,
        ],
        [
            "a user name with ':'",
            { services: { web: { image: "nginx" } } },
            { registryAuth: { server: "r.lab", username: "a:b", password: "p" } },
            `registryAuth.username: received "a:b"; expected a non-empty user name without white space or ':'.`,
        ],
        [
            "an empty password (never shown)",
            { services: { web: { image: "nginx" } } },
            { registryAuth: { server: "r.lab", username: "u", password: "" } },
            "registryAuth.password: received a secret of 0 characters; expected a non-empty password or token.",
        ],
    ])("%s", (_what, spec, opts, message) => {
        const app = normalize(spec);
        const options = { ...OPTS, ...opts };
        expect(messageOf(() => renderKubernetes(app, options))).toBe(`${at(String(options.appName))}${message}`);
        // The same check at construction, under the deployer's type token.
        expect(messageOf(() => checkKubernetesApp("flotilla:workload:KubernetesApp", "shop", app, options))).toBe(
            `flotilla:workload:KubernetesApp "shop": invalid ${message}`,
        );
    });

    test("what the same specs look like when accepted: host mode, an in-range port, a replicated service", () => {
        expect(() => render({ services: { web: { image: "nginx", ports: [{ target: 8080, published: 80, mode: "host" }] } } }, { capabilities: LAB })).not.toThrow();
        expect(() => render({ services: { web: { image: "nginx", ports: [{ target: 8080, published: 30000 }, { target: 1, published: 32767 }] } } })).not.toThrow();
        expect(() => render({ services: { agent: { image: "agent:1", volumes: { state: "/state" } } } })).not.toThrow();
        expect(() => render({ services: { ["s" + "x".repeat(53)]: { image: "nginx", ports: [{ target: 8080, published: 30080 }] } } })).not.toThrow();
        expect(() => render({ services: { edge: { image: "nginx", mode: "global", ports: [{ target: 80, mode: "host" }], update: { maxUnavailable: 1 } } } })).not.toThrow();
        // The largest durations: a readiness start period is not rendered, so any is fine.
        expect(() =>
            render({
                services: {
                    web: {
                        image: "nginx",
                        readiness: { command: "true", startPeriod: "596524h", interval: "596523h" },
                        liveness: { command: "true", startPeriod: "596523h" },
                        update: { monitor: "596523h", delay: "0s" },
                    },
                },
            }),
        ).not.toThrow();
    });

    test("a misspelt credential property never shows its value", () => {
        const auth = { server: "r.lab", username: "u", passwrd: "hunter2" } as never;
        expect(messageOf(() => render({ services: { web: { image: "nginx" } } }, { registryAuth: auth }))).toBe(
            `${at("shop")}registryAuth.passwrd: received a string of 7 characters; expected no such property ` +
                '(did you mean "password"?); known: server, username, password.',
        );
        const message = messageOf(() => render({ services: { web: { image: "nginx" } } }, { registryAth: { password: "hunter2" } } as never));
        expect(message).not.toContain("hunter2");
        expect(message).toContain('registryAth: received an object with password; expected no such property (did you mean "registryAuth"?)');
    });
});

describe("nodeLossTolerationSeconds", () => {
    const spec: AppSpec<string> = { services: { web: { image: "nginx", replicas: 2 }, agent: { image: "nginx", mode: "global" } } };
    const podSpec = (objects: readonly KubernetesObject[], kind: string) =>
        (objects.find((o) => o.kind === kind) as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;

    test("a Deployment's pods tolerate a lost node for that long, then move; DaemonSet pods get none", () => {
        const objects = renderKubernetes(normalize(spec), { ...OPTS, nodeLossTolerationSeconds: 30 });
        expect(podSpec(objects, "Deployment").tolerations).toEqual([
            { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
            { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
        ]);
        expect(podSpec(objects, "DaemonSet").tolerations).toBeUndefined();
    });

    test("without it nothing is rendered (Kubernetes' own 300 s)", () => {
        const objects = renderKubernetes(normalize(spec), OPTS);
        expect(podSpec(objects, "Deployment").tolerations).toBeUndefined();
    });
});

describe("drainSeconds", () => {
    test("a service with ports sleeps that long before SIGTERM, with a grace period 30 s longer; one without ports gets nothing", () => {
        const spec: AppSpec<string> = { services: { web: { image: "nginx", expose: [8080] }, worker: { image: "nginx" } } };
        const objects = renderKubernetes(normalize(spec), { ...OPTS, drainSeconds: 5 });
        const pod = (name: string) =>
            (objects.find((o) => o.kind === "Deployment" && o.metadata.name === name) as { spec: { template: { spec: any } } }).spec.template.spec;
        expect(pod("web").terminationGracePeriodSeconds).toBe(35);
        expect(pod("web").containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
        expect(pod("worker").terminationGracePeriodSeconds).toBeUndefined();
        expect(pod("worker").containers[0].lifecycle).toBeUndefined();
    });
});
