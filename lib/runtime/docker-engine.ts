import * as pulumi from "@pulumi/pulumi";
import type { Host, RuntimeHost } from "../core/host";
import { Validator } from "../core/validate";
import {
    ManagedFile,
    PlainRegistryCredential,
    RegistryCredential,
    dockerHubAlias,
    encodeFiles,
    installOnHosts,
    settingsPerHost,
    secretFilesOutput,
    userDataPart,
    validateAptUrl,
    validateCredentials,
    validateHosts,
    validateInsecure,
    validateMirrors,
    validateTimeouts,
    validateVersion,
} from "./common";

/** Type token of {@link DockerEngine}. */
export const DOCKER_ENGINE_TYPE = "flotilla:runtime:DockerEngine";

/** Where Docker Engine comes from. */
export const DOCKER_ENGINE_SOURCES = ["docker-ce", "distro", "preinstalled"] as const;
/**
 * - `docker-ce`: Docker's apt repository (`docker-ce`, `docker-ce-cli`, `containerd.io`), version pinned;
 * - `distro`: the distribution's `docker.io` (and its `containerd`), e.g. through a mirror or on an
 *   air-gapped site;
 * - `preinstalled`: install nothing, verify Docker is there (and matches the pin, if given), configure it.
 */
export type DockerEngineSource = (typeof DOCKER_ENGINE_SOURCES)[number];

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
     * `docker.io`) or `preinstalled` (verify only). Default: `distro` when every host is a lab
     * machine (the lab reaches only the distribution's mirror), `docker-ce` otherwise (and for
     * {@link dockerEngineUserData}).
     */
    readonly source?: DockerEngineSource;
    /**
     * Version pin: an upstream version or its prefix (`29.2.1`, `29.2`) or an exact apt version
     * (`5:29.2.1-1~debian.12~bookworm`, `20.10.24+dfsg1-1+deb12u1+b6`). A pin that apt does not
     * offer fails before anything on the host changes, listing what it offers; a changed pin
     * upgrades (or downgrades) in place; a pinned package is held against unattended upgrades.
     * Default: `29.2.1` for `docker-ce`; none for `distro` (the distribution's candidate when first
     * installed, never upgraded by flotilla afterwards) and `preinstalled` (any version).
     */
    readonly version?: string;
    /**
     * The hosts will join a Docker Swarm: `live-restore` is then off, since Docker refuses Swarm
     * mode with it. Default false: `live-restore` on (containers keep running while the daemon
     * restarts, e.g. for a configuration change or an upgrade).
     */
    readonly joinsSwarm?: boolean;
    /** Pull-through mirrors of Docker Hub, as http(s) URLs (`registry-mirrors`). Default none. */
    readonly registryMirrors?: string[];
    /**
     * Registries reached over plain HTTP or unverified TLS, as `host[:port]`
     * (`insecure-registries`). Only those listed here. Default none.
     */
    readonly insecureRegistries?: pulumi.Input<string>[];
    /**
     * Credentials for private registries, written to root's `/root/.docker/config.json` (mode
     * 0600), which the Docker CLI (and `docker stack deploy --with-registry-auth`) use. Secret:
     * never in the environment, logs or plain state. Default none.
     */
    readonly registryCredentials?: RegistryCredential[];
    /** Size at which a container's log file is rotated (`10m`, `500k`, `1g`). Default `10m`. */
    readonly logMaxSize?: string;
    /** Rotated log files kept per container, 1-100. Default 3. */
    readonly logMaxFiles?: number;
    /**
     * Base URL of Docker's apt repository (`<url>/<debian|ubuntu>`), e.g. an internal mirror of it.
     * Used with `docker-ce` only. Default `https://download.docker.com/linux`.
     */
    readonly dockerAptUrl?: string;
    /**
     * Seconds each wait may take before the install fails: cloud-init finishing, another process
     * (unattended-upgrades) releasing the apt/dpkg lock, the daemon answering. 10-3600. Default 600.
     */
    readonly waitTimeoutSeconds?: number;
}

/** Arguments of {@link DockerEngine}. */
export interface DockerEngineArgs extends DockerEngineSettings {
    /**
     * The hosts to install Docker on (e.g. a host pool's `hosts`, not the pool itself). Plain: one
     * install per host, named after the host, so adding or removing a host touches only that host.
     */
    readonly hosts: Host[];
    /** Seconds one install on one host may take in total, 60-7200. Default 1800. */
    readonly timeoutSeconds?: number;
}

