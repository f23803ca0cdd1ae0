/**
 * Two lab pools whose machines get the runtime only through cloud-init, exactly as cloud VMs would:
 * the DockerEngine fragment on one, the Containerd fragment on the other. The pools' creates wait
 * until cloud-init has finished without error.
 *
 * Config (namespace `test`): dockerPool, dockerSubnet, containerdPool, containerdSubnet, containerdVersion.
 */
import * as pulumi from "@pulumi/pulumi";
import { LabHostPool, containerdUserData, dockerEngineUserData } from "flotilla";

const config = new pulumi.Config("test");

const dockerLab = new LabHostPool("docker-lab", {
    size: 1,
    poolName: config.require("dockerPool"),
    subnet: config.require("dockerSubnet"),
    userData: [dockerEngineUserData({ source: "distro", registryMirrors: ["https://mirror.flotilla.test"] })],
});
const containerdLab = new LabHostPool("containerd-lab", {
    size: 1,
    poolName: config.require("containerdPool"),
    subnet: config.require("containerdSubnet"),
    userData: [containerdUserData({ source: "distro", version: config.get("containerdVersion") })],
});

export const dockerAddresses = dockerLab.privateAddresses;
export const dockerHostKeys = dockerLab.hosts.map((h) => h.connection.hostKey);
export const dockerPrivateKey = dockerLab.sshPrivateKey;
export const dockerUser = dockerLab.sshUser;
export const containerdAddresses = containerdLab.privateAddresses;
export const containerdHostKeys = containerdLab.hosts.map((h) => h.connection.hostKey);
export const containerdPrivateKey = containerdLab.sshPrivateKey;
export const containerdUser = containerdLab.sshUser;
