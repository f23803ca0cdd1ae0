import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, refusedIn, testRuntimeHost, valueOf } from "../../mocks";
import { bundledScript, bundledScriptText } from "../../../../lib/shared/scripts";
import { ClusterCapabilities, FULL_CAPABILITIES, IKubernetesCluster, KUBERNETES_PORTS } from "../../../../lib/core/cluster";
import { KubernetesApp, KubernetesAppArgs } from "../../../../lib/workload/deploy/kubernetes-app";
import { kubernetesPullSecretName, kubernetesSecretName } from "../../../../lib/workload/render";

const registered = recordResources((_type, name) =>
    name.endsWith("-deploy") ? { result: JSON.stringify({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } }) } : undefined,
);
const refused = refusedIn(registered);

const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.2:6443\n  name: k\nusers:\n- name: admin\n  user:\n    client-key-data: S3CRETKEY\n";

function cluster(capabilities: ClusterCapabilities = FULL_CAPABILITIES, controlPlane = ["cp0", "cp1"]): IKubernetesCluster {
    return {
        orchestrator: "kubernetes",
        capabilities: pulumi.output(capabilities),
        ports: KUBERNETES_PORTS,
        controlPlane: controlPlane.map((n, i) => testRuntimeHost(n, `10.0.0.${i + 2}`, { runtime: { kind: "containerd" } })),
        workers: [testRuntimeHost("w0", "10.0.0.9", { runtime: { kind: "containerd" } })],
        kubeconfig: pulumi.secret(KUBECONFIG),
    };
}

function app(extra: Partial<KubernetesAppArgs> = {}, k8s: IKubernetesCluster = cluster()): KubernetesAppArgs {
    return {
        cluster: k8s,
        secrets: { token: pulumi.secret("s3cret") },
        volumes: { data: { size: "64Mi", class: "lab-local" } },
        services: {
            web: { image: "10.0.0.9:5000/demo:v1", replicas: 2, ports: [{ target: 8080, published: 30080 }], secrets: ["token"] },
            db: { image: "10.0.0.9:5000/demo:v1", expose: [8080], volumes: { data: "/www/data" } },
        },
        ...extra,
    };
}

const deployInputs = (name = "shop-deploy") => registered.find((r) => r.name === name)?.inputs as Record<string, any>;
const plainOf = (x: any) => (x && x[SECRET_SIG] ? x.value : x);
const unzip = (b64: string) => zlib.gunzipSync(Buffer.from(b64, "base64")).toString("utf8");
const docs = (text: string) =>
    text
        .split(/^---$/m)
        .map((d) => d.trim())
        .filter((d) => d !== "")
        .map((d) => JSON.parse(d));
const settle = () => new Promise((r) => setTimeout(r, 50));

beforeEach(async () => {
    await settle();
    registered.splice(0);
});

