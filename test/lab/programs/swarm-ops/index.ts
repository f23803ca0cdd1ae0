/**
 * Lab machines with Docker, some of them in one Swarm, chosen by index (so the first manager can be
 * removed from the swarm while its machine stays). Config (namespace `test`): poolName, subnet,
 * machines (pool size), managers and workers (comma-separated machine indexes, in order), autolock
 * ("true"/"false", default false), rotation (join token generation, optional).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, LabHostPool, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const indexes = (key: string) =>
    (config.get(key) ?? "")
        .split(",")
        .filter((s) => s.trim() !== "")
        .map((s) => Number(s));
const lab = new LabHostPool("lab", {
    size: config.requireNumber("machines"),
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});

const withDocker = new DockerEngine("docker", { hosts: lab.hosts, joinsSwarm: true }).hosts;

const swarm = new SwarmCluster("swarm", {
    managers: indexes("managers").map((i) => withDocker[i]),
    workers: indexes("workers").map((i) => withDocker[i]),
    labels: { env: "test" },
    drainTimeoutSeconds: 120,
    autolock: config.getBoolean("autolock") ?? false,
    joinTokenRotation: config.get("rotation"),
});

export const clusterId = swarm.clusterId;
export const nodes = swarm.nodes;
export const workerJoinToken = swarm.workerJoinToken;
export const managerJoinToken = swarm.managerJoinToken;
export const unlockKey = swarm.unlockKey;
export const addresses = lab.privateAddresses;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
