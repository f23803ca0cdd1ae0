/**
 * Docker Engine's settings as data for the runtime installer (container-runtime.ts): their
 * validation and defaults, `daemon.json`, the credentials file and the script's environment.
 */
import * as pulumi from "@pulumi/pulumi";
import { Validator } from "../core/validate";
import { ManagedFile, RegistryCredential, dockerHubAlias, encodeFiles, secretFilesOutput } from "./common";
import { ResolvedRuntimeSettings, RuntimeSources, plainRuntimeSettings, resolveRegistrySettings, resolveSource } from "./container-runtime";

/** Where Docker Engine comes from. */
export const DOCKER_ENGINE_SOURCES = ["docker-ce", "distro", "preinstalled"] as const satisfies readonly DockerEngineSource[];
/**
 * - `docker-ce`: Docker's apt repository (`docker-ce`, `docker-ce-cli`, `containerd.io`), version pinned;
 * - `distro`: the distribution's `docker.io` (and its `containerd`), e.g. through a mirror or on an
 *   air-gapped site;
 * - `preinstalled`: install nothing, verify Docker is there (and matches the pin, if given), configure it.
 */
export type DockerEngineSource = "docker-ce" | "distro" | "preinstalled";

/** The Docker Engine version installed from Docker's apt repository unless told otherwise. */
export const DEFAULT_DOCKER_CE_VERSION = "29.2.1";
/** Default size at which a container's JSON log file is rotated. */
export const DEFAULT_LOG_MAX_SIZE = "10m";
/** Default number of rotated JSON log files kept per container. */
export const DEFAULT_LOG_MAX_FILES = 3;

/** Where the daemon configuration is written. */
export const DOCKER_DAEMON_JSON = "/etc/docker/daemon.json";
/** Where registry credentials are written (root's Docker CLI configuration, mode 0600). */
export const DOCKER_CLIENT_CONFIG = "/root/.docker/config.json";

/**
 * Settings of Docker Engine on a host: everything but the hosts. Shared by {@link DockerEngine} and
 * {@link dockerEngineUserData}. Plain values (not Outputs): they are validated before anything is
 * created; only passwords may be Outputs.
 */
export interface DockerEngineSettings {
    /**
     * Where Docker comes from: `docker-ce` (Docker's apt repository), `distro` (the distribution's
     * `docker.io`) or `preinstalled` (verify only).
     * @default `distro` when every host is a lab
     * machine (the lab reaches only the distribution's mirror), `docker-ce` otherwise (and for
     * {@link dockerEngineUserData}).
     */
    readonly source?: DockerEngineSource;
    /**
     * Version pin: an upstream version or its prefix (`29.2.1`, `29.2`) or an exact apt version
     * (`5:29.2.1-1~debian.12~bookworm`, `20.10.24+dfsg1-1+deb12u1+b6`). A pin that apt does not
     * offer fails before anything on the host changes, listing what it offers; a changed pin
     * upgrades (or downgrades) in place; a pinned package is held against unattended upgrades.
     * @default `29.2.1` for `docker-ce`; none for `distro` (the distribution's candidate when first
     * installed, never upgraded by flotilla afterwards) and `preinstalled` (any version).
     */
    readonly version?: string;
    /**
     * The hosts will join a Docker Swarm: `live-restore` is then off, since Docker refuses Swarm
     * mode with it.
     * @default false: `live-restore` on (containers keep running while the daemon
     * restarts, e.g. for a configuration change or an upgrade).
     */
    readonly joinsSwarm?: boolean;
    /**
     * Pull-through mirrors of Docker Hub, as http(s) URLs (`registry-mirrors`).
     * @default none.
     */
    readonly registryMirrors?: string[];
    /**
     * Registries reached over plain HTTP or unverified TLS, as `host[:port]`
     * (`insecure-registries`). Only those listed here.
     * @default none.
     */
    readonly insecureRegistries?: pulumi.Input<string>[];
    /**
     * Credentials for private registries, written to root's `/root/.docker/config.json` (mode
     * 0600), which the Docker CLI (and `docker stack deploy --with-registry-auth`) use. Secret:
     * never in the environment, logs or plain state.
     * @default none.
     */
    readonly registryCredentials?: RegistryCredential[];
    /**
     * Size at which a container's log file is rotated (`10m`, `500k`, `1g`).
     * @default `10m`.
     */
    readonly logMaxSize?: string;
    /**
     * Rotated log files kept per container, 1-100.
     * @default 3.
     */
    readonly logMaxFiles?: number;
    /**
     * Base URL of Docker's apt repository (`<url>/<debian|ubuntu>`), e.g. an internal mirror of it.
     * Used with `docker-ce` only.
     * @default `https://download.docker.com/linux`.
     */
    readonly dockerAptUrl?: string;
    /**
     * Seconds each wait may take before the install fails: cloud-init finishing, another process
     * (unattended-upgrades) releasing the apt/dpkg lock, the daemon answering. 10-3600.
     * @default 600.
     */
    readonly waitTimeoutSeconds?: number;
}


