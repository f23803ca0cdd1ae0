/**
 * A Docker Swarm on a Proxmox VE cluster:
 *
 *   three Debian 12 VMs spread over the Proxmox nodes (ProxmoxHostPool; Docker installed at first
 *   boot by cloud-init) → Docker Engine checked and configured on each (DockerEngine) → one Swarm of
 *   three managers (SwarmCluster) → a web image on every node, published on port 8080 (SwarmApp).
 *
 * The Proxmox provider is configured as usual (`proxmoxve:endpoint`, `proxmoxve:apiToken`,
 * `proxmoxve:ssh` for the snippet upload); see README.md. Config of this project (all optional):
 *   nodes          Proxmox node names, a JSON list (default ["pve"])
 *   templateVmId   clone the VMs from this cloud-init template instead of downloading Debian 12
 *   bridge, vlan   the VMs' network (default vmbr0, untagged)
 *   subnet, gateway, firstAddress   static addresses (default: DHCP, reported by the guest agent)
 *   image          the image to serve (default traefik/whoami:v1.10.3, which answers with its host name)
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, SwarmApp, SwarmCluster, dockerEngineUserData } from "flotilla";
import { ProxmoxHostPool } from "flotilla/proxmox";

const config = new pulumi.Config();

const pool = new ProxmoxHostPool("pve", {
    size: 3,
    nodes: config.getObject<string[]>("nodes") ?? ["pve"],
    templateVmId: config.getNumber("templateVmId"),
    bridge: config.get("bridge"),
    vlan: config.getNumber("vlan"),
    subnet: config.get("subnet"),
    gateway: config.get("gateway"),
    firstAddress: config.get("firstAddress"),
    cores: 2,
    memoryMiB: 2048,
    diskGiB: 20,
    // Proxmox tags have no values: { swarm: "" } is the tag "swarm" ({ role: "web" } would be "role-web").
    tags: { swarm: "" },
    // Docker from Docker's apt repository at first boot, set up for Swarm: the same script
    // DockerEngine runs over SSH, which then finds it installed.
    userData: [dockerEngineUserData({ joinsSwarm: true })],
});

const docker = new DockerEngine("docker", { hosts: pool.hosts, joinsSwarm: true });

const swarm = new SwarmCluster("swarm", { managers: docker.hosts });

const app = new SwarmApp("web", {
    cluster: swarm,
    services: {
        web: {
            image: config.get("image") ?? "traefik/whoami:v1.10.3",
            replicas: 3,
            ports: [{ target: 80, published: 8080 }],
            resources: { limits: { cpu: "0.5", memory: "64Mi" } },
            update: { order: "start-first", delay: "5s" },
        },
    },
});

/** The VMs' addresses. */
export const addresses = pool.privateAddresses;
/** The app, through Swarm's routing mesh on every node. */
export const urls = pool.privateAddresses.apply((a) => a.map((address) => `http://${address}:8080/`));
/** Proxmox VM ids. */
export const vmIds = pool.vmIds;
/** Running/desired tasks per service. */
export const services = app.services;
/** Swarm nodes. */
export const swarmNodes = swarm.nodes;
/** SSH: user, private key (secret), known_hosts, ssh_config and host keys, in machine order. */
export const sshUser = pool.sshUser;
export const sshPrivateKey = pool.sshPrivateKey;
/** `pulumi stack output knownHosts > ~/.ssh/flotilla-pve.known_hosts`: strict host-key checking for `ssh`. */
export const knownHosts = pool.knownHosts;
/** An ssh_config snippet (`ssh pve-0` once the key and known_hosts are saved where it names them). */
export const sshConfig = pool.sshConfig;
/** The machines' host keys, in order. */
export const hostKeys = pool.hostKeys;
