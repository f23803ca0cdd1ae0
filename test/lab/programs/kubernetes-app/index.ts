/**
 * KubernetesApp on a kubeadm cluster that already runs (made by the test with
 * scripts/kubernetes-lab-proof.sh: a control-plane node and a worker, reached over SSH as root),
 * described here as an IKubernetesCluster: its nodes as RuntimeHosts, its admin kubeconfig (secret).
 * The app: `web` (2 replicas, NodePort `nodePort` on every node, ready when /healthz answers, the
 * `greeting` secret as a file) and `db` (reached by name, its data on a claim of the class
 * `flotilla-lab` that the test backs with a static hostPath PersistentVolume).
 *
 * Config (namespace `test`): nodes (JSON list of { name, address }, the control plane first),
 * privateKey (secret), kubeconfig (secret), greeting (secret), image, nodePort, rolloutTimeout (s,
 * default 240).
 */
import * as pulumi from "@pulumi/pulumi";
import { IKubernetesCluster, KubernetesApp, RuntimeHost } from "flotilla";

interface Node {
    name: string;
    address: string;
}

const config = new pulumi.Config("test");
const nodes = config.requireObject<Node[]>("nodes");
const privateKey = config.requireSecret("privateKey");
const hosts: RuntimeHost[] = nodes.map((n) => ({
    name: n.name,
    instanceId: pulumi.output(n.name),
    privateAddress: pulumi.output(n.address),
    platform: { os: "debian", osVersion: "12", arch: "amd64" },
    packageAccess: "distribution",
    connection: { host: n.address, port: 22, user: "root", privateKey },
    labels: { provider: "lab", pool: "k8s-proof" },
    ready: [],
    runtime: { kind: "containerd", cgroupDriver: "systemd", liveRestore: false, swarmReady: false },
}));
const cluster: IKubernetesCluster = {
    orchestrator: "kubernetes",
    // kube-proxy (iptables) serves ClusterIPs and NodePorts in this cluster (the proof checks both).
    capabilities: pulumi.output({ serviceVirtualIp: true, routingMesh: true, loadBalancer: false }),
    ports: [],
    controlPlane: hosts.slice(0, 1),
    workers: hosts.slice(1),
    kubeconfig: config.requireSecret("kubeconfig"),
};

const image = config.require("image");
const app = new KubernetesApp("demo", {
    cluster,
    rolloutTimeoutSeconds: config.getNumber("rolloutTimeout") ?? 240,
    secrets: { greeting: config.requireSecret("greeting") },
    volumes: { data: { size: "64Mi", class: "flotilla-lab" } },
    services: {
        web: {
            image,
            replicas: 2,
            ports: [{ target: 8080, published: config.requireNumber("nodePort") }],
            secrets: ["greeting"],
            resources: { limits: { cpu: "0.25", memory: "32Mi" } },
            readiness: { command: ["/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "2s", retries: 2 },
            update: { maxSurge: 1, maxUnavailable: 0, delay: "2s", monitor: "2s", failureAction: "rollback" },
        },
        db: {
            image,
            expose: [8080],
            volumes: { data: "/www/data" },
        },
    },
});

export const services = app.services;
export const namespace = app.namespace;
