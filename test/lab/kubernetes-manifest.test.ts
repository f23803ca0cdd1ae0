/**
 * Every object renderKubernetes renders passes the Kubernetes API server's own checks on create,
 * for the version flotilla deploys (tools/kubernetes/go.mod, k8s.io/kubernetes v1.37.2):
 * tools/kubernetes/manifest-check decodes each document strictly into the v1 types (an unknown
 * field is an error), defaults it, converts it to the internal types and runs the apiserver's
 * validation functions. No cluster needed; Go and the module proxy (or its cache) are, as for
 * scripts/kubernetes-build.sh.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AppSpec, NormalizedAppSpec, normalizeAppSpec } from "../../lib/workload/app-spec";
import { KubernetesRenderOptions, kubernetesManifest, renderKubernetes } from "../../lib/workload/render";
import { webDbApp } from "../../examples/web-db";
import { ROOT } from "./harness";

jest.setTimeout(30 * 60 * 1000);

let dir: string;
let checker: string;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-manifest-check-"));
    checker = path.join(dir, "manifest-check");
    childProcess.execFileSync("go", ["build", "-o", checker, "./manifest-check"], {
        cwd: path.join(ROOT, "tools", "kubernetes"),
        env: { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false", GOTOOLCHAIN: "local", CGO_ENABLED: "0" },
        stdio: ["ignore", "inherit", "inherit"],
    });
});

afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

/** The checker's verdict on a manifest: its exit status and output lines. */
function check(manifest: string): { status: number; lines: string[] } {
    const run = childProcess.spawnSync(checker, [], { input: manifest, encoding: "utf8" });
    return { status: run.status ?? -1, lines: run.stdout.trimEnd().split("\n") };
}

const long = "s" + "x".repeat(53);
const apps: [string, AppSpec<string>, Partial<KubernetesRenderOptions>][] = [
    ["web + db, a namespace and a pull secret", webDbApp("pw") as AppSpec<string>, { createNamespace: true, registryAuth: { server: "10.213.0.5:5000", username: "u", password: "p" } }],
    ["web + db without virtual IPs (headless)", webDbApp("pw") as AppSpec<string>, { capabilities: { serviceVirtualIp: false, routingMesh: false, loadBalancer: false } }],
    [
        "long names, every port kind, a global service, every check and quantity",
        {
            secrets: { ["a".repeat(63)]: "v", "a.b-c": "w" },
            volumes: { ["v".repeat(63)]: { size: "1.5Gi", class: "a.b-c" } },
            services: {
                [long]: {
                    image: "registry.lab:5000/shop/web@sha256:" + "ab".repeat(32),
                    entrypoint: ["/bin/sh", "-c"],
                    command: ["echo $HOME $(PATH)"],
                    env: { A: "$(B)", B: "x" },
                    secrets: ["a".repeat(63), "a.b-c"],
                    volumes: { ["v".repeat(63)]: "/data" },
                    expose: [1, 65535, { port: 53, protocol: "udp" }],
                    ports: [
                        { target: 65535, published: 32767 },
                        { target: 1, published: 1, mode: "host" },
                        { target: 1, published: 2, mode: "host" },
                        { target: 80, published: 65535, mode: "loadBalancer" },
                        { target: 53, published: 53, protocol: "udp", mode: "loadBalancer" },
                    ],
                    placement: ["a.b_c==X.y-Z", "zone!=b"],
                    labels: { "example.com/tier": "front", team: "" },
                    readiness: { command: "true", interval: "1ms", timeout: "1ms", retries: 100 },
                    liveness: { command: ["true"], startPeriod: "1h" },
                    resources: { limits: { cpu: "0.001", memory: 6291457 }, reservations: { cpu: "1m", memory: 1 } },
                    update: { maxSurge: 1000, maxUnavailable: 1000 },
                },
                daemon: { image: "busybox", mode: "global", ports: [{ target: 8080, published: 30000 }], update: { maxUnavailable: 3 } },
                idle: { image: "busybox", replicas: 0, update: { monitor: "596523h", delay: "0s" }, healthcheck: { command: "true", interval: "596523h", startPeriod: "596523h" } },
            },
        },
        { appName: "a".repeat(63), namespace: "n".repeat(63), createNamespace: true, capabilities: { serviceVirtualIp: true, routingMesh: true, loadBalancer: true } },
    ],
];

test.each(apps)("the API server's validation accepts every object: %s", (_what, spec, opts) => {
    const app = normalizeAppSpec("test", "shop", spec) as NormalizedAppSpec<string>;
    const objects = renderKubernetes(app, { appName: "shop", namespace: "shop", ...opts });
    const { status, lines } = check(kubernetesManifest(objects));
    expect(lines).toEqual([...objects.map((o) => `${o.kind}/${o.metadata.name}: valid`), `${objects.length} objects, 0 invalid`]);
    expect(status).toBe(0);
});

test("the checker refuses what the API server refuses: an unknown field, a bad port name, a headless NodePort Service", () => {
    const objects = renderKubernetes(normalizeAppSpec("test", "shop", { services: { web: { image: "nginx", ports: [{ target: 80, published: 30080 }] } } }) as NormalizedAppSpec<string>, {
        appName: "shop",
        namespace: "shop",
    });
    const text = kubernetesManifest(objects)
        .replace('"replicas": 1', '"replicaz": 1')
        .replace('"name": "tcp-80"', '"name": "TCP_80"')
        .replace('"type": "NodePort",', '"type": "NodePort",\n    "clusterIP": "None",');
    const { status, lines } = check(text);
    expect(status).toBe(1);
    expect(lines[0]).toMatch(/^Service\/web: spec\.ports\[0\]\.name: Invalid value: "TCP_80"/);
    expect(lines[1]).toBe(`Service/web-nodeport: spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`);
    expect(lines[2]).toBe('Deployment/web: json: unknown field "replicaz"');
    expect(lines[3]).toBe("3 objects, 3 invalid");
});
