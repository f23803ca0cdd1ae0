/**
 * The Kubernetes fault tests' cluster (test/lab/kubernetes-faults.test.ts), on the whole chain of
 * constructs: LabHostPool (kubernetes: true, 6 machines) → machine 0 a LabRegistry (the Kubernetes
 * images, the node bundle and the demo image, from scripts/kubernetes-build.sh's cache) →
 * Containerd on machines 1-5 → KubernetesCluster (kubeadm, source "bundle"): control plane 1-3
 * (stacked etcd, 3 members), workers 4-5 → KubernetesApp of the web + db app of
 * examples/web-db.ts made of the demo image: `web` global on the workers (a DaemonSet: one pod on
 * each, placement role==worker) published as NodePort `nodePort` (every node answers), `db` one
 * replica keeping its data on the claim `db-data` of the class `flotilla-lab` (a static hostPath
 * PersistentVolume the test makes on the worker of zone `a`) and pinned there by `zone==a`, since
 * a hostPath volume lives on one node. Both read the password secret `db-password`.
 * Config (namespace `test`): poolName, subnet, cache, demoImage, nodePort, dbPassword (secret),
 * withApp (the app is deployed once the test made the PersistentVolume).
 */
import * as pulumi from "@pulumi/pulumi";
import { Containerd, KubernetesApp, KubernetesCluster, LabHostPool, LabRegistry, RuntimeHost, kubernetesImageArchives } from "flotilla";

const config = new pulumi.Config("test");
const cache = config.require("cache");
const version = "v1.37.2";

const lab = new LabHostPool("lab", { size: 6, poolName: config.require("poolName"), subnet: config.require("subnet"), kubernetes: true });
// Every Kubernetes image (and the node bundle) of the build's cache, as the registry's archives.
const archives = kubernetesImageArchives(cache);
const demoImage = config.require("demoImage");
const registry = new LabRegistry("registry", { host: lab.hosts[0], images: [demoImage], archives });
const nodes = new Containerd("containerd", { hosts: lab.hosts.slice(1), insecureRegistries: [registry.address] }).hosts;
// The zone is the host's failure domain (a cloud pool sets it from the machine's zone): the lab
// has none, so the program says which zone each worker is in (node labels, as the hosts' own).
const workers: RuntimeHost[] = nodes.slice(3).map((h, i) => ({ ...h, labels: { ...h.labels, role: "worker", zone: i === 1 ? "a" : "b" } }));

const cluster = new KubernetesCluster("k8s", {
    distribution: "kubeadm",
    version,
    source: "bundle",
    bundleImage: registry.imageRef(`k8s/node-bundle:${version}`),
    // The control-plane images must all be in the registry before kubeadm init.
    imageRepository: pulumi.all([registry.address, registry.imageRefs]).apply(([address]) => `${address}/k8s`),
    flannelImage: registry.imageRef("k8s/flannel:v0.28.10"),
    registryCredentials: [{ registry: registry.address, username: registry.username, password: registry.password }],
    controlPlane: nodes.slice(0, 3),
    workers,
});

const image = registry.imageRef(demoImage);
const app = config.getBoolean("withApp")
    ? new KubernetesApp("shop", {
          cluster,
          rolloutTimeoutSeconds: 300,
          secrets: { "db-password": config.requireSecret("dbPassword") },
          volumes: { "db-data": { size: "64Mi", class: "flotilla-lab" } },
          services: {
              web: {
                  image,
                  mode: "global",
                  placement: ["role==worker"],
                  ports: [{ target: 8080, published: config.requireNumber("nodePort") }],
                  env: { DB_HOST: "db", DB_PASSWORD_FILE: "/run/secrets/db-password" },
                  secrets: ["db-password"],
                  resources: { limits: { cpu: "0.25", memory: "32Mi" } },
                  readiness: { command: ["/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "2s", retries: 2 },
              },
              db: {
                  image,
                  replicas: 1,
                  expose: [8080],
                  secrets: ["db-password"],
                  volumes: { "db-data": "/www/data" },
                  placement: ["zone==a"],
              },
          },
      })
    : undefined;

export const services = app?.services;
export const kubeconfig = cluster.kubeconfig;
export const apiEndpoint = cluster.apiEndpoint;
export const names = lab.hosts.map((h) => h.name);
export const addresses = lab.privateAddresses;
