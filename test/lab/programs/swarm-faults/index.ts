/**
 * The fault tests' cluster (test/lab/swarm-faults.test.ts): 5 lab machines with Docker, 3 managers + 2
 * workers in one Swarm, and the web + db app of examples/web-db.ts made of the demo image (no
 * registry, no postgres here): `web` a global service publishing 8080 in host mode (every node
 * answers), `db` one replica keeping its data in the named volume `db-data` (mounted at /data) and
 * pinned by `placement: zone==a` to the one node of zone `a` (the last worker), because a `local`
 * volume lives on one node. Config (namespace `test`): poolName, subnet, image, withApp (the app
 * is deployed once the images were loaded onto the nodes).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, LabHostPool, RuntimeHost, SwarmApp, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const lab = new LabHostPool("lab", {
    size: 5,
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});

const withDocker = new DockerEngine("docker", { hosts: lab.hosts, joinsSwarm: true }).hosts;
// The zone is the host's failure domain (a cloud pool sets it from the machine's zone): the lab
// has none, so the program says which zone each worker is in.
const workers: RuntimeHost[] = withDocker.slice(3).map((h, i) => ({ ...h, labels: { ...h.labels, zone: i === 1 ? "a" : "b" } }));

const swarm = new SwarmCluster("swarm", {
    managers: withDocker.slice(0, 3),
    workers,
    workerLabels: { role: "worker" },
});

const app = config.getBoolean("withApp")
    ? new SwarmApp("shop", {
    cluster: swarm,
    resolveImage: "never",
    convergeTimeoutSeconds: 240,
    publishMode: "host",
    volumes: { "db-data": {} },
    services: {
        web: {
            image: config.require("image"),
            mode: "global",
            ports: [{ target: 8080, published: 8080 }],
            env: { DB_HOST: "db" },
            resources: { limits: { cpu: "0.25", memory: "32Mi" } },
            healthcheck: { command: ["/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "2s", retries: 2, startPeriod: "2s" },
        },
        db: {
            image: config.require("image"),
            replicas: 1,
            expose: [8080],
            volumes: { "db-data": "/data" },
            placement: ["zone==a"],
        },
    },
})
    : undefined;

export const services = app?.services;
export const stackName = app?.stackName;
export const names = lab.hosts.map((h) => h.name);
export const addresses = lab.privateAddresses;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