/** Properties of {@link DockerEngineArgs}. */
const DOCKER_ENGINE_KEYS = [
    "hosts", "timeoutSeconds", "source", "version", "joinsSwarm", "registryMirrors", "insecureRegistries",
    "registryCredentials", "logMaxSize", "logMaxFiles", "dockerAptUrl", "waitTimeoutSeconds",
];
/** Properties of {@link DockerEngineSettings}. */
const DOCKER_SETTINGS_KEYS = DOCKER_ENGINE_KEYS.filter((k) => k !== "hosts" && k !== "timeoutSeconds");

/** Settings after validation and defaults. */
export interface ResolvedDockerSettings {
    source: DockerEngineSource;
    version: string | undefined;
    joinsSwarm: boolean;
    liveRestore: boolean;
    registryMirrors: string[];
    /** Resolved when every Output among them is. */
    insecureRegistries: pulumi.Output<string[]>;
    registryCredentials: PlainRegistryCredential[];
    logMaxSize: string;
    logMaxFiles: number;
    dockerAptUrl: string;
    waitTimeoutSeconds: number;
}

/** Validates settings and resolves their defaults; throws naming the property at fault. */
export function resolveDockerSettings(
    v: Validator,
    args: DockerEngineSettings,
    defaultSource: DockerEngineSource,
): ResolvedDockerSettings {
    const source = v.oneOf("source", args.source ?? defaultSource, DOCKER_ENGINE_SOURCES);
    const pin = validateVersion(v, args.version, "29.2.1", "5:29.2.1-1~debian.12~bookworm");
    if (args.joinsSwarm !== undefined && typeof args.joinsSwarm !== "boolean") {
        v.fail("joinsSwarm", args.joinsSwarm, "true or false");
    }
    const joinsSwarm = args.joinsSwarm ?? false;
    const logMaxSize = args.logMaxSize ?? DEFAULT_LOG_MAX_SIZE;
    if (typeof logMaxSize !== "string" || !/^[1-9]\d{0,5}[kmg]$/.test(logMaxSize)) {
        v.fail("logMaxSize", logMaxSize, 'a size such as "10m": a number followed by k, m or g');
    }
    return {
        source,
        version: pin ?? (source === "docker-ce" ? DEFAULT_DOCKER_CE_VERSION : undefined),
        joinsSwarm,
        liveRestore: !joinsSwarm,
        registryMirrors: validateMirrors(v, "registryMirrors", args.registryMirrors),
        insecureRegistries: validateInsecure(v, "insecureRegistries", args.insecureRegistries),
        registryCredentials: validateCredentials(v, "registryCredentials", args.registryCredentials),
        logMaxSize,
        logMaxFiles: v.integer("logMaxFiles", args.logMaxFiles ?? DEFAULT_LOG_MAX_FILES, 1, 100),
        dockerAptUrl: validateAptUrl(v, args.dockerAptUrl),
        waitTimeoutSeconds: validateTimeouts(v, args).wait,
    };
}

/**
 * `/etc/docker/daemon.json` with secure defaults: no `hosts` (the daemon keeps its unix socket
 * only, no TCP), JSON logs rotated, `live-restore` unless the host joins a Swarm, mirrors and
 * insecure registries only when given.
 */
/** Settings with every value plain (the insecure registries resolved). */
export type PlainDockerSettings = Omit<ResolvedDockerSettings, "insecureRegistries"> & { insecureRegistries: string[] };

/** Resolves the settings' Outputs. */
export function plainDockerSettings(s: ResolvedDockerSettings): pulumi.Output<PlainDockerSettings> {
    return s.insecureRegistries.apply((insecureRegistries) => ({ ...s, insecureRegistries }));
}

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

function dockerSecretFiles(s: ResolvedDockerSettings): pulumi.Output<string> | undefined {
    return secretFilesOutput(s.registryCredentials, (resolved): ManagedFile[] => [
        { path: DOCKER_CLIENT_CONFIG, mode: "0600", restart: false, content: dockerClientConfig(resolved) },
    ]);
}

