/**
 * Servers that already exist → Docker Engine on each → one Docker Swarm → an image served on port
 * 80 of every node. flotilla checks every server first (SSH with a pinned host key or trust on first
 * use, password-less sudo, Debian 12 / Ubuntu 22.04 / 24.04 on amd64 or arm64) and never removes
 * or changes a server on `destroy`: it only takes back what it installed (the stack, the swarm).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, ExistingHosts, SwarmApp, SwarmCluster } from "flotilla";

interface Server {
    name: string;
    address: string;
    user: string;
    hostKey?: string;
    publicAddress?: string;
}

const config = new pulumi.Config();
const servers = config.requireObject<Server[]>("servers");
const sshPrivateKey = config.requireSecret("sshPrivateKey");

const site = new ExistingHosts("site", {
    // One key for every server; a server with a key of its own would give it as its privateKey.
    sshKey: { privateKey: sshPrivateKey },
    machines: servers,
});

const docker = new DockerEngine("docker", { hosts: site.hosts, joinsSwarm: true });

// Swarm's Raft wants an odd number of managers: three when there are enough servers, else one.
const managerCount = servers.length >= 3 ? 3 : 1;
const swarm = new SwarmCluster("swarm", {
    managers: docker.hosts.slice(0, managerCount),
    workers: docker.hosts.slice(managerCount),
});

const app = new SwarmApp("web", {
    cluster: swarm,
    services: {
        web: {
            image: config.get("image") ?? "nginx:1.27",
            mode: "global",
            ports: [{ target: 80, published: 80 }],
            update: { parallelism: 1, order: "stop-first", failureAction: "rollback" },
        },
    },
});

export const nodes = swarm.nodes;
export const services = app.services;
export const urls = site.privateAddresses.apply((addresses) => addresses.map((a) => `http://${a}/`));
/** The servers' host keys as known_hosts lines (pinned, or first seen), for `ssh` with strict checking. */
export const knownHosts = site.knownHosts;
