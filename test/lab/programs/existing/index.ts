/**
 * Machines that already exist (made by the test with plain `docker`, outside Pulumi), adopted with
 * ExistingHosts beside a LabHostPool of one machine on another network; Docker on all three, one
 * Swarm (the lab machine manages, the existing machines work) and the demo app on it.
 *
 * Config (namespace `test`): poolName, subnet (the lab pool's), stage (`lab`: the pool only;
 * `cluster`: + ExistingHosts, Docker and the Swarm; `app`: + the app), machines (JSON list of
 * { name, address, user, hostKey? }), keys (secret, JSON list of private keys, same order),
 * wrongPin (a host key to pin for the first machine instead of its own; default none).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, ExistingHosts, LabHostPool, SwarmApp, SwarmCluster } from "flotilla";

interface Machine {
    name: string;
    address: string;
    user: string;
    hostKey?: string;
}

const config = new pulumi.Config("test");
const stage = config.require("stage");
const lab = new LabHostPool("lab", { size: 1, poolName: config.require("poolName"), subnet: config.require("subnet") });

export const labAddresses = lab.privateAddresses;
export const labHostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const labPrivateKey = lab.sshPrivateKey;
export const labUser = lab.sshUser;

let existing: ExistingHosts | undefined;
let swarm: SwarmCluster | undefined;
let app: SwarmApp | undefined;
if (stage !== "lab") {
    const machines = config.requireObject<Machine[]>("machines");
    const keys = config.requireSecretObject<string[]>("keys");
    const wrongPin = config.get("wrongPin");
    existing = new ExistingHosts("site", {
        packageAccess: "distribution",
        labels: { site: "lab-annex" },
        machines: machines.map((m, i) => ({
            name: m.name,
            address: m.address,
            user: m.user,
            privateKey: keys.apply((k) => k[i]),
            ...(i === 0 && wrongPin ? { hostKey: wrongPin } : m.hostKey ? { hostKey: m.hostKey } : {}),
        })),
    });
    const docker = new DockerEngine("docker", { hosts: [...lab.hosts, ...existing.hosts], joinsSwarm: true }).hosts;
    swarm = new SwarmCluster("swarm", { managers: docker.slice(0, 1), workers: docker.slice(1), drainTimeoutSeconds: 60 });
    if (stage === "app") {
        app = new SwarmApp("demo", {
            cluster: swarm,
            resolveImage: "never",
            convergeTimeoutSeconds: 120,
            publishMode: "host",
            services: {
                web: { image: "flotilla-demo:v1", mode: "global", ports: [{ target: 8080, published: 8080 }] },
                // Only where the machines already existed.
                site: { image: "flotilla-demo:v1", replicas: 2, placement: ["provider==existing"], ports: [{ target: 8080, published: 8081 }] },
            },
        });
    }
}

export const existingHostKeys = existing?.hostKeys;
export const platforms = existing?.platforms;
export const instanceIds = existing ? pulumi.all(existing.hosts.map((h) => h.instanceId)) : undefined;
export const nodes = swarm?.nodes;
export const advertisedAddresses = swarm?.advertisedAddresses;
export const services = app?.services;
