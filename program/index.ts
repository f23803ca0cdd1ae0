/**
 * The root program (`pulumi up` at the repository root, or `npm run up`): a small data center on
 * this machine's Docker engine running a real image.
 *
 *   lab machines (LabHostPool) → Docker Engine on each (DockerEngine) → one Swarm of 3 managers and
 *   2 workers (SwarmCluster) → the demo web image, pushed into an authenticated private registry on
 *   its own lab machine (LabRegistry), pulled by every node with the registry's credentials, and
 *   published on port 8080 of every node (SwarmApp).
 *
 * Config (all optional, namespace `flotilla`):
 *   managers   Swarm managers: 1, 3, 5 or 7 (default 3)
 *   workers    Swarm workers (default 2)
 *   poolName   name of the pool on the Docker engine (default `flotilla-<stack>`)
 *   subnet     private block of the lab network (default 10.213.0.0/24)
 *   image      local image to push and run (default `flotilla-demo:v1`, built by setup)
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_LAB_SUBNET, DockerEngine, LabHostPool, LabRegistry, SwarmApp, SwarmCluster } from "flotilla";

const config = new pulumi.Config("flotilla");
const managers = config.getNumber("managers") ?? 3;
const workers = config.getNumber("workers") ?? 2;
const subnet = config.get("subnet") ?? DEFAULT_LAB_SUBNET;
const image = config.get("image") ?? "flotilla-demo:v1";
const nodes = managers + workers;

// The cluster's machines, and one more for the registry (on the same private network).
const lab = new LabHostPool("lab", {
    size: nodes + 1,
    poolName: config.get("poolName") ?? `flotilla-${pulumi.getStack()}`,
    subnet,
});

const registry = new LabRegistry("registry", { host: lab.hosts[nodes], images: [image] });

const docker = new DockerEngine("docker", {
    hosts: lab.hosts.slice(0, nodes),
    joinsSwarm: true,
    insecureRegistries: [registry.address],
});

const swarm = new SwarmCluster("swarm", {
    managers: docker.hosts.slice(0, managers),
    workers: docker.hosts.slice(managers),
});

const app = new SwarmApp("demo", {
    cluster: swarm,
    registryAuth: { server: registry.address, username: registry.username, password: registry.password },
    // The lab's kernel has no IPVS (no routing mesh): every node runs a task and publishes it.
    publishMode: "host",
    services: {
        web: {
            image: registry.imageRef(image),
            mode: "global",
            ports: [{ target: 8080, published: 8080 }],
            resources: { limits: { cpu: "0.25", memory: "32Mi" } },
            update: { order: "stop-first", delay: "2s" },
        },
    },
});

/** Private addresses of the cluster's machines, managers first. */
export const addresses = pulumi.all(lab.hosts.slice(0, nodes).map((h) => h.privateAddress));
/** The demo app on every node. */
export const urls = addresses.apply((a) => a.map((address) => `http://${address}:8080/`));
/** Running/desired tasks per service. */
export const services = app.services;
/** Swarm nodes. */
export const swarmNodes = swarm.nodes;
/** Docker versions per machine. */
export const dockerVersions = docker.versions;
/** The registry, its user, and its password (secret). */
export const registryUrl = registry.address;
export const registryUser = registry.username;
export const registryPassword = registry.password;
/** SSH: user, private key (secret), host keys (for known_hosts), in machine order. */
export const sshUser = lab.sshUser;
export const sshPrivateKey = lab.sshPrivateKey;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
/**
 * The Swarm from outside, with strict host-key checking and nothing else by hand: save
 * `sshPrivateKey` and `knownHosts` where `sshConfig` says (~/.ssh/flotilla-<pool>, mode 600, and
 * ~/.ssh/flotilla-<pool>.known_hosts), append `sshConfig` to ~/.ssh/config, then
 * `DOCKER_HOST=$(pulumi stack output dockerHost) docker node ls`.
 */
export const dockerHost = swarm.dockerHost;
export const knownHosts = lab.knownHosts;
export const sshConfig = lab.sshConfig;
