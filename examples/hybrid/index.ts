/**
 * One Docker Swarm made of two sources ("mix and match"):
 *
 *   ExistingHosts — your own servers (a site's network, each with a public address): the managers
 *   AwsHostPool   — EC2 machines in a VPC of their own: the workers
 *
 * The two private networks do not reach each other, so every member advertises its PUBLIC address
 * (SwarmCluster chooses per host: private when members share a network, public otherwise), the
 * EC2 security group opens the Swarm ports to the site's public addresses (`clusterPeerCidrs`) and
 * the site's firewall must open them to the EC2 machines' (output `awsPublicAddresses`). Node labels
 * keep each machine's source, so a service can be pinned to one (`node.labels.provider`).
 *
 * Config (project namespace):
 *   servers       REQUIRED: [{ name, address, user, publicAddress, hostKey? }] — 1 or 3 servers
 *   sshPrivateKey REQUIRED (secret): the key the servers' users accept
 *   adminCidr     REQUIRED: where you run `pulumi up` from (SSH to the EC2 machines only from it)
 *   workers       EC2 workers (default 2)
 *   image         the image to serve on port 80 (default `nginx:1.27-alpine`)
 * and `aws:region`.
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, ExistingHosts, SWARM_PORTS, SwarmApp, SwarmCluster } from "flotilla";
import { AwsHostPool } from "flotilla/aws";

interface Server {
    name: string;
    address: string;
    user: string;
    publicAddress: string;
    hostKey?: string;
}

const config = new pulumi.Config();
const servers = config.requireObject<Server[]>("servers");
const adminCidr = config.require("adminCidr");

const site = new ExistingHosts("site", {
    network: "site:dc1",
    labels: { site: "dc1" },
    sshKey: { privateKey: config.requireSecret("sshPrivateKey") },
    machines: servers,
});

const cloud = new AwsHostPool("cloud", {
    size: config.getNumber("workers") ?? 2,
    adminCidrs: [adminCidr],
    clusterPorts: SWARM_PORTS,
    // The managers on the site reach the workers' Swarm ports at their public addresses.
    clusterPeerCidrs: servers.map((s) => `${s.publicAddress}/32`),
    appPorts: [80],
    appCidrs: ["0.0.0.0/0"],
    tags: { project: "flotilla-hybrid", stack: pulumi.getStack() },
});

const docker = new DockerEngine("docker", { hosts: [...site.hosts, ...cloud.hosts], joinsSwarm: true });
const managers = docker.hosts.slice(0, servers.length);
const workers = docker.hosts.slice(servers.length);

const swarm = new SwarmCluster("swarm", { managers, workers });

const app = new SwarmApp("web", {
    cluster: swarm,
    services: {
        web: {
            image: config.get("image") ?? "nginx:1.27-alpine",
            mode: "global",
            ports: [{ target: 80, published: 80 }],
            resources: { limits: { cpu: "0.5", memory: "128Mi" } },
        },
        // Only on the EC2 machines.
        batch: {
            image: config.get("image") ?? "nginx:1.27-alpine",
            replicas: 1,
            placement: ["provider==aws"],
        },
    },
});

/** The address each member advertises to the others (public: the networks are apart). */
export const advertisedAddresses = swarm.advertisedAddresses;
/** Open the Swarm ports (2377/tcp, 7946/tcp+udp, 4789/udp) on the site's firewall to these. */
export const awsPublicAddresses = cloud.publicAddresses;
export const services = app.services;
/** known_hosts lines of every member, both sources (host keys pinned, set at first boot or first seen). */
export const knownHosts = pulumi.all([site.knownHosts, cloud.knownHosts]).apply((texts) => texts.join(""));
export const urls = pulumi.all([cloud.publicAddresses]).apply(([aws]) => [...servers.map((s) => s.publicAddress), ...aws].map((a) => `http://${a}/`));