describe("KubernetesApp", () => {
    test("one deploy script on the first control-plane node, the others as alternates; objects, kubeconfig and Secrets in its environment", async () => {
        const a = new KubernetesApp("shop", app({ registryAuth: { server: "10.0.0.9:5000", username: "u", password: pulumi.secret("pw") } }));
        expect(await valueOf(a.services)).toEqual({ web: { ready: 2, desired: 2 }, db: { ready: 1, desired: 1 } });
        expect([a.appName, a.namespace]).toEqual(["shop", "shop"]);
        await settle();
        expect(registered.filter((r) => r.name.startsWith("shop")).map((r) => `${r.type} ${r.name}`)).toEqual([
            "flotilla:workload:KubernetesApp shop",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript shop-deploy",
        ]);
        const d = deployInputs();
        expect(d.connection.host).toBe("10.0.0.2");
        expect(d.alternates.value.map((x: any) => x.connection.host)).toEqual(["10.0.0.3"]);
        expect([d.script ?? "", d.scriptRef, d.scriptHash]).toEqual(["", "workload/kubernetes-app.sh", bundledScript("workload", "kubernetes-app.sh").hash]);
        expect(bundledScriptText(d.scriptRef)).toContain("apply --server-side --field-manager=flotilla");

        const env = plainOf(d.environment);
        const token = kubernetesSecretName("shop", "token", "s3cret");
        const pull = kubernetesPullSecretName("shop", { server: "10.0.0.9:5000", username: "u", password: "pw" });
        expect({ ...env, MANIFEST_GZ: undefined }).toEqual({
            APP: "shop",
            NAMESPACE: "shop",
            MANIFEST_GZ: undefined,
            WANTED: `secret/${token} secret/${pull} persistentvolumeclaim/shop-data service/web service/web-nodeport service/db deployment.apps/web deployment.apps/db`,
            WORKLOADS: "deployment/web deployment/db",
            ROLLOUT_TIMEOUT: "300",
        });
        // The plain manifest holds every object but the Secrets, and no secret value.
        const manifest = unzip(env.MANIFEST_GZ);
        expect(docs(manifest).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
            "PersistentVolumeClaim/shop-data",
            "Service/web",
            "Service/web-nodeport",
            "Service/db",
            "Deployment/web",
            "Deployment/db",
        ]);
        for (const secret of ["s3cret", Buffer.from("s3cret").toString("base64"), "pw", "S3CRETKEY"]) {
            expect(manifest.includes(secret)).toBe(false);
        }
        // The kubeconfig and the Secret objects only in the secret environment.
        expect(d.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        const secretEnv = d.secretEnvironment.value;
        expect(Object.keys(secretEnv).sort()).toEqual(["KUBECONFIG_B64", "SECRETS_GZ"]);
        expect(Buffer.from(secretEnv.KUBECONFIG_B64, "base64").toString("utf8")).toBe(KUBECONFIG);
        const secrets = docs(unzip(secretEnv.SECRETS_GZ));
        expect(secrets.map((o) => `${o.kind}/${o.metadata.name}/${o.type}`)).toEqual([`Secret/${token}/Opaque`, `Secret/${pull}/kubernetes.io/dockerconfigjson`]);
        expect(Buffer.from(secrets[0].data.token, "base64").toString()).toBe("s3cret");
        expect(JSON.stringify(d).includes("S3CRETKEY")).toBe(false);
    });

    test("the pods tolerate a lost node for 30 s by default (then move); the NodePort is the published port; the claim has the class", async () => {
        new KubernetesApp("shop", app());
        await settle();
        const objects = docs(unzip(plainOf(deployInputs().environment).MANIFEST_GZ));
        const web = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "web");
        expect(web.spec.template.spec.tolerations).toEqual([
            { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
            { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
        ]);
        // A stopping pod leaves the endpoints for 5 s before SIGTERM (by default).
        expect(web.spec.template.spec.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
        const nodePort = objects.find((o) => o.metadata.name === "web-nodeport");
        expect(nodePort.spec).toMatchObject({ type: "NodePort", ports: [{ port: 30080, targetPort: 8080, nodePort: 30080 }] });
        expect(objects.find((o) => o.kind === "PersistentVolumeClaim").spec).toEqual({
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "64Mi" } },
            storageClassName: "lab-local",
        });
    });

    test("appName, namespace, timeouts and tolerations as given; no secrets: the environment stays plain", async () => {
        new KubernetesApp(
            "x",
            {
                cluster: cluster(FULL_CAPABILITIES, ["cp0"]),
                appName: "demo",
                namespace: "team-a",
                rolloutTimeoutSeconds: 120,
                nodeLossTolerationSeconds: 5,
                services: { web: { image: "demo:v1", mode: "global", expose: [8080] } },
            },
        );
        await settle();
        const d = deployInputs("x-deploy");
        expect(d.environment[SECRET_SIG]).toBeUndefined();
        expect(d.alternates).toBeUndefined();
        expect({ ...d.environment, MANIFEST_GZ: undefined }).toEqual({
            APP: "demo",
            NAMESPACE: "team-a",
            MANIFEST_GZ: undefined,
            WANTED: "service/web daemonset.apps/web",
            WORKLOADS: "daemonset/web",
            ROLLOUT_TIMEOUT: "120",
        });
        expect(d.timeoutSeconds).toBe(420);
        const objects = docs(unzip(d.environment.MANIFEST_GZ));
        expect(objects.every((o) => o.metadata.namespace === "team-a" && o.metadata.labels["app.kubernetes.io/part-of"] === "demo")).toBe(true);
        // A DaemonSet's pods belong to their node: no eviction tolerations.
        expect(objects[1].spec.template.spec.tolerations).toBeUndefined();
        expect(plainOf(d.secretEnvironment).SECRETS_GZ).toBe("");
    });

    test("the cluster's capabilities decide: without a service VIP the discovery Services are headless", async () => {
        new KubernetesApp("shop", app({}, cluster({ serviceVirtualIp: false, routingMesh: true, loadBalancer: false })));
        await settle();
        const objects = docs(unzip(plainOf(deployInputs().environment).MANIFEST_GZ));
        expect(objects.find((o) => o.metadata.name === "db").spec.clusterIP).toBe("None");
    });

    const T = 'flotilla:workload:KubernetesApp "shop": invalid';
    test.each([
        ["an unknown property", () => app({ namespaces: "x" } as never), `${T} namespaces: received a string of 1 character; expected no such property (did you mean "namespace"?)`],
        [
            "not a Kubernetes cluster",
            () => app({ cluster: { orchestrator: "swarm", managers: [], workers: [] } as never }),
            `${T} cluster: received {"orchestrator":"swarm","managers":[],"workers":[]}; expected a Kubernetes cluster (a KubernetesCluster, or anything offering IKubernetesCluster: orchestrator "kubernetes", controlPlane, workers, kubeconfig).`,
        ],
        ["a namespace that is not a DNS label", () => app({ namespace: "Team_A" }), `${T} namespace: received "Team_A"`],
        ["an appName that is not a DNS label", () => app({ appName: "Shop" }), `${T} appName: received "Shop"`],
        ["a rollout timeout too short", () => app({ rolloutTimeoutSeconds: 5 }), `${T} rolloutTimeoutSeconds: received 5; expected an integer from 10 to 7200.`],
        ["a drain of 0 s", () => app({ drainSeconds: 0 }), `${T} drainSeconds: received 0; expected an integer from 1 to 300.`],
        ["a toleration beyond a day", () => app({ nodeLossTolerationSeconds: 90000 }), `${T} nodeLossTolerationSeconds: received 90000; expected an integer from 0 to 86400.`],
        ["createNamespace not a boolean", () => app({ createNamespace: "no" as never }), `${T} createNamespace: received "no"`],
        ["an Output where a plain value is needed", () => app({ namespace: pulumi.output("x") as never }), `${T} namespace:`],
        [
            "published port 80 as a NodePort",
            () => app({ services: { web: { image: "demo:v1", ports: [{ target: 8080, published: 80 }] } }, secrets: undefined, volumes: undefined }),
            `${T} services.web.ports[0].published: received 80; expected a port from 30000 to 32767 (the cluster's NodePort range), for "ingress" publishing on Kubernetes; or publish it in "host" mode.`,
        ],
        [
            "a port outside a custom NodePort range",
            () => app({ nodePortRange: [31000, 31999] }),
            `${T} services.web.ports[0].published: received 30080; expected a port from 31000 to 31999 (the cluster's NodePort range)`,
        ],
        ["a misspelt registryAuth key", () => app({ registryAuth: { server: "r:5000", username: "u", pasword: "p" } as never }), `${T} registryAuth.pasword:`],
        ["a cluster without control-plane nodes", () => app({}, cluster(FULL_CAPABILITIES, [])), `${T} cluster: received "a cluster without control-plane nodes"`],
    ])("%s is refused at construction, registering nothing", async (_what, args, message) => {
        const m = await refused(() => new KubernetesApp("shop", args()));
        expect(m.startsWith(message)).toBe(true);
        expect(m.includes("s3cret")).toBe(false);
    });

    test("a misspelt registry password never shows its value", async () => {
        const m = await refused(() => new KubernetesApp("shop", app({ registryAuth: { server: "r:5000", username: "u", password: "p", passwd: "hunter2" } as never })));
        expect(m.includes("hunter2")).toBe(false);
    });
});