/**
 * Docker Engine installed and configured on each host, over SSH: from Docker's apt repository, the
 * distribution's packages, or verified where it is preinstalled; `daemon.json` with secure
 * defaults. Waits (bounded) for cloud-init and for the apt/dpkg lock, retries downloads, and fails
 * with the last lines of its log, naming the host. A second run changes nothing; a changed
 * configuration only rewrites it and restarts the daemon; a changed pin upgrades in place.
 * Removing the component leaves Docker installed (its containers and data stay).
 *
 * Hand {@link hosts} to the cluster layer: depending on them means "Docker is installed".
 */
export class DockerEngine extends pulumi.ComponentResource {
    /** The input hosts, each one's `ready` replaced by its Docker install, with what was installed. */
    public readonly hosts: RuntimeHost[];
    /** Always `docker`. */
    public readonly runtime = "docker" as const;
    /**
     * Where Docker comes from: the given `source`, else each host's default from its facts
     * (`distro` for a host that reaches only its distribution's mirror, `docker-ce` otherwise);
     * `per-host` when those differ ({@link sources} has each).
     */
    public readonly source: DockerEngineSource | "per-host";
    /** Where Docker comes from, per host name. */
    public readonly sources: Record<string, DockerEngineSource>;
    /** The version pin, or undefined for none. */
    public readonly version: string | undefined;
    /** Whether the hosts will join a Swarm (then live-restore is off). */
    public readonly joinsSwarm: boolean;
    /** Whether `live-restore` is on. */
    public readonly liveRestore: boolean;
    /** Docker Hub mirrors configured. */
    public readonly registryMirrors: string[];
    /** Insecure registries configured. */
    public readonly insecureRegistries: pulumi.Output<string[]>;
    /** The `/etc/docker/daemon.json` written on every host. */
    public readonly daemonConfig: pulumi.Output<string>;
    /** Version the Docker daemon reports, per host name (e.g. `20.10.24+dfsg1`). */
    public readonly versions: pulumi.Output<Record<string, string>>;
    /** Installed package and its apt version, per host name (e.g. `docker.io=20.10.24+dfsg1-1+deb12u1+b6`). */
    public readonly packages: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: DockerEngineArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(DOCKER_ENGINE_TYPE, name);
        v.args(args, DOCKER_ENGINE_KEYS, "DockerEngineArgs");
        for (const key of ["source", "version", "joinsSwarm", "logMaxSize", "logMaxFiles", "dockerAptUrl", "waitTimeoutSeconds", "timeoutSeconds"] as const) {
            v.plain(key, args[key], "it is checked before anything is installed");
        }
        const hosts = validateHosts(v, args.hosts);
        const s = resolveDockerSettings(v, args, "docker-ce");
        // Each host's own default source, from its facts, unless one is given.
        const hostSettings = settingsPerHost(hosts, args.source, (source) => resolveDockerSettings(v, { ...args, source }, "docker-ce"), {
            distribution: "distro",
            upstream: "docker-ce",
        });
        const perHost = hostSettings.perHost;
        const { total } = validateTimeouts(v, args);

        super(DOCKER_ENGINE_TYPE, name, {}, opts);

        this.sources = hostSettings.sources;
        this.source = hostSettings.source;
        this.version = hostSettings.version;
        this.joinsSwarm = s.joinsSwarm;
        this.liveRestore = s.liveRestore;
        this.registryMirrors = s.registryMirrors;
        this.insecureRegistries = s.insecureRegistries;
        this.daemonConfig = plainDockerSettings(s).apply(dockerDaemonConfig);

        const installed = installOnHosts(
            this,
            name,
            "docker engine",
            hosts,
            (i) => plainDockerSettings(perHost[i]).apply(dockerEnvironment),
            dockerSecretFiles(s),
            total,
            { kind: "docker", liveRestore: s.liveRestore, swarmReady: s.joinsSwarm },
        );
        this.hosts = installed.hosts;
        this.versions = installed.versions;
        this.packages = installed.packages;

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
    const v: Validator = new Validator(DOCKER_ENGINE_TYPE, "userData");
    v.args(args, DOCKER_SETTINGS_KEYS, "DockerEngineSettings");
    const s = resolveDockerSettings(v, args, "docker-ce");
    const env = plainDockerSettings(s).apply(dockerEnvironment);
    const secret = dockerSecretFiles(s);
    if (!secret) return env.apply((e) => userDataPart("docker engine", e));
    return pulumi.secret(pulumi.all([env, secret]).apply(([e, files]) => userDataPart("docker engine", { ...e, RUNTIME_SECRET_FILES: files })));
}
