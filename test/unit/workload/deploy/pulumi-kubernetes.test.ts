/**
 * flotilla/kubernetes under mocks: ClusterProvider (a @pulumi/kubernetes Provider from a flotilla
 * cluster's kubeconfig, kept secret) and PulumiKubernetesApp (each object renderKubernetes renders
 * becomes one typed @pulumi/kubernetes resource, created with that provider; Secrets' data secret;
 * the renderer's refusals and the component's own, nothing registered).
 */
import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/kubernetes/provider";
import { SECRET_MARK, SECRET_SIG, Registered, refusedIn, testRuntimeHost, valueOf } from "../../mocks";
import { ClusterCapabilities, FULL_CAPABILITIES, IKubernetesCluster, ISwarmCluster, KUBERNETES_PORTS } from "../../../../lib/core/cluster";
import { AppSpec, normalizeAppSpec, resolveAppSpec } from "../../../../lib/workload/app-spec";
import { KubernetesObject, renderKubernetes } from "../../../../lib/workload/render";
import { ClusterProvider, PulumiKubernetesApp, PulumiKubernetesAppArgs } from "../../../../lib/workload/deploy/pulumi-kubernetes";
import { webDbApp } from "../../../../examples/web-db";

interface Seen extends Registered {
    provider?: string;
}
const registered: Seen[] = [];
void pulumi.runtime.setMocks(
    {
        newResource(a: pulumi.runtime.MockResourceArgs) {
            registered.push({ type: a.type, name: a.name, inputs: a.inputs, provider: a.provider });
            return { id: `${a.name}-id`, state: a.inputs };
        },
        call: (a: pulumi.runtime.MockCallArgs) => a.inputs,
    },
    "flotilla",
    "test",
    false,
);

/** A provider of the program's own (registered before the tests). */
const OTHER = new Provider("other", {});

const settle = () => new Promise((r) => setTimeout(r, 30));
const refused = refusedIn(registered);
beforeEach(async () => {
    await settle();
    registered.splice(0);
});

const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.2:6443\n  name: default\nusers:\n- name: default\n  user:\n    token: SECRET-TOKEN\n";

function cluster(capabilities: ClusterCapabilities = FULL_CAPABILITIES): IKubernetesCluster {
    return {
        orchestrator: "kubernetes",
        capabilities: pulumi.output(capabilities),
        ports: KUBERNETES_PORTS,
        controlPlane: [testRuntimeHost("cp0", "10.0.0.2")],
        workers: [testRuntimeHost("w0", "10.0.0.3")],
        kubeconfig: pulumi.secret(KUBECONFIG),
    };
}

/** Resolves once every registration started so far reached the mocks. */
async function registeredAll(app: PulumiKubernetesApp): Promise<void> {
    await valueOf(app.objectNames);
    for (let i = 0; i < 5; i++) await settle();
}

/** What renderKubernetes gives for `spec` with `opts` (the objects the component must create). */
async function rendered(spec: AppSpec, opts: Parameters<typeof renderKubernetes>[1]): Promise<readonly KubernetesObject[]> {
    const resolved = await valueOf(resolveAppSpec(normalizeAppSpec("t", "t", spec)));
    return renderKubernetes(resolved, opts);
}

const TYPES: Record<string, string> = {
    Namespace: "kubernetes:core/v1:Namespace",
    Secret: "kubernetes:core/v1:Secret",
    PersistentVolumeClaim: "kubernetes:core/v1:PersistentVolumeClaim",
    Service: "kubernetes:core/v1:Service",
    Deployment: "kubernetes:apps/v1:Deployment",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
};
const isSecretValue = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_MARK;
const secretValue = (v: unknown) => (v as { value: unknown }).value;

