/**
 * 3 managers + 2 workers with Docker in one Swarm, and (when test:withApp is true) the demo web app
 * on it: a global service publishing 8080 in host mode (every node answers). Config (namespace
 * `test`): poolName, subnet, withApp, image, replicas mode, unhealthy image handling via image.
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, LabHostPool, SwarmApp, SwarmCluster } from "flotilla";

const config = new pulumi.Config("test");
const lab = new LabHostPool("lab", {
    size: 5,
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});

const withDocker = new DockerEngine("docker", { hosts: lab.hosts, joinsSwarm: true }).hosts;

const swarm = new SwarmCluster("swarm", {
    managers: withDocker.slice(0, 3),
    workers: withDocker.slice(3),
    workerLabels: { role: "worker" },
});

const app = config.getBoolean("withApp")
    ? new SwarmApp("demo", {
          cluster: swarm,
          resolveImage: "never",
          convergeTimeoutSeconds: 240,
          publishMode: "host",
          secrets: { greeting: config.requireSecret("greeting") },
          services: {
              web: {
                  image: config.require("image"),
                  mode: "global",
                  ports: [{ target: 8080, published: 8080 }],
                  secrets: ["greeting"],
                  resources: { limits: { cpu: "0.25", memory: "32Mi" } },
                  healthcheck: { command: ["/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "2s", retries: 2, startPeriod: "2s" },
                  update: { parallelism: 1, delay: "2s", order: "stop-first", failureAction: "rollback", monitor: "8s" },
              },
              // Reached by name only, over the app's network: the web tasks find it at host name "db"
              // (the lab kernel has no IPVS, so the cluster reports no VIP and discovery is DNS
              // round-robin).
              db: {
                  image: "flotilla-demo:v1",
                  replicas: 1,
                  expose: [8080],
              },
              // One replica on a worker: when that worker dies, the task must move to the other.
              api: {
                  image: "flotilla-demo:v1",
                  replicas: 1,
                  ports: [{ target: 8080, published: 8081 }],
                  placement: ["role==worker"],
              },
          },
      })
    : undefined;

export const services = app?.services;
export const stackName = app?.stackName;
export const capabilities = swarm.capabilities;
export const addresses = lab.privateAddresses;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
