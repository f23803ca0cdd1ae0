/**
 * A web + database app on a k3s cluster of three EC2 machines, through `@pulumi/kubernetes`, as a
 * flotilla user writes it:
 *
 *   AwsHostPool (3 × Debian 12, own VPC, SSH and the Kubernetes API only from `adminCidr`) →
 *   KubernetesCluster (k3s: one server, two agents) → ClusterProvider (a `@pulumi/kubernetes`
 *   Provider from the cluster's kubeconfig, a secret) → PulumiKubernetesApp (the app's objects as
 *   typed resources: Namespace, Secret, PersistentVolumeClaim, Services, Deployments).
 *
 * The same provider serves any other `@pulumi/kubernetes` resource of the program (here a
 * ConfigMap), so flotilla's objects and your own live in one state, diffed and previewed alike.
 *
 * Config (project namespace):
 *   adminCidr   REQUIRED: where you run `pulumi up` from, e.g. `203.0.113.7/32` (SSH and port 6443 open from it only)
 *   dbPassword  REQUIRED (secret): the database password, a Kubernetes Secret mounted at /run/secrets/db-password
 *   appCidr     who may reach the web tier on port 80 (default: `adminCidr`; `0.0.0.0/0` for everyone)
 *   image       the web image, listening on port 80 (default `nginx:1.27-alpine`)
 *   k3sVersion  default `v1.33.5+k3s1`
 * and `aws:region` (required: the AWS provider and the pool use it).
 */
import * as pulumi from "@pulumi/pulumi";
// One resource's module (`import * as k8s from "@pulumi/kubernetes"` works too, and type-checks slower).
import { ConfigMap } from "@pulumi/kubernetes/core/v1/configMap";
import { KUBERNETES_PORTS, KubernetesCluster } from "flotilla";
import { AwsHostPool } from "flotilla/aws";
import { ClusterProvider, PulumiKubernetesApp } from "flotilla/kubernetes";

const config = new pulumi.Config();
const adminCidr = config.require("adminCidr");

const pool = new AwsHostPool("k3s", {
    size: 3,
    adminCidrs: [adminCidr],
    // The Kubernetes ports between the machines only; the API server (6443) from adminCidr too.
    clusterPorts: KUBERNETES_PORTS,
    appPorts: [80],
    appCidrs: [config.get("appCidr") ?? adminCidr],
    tags: { project: "flotilla-kubernetes-provider", stack: pulumi.getStack() },
});

const cluster = new KubernetesCluster("k3s", {
    distribution: "k3s",
    version: config.get("k3sVersion") ?? "v1.33.5+k3s1",
    controlPlane: pool.hosts.slice(0, 1),
    workers: pool.hosts.slice(1),
    // The kubeconfig's server: the first machine's public address, reachable from where `up` runs.
    apiEndpoint: pool.publicAddresses.apply((a) => a[0]),
});

const provider = new ClusterProvider("k3s", { cluster });

const app = new PulumiKubernetesApp("shop", {
    provider,
    // servicelb runs (k3s' default), but the web tier is published on the nodes' port 80 itself.
    publishMode: "host",
    secrets: { "db-password": config.requireSecret("dbPassword") },
    volumes: { "db-data": { size: "10Gi" } },
    services: {
        web: {
            image: config.get("image") ?? "nginx:1.27-alpine",
            replicas: 2,
            ports: [{ target: 80, published: 80 }],
            env: { DB_HOST: "db", DB_PASSWORD_FILE: "/run/secrets/db-password" },
            secrets: ["db-password"],
            resources: { limits: { cpu: "0.5", memory: "256Mi" }, reservations: { cpu: "100m", memory: "64Mi" } },
            readiness: { command: ["wget", "-q", "-O-", "http://localhost:80/"], interval: "10s" },
            // A host port is held by the old pod on its node: take one down before starting its successor.
            update: { maxSurge: 0, maxUnavailable: 1, failureAction: "rollback" },
        },
        db: {
            image: "postgres:16",
            expose: [5432],
            env: { POSTGRES_PASSWORD_FILE: "/run/secrets/db-password" },
            secrets: ["db-password"],
            volumes: { "db-data": "/var/lib/postgresql/data" },
            resources: { limits: { memory: "1Gi" } },
            healthcheck: { command: "pg_isready -U postgres", startPeriod: "30s" },
        },
    },
});

// Your own objects, with the same provider, in the app's namespace (once the app is up).
new ConfigMap(
    "shop-settings",
    { metadata: { name: "settings", namespace: app.namespace }, data: { "feature-flags": "checkout=on" } },
    { provider, dependsOn: [app] },
);

/** The web tier, on every node (host ports: answered where a web pod runs). */
export const urls = pool.publicAddresses.apply((addresses) => addresses.map((a) => `http://${a}/`));
/** The objects the app made, `<Kind> <namespace>/<name>`. */
export const objects = app.objectNames;
/** `pulumi stack output kubeconfig --show-secrets > kubeconfig && KUBECONFIG=kubeconfig kubectl get pods -n shop`. */
export const kubeconfig = cluster.kubeconfig;
export const publicAddresses = pool.publicAddresses;
