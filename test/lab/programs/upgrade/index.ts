/**
 * A user's program as written against flotilla at commit 34ffa25 (before the constructs moved into
 * a folder per source and orchestrator): every lab-provable construct once, on one pool of five
 * machines. test/lab/state-upgrade.test.ts previews the state this program recorded then
 * (test/lab/states/upgrade.json) with the current flotilla, and counts replacements and deletions.
 * Keep it as it was: a newer API is proven elsewhere; this file is the user who did not change a line.
 *
 *   machine 0  LabRegistry (the Kubernetes images, the node bundle, the demo image)
 *   machine 1  Containerd → KubernetesCluster (kubeadm) control plane
 *   machine 2  Containerd → KubernetesCluster (kubeadm) worker → KubernetesApp web (NodePort)
 *   machine 3  DockerEngine → SwarmCluster manager
 *   machine 4  adopted again as ExistingHosts → DockerEngine → SwarmCluster worker → SwarmApp web
 *
 * Config (namespace `test`): poolName, subnet (a /28 whose machine i is .(i + 2)), cache
 * (scripts/kubernetes-build.sh's cache dir), image (a local demo image), nodePort, swarmPort.
 */
import * as pulumi from "@pulumi/pulumi";
import { Containerd, DockerEngine, ExistingHosts, KubernetesApp, KubernetesCluster, LabHostPool, LabRegistry, SwarmApp, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const cache = config.require("cache");
const subnet = config.require("subnet");
const image = config.require("image");
const version = "v1.37.2";

const lab = new LabHostPool("lab", { size: 5, poolName: config.require("poolName"), subnet, kubernetes: true });
const archives: Record<string, string> = {
    [`k8s/node-bundle:${version}`]: `${cache}/bundle/node-bundle.tar`,
    [`k8s/kube-apiserver:${version}`]: `${cache}/images/kube-apiserver.tar`,
    [`k8s/kube-controller-manager:${version}`]: `${cache}/images/kube-controller-manager.tar`,
    [`k8s/kube-scheduler:${version}`]: `${cache}/images/kube-scheduler.tar`,
    [`k8s/kube-proxy:${version}`]: `${cache}/images/kube-proxy.tar`,
    "k8s/etcd:3.7.0-0": `${cache}/images/etcd.tar`,
    "k8s/coredns:v1.14.6": `${cache}/images/coredns.tar`,
    "k8s/pause:3.10.2": `${cache}/images/pause.tar`,
    "k8s/flannel:v0.28.10": `${cache}/images/flannel.tar`,
};
const registry = new LabRegistry("registry", { host: lab.hosts[0], images: [image], archives });

// Kubernetes: kubeadm, one control plane and one worker, every image from the registry.
const nodes = new Containerd("containerd", { hosts: lab.hosts.slice(1, 3), insecureRegistries: [registry.address] }).hosts;
const cluster = new KubernetesCluster("k8s", {
    distribution: "kubeadm",
    version,
    source: "bundle",
    bundleImage: registry.imageRef(`k8s/node-bundle:${version}`),
    imageRepository: pulumi.all([registry.address, registry.imageRefs]).apply(([address]) => `${address}/k8s`),
    flannelImage: registry.imageRef("k8s/flannel:v0.28.10"),
    registryCredentials: [{ registry: registry.address, username: registry.username, password: registry.password }],
    controlPlane: nodes.slice(0, 1),
    workers: nodes.slice(1),
});
const k8sApp = new KubernetesApp("k8s-demo", {
    cluster,
    registryAuth: { server: registry.address, username: registry.username, password: registry.password },
    services: {
        web: { image: registry.imageRef(image), replicas: 1, ports: [{ target: 8080, published: config.requireNumber("nodePort") }] },
    },
});

// Swarm: one manager from the pool and one machine adopted as an existing server.
const base = subnet.split("/")[0].split(".").map(Number);
const machine4 = `${base[0]}.${base[1]}.${base[2]}.${base[3] + 6}`;
const site = new ExistingHosts(
    "site",
    {
        packageAccess: "distribution",
        labels: { site: "annex" },
        machines: [{ name: "annex-1", address: machine4, user: lab.sshUser, privateKey: lab.sshPrivateKey, hostKey: lab.hosts[4].connection.hostKey! }],
    },
    { dependsOn: [lab] },
);
const docker = new DockerEngine("docker", { hosts: [lab.hosts[3], ...site.hosts], joinsSwarm: true, insecureRegistries: [registry.address] }).hosts;
const swarm = new SwarmCluster("swarm", { managers: docker.slice(0, 1), workers: docker.slice(1) });
const swarmApp = new SwarmApp("swarm-demo", {
    cluster: swarm,
    registryAuth: { server: registry.address, username: registry.username, password: registry.password },
    publishMode: "host",
    services: {
        web: { image: registry.imageRef(image), mode: "global", ports: [{ target: 8080, published: config.requireNumber("swarmPort") }] },
    },
});

export const addresses = lab.privateAddresses;
export const kubernetesServices = k8sApp.services;
export const swarmServices = swarmApp.services;
export const swarmNodes = swarm.nodes;
