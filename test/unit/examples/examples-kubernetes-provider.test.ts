/**
 * examples/kubernetes-provider under mocks: its imports of `flotilla`, `flotilla/aws` and
 * `flotilla/kubernetes` are this checkout's sources, its config what its README tells a user to
 * set. The resource graph: the pool, k3s (one server, two agents), one @pulumi/kubernetes
 * provider from the cluster's kubeconfig (secret) and the app's objects, each with that provider,
 * the password only in the Secret's (secret) data.
 */
import { Registered, SECRET_MARK, SECRET_SIG, valueOf } from "../mocks";
import { ec2Outputs, evaluateExample, graph } from "../example-program";
import * as pulumi from "@pulumi/pulumi";

const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: CA\n    server: https://127.0.0.1:6443\n  name: default\n";

test("three EC2 machines → k3s → a provider from its kubeconfig → the app's objects with that provider", async () => {
    const ec2 = ec2Outputs();
    const { registered, program } = await evaluateExample(
        "kubernetes-provider",
        { "aws:region": "eu-west-1", adminCidr: "198.51.100.7/32", dbPassword: "pg-pass-123" },
        {
            secret: ["dbPassword"],
            // What k3s' scripts and EC2 return on a real create.
            outputs: (type, name, inputs) => {
                if (name === "k3s-init") return { result: JSON.stringify({ token: "K10TOKEN::server:abc", kubeconfig: KUBECONFIG, cgroupDriver: "systemd" }) };
                const join = /^k3s-join-(.+)$/.exec(name);
                if (join) return { result: JSON.stringify({ nodeName: join[1], cgroupDriver: "systemd" }) };
                return ec2(type, name, inputs);
            },
        },
    );
    await valueOf(program.objects as pulumi.Output<string[]>);
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    const k8s = (r: Registered) => r.type.startsWith("kubernetes:") || r.type === "pulumi:providers:kubernetes";
    expect(graph(registered.filter(k8s))).toEqual([
        "kubernetes:apps/v1:Deployment shop-deployment-db",
        "kubernetes:apps/v1:Deployment shop-deployment-web",
        "kubernetes:core/v1:ConfigMap shop-settings",
        "kubernetes:core/v1:Namespace shop-namespace",
        "kubernetes:core/v1:PersistentVolumeClaim shop-pvc-db-data",
        "kubernetes:core/v1:Secret shop-secret-db-password",
        "kubernetes:core/v1:Service shop-service-db",
        "kubernetes:core/v1:Service shop-service-web",
        "pulumi:providers:kubernetes k3s",
    ]);
    const components = registered.filter((r) => r.type.startsWith("flotilla:")).map((r) => `${r.type} ${r.name}`);
    expect(components.sort()).toEqual([
        // KubernetesCluster({ distribution: "k3s" }) is a K3sCluster (aliased to flotilla:cluster:KubernetesCluster).
        "flotilla:cluster:K3sCluster k3s",
        "flotilla:hosts:AwsHostPool k3s",
        "flotilla:workload:PulumiKubernetesApp shop",
    ]);
    // k3s: the first machine creates the cluster (and has a join like any server: a no-op), the
    // other two join as agents.
    const scripts = registered.filter((r) => r.type.endsWith(":RemoteScript")).map((r) => r.name);
    expect(scripts.filter((n) => /^k3s-(init|join-)/.test(n)).sort()).toEqual(["k3s-init", "k3s-join-k3s-0", "k3s-join-k3s-1", "k3s-join-k3s-2"]);
    expect(registered.filter((r) => r.type === "aws:ec2/instance:Instance")).toHaveLength(3);

    // The provider's kubeconfig: the cluster's, its server the first machine's public address, secret.
    const provider = registered.find((r) => r.type === "pulumi:providers:kubernetes")!;
    const kubeconfig = provider.inputs.kubeconfig as Record<string, unknown>;
    expect(kubeconfig[SECRET_SIG]).toBe(SECRET_MARK);
    expect(kubeconfig.value).toContain("server: https://203.0.113.11:6443");

    // Every object, the app's and the program's own ConfigMap, with that provider.
    const ref = "urn:pulumi:test::flotilla::pulumi:providers:kubernetes::k3s::k3s-id";
    for (const r of registered.filter((x) => x.type.startsWith("kubernetes:"))) {
        expect([r.name, r.provider]).toEqual([r.name, ref]);
    }

    // The password: only in the Secret's data (secret), base64; nowhere else in the state.
    const secret = registered.find((r) => r.name === "shop-secret-db-password")!;
    const data = secret.inputs.data as Record<string, unknown>;
    expect(data[SECRET_SIG]).toBe(SECRET_MARK);
    expect(data.value).toEqual({ "db-password": Buffer.from("pg-pass-123").toString("base64") });
    for (const r of registered.filter((x) => x.type.startsWith("kubernetes:") && x !== secret)) {
        expect(JSON.stringify(r.inputs)).not.toContain("pg-pass-123");
        expect(JSON.stringify(r.inputs)).not.toContain(Buffer.from("pg-pass-123").toString("base64"));
    }
    // The web tier on the nodes' port 80; the database reached by name, never published.
    const web = registered.find((r) => r.name === "shop-deployment-web")!.inputs.spec as any;
    expect(web.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: "TCP", hostPort: 80 }]);
    expect(registered.find((r) => r.name === "shop-service-db")!.inputs.spec).toMatchObject({ type: "ClusterIP", ports: [{ port: 5432 }] });
    expect(await valueOf(program.objects as pulumi.Output<string[]>)).toEqual([
        "Namespace shop",
        expect.stringMatching(/^Secret shop\/shop-db-password-[0-9a-f]{8}$/),
        "PersistentVolumeClaim shop/shop-db-data",
        "Service shop/web",
        "Service shop/db",
        "Deployment shop/web",
        "Deployment shop/db",
    ]);
    expect(await valueOf(program.urls as pulumi.Output<string[]>)).toEqual(["http://203.0.113.11/", "http://203.0.113.12/", "http://203.0.113.13/"]);
});
