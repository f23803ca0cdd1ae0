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

/** Type token of {@link Containerd}. */
export const CONTAINERD_TYPE = "flotilla:runtime:Containerd";

/** Where containerd comes from. */
export const CONTAINERD_SOURCES = ["containerd.io", "distro", "preinstalled"] as const;
/**
 * - `containerd.io`: Docker's apt repository (the `containerd.io` package), version pinned;
 * - `distro`: the distribution's `containerd`, e.g. through a mirror or on an air-gapped site;
 * - `preinstalled`: install nothing, verify containerd is there (and matches the pin, if given), configure it.
 */
export type ContainerdSource = (typeof CONTAINERD_SOURCES)[number];

/** The containerd version (prefix) installed from Docker's apt repository unless told otherwise. */
export const DEFAULT_CONTAINERD_IO_VERSION = "1.7";

/** Where containerd's configuration is written. */
export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";
/** Directory of drop-in configuration files `config.toml` imports (`*.toml`), for other layers. */
export const CONTAINERD_DROPIN_DIR = "/etc/containerd/conf.d";
/** Directory of per-registry `hosts.toml` files (mirrors, insecure registries). */
export const CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d";

/**
 * Settings of containerd on a host: everything but the hosts. Shared by {@link Containerd} and
 * {@link containerdUserData}. Plain values (validated before anything is created); only passwords
 * may be Outputs.
 */
export interface ContainerdSettings {
    /**
     * Where containerd comes from: `containerd.io` (Docker's apt repository), `distro` (the
     * distribution's `containerd`) or `preinstalled` (verify only). Default: `distro` when every
     * host is a lab machine, `containerd.io` otherwise (and for {@link containerdUserData}).
     */
    readonly source?: ContainerdSource;
    /**
     * Version pin: an upstream version or its prefix (`1.7`, `1.7.28`) or an exact apt version
     * (`1.6.20~ds1-1+deb12u3`). A pin apt does not offer fails before anything on the host changes,
     * listing what it offers; a changed pin upgrades (or downgrades) in place; a pinned package is
     * held. Default: `1.7` for `containerd.io`; none for `distro` and `preinstalled`.
     */
    readonly version?: string;
    /**
     * Use the systemd cgroup driver for runc (`SystemdCgroup`), as the kubelet expects on systemd
     * hosts. Default true.
     */
    readonly systemdCgroup?: boolean;
    /** Pull-through mirrors of Docker Hub, as http(s) URLs (`certs.d/docker.io/hosts.toml`). Default none. */
    readonly registryMirrors?: string[];
    /**
     * Registries reached over unverified TLS or plain HTTP, as `host[:port]`
     * (`certs.d/<host[:port]>/hosts.toml`). Only those listed here. Default none.
     */
    readonly insecureRegistries?: pulumi.Input<string>[];
    /**
     * Credentials for private registries, used by the CRI plugin (Kubernetes pulls). They are put
     * in `config.toml`, which is then mode 0600. Secret everywhere. Default none.
     */
    readonly registryCredentials?: RegistryCredential[];
    /**
     * Base URL of Docker's apt repository (`<url>/<debian|ubuntu>`), used with `containerd.io` only.
     * Default `https://download.docker.com/linux`.
     */
    readonly dockerAptUrl?: string;
    /**
     * Seconds each wait may take before the install fails: cloud-init, the apt/dpkg lock, the
     * daemon answering. 10-3600. Default 600.
     */
    readonly waitTimeoutSeconds?: number;
}

/** Arguments of {@link Containerd}. */
export interface ContainerdArgs extends ContainerdSettings {
    /** The hosts to install containerd on (plain; one install per host, named after it). */
    readonly hosts: Host[];
    /** Seconds one install on one host may take in total, 60-7200. Default 1800. */
    readonly timeoutSeconds?: number;
}

/** Settings after validation and defaults. */
export interface ResolvedContainerdSettings {
    source: ContainerdSource;
    version: string | undefined;
    systemdCgroup: boolean;
    registryMirrors: string[];
    /** Resolved when every Output among them is. */
    insecureRegistries: pulumi.Output<string[]>;
    registryCredentials: PlainRegistryCredential[];
    dockerAptUrl: string;
    waitTimeoutSeconds: number;
}

/** Settings with every value plain (the insecure registries resolved). */
export type PlainContainerdSettings = Omit<ResolvedContainerdSettings, "insecureRegistries"> & { insecureRegistries: string[] };

/** Resolves the settings' Outputs. */
export function plainContainerdSettings(s: ResolvedContainerdSettings): pulumi.Output<PlainContainerdSettings> {
    return s.insecureRegistries.apply((insecureRegistries) => ({ ...s, insecureRegistries }));
}

/** Properties of {@link ContainerdArgs}. */
const CONTAINERD_KEYS = [
    "hosts", "timeoutSeconds", "source", "version", "systemdCgroup", "registryMirrors", "insecureRegistries",
    "registryCredentials", "dockerAptUrl", "waitTimeoutSeconds",
];
/** Properties of {@link ContainerdSettings}. */
const CONTAINERD_SETTINGS_KEYS = CONTAINERD_KEYS.filter((k) => k !== "hosts" && k !== "timeoutSeconds");

