/**
 * A user's program: flotilla installed from its packed npm package (never from the repository),
 * the root program's story in small. Lab machines → Docker on all but the last → a Swarm of one
 * manager and the other machines as workers → the demo image, pushed into a registry on the last
 * machine and served on port 8080 of every node.
 *
 * Config (namespace `test`): poolName, subnet, machines (at least 3: the registry and two nodes).
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, LabHostPool, LabRegistry, SwarmApp, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const machines = config.requireNumber("machines");
const nodes = machines - 1;

const lab = new LabHostPool("lab", { size: machines, poolName: config.require("poolName"), subnet: config.require("subnet") });
const registry = new LabRegistry("registry", { host: lab.hosts[nodes], images: ["flotilla-demo:v1"] });
const docker = new DockerEngine("docker", {
    hosts: lab.hosts.slice(0, nodes),
    joinsSwarm: true,
    insecureRegistries: [registry.address],
});
const swarm = new SwarmCluster("swarm", { managers: docker.hosts.slice(0, 1), workers: docker.hosts.slice(1) });
const app = new SwarmApp("demo", {
    cluster: swarm,
    registryAuth: { server: registry.address, username: registry.username, password: registry.password },
    publishMode: "host",
    services: {
        web: {
            image: registry.imageRef("flotilla-demo:v1"),
            mode: "global",
            ports: [{ target: 8080, published: 8080 }],
            update: { order: "stop-first", delay: "1s" },
        },
    },
});

export const urls = pulumi.all(lab.hosts.slice(0, nodes).map((h) => pulumi.interpolate`http://${h.privateAddress}:8080/`));
export const services = app.services;
export const capabilities = swarm.capabilities;