describe("PulumiKubernetesApp", () => {
    test("the web-db app on a cluster: a provider from its kubeconfig, one typed resource per rendered object, each with that provider", async () => {
        const app = new PulumiKubernetesApp("shop", { cluster: cluster(), ...webDbApp(pulumi.secret("s3cret-pw")) });
        await registeredAll(app);
        const expected = await rendered(webDbApp("s3cret-pw"), { appName: "shop", namespace: "shop", createNamespace: true });
        const secretName = expected.find((o) => o.kind === "Secret")!.metadata.name;
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "flotilla:workload:PulumiKubernetesApp shop",
            "kubernetes:apps/v1:Deployment shop-deployment-db",
            "kubernetes:apps/v1:Deployment shop-deployment-web",
            "kubernetes:core/v1:Namespace shop-namespace",
            "kubernetes:core/v1:PersistentVolumeClaim shop-pvc-db-data",
            "kubernetes:core/v1:Secret shop-secret-db-password",
            "kubernetes:core/v1:Service shop-service-db",
            "kubernetes:core/v1:Service shop-service-web",
            "pulumi:providers:kubernetes shop-provider",
        ]);
        // In apply order: the resources, and the objects' names.
        expect(app.resources.map((r) => (r as unknown as { __name: string }).__name)).toEqual([
            "shop-namespace",
            "shop-secret-db-password",
            "shop-pvc-db-data",
            "shop-service-web",
            "shop-service-db",
            "shop-deployment-web",
            "shop-deployment-db",
        ]);
        expect(await valueOf(app.objectNames)).toEqual([
            "Namespace shop",
            `Secret shop/${secretName}`,
            "PersistentVolumeClaim shop/shop-db-data",
            "Service shop/web",
            "Service shop/db",
            "Deployment shop/web",
            "Deployment shop/db",
        ]);
        expect(secretName).toMatch(/^shop-db-password-[0-9a-f]{8}$/);

        // The provider: the cluster's kubeconfig, secret; deleteUnreachable off.
        const provider = registered.find((r) => r.type === "pulumi:providers:kubernetes")!;
        expect(isSecretValue(provider.inputs.kubeconfig)).toBe(true);
        expect(secretValue(provider.inputs.kubeconfig)).toBe(KUBECONFIG);
        // (The provider's settings reach the engine as JSON text.)
        expect(provider.inputs.deleteUnreachable).toBe("false");
        expect(provider.inputs.namespace).toBeUndefined();
        const providerRef = `urn:pulumi:test::flotilla::flotilla:workload:PulumiKubernetesApp$pulumi:providers:kubernetes::shop-provider::shop-provider-id`;

        // Every object: its resource, of its kind, with the provider, its inputs the rendered object.
        const objects = registered.filter((r) => r.type.startsWith("kubernetes:"));
        expect(objects).toHaveLength(expected.length);
        const names = ["namespace", "secret-db-password", "pvc-db-data", "service-web", "service-db", "deployment-web", "deployment-db"];
        names.forEach((n, i) => {
            const r = objects.find((o) => o.name === `shop-${n}`)!;
            const object = expected[i] as unknown as Record<string, unknown>;
            expect(r.type).toBe(TYPES[object.kind as string]);
            expect(r.provider).toBe(providerRef);
            if (object.kind === "Secret") {
                // Only the data is secret; it is the rendered data (base64 of the password).
                expect(isSecretValue(r.inputs.data)).toBe(true);
                expect(secretValue(r.inputs.data)).toEqual(object.data);
                expect(secretValue(r.inputs.data)).toEqual({ "db-password": Buffer.from("s3cret-pw").toString("base64") });
                expect({ ...r.inputs, data: undefined }).toEqual({ ...object, data: undefined });
            } else {
                expect(r.inputs).toEqual(object);
                // Nothing else holds the password, and nothing else is secret.
                expect(JSON.stringify(r.inputs)).not.toContain("s3cret-pw");
                expect(JSON.stringify(r.inputs)).not.toContain(SECRET_MARK);
            }
        });
        // The pods mount the Secret by its hashed name.
        expect(JSON.stringify(objects.find((r) => r.name === "shop-deployment-db")!.inputs)).toContain(secretName);
        expect(Object.keys(app.workloads)).toEqual(["web", "db"]);
        expect(app.resources).toHaveLength(7);
        expect([app.appName, app.namespace]).toEqual(["shop", "shop"]);
    });

    test("a given provider: no provider made, every object created with it; a global service becomes a DaemonSet; an existing namespace", async () => {
        const mine = new Provider("mine", {});
        const app = new PulumiKubernetesApp("agent", {
            provider: mine,
            appName: "node-agent",
            namespace: "ops",
            createNamespace: false,
            services: { agent: { image: "registry.example.com/agent:2", mode: "global", env: { LEVEL: "info" } } },
        });
        await registeredAll(app);
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "flotilla:workload:PulumiKubernetesApp agent",
            "kubernetes:apps/v1:DaemonSet agent-daemonset-agent",
            "pulumi:providers:kubernetes mine",
        ]);
        const ds = registered.find((r) => r.name === "agent-daemonset-agent")!;
        expect(ds.provider).toBe("urn:pulumi:test::flotilla::pulumi:providers:kubernetes::mine::mine-id");
        const [expected] = await rendered({ services: { agent: { image: "registry.example.com/agent:2", mode: "global", env: { LEVEL: "info" } } } }, {
            appName: "node-agent",
            namespace: "ops",
        });
        expect(ds.inputs).toEqual(expected);
        expect(app.provider).toBe(mine);
    });

    test("a workload whose image or env is a secret Output is secret as a whole; the others are not", async () => {
        const app = new PulumiKubernetesApp("mix", {
            cluster: cluster(),
            services: {
                api: { image: "api:1", env: { TOKEN: pulumi.secret("tok-123") }, expose: [8080] },
                ui: { image: "ui:1", replicas: 2 },
            },
        });
        await registeredAll(app);
        const api = registered.find((r) => r.name === "mix-deployment-api")!;
        const ui = registered.find((r) => r.name === "mix-deployment-ui")!;
        expect(isSecretValue(api.inputs.spec)).toBe(true);
        expect(JSON.stringify(secretValue(api.inputs.spec))).toContain("tok-123");
        expect(isSecretValue(ui.inputs.spec)).toBe(false);
        expect((ui.inputs.spec as { replicas: number }).replicas).toBe(2);
        // The Service of api holds no value: not secret.
        expect(isSecretValue(registered.find((r) => r.name === "mix-service-api")!.inputs.spec)).toBe(false);
    });

    test("registry credentials: a pull Secret (its data secret), referenced by every pod", async () => {
        const app = new PulumiKubernetesApp("priv", {
            cluster: cluster(),
            registryAuth: { server: "registry.example.com", username: "bot", password: pulumi.secret("pull-pw") },
            services: { web: { image: "registry.example.com/web:1" } },
        });
        await registeredAll(app);
        const pull = registered.find((r) => r.name === "priv-registry")!;
        expect(pull.type).toBe("kubernetes:core/v1:Secret");
        expect(pull.inputs.type).toBe("kubernetes.io/dockerconfigjson");
        expect(isSecretValue(pull.inputs.data)).toBe(true);
        const config = JSON.parse(Buffer.from((secretValue(pull.inputs.data) as Record<string, string>)[".dockerconfigjson"], "base64").toString());
        expect(config.auths["registry.example.com"]).toMatchObject({ username: "bot", password: "pull-pw" });
        const name = (pull.inputs.metadata as { name: string }).name;
        const web = registered.find((r) => r.name === "priv-deployment-web")!;
        expect((web.inputs.spec as { template: { spec: { imagePullSecrets: unknown } } }).template.spec.imagePullSecrets).toEqual([{ name }]);
        expect(JSON.stringify(web.inputs)).not.toContain("pull-pw");
    });

    test("the settings shared with KubernetesApp: drain and node-loss toleration as given; registryAuth as { registry, ... }", async () => {
        const spec = { services: { web: { image: "registry.example.com/web:1", replicas: 2, ports: [{ target: 80, published: 30080 }] } } };
        const app = new PulumiKubernetesApp("shared", {
            cluster: cluster(),
            drainSeconds: 7,
            nodeLossTolerationSeconds: 12,
            rolloutTimeoutSeconds: 240,
            registryAuth: { registry: "registry.example.com", username: "bot", password: pulumi.secret("pull-pw") },
            ...spec,
        });
        await registeredAll(app);
        const auth = { registry: "registry.example.com", username: "bot", password: "pull-pw" };
        const expected = await rendered(spec, { appName: "shared", namespace: "shared", createNamespace: true, drainSeconds: 7, nodeLossTolerationSeconds: 12, registryAuth: auth });
        const web = registered.find((r) => r.name === "shared-deployment-web")!;
        expect(web.inputs).toEqual(expected.find((o) => o.kind === "Deployment"));
        const pull = registered.find((r) => r.name === "shared-registry")!;
        expect((pull.inputs.metadata as { name: string }).name).toBe(expected.find((o) => o.kind === "Secret")!.metadata.name);
    });

    test("capabilities: a load balancer planned gives a LoadBalancer Service; no virtual IP (the cluster's) a headless one", async () => {
        const caps = { serviceVirtualIp: false, routingMesh: true, loadBalancer: true };
        const app = new PulumiKubernetesApp("lb", {
            cluster: cluster(caps),
            capabilities: caps,
            services: { web: { image: "web:1", ports: [{ target: 80, published: 443, mode: "loadBalancer" }] } },
        });
        await registeredAll(app);
        const services = registered.filter((r) => r.type === "kubernetes:core/v1:Service").sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(services.map((r) => [r.name, r.inputs.spec])).toEqual([
            ["lb-service-web", expect.objectContaining({ type: "ClusterIP", clusterIP: "None" })],
            ["lb-service-web-lb", expect.objectContaining({ type: "LoadBalancer" })],
        ]);
    });
});

