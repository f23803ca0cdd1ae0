/**
 * Three Azure VMs (one per availability zone) → Docker Engine on each, installed over SSH →
 * one Docker Swarm of three managers → a web image published on port 80 of every node (Azure's
 * kernels have IPVS: Swarm's routing mesh answers on every node).
 *
 * Config (namespace: the project, `azure-swarm`):
 *   adminCidr   required: where you (and this program, which runs the install over SSH) connect
 *               from, e.g. `203.0.113.7/32`; SSH is open only from there
 *   appCidr     where port 80 is open from (default `0.0.0.0/0`)
 *   zones       JSON list of zones (default `["1","2","3"]`; `[]` in a region without zones)
 *   vmSize      VM size (default `Standard_B2s`)
 *   image       the web image (default `traefik/whoami:v1.10.3`, which answers with its host name)
 * and `azure-native:location`, the region (e.g. `westeurope`).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, SWARM_PORTS, SwarmApp, SwarmCluster } from "flotilla";
import { AzureHostPool, AzureZone } from "flotilla/azure";

const config = new pulumi.Config();

const pool = new AzureHostPool("swarm", {
    size: 3,
    zones: config.getObject<AzureZone[]>("zones") ?? ["1", "2", "3"],
    vmSize: config.get("vmSize") ?? "Standard_B2s",
    adminCidrs: [config.require("adminCidr")],
    clusterPorts: SWARM_PORTS,
    appPorts: [80],
    appCidrs: [config.get("appCidr") ?? "0.0.0.0/0"],
    tags: { example: "azure-swarm" },
});

const docker = new DockerEngine("docker", { hosts: pool.hosts, joinsSwarm: true });

const swarm = new SwarmCluster("swarm", { managers: docker.hosts });

const app = new SwarmApp("web", {
    cluster: swarm,
    services: {
        web: {
            image: config.get("image") ?? "traefik/whoami:v1.10.3",
            replicas: 3,
            ports: [{ target: 80, published: 80 }],
        },
    },
});

/** The app on every node. */
export const urls = pool.publicAddresses.apply((addresses) => addresses.map((a) => `http://${a}/`));
/** Running/desired tasks. */
export const services = app.services;
/** SSH: `pulumi stack output --show-secrets sshPrivateKey > key && chmod 600 key && ssh -i key flotilla@<address>`. */
export const sshUser = pool.sshUser;
export const sshPrivateKey = pool.sshPrivateKey;
/** `pulumi stack output knownHosts > ~/.ssh/flotilla-swarm.known_hosts`: strict host-key checking for `ssh`. */
export const knownHosts = pool.knownHosts;
/** An ssh_config snippet (`ssh swarm-0` once the key and known_hosts are saved where it names them). */
export const sshConfig = pool.sshConfig;
/** The machines' host keys, in order. */
export const hostKeys = pool.hostKeys;
export const resourceGroup = pool.resourceGroupName;
