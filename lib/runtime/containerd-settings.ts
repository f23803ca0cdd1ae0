/**
 * containerd's settings as data for the runtime installer (container-runtime.ts): their
 * validation and defaults, `config.toml`, the registry hosts files and the script's environment.
 */
import * as pulumi from "@pulumi/pulumi";
import { Validator } from "../core/validate";
import { ManagedFile, RegistryCredential, dockerHubAlias, encodeFiles, secretFilesOutput } from "./common";
import { ResolvedRuntimeSettings, RuntimeSources, plainRuntimeSettings, resolveRegistrySettings, resolveSource } from "./container-runtime";

/** Where containerd comes from. */
export const CONTAINERD_SOURCES = ["containerd.io", "distro", "preinstalled"] as const satisfies readonly ContainerdSource[];
/**
 * - `containerd.io`: Docker's apt repository (the `containerd.io` package), version pinned;
 * - `distro`: the distribution's `containerd`, e.g. through a mirror or on an air-gapped site;
 * - `preinstalled`: install nothing, verify containerd is there (and matches the pin, if given), configure it.
 */
export type ContainerdSource = "containerd.io" | "distro" | "preinstalled";

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
     * distribution's `containerd`) or `preinstalled` (verify only).
     * @default `distro` when every
     * host is a lab machine, `containerd.io` otherwise (and for {@link containerdUserData}).
     */
    readonly source?: ContainerdSource;
    /**
     * Version pin: an upstream version or its prefix (`1.7`, `1.7.28`) or an exact apt version
     * (`1.6.20~ds1-1+deb12u3`). A pin apt does not offer fails before anything on the host changes,
     * listing what it offers; a changed pin upgrades (or downgrades) in place; a pinned package is
     * held.
     * @default `1.7` for `containerd.io`; none for `distro` and `preinstalled`.
     */
    readonly version?: string;
    /**
     * Use the systemd cgroup driver for runc (`SystemdCgroup`), as the kubelet expects on systemd
     * hosts.
     * @default true.
     */
    readonly systemdCgroup?: boolean;
    /**
     * Pull-through mirrors of Docker Hub, as http(s) URLs (`certs.d/docker.io/hosts.toml`).
     * @default none.
     */
    readonly registryMirrors?: string[];
    /**
     * Registries reached over unverified TLS or plain HTTP, as `host[:port]`
     * (`certs.d/<host[:port]>/hosts.toml`). Only those listed here.
     * @default none.
     */
    readonly insecureRegistries?: pulumi.Input<string>[];
    /**
     * Credentials for private registries, used by the CRI plugin (Kubernetes pulls). They are put
     * in `config.toml`, which is then mode 0600. Secret everywhere.
     * @default none.
     */
    readonly registryCredentials?: RegistryCredential[];
    /**
     * Base URL of Docker's apt repository (`<url>/<debian|ubuntu>`), used with `containerd.io` only.
     * @default `https://download.docker.com/linux`.
     */
    readonly dockerAptUrl?: string;
    /**
     * Seconds each wait may take before the install fails: cloud-init, the apt/dpkg lock, the
     * daemon answering. 10-3600.
     * @default 600.
     */
    readonly waitTimeoutSeconds?: number;
}

/** Settings after validation and defaults. */
export interface ResolvedContainerdSettings extends ResolvedRuntimeSettings<ContainerdSource> {
    systemdCgroup: boolean;
}

/** Settings with every value plain (the insecure registries resolved). */
export type PlainContainerdSettings = Omit<ResolvedContainerdSettings, "insecureRegistries"> & { insecureRegistries: string[] };

/** Resolves the settings' Outputs. */
export function plainContainerdSettings(s: ResolvedContainerdSettings): pulumi.Output<PlainContainerdSettings> {
    return plainRuntimeSettings(s);
}

/** The CRI endpoint containerd serves. */
export const CONTAINERD_CRI_SOCKET = "unix:///run/containerd/containerd.sock";

/** Where containerd comes from, as data. */
export const CONTAINERD_PACKAGE_SOURCES: RuntimeSources<ContainerdSource> = {
    all: CONTAINERD_SOURCES,
    upstream: "containerd.io",
    distribution: "distro",
    upstreamVersion: DEFAULT_CONTAINERD_IO_VERSION,
    pinExample: "1.7.28",
    pinExact: "1.6.20~ds1-1+deb12u3",
};

/** Validates settings and resolves their defaults; throws naming the property at fault. */
export function resolveContainerdSettings(
    v: Validator,
    args: ContainerdSettings,
    defaultSource: ContainerdSource,
): ResolvedContainerdSettings {
    const { source, version } = resolveSource(v, args, defaultSource, CONTAINERD_PACKAGE_SOURCES);
    if (args.systemdCgroup !== undefined && typeof args.systemdCgroup !== "boolean") {
        v.fail("systemdCgroup", args.systemdCgroup, "true or false");
    }
    return { source, version, systemdCgroup: args.systemdCgroup ?? true, ...resolveRegistrySettings(v, args) };
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
export function containerdSecretFiles(v: Validator, s: ResolvedContainerdSettings): pulumi.Output<string> | undefined {
    return secretFilesOutput(s.registryCredentials, (resolved): ManagedFile[] => [
        { path: CONTAINERD_CONFIG, mode: "0600", restart: true, content: containerdConfig(s, resolved) },
    ], v);
}