describe("PulumiKubernetesApp refuses, registering nothing", () => {
    const T = 'flotilla:workload:PulumiKubernetesApp "app": invalid';
    const base = (): PulumiKubernetesAppArgs => ({ cluster: cluster(), services: { web: { image: "web:1" } } });
    const swarm = { orchestrator: "swarm", managers: [], workers: [] } as unknown as ISwarmCluster;
    test.each<[string, () => PulumiKubernetesAppArgs, string]>([
        ["a rollout timeout too long", () => ({ ...base(), rolloutTimeoutSeconds: 9000 }), `${T} rolloutTimeoutSeconds: received 9000; expected an integer from 10 to 7200.`],
        ["a drain of 0 s", () => ({ ...base(), drainSeconds: 0 }), `${T} drainSeconds: received 0; expected an integer from 1 to 300.`],
        [
            "an unknown property",
            () => ({ ...base(), namespce: "x" }) as PulumiKubernetesAppArgs,
            `${T} namespce: received a string of 1 character; expected no such property (did you mean "namespace"?); known: cluster, provider, appName, namespace, createNamespace, registryAuth, rolloutTimeoutSeconds, nodeLossTolerationSeconds, nodePortRange, drainSeconds, defaultVolumeSize, capabilities, publishMode, secrets, services, volumes.`,
        ],
        [
            "neither cluster nor provider",
            () => ({ services: { web: { image: "web:1" } } }),
            `${T} cluster: received undefined; expected a Kubernetes cluster to deploy to (e.g. a KubernetesCluster), or give provider: a @pulumi/kubernetes Provider (e.g. a ClusterProvider from "flotilla/kubernetes").`,
        ],
        [
            "both cluster and provider",
            () => ({ ...base(), provider: OTHER }),
            `${T} provider: received a Provider; expected no provider beside cluster (a provider is made for the cluster): give one of cluster and provider.`,
        ],
        [
            "a Swarm as the cluster",
            () => ({ ...base(), cluster: swarm as unknown as IKubernetesCluster }),
            `${T} cluster: received {"orchestrator":"swarm","managers":[],"workers":[]}; expected a Kubernetes cluster (a KubernetesCluster, or anything offering IKubernetesCluster: orchestrator "kubernetes", controlPlane, workers, kubeconfig): this is a Swarm (deploy to it with SwarmApp).`,
        ],
        [
            "a provider of another package",
            () => ({ services: { web: { image: "web:1" } }, provider: { urn: "x" } as unknown as Provider }),
            `${T} provider: received {"urn":"x"}; expected a @pulumi/kubernetes Provider (e.g. a ClusterProvider from "flotilla/kubernetes").`,
        ],
        [
            "a namespace that is not a DNS label",
            () => ({ ...base(), namespace: "Shop_1" }),
            `${T} namespace: received "Shop_1"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
        ],
        [
            "a namespace given as an Output",
            () => ({ ...base(), namespace: pulumi.output("shop") as unknown as string }),
            `${T} namespace: received an Output; expected a plain value, not an Output (it is needed before any resource is created).`,
        ],
        [
            "the renderer's refusal: a global service mounting a volume",
            () => ({ cluster: cluster(), services: { web: { image: "web:1", mode: "global", volumes: { data: "/data" } } } }),
            `${T} services.web.volumes.data: received "/data"; expected no named volume on a global service: on Kubernetes a volume is one ReadWriteOnce claim, which cannot back a pod on every node (make the service replicated).`,
        ],
        [
            "the renderer's refusal: an ingress port where the planned capabilities have no routing mesh",
            () => ({ ...base(), capabilities: { serviceVirtualIp: false, routingMesh: false, loadBalancer: false }, services: { web: { image: "web:1", ports: [{ target: 80, published: 30080 }] } } }),
            `${T} services.web.ports[0]: received {"target":80,"published":30080,"protocol":"tcp","mode":"ingress"}; expected a port published in "host" mode (set its mode, or the app's publishMode, to "host"): this cluster has no routing mesh, which "ingress" publishing needs on Kubernetes.`,
        ],
        [
            "two objects of one name (a service web-nodeport beside web's NodePort Service)",
            () => ({
                ...base(),
                services: { web: { image: "web:1", ports: [{ target: 80, published: 30080 }] }, "web-nodeport": { image: "web:1", expose: [80] } },
            }),
            `${T} services.web-nodeport: received "web-nodeport"; expected a service name whose objects have names of their own: its Service "web-nodeport" is also service "web"'s (rename one).`,
        ],
        [
            "creating a namespace every cluster has",
            () => ({ ...base(), namespace: "default" }),
            `${T} createNamespace: received undefined (default true); expected false for the namespace "default" (every cluster has it: it is not the app's to create or delete).`,
        ],
        [
            "creating kube-system, explicitly",
            () => ({ ...base(), namespace: "kube-system", createNamespace: true }),
            `${T} createNamespace: received true; expected false for the namespace "kube-system" (every cluster has it: it is not the app's to create or delete).`,
        ],
        [
            "a bad app name (the resource name by default)",
            () => ({ ...base(), appName: "-x" }),
            `${T} appName: received "-x"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
        ],
        [
            "registry credentials without a password",
            () => ({ ...base(), registryAuth: { server: "r.example.com", username: "u" } as never }),
            `${T} registryAuth.password: received undefined; expected a password or token (a string or a secret Output).`,
        ],
    ])("%s", async (_what, args, message) => {
        expect(await refused(() => new PulumiKubernetesApp("app", args()))).toBe(message);
    });

    test("a bad resource name as the default app name names `name`", async () => {
        expect(await refused(() => new PulumiKubernetesApp("Shop", { cluster: cluster(), services: { web: { image: "web:1" } } }))).toBe(
            `flotilla:workload:PulumiKubernetesApp "Shop": invalid name: received "Shop"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
        );
    });
});

describe("ClusterProvider", () => {
    test("the cluster's kubeconfig (secret), a namespace and deleteUnreachable as given; the cluster kept", async () => {
        const c = cluster();
        const p = new ClusterProvider("k8s", { cluster: c, namespace: "apps", deleteUnreachable: true });
        await valueOf(p.id);
        await settle();
        expect(registered.map((r) => `${r.type} ${r.name}`)).toEqual(["pulumi:providers:kubernetes k8s"]);
        const inputs = registered[0].inputs;
        expect(isSecretValue(inputs.kubeconfig)).toBe(true);
        expect(secretValue(inputs.kubeconfig)).toBe(KUBECONFIG);
        expect(inputs.namespace).toBe("apps");
        expect(inputs.deleteUnreachable).toBe("true");
        expect(p.cluster).toBe(c);
        expect(p).toBeInstanceOf(Provider);
    });

    const T = 'flotilla:workload:ClusterProvider "k8s": invalid';
    test.each<[string, () => unknown, string]>([
        [
            "an unknown property",
            () => ({ cluster: cluster(), namespaces: "a" }),
            `${T} namespaces: received a string of 1 character; expected no such property (did you mean "namespace"?); known: cluster, namespace, deleteUnreachable.`,
        ],
        [
            "no cluster",
            () => ({}),
            `${T} cluster: received undefined; expected a Kubernetes cluster (a KubernetesCluster, or anything offering IKubernetesCluster: orchestrator "kubernetes", controlPlane, workers, kubeconfig).`,
        ],
        [
            "a namespace that is not a DNS label",
            () => ({ cluster: cluster(), namespace: "A b" }),
            `${T} namespace: received "A b"; expected a namespace name (a DNS label of at most 63 characters).`,
        ],
        ["deleteUnreachable not a boolean", () => ({ cluster: cluster(), deleteUnreachable: "yes" }), `${T} deleteUnreachable: received "yes"; expected true or false.`],
    ])("refuses %s, registering nothing", async (_what, args, message) => {
        expect(await refused(() => new ClusterProvider("k8s", args() as never))).toBe(message);
    });
});
