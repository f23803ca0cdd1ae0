import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../core/host";
import { ContainerRuntimeBase, RuntimeSpec, runtimeUserData } from "./container-runtime";
import {
    DOCKER_ENGINE_PACKAGE_SOURCES,
    DockerEngineSettings,
    DockerEngineSource,
    PlainDockerSettings,
    ResolvedDockerSettings,
    dockerDaemonConfig,
    dockerEnvironment,
    dockerSecretFiles,
    plainDockerSettings,
    resolveDockerSettings,
} from "./docker-engine-settings";

// The settings' names, public as they were when they lived in this file.
export { DOCKER_ENGINE_SOURCES, DEFAULT_DOCKER_CE_VERSION, DEFAULT_LOG_MAX_SIZE, DEFAULT_LOG_MAX_FILES, DOCKER_DAEMON_JSON, DOCKER_CLIENT_CONFIG, resolveDockerSettings, plainDockerSettings, dockerDaemonConfig, dockerClientConfig, dockerEnvironment } from "./docker-engine-settings";
export type { DockerEngineSource, DockerEngineSettings, ResolvedDockerSettings, PlainDockerSettings } from "./docker-engine-settings";

/** Type token of {@link DockerEngine}. */
export const DOCKER_ENGINE_TYPE = "flotilla:runtime:DockerEngine";

/** Arguments of {@link DockerEngine}. */
export interface DockerEngineArgs extends DockerEngineSettings {
    /**
     * The hosts to install Docker on (e.g. a host pool's `hosts`, not the pool itself). Plain: one
     * install per host, named after the host, so adding or removing a host touches only that host.
     */
    readonly hosts: Host[];
    /**
     * Seconds one install on one host may take in total, 60-7200.
     * @default 1800.
     */
    readonly timeoutSeconds?: number;
}

/** Docker Engine as data for the runtime installer. */
const DOCKER_ENGINE_SPEC: RuntimeSpec<DockerEngineSource, ResolvedDockerSettings> = {
    type: DOCKER_ENGINE_TYPE,
    kind: "docker",
    // Docker serves no CRI of its own (its containerd has the CRI plugin off): Kubernetes needs Containerd.
    criSocket: undefined,
    label: "docker engine",
    argsName: "DockerEngineArgs",
    settingsName: "DockerEngineSettings",
    argsKeys: [
        "hosts", "timeoutSeconds", "source", "version", "joinsSwarm", "registryMirrors", "insecureRegistries",
        "registryCredentials", "logMaxSize", "logMaxFiles", "dockerAptUrl", "waitTimeoutSeconds",
    ],
    plainKeys: ["source", "version", "joinsSwarm", "logMaxSize", "logMaxFiles", "dockerAptUrl", "waitTimeoutSeconds", "timeoutSeconds"],
    sources: DOCKER_ENGINE_PACKAGE_SOURCES,
    resolve: (v, args, defaultSource) => resolveDockerSettings(v, args, defaultSource),
    environment: (s) => dockerEnvironment(s as PlainDockerSettings),
    secretFiles: dockerSecretFiles,
    daemon: (s) => ({ liveRestore: s.liveRestore, swarmReady: s.joinsSwarm }),
};

/**
 * Docker Engine installed and configured on each host, over SSH: from Docker's apt repository, the
 * distribution's packages, or verified where it is preinstalled; `daemon.json` with secure
 * defaults. Waits (bounded) for cloud-init and for the apt/dpkg lock, retries downloads, and fails
 * with the last lines of its log, naming the host. A second run changes nothing; a changed
 * configuration only rewrites it and restarts the daemon; a changed pin upgrades in place.
 * Removing the component leaves Docker installed (its containers and data stay).
 *
 * Hand {@link hosts} to the cluster layer: depending on them means "Docker is installed". Hosts
 * report no CRI socket: Kubernetes needs {@link Containerd}.
 */
export class DockerEngine extends ContainerRuntimeBase<DockerEngineSource, ResolvedDockerSettings> {
    /** Always `docker`. */
    public readonly runtime = "docker" as const;
    /** Whether the hosts will join a Swarm (then live-restore is off). */
    public readonly joinsSwarm: boolean;
    /** Whether `live-restore` is on. */
    public readonly liveRestore: boolean;
    /** The `/etc/docker/daemon.json` written on every host. */
    public readonly daemonConfig: pulumi.Output<string>;

    constructor(name: string, args: DockerEngineArgs, opts?: pulumi.ComponentResourceOptions) {
        super(DOCKER_ENGINE_SPEC, name, args, opts);
        this.joinsSwarm = this.settings.joinsSwarm;
        this.liveRestore = this.settings.liveRestore;
        this.daemonConfig = plainDockerSettings(this.settings).apply(dockerDaemonConfig);

        this.registerOutputs({
            runtime: this.runtime,
            source: this.source,
            version: this.version,
            joinsSwarm: this.joinsSwarm,
            liveRestore: this.liveRestore,
            daemonConfig: this.daemonConfig,
            versions: this.versions,
            packages: this.packages,
        });
    }
}

/**
 * The cloud-init fragment installing Docker at first boot: a `#!/bin/bash` user-data part that
 * exports the settings and contains the very script {@link DockerEngine} runs over SSH (it knows it
 * runs inside cloud-init, so it does not wait for it). Give it to a host pool's `userData`. Secret
 * (an Output marked secret) when credentials are given: they are in it. Default source `docker-ce`.
 */
export function dockerEngineUserData(args: DockerEngineSettings = {}): pulumi.Output<string> {
    return runtimeUserData(DOCKER_ENGINE_SPEC, args);
}
