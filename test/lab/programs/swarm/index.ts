/**
 * Lab machines with Docker, joined into one Swarm. Config (namespace `test`): poolName, subnet,
 * machines (pool size), managers, workers (how many of the machines are managers / workers,
 * managers first).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, LabHostPool, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const managers = config.requireNumber("managers");
const workers = config.requireNumber("workers");
const lab = new LabHostPool("lab", {
    size: config.requireNumber("machines"),
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});

const withDocker = new DockerEngine("docker", { hosts: lab.hosts, joinsSwarm: true }).hosts;

const swarm = new SwarmCluster("swarm", {
    managers: withDocker.slice(0, managers),
    workers: withDocker.slice(managers, managers + workers),
    labels: { env: "test" },
    drainTimeoutSeconds: 120,
});

export const nodes = swarm.nodes;
export const managerAddresses = swarm.managerAddresses;
export const workerJoinToken = swarm.workerJoinToken;
export const managerJoinToken = swarm.managerJoinToken;
export const dockerHost = swarm.dockerHost;
export const addresses = lab.privateAddresses;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
