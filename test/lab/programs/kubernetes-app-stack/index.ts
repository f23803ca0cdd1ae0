/**
 * The whole stack of constructs: LabHostPool (kubernetes: true; machine 0 the LabRegistry with the
 * Kubernetes images, the node bundle and the demo image) → Containerd → KubernetesCluster (kubeadm,
 * 1 control plane + 1 worker) → KubernetesApp: the demo web image pulled from the registry with
 * credentials (registryAuth), published as NodePort `nodePort` on every node.
 * Config (namespace `test`): poolName, subnet, cache (kubernetes-build.sh's cache dir), demoImage,
 * nodePort.
 */
import * as pulumi from "@pulumi/pulumi";
import { Containerd, KubernetesApp, KubernetesCluster, LabHostPool, LabRegistry } from "flotilla";

const config = new pulumi.Config("test");
const cache = config.require("cache");
const version = "v1.37.2";

const lab = new LabHostPool("lab", { size: 3, poolName: config.require("poolName"), subnet: config.require("subnet"), kubernetes: true });
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
const demoImage = config.require("demoImage");
const registry = new LabRegistry("registry", { host: lab.hosts[0], images: [demoImage], archives });
const nodes = new Containerd("containerd", { hosts: lab.hosts.slice(1), insecureRegistries: [registry.address] }).hosts;
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

const app = new KubernetesApp("demo", {
    cluster,
    // The app's pull secret, not the nodes' CRI credentials: what a team deploying to a shared cluster has.
    registryAuth: { server: registry.address, username: registry.username, password: registry.password },
    services: {
        web: {
            image: registry.imageRef(demoImage),
            replicas: 2,
            ports: [{ target: 8080, published: config.requireNumber("nodePort") }],
            readiness: { command: ["/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "2s", retries: 2 },
        },
    },
});

export const services = app.services;
export const addresses = lab.privateAddresses;
export const registryPassword = registry.password;
