/**
 * The stack the security checks look at: one lab pool of 4 machines; machines 0-2 get Docker and
 * form a Swarm of 3 managers, machine 3 runs a LabRegistry whose password is the secret config
 * `test:registryPassword` (known to the test, so its scans can find it), with the demo image pushed
 * into it; the Docker engines trust that registry and log in to it (the password reaches every
 * node). Config (namespace `test`): poolName, subnet, registryAddress (machine 3's address and
 * port 5000, plain as the credentials need it), registryPassword (secret).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, LabHostPool, LabRegistry, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const lab = new LabHostPool("lab", {
    size: 4,
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});
const registry = new LabRegistry("registry", {
    host: lab.hosts[3],
    images: ["flotilla-demo:v1"],
    password: config.requireSecret("registryPassword"),
});

const withDocker = new DockerEngine("docker", {
    hosts: lab.hosts.slice(0, 3),
    joinsSwarm: true,
    insecureRegistries: [registry.address],
    // Plain: the address machine 3 gets (the test computes it from the subnet).
    registryCredentials: [{ registry: config.require("registryAddress"), username: registry.username, password: registry.password }],
}).hosts;

const swarm = new SwarmCluster("swarm", { managers: withDocker, labels: { env: "test" } });

export const addresses = lab.privateAddresses;
export const names = lab.hosts.map((h) => h.name);
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
export const registryAddress = registry.address;
export const registryPassword = registry.password;
export const imageRefs = registry.imageRefs;
export const workerJoinToken = swarm.workerJoinToken;
export const managerJoinToken = swarm.managerJoinToken;
