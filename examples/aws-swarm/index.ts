/**
 * A Docker Swarm of three EC2 machines serving a web image, as a flotilla user writes it:
 *
 *   AwsHostPool (3 × Debian 12, own VPC, SSH only from `adminCidr`) → DockerEngine on each (over
 *   SSH) → SwarmCluster (three managers) → SwarmApp (the image, port 80 published through
 *   Swarm's routing mesh and open to `appCidr` only).
 *
 * Config (project namespace):
 *   adminCidr   REQUIRED: where you run `pulumi up` from, e.g. `203.0.113.7/32` (SSH is open from it only)
 *   appCidr     who may reach the app on port 80 (default: `adminCidr`; `0.0.0.0/0` for everyone)
 *   image       the image to serve, listening on port 80 (default `nginx:1.27-alpine`)
 *   instanceType  default `t3.small`
 * and `aws:region` (required: the AWS provider and the pool use it).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, SWARM_PORTS, SwarmApp, SwarmCluster } from "flotilla";
import { AwsHostPool } from "flotilla/aws";

const config = new pulumi.Config();
const adminCidr = config.require("adminCidr");

const pool = new AwsHostPool("swarm", {
    size: 3,
    zones: config.getObject<string[]>("zones"),
    instanceType: config.get("instanceType") ?? "t3.small",
    adminCidrs: [adminCidr],
    // Swarm's ports between the machines only (a cluster's own list: SwarmCluster opens no others).
    clusterPorts: SWARM_PORTS,
    appPorts: [80],
    appCidrs: [config.get("appCidr") ?? adminCidr],
    tags: { project: "flotilla-aws-swarm", stack: pulumi.getStack() },
});

const docker = new DockerEngine("docker", { hosts: pool.hosts, joinsSwarm: true });

const swarm = new SwarmCluster("swarm", { managers: docker.hosts });

const app = new SwarmApp("web", {
    cluster: swarm,
    services: {
        web: {
            image: config.get("image") ?? "nginx:1.27-alpine",
            replicas: 3,
            ports: [{ target: 80, published: 80 }],
            resources: { limits: { cpu: "0.5", memory: "128Mi" } },
        },
    },
});

/** The app, at every machine (the routing mesh answers on each). */
export const urls = pool.publicAddresses.apply((addresses) => addresses.map((a) => `http://${a}/`));
/** Running/desired tasks per service. */
export const services = app.services;
/** SSH: `pulumi stack output sshPrivateKey --show-secrets > key && chmod 600 key && ssh -i key admin@<address>`. */
export const sshUser = pool.sshUser;
export const sshPrivateKey = pool.sshPrivateKey;
export const publicAddresses = pool.publicAddresses;
/** `pulumi stack output knownHosts > ~/.ssh/flotilla-swarm.known_hosts`: strict host-key checking for `ssh`. */
export const knownHosts = pool.knownHosts;
/** An ssh_config snippet (`ssh swarm-0` once the key and known_hosts are saved where it names them). */
export const sshConfig = pool.sshConfig;
/** The machines' host keys, in order. */
export const hostKeys = pool.hostKeys;
