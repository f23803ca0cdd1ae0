/**
 * A lab pool and, when `test:runtime` says so, Docker Engine or containerd on every machine, every
 * setting from config so a test can change one between ups.
 *
 * Config (namespace `test`): poolName, subnet, machines (default 2), runtime (none | docker |
 * containerd; default none), source, version, mirrors and insecure (comma-separated), joinsSwarm,
 * registryUser + registryPassword (secret) for registry.flotilla.test, dockerAptUrl.
 */
import * as pulumi from "@pulumi/pulumi";
import { Containerd, ContainerdSource, DockerEngine, DockerEngineSource, LabHostPool } from "flotilla";

const config = new pulumi.Config("test");
const list = (key: string) => (config.get(key) ?? "").split(",").filter((s) => s !== "");

const lab = new LabHostPool("lab", {
    size: config.getNumber("machines") ?? 2,
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});

const credentials = config.get("registryUser")
    ? [{ registry: "registry.flotilla.test", username: config.require("registryUser"), password: config.requireSecret("registryPassword") }]
    : undefined;
const common = {
    hosts: lab.hosts,
    version: config.get("version"),
    registryMirrors: list("mirrors"),
    insecureRegistries: list("insecure"),
    registryCredentials: credentials,
    dockerAptUrl: config.get("dockerAptUrl"),
    waitTimeoutSeconds: 300,
};

const kind = config.get("runtime") ?? "none";
const runtime =
    kind === "docker"
        ? new DockerEngine("docker", {
              ...common,
              source: config.get("source") as DockerEngineSource | undefined,
              joinsSwarm: config.getBoolean("joinsSwarm"),
          })
        : kind === "containerd"
          ? new Containerd("containerd", { ...common, source: config.get("source") as ContainerdSource | undefined })
          : undefined;

export const names = lab.hosts.map((h) => h.name);
export const addresses = lab.privateAddresses;
export const hostKeys = lab.hosts.map((h) => h.connection.hostKey);
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
export const versions = runtime?.versions;
export const packages = runtime?.packages;
export const source = runtime?.source;
export const daemonConfig = runtime instanceof DockerEngine ? runtime.daemonConfig : undefined;
export const containerdConfig = runtime instanceof Containerd ? runtime.config : undefined;
/** The output hosts' readiness, to prove it is the install. */
export const readyUrns = runtime?.hosts.map((h) => h.ready.map((r) => r.urn));
