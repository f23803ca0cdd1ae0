/**
 * KubernetesApp on the whole chain of constructs: LabHostPool (kubernetes: true; machine 0 the
 * LabRegistry with the Kubernetes images, the node bundle and the demo images) → Containerd →
 * KubernetesCluster (kubeadm, source "bundle", 1 control plane + 2 workers, air-gapped: every
 * image from the registry) → KubernetesApp pulling its images from the registry with its own pull
 * secret (registryAuth). The app: `web` (2 replicas, NodePort `nodePort` on every node, ready when
 * /healthz answers, the `greeting` secret as a file) and `db` (reached by name, its data on a
 * claim of the class `flotilla-lab`).
 *
 * The claim needs a PersistentVolume and the cluster has no storage provisioner: two small
 * RemoteScripts stand in for one (test set-up, not part of what is proven): a directory on the
 * last worker, writable by the image's user, and a static hostPath PersistentVolume of that class
 * pinned to that worker, applied with kubectl on the control-plane node. The app depends on them,
 * so destroy removes the app (and its claim) before the volume.
 *
 * Config (namespace `test`): poolName, subnet, cache (scripts/kubernetes-build.sh's cache dir),
 * images (JSON list of local demo image references pushed to the registry), image (the one of
 * them web and db run), nodePort, greeting (secret), rolloutTimeout (s, default 240), pullPassword
 * (secret; default the registry's password: another one makes the app's pull secret wrong).
 */
import * as pulumi from "@pulumi/pulumi";
import { Containerd, KubernetesApp, KubernetesCluster, LabHostPool, LabRegistry, RemoteScript, kubernetesImageArchives } from "flotilla";

const config = new pulumi.Config("test");
const cache = config.require("cache");
const version = "v1.37.2";

const lab = new LabHostPool("lab", { size: 4, poolName: config.require("poolName"), subnet: config.require("subnet"), kubernetes: true });
// Every Kubernetes image (and the node bundle) of the build's cache, as the registry's archives.
const archives = kubernetesImageArchives(cache);
const images = config.requireObject<string[]>("images");
const registry = new LabRegistry("registry", { host: lab.hosts[0], images, archives });
const nodes = new Containerd("containerd", { hosts: lab.hosts.slice(1), insecureRegistries: [registry.address] }).hosts;
const cluster = new KubernetesCluster("k8s", {
    distribution: "kubeadm",
    version,
    source: "bundle",
    bundleImage: registry.imageRef(`k8s/node-bundle:${version}`),
    // The control-plane images must all be in the registry before kubeadm init.
    imageRepository: pulumi.all([registry.address, registry.imageRefs]).apply(([address]) => `${address}/k8s`),
    flannelImage: registry.imageRef("k8s/flannel:v0.28.10"),
    registryCredentials: [{ registry: registry.address, username: registry.username, password: registry.password }],
    controlPlane: nodes.slice(0, 1),
    workers: nodes.slice(1),
});

// Test set-up standing in for a storage provisioner (see above): db's volume on the last worker.
const pvNode = cluster.workers[cluster.workers.length - 1];
const pvDir = "/var/lib/flotilla-lab-pv/demo-data";
const pvDirectory = new RemoteScript(
    "pv-directory",
    {
        connection: pvNode.connection,
        script: `set -euo pipefail
case "$FLOTILLA_PHASE" in
create|update) mkdir -p ${pvDir} && chmod 0777 ${pvDir} ;;
read) [ -d ${pvDir} ] || exit 3 ;;
delete) rm -rf ${pvDir} ;;
esac
`,
        target: pulumi.interpolate`the test's PersistentVolume directory on ${pvNode.name}`,
        timeoutSeconds: 60,
    },
    { dependsOn: pvNode.ready },
);
const pvManifest = pulumi.output(pvNode.name).apply((node) =>
    JSON.stringify({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: "demo-data" },
        spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Retain",
            storageClassName: "flotilla-lab",
            hostPath: { path: pvDir, type: "Directory" },
            nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
        },
    }),
);
const persistentVolume = new RemoteScript(
    "pv",
    {
        connection: cluster.controlPlane[0].connection,
        script: `set -euo pipefail
kc() { kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout=30s "$@"; }
case "$FLOTILLA_PHASE" in
create|update) printf '%s' "$PV" | kc apply -f - >/dev/null ;;
read) kc get pv demo-data >/dev/null 2>&1 || exit 3 ;;
delete) kc delete pv demo-data --ignore-not-found --wait=true --timeout=60s >/dev/null ;;
esac
`,
        environment: { PV: pvManifest },
        target: pulumi.interpolate`the test's PersistentVolume through ${cluster.controlPlane[0].name}`,
        timeoutSeconds: 120,
    },
    { dependsOn: [pvDirectory, ...cluster.controlPlane[0].ready] },
);

const image = registry.imageRef(config.require("image"));
const app = new KubernetesApp(
    "demo",
    {
        cluster,
        // The app's pull secret, not the nodes' CRI credentials: what a team deploying to a shared cluster has.
        // (`pullPassword` replaces the password in this secret only, to show the nodes' credentials are not what pulls.)
        registryAuth: { server: registry.address, username: registry.username, password: config.getSecret("pullPassword") ?? registry.password },
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
    },
    { dependsOn: [persistentVolume] },
);

export const services = app.services;
export const namespace = app.namespace;
export const addresses = lab.privateAddresses;
export const nodeNames = pulumi.all([...cluster.controlPlane, ...cluster.workers].map((h) => pulumi.output(h.name)));
export const pvNodeName = pulumi.output(pvNode.name);
export const registryAddress = registry.address;
export const registryUsername = registry.username;
export const registryPassword = registry.password;
/** The admin kubeconfig (a secret output): the security test looks for its client key in clear. */
export const kubeconfig = cluster.kubeconfig;