/** The CRI endpoint containerd serves. */
export const CONTAINERD_CRI_SOCKET = "unix:///run/containerd/containerd.sock";

/** Validates settings and resolves their defaults; throws naming the property at fault. */
export function resolveContainerdSettings(
    v: Validator,
    args: ContainerdSettings,
    defaultSource: ContainerdSource,
): ResolvedContainerdSettings {
    const source = v.oneOf("source", args.source ?? defaultSource, CONTAINERD_SOURCES);
    const pin = validateVersion(v, args.version, "1.7.28", "1.6.20~ds1-1+deb12u3");
    if (args.systemdCgroup !== undefined && typeof args.systemdCgroup !== "boolean") {
        v.fail("systemdCgroup", args.systemdCgroup, "true or false");
    }
    return {
        source,
        version: pin ?? (source === "containerd.io" ? DEFAULT_CONTAINERD_IO_VERSION : undefined),
        systemdCgroup: args.systemdCgroup ?? true,
        registryMirrors: validateMirrors(v, "registryMirrors", args.registryMirrors),
        insecureRegistries: validateInsecure(v, "insecureRegistries", args.insecureRegistries),
        registryCredentials: validateCredentials(v, "registryCredentials", args.registryCredentials),
        dockerAptUrl: validateAptUrl(v, args.dockerAptUrl),
        waitTimeoutSeconds: validateTimeouts(v, args).wait,
    };
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

/**
 * containerd's `config.toml` (version 2, read by containerd 1.6 to 2.x): runc through the CRI
 * plugin with the systemd cgroup driver option, registries configured per host under
 * `/etc/containerd/certs.d`, and, when given, registry credentials.
 */
export function containerdConfig(
    s: { systemdCgroup: boolean },
    credentials: { registry: string; username: string; password: string }[] = [],
): string {
    const lines = [
        "# Managed by flotilla (Containerd): rewritten whenever its settings change.",
        "version = 2",
        "# Drop-ins of other layers (e.g. the kubeadm cluster's CRI settings); a plugin section there",
        "# replaces this file's one whole.",
        `imports = ["${CONTAINERD_DROPIN_DIR}/*.toml"]`,
        "",
        `[${CRI}.containerd]`,
        '  default_runtime_name = "runc"',
        "",
        `[${CRI}.containerd.runtimes.runc]`,
        '  runtime_type = "io.containerd.runc.v2"',
        "",
        `[${CRI}.containerd.runtimes.runc.options]`,
        `  SystemdCgroup = ${s.systemdCgroup}`,
        "",
        `[${CRI}.registry]`,
        `  config_path = "${CONTAINERD_CERTS_DIR}"`,
    ];
    for (const c of credentials) {
        const host = dockerHubAlias(c.registry) ? "registry-1.docker.io" : c.registry;
        lines.push(
            "",
            `[${CRI}.registry.configs.${JSON.stringify(host)}.auth]`,
            `  username = ${JSON.stringify(c.username)}`,
            `  password = ${JSON.stringify(c.password)}`,
        );
    }
    return `${lines.join("\n")}\n`;
}

/** The `hosts.toml` files: Docker Hub's mirrors, and each insecure registry. */
export function containerdRegistryHosts(s: { registryMirrors: string[]; insecureRegistries: string[] }): ManagedFile[] {
    const files: ManagedFile[] = [];
    const header = "# Managed by flotilla (Containerd).";
    if (s.registryMirrors.length > 0) {
        const lines = [header, 'server = "https://registry-1.docker.io"'];
        for (const m of s.registryMirrors) {
            lines.push("", `[host.${JSON.stringify(m)}]`, '  capabilities = ["pull", "resolve"]');
        }
        files.push({ path: `${CONTAINERD_CERTS_DIR}/docker.io/hosts.toml`, mode: "0644", restart: false, content: `${lines.join("\n")}\n` });
    }
    for (const r of s.insecureRegistries) {
        const lines = [
            header,
            `server = "https://${r}"`,
            "",
            `[host."https://${r}"]`,
            '  capabilities = ["pull", "resolve", "push"]',
            "  skip_verify = true",
            "",
            `[host."http://${r}"]`,
            '  capabilities = ["pull", "resolve", "push"]',
        ];
        files.push({ path: `${CONTAINERD_CERTS_DIR}/${r}/hosts.toml`, mode: "0644", restart: false, content: `${lines.join("\n")}\n` });
    }
    return files;
}

/** The plain environment of the script for these settings. */
export function containerdEnvironment(s: PlainContainerdSettings): Record<string, string> {
    const files: ManagedFile[] = [];
    if (s.registryCredentials.length === 0) {
        files.push({ path: CONTAINERD_CONFIG, mode: "0644", restart: true, content: containerdConfig(s) });
    }
    files.push(...containerdRegistryHosts(s));
    const env: Record<string, string> = {
        RUNTIME_KIND: "containerd",
        RUNTIME_SOURCE: s.source === "containerd.io" ? "upstream" : s.source,
        RUNTIME_VERSION: s.version ?? "",
        RUNTIME_WAIT_TIMEOUT: String(s.waitTimeoutSeconds),
        RUNTIME_FILES: encodeFiles(files),
        RUNTIME_CGROUP_DRIVER: s.systemdCgroup ? "systemd" : "cgroupfs",
    };
    if (s.source === "containerd.io") env.RUNTIME_APT_URL = s.dockerAptUrl;
    return env;
}

/** With credentials, config.toml holds them: it then travels as a secret file, mode 0600. */
function containerdSecretFiles(s: ResolvedContainerdSettings): pulumi.Output<string> | undefined {
    return secretFilesOutput(s.registryCredentials, (resolved): ManagedFile[] => [
        { path: CONTAINERD_CONFIG, mode: "0600", restart: true, content: containerdConfig(s, resolved) },
    ]);
}

/**
 * containerd installed and configured on each host, over SSH: from Docker's apt repository
 * (`containerd.io`), the distribution's `containerd`, or verified where it is preinstalled; its
 * `config.toml` with the systemd cgroup driver option, registry mirrors and insecure registries.
 * Same robustness and idempotence as {@link DockerEngine}. Removing the component leaves
 * containerd installed.
 *
 * Hand {@link hosts} to the cluster layer: depending on them means "containerd is installed".
 */
export class Containerd extends pulumi.ComponentResource {
    /** The input hosts, each one's `ready` replaced by its containerd install, with what was installed. */
    public readonly hosts: RuntimeHost[];
    /** Always `containerd`. */
    public readonly runtime = "containerd" as const;
    /**
     * Where containerd comes from: the given `source`, else each host's default from its facts
     * (`distro` for a host that reaches only its distribution's mirror, `containerd.io`
     * otherwise); `per-host` when those differ ({@link sources} has each).
     */
    public readonly source: ContainerdSource | "per-host";
    /** Where containerd comes from, per host name. */
    public readonly sources: Record<string, ContainerdSource>;
    /** The version pin, or undefined for none. */
    public readonly version: string | undefined;
    /** Whether runc uses the systemd cgroup driver. */
    public readonly systemdCgroup: boolean;
    /** Docker Hub mirrors configured. */
    public readonly registryMirrors: string[];
    /** Insecure registries configured. */
    public readonly insecureRegistries: pulumi.Output<string[]>;
    /** The `config.toml` written on every host (without the credentials sections, if any). */
    public readonly config: string;
    /** Version the containerd daemon reports, per host name (e.g. `1.6.20~ds1`). */
    public readonly versions: pulumi.Output<Record<string, string>>;
    /** Installed package and its apt version, per host name (e.g. `containerd=1.6.20~ds1-1+deb12u3`). */
    public readonly packages: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ContainerdArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(CONTAINERD_TYPE, name);
        v.args(args, CONTAINERD_KEYS, "ContainerdArgs");
        for (const key of ["source", "version", "systemdCgroup", "dockerAptUrl", "waitTimeoutSeconds", "timeoutSeconds"] as const) {
            v.plain(key, args[key], "it is checked before anything is installed");
        }
        const hosts = validateHosts(v, args.hosts);
        const s = resolveContainerdSettings(v, args, "containerd.io");
        // Each host's own default source, from its facts, unless one is given.
        const hostSettings = settingsPerHost(hosts, args.source, (source) => resolveContainerdSettings(v, { ...args, source }, "containerd.io"), {
            distribution: "distro",
            upstream: "containerd.io",
        });
        const perHost = hostSettings.perHost;
        const { total } = validateTimeouts(v, args);

        super(CONTAINERD_TYPE, name, {}, opts);

        this.sources = hostSettings.sources;
        this.source = hostSettings.source;
        this.version = hostSettings.version;
        this.systemdCgroup = s.systemdCgroup;
        this.registryMirrors = s.registryMirrors;
        this.insecureRegistries = s.insecureRegistries;
        this.config = containerdConfig(s);

        const installed = installOnHosts(
            this,
            name,
            "containerd",
            hosts,
            (i) => plainContainerdSettings(perHost[i]).apply(containerdEnvironment),
            containerdSecretFiles(s),
            total,
            { kind: "containerd", criSocket: CONTAINERD_CRI_SOCKET, liveRestore: false, swarmReady: false },
        );
        this.hosts = installed.hosts;
        this.versions = installed.versions;
        this.packages = installed.packages;

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
    const v: Validator = new Validator(CONTAINERD_TYPE, "userData");
    v.args(args, CONTAINERD_SETTINGS_KEYS, "ContainerdSettings");
    const s = resolveContainerdSettings(v, args, "containerd.io");
    const env = plainContainerdSettings(s).apply(containerdEnvironment);
    const secret = containerdSecretFiles(s);
    if (!secret) return env.apply((e) => userDataPart("containerd", e));
    return pulumi.secret(pulumi.all([env, secret]).apply(([e, files]) => userDataPart("containerd", { ...e, RUNTIME_SECRET_FILES: files })));
}