describe("KubernetesApp: the settings shared with PulumiKubernetesApp", () => {
    test("createNamespace: false reaches the script (never create nor delete the namespace); the default leaves the environment as it was", async () => {
        new KubernetesApp("shop", app({ createNamespace: false }));
        new KubernetesApp("other", app({ appName: "other" }));
        await settle();
        expect(plainOf(deployInputs().environment).CREATE_NAMESPACE).toBe("false");
        expect(Object.keys(plainOf(deployInputs("other-deploy").environment))).not.toContain("CREATE_NAMESPACE");
        const script = bundledScriptText(deployInputs().scriptRef);
        expect(script).toContain('[ "${CREATE_NAMESPACE:-true}" != false ] ||');
    });

    test("registryAuth as core's RegistryCredential ({ registry, ... }): the same pull Secret as { server, ... }", async () => {
        new KubernetesApp("shop", app({ registryAuth: { registry: "10.0.0.9:5000", username: "u", password: pulumi.secret("pw") } }));
        await settle();
        const secrets = docs(unzip(plainOf(deployInputs().secretEnvironment).SECRETS_GZ));
        const pull = kubernetesPullSecretName("shop", { server: "10.0.0.9:5000", username: "u", password: "pw" });
        expect(pull).toBe(kubernetesPullSecretName("shop", { registry: "10.0.0.9:5000", username: "u", password: "pw" }));
        expect(secrets.map((o) => o.metadata.name)).toContain(pull);
        const config = JSON.parse(Buffer.from(secrets.find((o) => o.metadata.name === pull).data[".dockerconfigjson"], "base64").toString());
        expect(Object.keys(config.auths)).toEqual(["10.0.0.9:5000"]);
    });
});
