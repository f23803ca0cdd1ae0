/**
 * An air-gapped kubeadm cluster in the lab: a LabRegistry (machine 0 of the pool: lab networks are
 * isolated from each other, so the registry shares the cluster's network) holding the
 * Kubernetes images, the node bundle (kubeadm/kubelet/kubectl) and the demo image, all pushed from
 * the tarballs of scripts/kubernetes-build.sh; lab machines (kubernetes: true) with containerd
 * (the registry listed as insecure: plain HTTP) joined into one KubernetesCluster that pulls
 * everything from the registry with credentials.
 * Config (namespace `test`): poolName, subnet, controlPlane, workers, cache (the
 * kubernetes-build.sh cache dir), demoImage (a local image reference), spare (machines added after
 * the workers; default 0), controlPlaneMachines (the machines of the cluster's control plane, in
 * order, e.g. "2,3,5"; default 1..controlPlane). Machines 1.. are the nodes, control plane first,
 * then the workers, then the spare ones, so removing a worker (without spares) removes the last
 * machine.
 */
import * as pulumi from "@pulumi/pulumi";
import { Containerd, KubernetesCluster, LabHostPool, LabRegistry, kubernetesImageArchives } from "flotilla";

const config = new pulumi.Config("test");
const controlPlane = config.requireNumber("controlPlane");
const workers = config.requireNumber("workers");
const spare = config.getNumber("spare") ?? 0;
// The control plane's machines (pool indices; removing control-plane nodes keeps the machines).
const controlPlaneMachines = (config.get("controlPlaneMachines") ?? Array.from({ length: controlPlane }, (_, i) => i + 1).join(","))
    .split(",")
    .map((i) => Number(i));
const cache = config.require("cache");
const version = "v1.37.2";

const lab = new LabHostPool("lab", {
    size: 1 + controlPlane + workers + spare,
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
    kubernetes: true,
});
// Every Kubernetes image (and the node bundle) of the build's cache, as the registry's archives.
const archives = kubernetesImageArchives(cache);
const demoImage = config.require("demoImage");
const registry = new LabRegistry("registry", { host: lab.hosts[0], images: [demoImage], archives });
const nodes = new Containerd("containerd", { hosts: lab.hosts.slice(1), insecureRegistries: [registry.address] }).hosts;

// The control-plane images must all be in the registry before kubeadm init.
const everythingPushed = registry.imageRefs;
const cluster = new KubernetesCluster("k8s", {
    distribution: "kubeadm",
    version,
    source: "bundle",
    bundleImage: registry.imageRef(`k8s/node-bundle:${version}`),
    imageRepository: pulumi.all([registry.address, everythingPushed]).apply(([address]) => `${address}/k8s`),
    flannelImage: registry.imageRef("k8s/flannel:v0.28.10"),
    registryCredentials: [{ registry: registry.address, username: registry.username, password: registry.password }],
    controlPlane: controlPlaneMachines.map((i) => nodes[i - 1]),
    workers: nodes.slice(controlPlane, controlPlane + workers),
    nodeLabels: { env: "test" },
    drainTimeoutSeconds: 120,
});

export const kubeconfig = cluster.kubeconfig;
export const apiEndpoint = cluster.apiEndpoint;
export const capabilities = cluster.capabilities;
export const ports = cluster.ports;
export const nodeNames = pulumi.all([...cluster.controlPlane, ...cluster.workers].map((h) => pulumi.output(h.name)));
export const cgroupDrivers = pulumi.all([...cluster.controlPlane, ...cluster.workers].map((h) => pulumi.output(h.runtime.cgroupDriver ?? "")));
export const demoRef = registry.imageRef(demoImage);
export const registryPassword = registry.password;
export const addresses = lab.privateAddresses;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
