import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../core/host";
import { ContainerRuntimeBase, RuntimeSpec, runtimeUserData } from "./container-runtime";
import {
    CONTAINERD_CRI_SOCKET,
    CONTAINERD_PACKAGE_SOURCES,
    ContainerdSettings,
    ContainerdSource,
    PlainContainerdSettings,
    ResolvedContainerdSettings,
    containerdConfig,
    containerdEnvironment,
    containerdSecretFiles,
    resolveContainerdSettings,
} from "./containerd-settings";

// The settings' names, public as they were when they lived in this file.
export { CONTAINERD_SOURCES, DEFAULT_CONTAINERD_IO_VERSION, CONTAINERD_CONFIG, CONTAINERD_DROPIN_DIR, CONTAINERD_CERTS_DIR, plainContainerdSettings, CONTAINERD_CRI_SOCKET, resolveContainerdSettings, containerdConfig, containerdRegistryHosts, containerdEnvironment } from "./containerd-settings";
export type { ContainerdSource, ContainerdSettings, ResolvedContainerdSettings, PlainContainerdSettings } from "./containerd-settings";

/** Type token of {@link Containerd}. */
export const CONTAINERD_TYPE = "flotilla:runtime:Containerd";

/** Arguments of {@link Containerd}. */
export interface ContainerdArgs extends ContainerdSettings {
    /** The hosts to install containerd on (plain; one install per host, named after it). */
    readonly hosts: Host[];
    /**
     * Seconds one install on one host may take in total, 60-7200.
     * @default 1800.
     */
    readonly timeoutSeconds?: number;
}

/** containerd as data for the runtime installer. */
const CONTAINERD_SPEC: RuntimeSpec<ContainerdSource, ResolvedContainerdSettings> = {
    type: CONTAINERD_TYPE,
    kind: "containerd",
    criSocket: CONTAINERD_CRI_SOCKET,
    label: "containerd",
    argsName: "ContainerdArgs",
    settingsName: "ContainerdSettings",
    argsKeys: [
        "hosts", "timeoutSeconds", "source", "version", "systemdCgroup", "registryMirrors", "insecureRegistries",
        "registryCredentials", "dockerAptUrl", "waitTimeoutSeconds",
    ],
    plainKeys: ["source", "version", "systemdCgroup", "dockerAptUrl", "waitTimeoutSeconds", "timeoutSeconds"],
    sources: CONTAINERD_PACKAGE_SOURCES,
    resolve: (v, args, defaultSource) => resolveContainerdSettings(v, args, defaultSource),
    environment: (s) => containerdEnvironment(s as PlainContainerdSettings),
    secretFiles: containerdSecretFiles,
    // No live-restore (a Docker setting), never a Swarm node (Swarm needs Docker).
    daemon: () => ({ liveRestore: false, swarmReady: false }),
};

/**
 * containerd installed and configured on each host, over SSH: from Docker's apt repository
 * (`containerd.io`), the distribution's `containerd`, or verified where it is preinstalled; its
 * `config.toml` with the systemd cgroup driver option, registry mirrors and insecure registries.
 * Same robustness and idempotence as {@link DockerEngine}. Removing the component leaves
 * containerd installed.
 *
 * Hand {@link hosts} to the cluster layer: depending on them means "containerd is installed";
 * each reports containerd's CRI socket (`unix:///run/containerd/containerd.sock`) for a kubelet.
 */
export class Containerd extends ContainerRuntimeBase<ContainerdSource, ResolvedContainerdSettings> {
    /** Always `containerd`. */
    public readonly runtime = "containerd" as const;
    /** Whether runc uses the systemd cgroup driver. */
    public readonly systemdCgroup: boolean;
    /** The `config.toml` written on every host (without the credentials sections, if any). */
    public readonly config: string;

    constructor(name: string, args: ContainerdArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CONTAINERD_SPEC, name, args, opts);
        this.systemdCgroup = this.settings.systemdCgroup;
        this.config = containerdConfig(this.settings);

        this.registerOutputs({
            runtime: this.runtime,
            source: this.source,
            version: this.version,
            systemdCgroup: this.systemdCgroup,
            config: this.config,
            versions: this.versions,
            packages: this.packages,
        });
    }
}

/**
 * The cloud-init fragment installing containerd at first boot: a `#!/bin/bash` user-data part with
 * the settings and the very script {@link Containerd} runs over SSH. Give it to a host pool's
 * `userData`. Secret when credentials are given. Default source `containerd.io`.
 */
export function containerdUserData(args: ContainerdSettings = {}): pulumi.Output<string> {
    return runtimeUserData(CONTAINERD_SPEC, args);
}
