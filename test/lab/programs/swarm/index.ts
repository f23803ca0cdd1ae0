/**
 * Lab machines with Docker, joined into one Swarm. Config (namespace `test`): poolName, subnet,
 * machines (pool size), managers, workers (how many of the machines are managers / workers,
 * managers first).
 */
import * as pulumi from "@pulumi/pulumi";
import { LabHostPool } from "../../../../lib/hosts/lab";
import { SwarmCluster } from "../../../../lib/cluster/swarm";
import { Host } from "../../../../lib/hosts/host";
import { RemoteScript } from "../../../../lib/shared/remote-script";

const config = new pulumi.Config("test");
const managers = config.requireNumber("managers");
const workers = config.requireNumber("workers");
const lab = new LabHostPool("lab", {
    size: config.requireNumber("machines"),
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});

// TEMPORARY until DockerEngine lands: Debian's docker.io, nothing else.
const withDocker: Host[] = lab.hosts.map((h) => {
    const install = new RemoteScript(
        `docker-${h.name}`,
        {
            connection: h.connection,
            script: `set -euo pipefail
case "$FLOTILLA_PHASE" in
  create|update) command -v dockerd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null; }
    systemctl enable --now docker >/dev/null; docker version --format '{{.Server.Version}}' ;;
  read) command -v dockerd >/dev/null || exit 3 ;;
  delete) ;;
esac`,
            target: `docker on ${h.name}`,
            triggers: [h.instanceId],
        },
        { dependsOn: h.ready },
    );
    return { ...h, ready: [install] };
});

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