/** Settings after validation and defaults. */
export interface ResolvedDockerSettings extends ResolvedRuntimeSettings<DockerEngineSource> {
    joinsSwarm: boolean;
    liveRestore: boolean;
    logMaxSize: string;
    logMaxFiles: number;
}

/** Where Docker comes from, as data. */
export const DOCKER_ENGINE_PACKAGE_SOURCES: RuntimeSources<DockerEngineSource> = {
    all: DOCKER_ENGINE_SOURCES,
    upstream: "docker-ce",
    distribution: "distro",
    upstreamVersion: DEFAULT_DOCKER_CE_VERSION,
    pinExample: "29.2.1",
    pinExact: "5:29.2.1-1~debian.12~bookworm",
};

/** Validates settings and resolves their defaults; throws naming the property at fault. */
export function resolveDockerSettings(
    v: Validator,
    args: DockerEngineSettings,
    defaultSource: DockerEngineSource,
): ResolvedDockerSettings {
    const { source, version } = resolveSource(v, args, defaultSource, DOCKER_ENGINE_PACKAGE_SOURCES);
    if (args.joinsSwarm !== undefined && typeof args.joinsSwarm !== "boolean") {
        v.fail("joinsSwarm", args.joinsSwarm, "true or false");
    }
    const joinsSwarm = args.joinsSwarm ?? false;
    const logMaxSize = args.logMaxSize ?? DEFAULT_LOG_MAX_SIZE;
    if (typeof logMaxSize !== "string" || !/^[1-9]\d{0,5}[kmg]$/.test(logMaxSize)) {
        v.fail("logMaxSize", logMaxSize, 'a size such as "10m": a number followed by k, m or g');
    }
    const logMaxFiles = v.integer("logMaxFiles", args.logMaxFiles ?? DEFAULT_LOG_MAX_FILES, 1, 100);
    return { source, version, joinsSwarm, liveRestore: !joinsSwarm, logMaxSize, logMaxFiles, ...resolveRegistrySettings(v, args) };
}

/** Settings with every value plain (the insecure registries resolved). */
export type PlainDockerSettings = Omit<ResolvedDockerSettings, "insecureRegistries"> & { insecureRegistries: string[] };

/** Resolves the settings' Outputs. */
export function plainDockerSettings(s: ResolvedDockerSettings): pulumi.Output<PlainDockerSettings> {
    return plainRuntimeSettings(s);
}

/**
 * `/etc/docker/daemon.json` with secure defaults: no `hosts` (the daemon keeps its unix socket
 * only, no TCP), JSON logs rotated, `live-restore` unless the host joins a Swarm, mirrors and
 * insecure registries only when given.
 */
export function dockerDaemonConfig(s: {
    liveRestore: boolean;
    registryMirrors: string[];
    insecureRegistries: string[];
    logMaxSize: string;
    logMaxFiles: number;
}): string {
    const config: Record<string, unknown> = {
        "log-driver": "json-file",
        "log-opts": { "max-size": s.logMaxSize, "max-file": String(s.logMaxFiles) },
        "live-restore": s.liveRestore,
    };
    if (s.registryMirrors.length > 0) config["registry-mirrors"] = s.registryMirrors;
    if (s.insecureRegistries.length > 0) config["insecure-registries"] = s.insecureRegistries;
    return `${JSON.stringify(config, null, 2)}\n`;
}

/** Root's Docker CLI configuration holding the registry credentials. */
export function dockerClientConfig(credentials: { registry: string; username: string; password: string }[]): string {
    const auths: Record<string, { auth: string }> = {};
    for (const c of credentials) {
        const key = dockerHubAlias(c.registry) ? "https://index.docker.io/v1/" : c.registry;
        auths[key] = { auth: Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64") };
    }
    return `${JSON.stringify({ auths }, null, 2)}\n`;
}

/** The plain environment of the script for these settings. */
export function dockerEnvironment(s: PlainDockerSettings): Record<string, string> {
    const env: Record<string, string> = {
        RUNTIME_KIND: "docker",
        RUNTIME_SOURCE: s.source === "docker-ce" ? "upstream" : s.source,
        RUNTIME_VERSION: s.version ?? "",
        RUNTIME_LIVE_RESTORE: String(s.liveRestore),
        RUNTIME_WAIT_TIMEOUT: String(s.waitTimeoutSeconds),
        RUNTIME_FILES: encodeFiles([
            { path: DOCKER_DAEMON_JSON, mode: "0644", restart: true, content: dockerDaemonConfig(s) },
        ]),
    };
    if (s.source === "docker-ce") env.RUNTIME_APT_URL = s.dockerAptUrl;
    return env;
}

/** The credentials file (root's Docker CLI configuration), resolved and encoded; undefined without credentials. */
export function dockerSecretFiles(v: Validator, s: ResolvedDockerSettings): pulumi.Output<string> | undefined {
    return secretFilesOutput(s.registryCredentials, (resolved): ManagedFile[] => [
        { path: DOCKER_CLIENT_CONFIG, mode: "0600", restart: false, content: dockerClientConfig(resolved) },
    ], v);
}
