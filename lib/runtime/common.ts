/**
 * What `DockerEngine` and `Containerd` share: validation of their settings, the managed files and
 * environment handed to `scripts/runtime.sh`, one `RemoteScript` per host, and the cloud-init
 * fragment carrying the same script.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../core/host";
import { RemoteScript } from "../shared/remote-script";
import { bundledScript, readScript } from "../shared/scripts";
import { shellQuote } from "../shared/script-output";
import { Reason, Validator, hidden } from "../core/validate";
import { RuntimeHost, RuntimeInfo, isHost } from "../core/host";
import type { RegistryCredential } from "../core/registry-credential";

export type { RegistryCredential };

/**
 * A runtime's registry credential once checked: each part a plain value or an Output (a plain
 * registry and user are checked at once, an Output one when it resolves). They are resolved into
 * the secret files the script writes, never into its plain environment.
 */
export interface PlainRegistryCredential {
    readonly registry: pulumi.Input<string>;
    readonly username: pulumi.Input<string>;
    readonly password: pulumi.Input<string>;
}

/** The one script both runtimes run, over SSH and from cloud-init alike. */
export const RUNTIME_SCRIPT = "runtime.sh";

/** Base URL of Docker's apt repository (`<url>/<debian|ubuntu>`). */
export const DEFAULT_DOCKER_APT_URL = "https://download.docker.com/linux";

/** Default bound of each wait (cloud-init, apt/dpkg locks, the daemon answering), in seconds. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 600;

/** Default bound of one whole run of the script on one host, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 1800;

/** The script text (read once; the build ships it in dist/). */
export function runtimeScript(): string {
    return readScript(__dirname, RUNTIME_SCRIPT);
}


/** A file the script keeps as described (written when its content or mode differs). */
export interface ManagedFile {
    /** Absolute path on the host. */
    readonly path: string;
    /** Octal mode, e.g. `0644`. */
    readonly mode: string;
    /** A change restarts the daemon. */
    readonly restart: boolean;
    /** The content. */
    readonly content: string;
}

/**
 * The files as the script reads them (`RUNTIME_FILES`): one line per file,
 * `<path> <mode> <restart 0|1> <base64 content>`.
 */
export function encodeFiles(files: readonly ManagedFile[]): string {
    return files
        .map((f) => `${f.path} ${f.mode} ${f.restart ? 1 : 0} ${Buffer.from(f.content, "utf8").toString("base64")}`)
        .join("\n");
}

/** The inverse of {@link encodeFiles} (for tests and diagnostics). */
export function decodeFiles(text: string): ManagedFile[] {
    return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((line) => {
            const [path, mode, restart, data] = line.split(" ");
            return { path, mode, restart: restart === "1", content: Buffer.from(data ?? "", "base64").toString("utf8") };
        });
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const VERSION_PIN = /^(\d+:)?\d([0-9A-Za-z.+~-]{0,78}[0-9A-Za-z+~])?$/;

/** Expected text of a version pin, in error messages. */
export function versionPinExpected(example: string, exact: string): string {
    return (
        `a version pin such as "${example}" (an upstream version or its prefix) or an exact apt version ` +
        `such as "${exact}"`
    );
}

/** A version pin, or undefined when none is given. */
export function validateVersion(v: Validator, value: unknown, example: string, exact: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !VERSION_PIN.test(value)) {
        v.fail("version", value, versionPinExpected(example, exact));
    }
    return value;
}

/** True for `host[:port]` (host name or IPv4 address; port 1-65535). */
export function isHostPort(value: string): boolean {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
    if (!m || !HOSTNAME.test(m[1])) return false;
    return m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535);
}

/** Registry mirrors: http(s) URLs without credentials, query or fragment. Returns them normalized. */
export function validateMirrors(v: Validator, property: string, value: unknown): string[] {
    const list = validateList(v, property, value);
    return list.map((item, i) => {
        let url: URL | undefined;
        try {
            url = typeof item === "string" ? new URL(item) : undefined;
        } catch {
            url = undefined;
        }
        if (
            !url ||
            (url.protocol !== "https:" && url.protocol !== "http:") ||
            url.username ||
            url.password ||
            url.search ||
            url.hash ||
            !/^https?:\/\/[^/?#]+/.test(item as string)
        ) {
            v.fail(`${property}[${i}]`, item, 'an http(s) URL without credentials, query or fragment, such as "https://mirror.gcr.io"');
        }
        return (item as string).replace(/\/+$/, "");
    });
}

/**
 * Insecure registries: `host[:port]` only, each a string or an Output of one (e.g. a
 * `LabRegistry`'s `address`). Plain ones are checked now, Outputs when they resolve. Returns the
 * resolved list.
 */
export function validateInsecure(v: Validator, property: string, value: unknown): pulumi.Output<string[]> {
    const list = validateList(v, property, value);
    const expected = 'a registry as host[:port] (no scheme, no path), such as "registry.lab:5000"';
    return pulumi.all(
        list.map((item, i) =>
            v.later(`${property}[${i}]`, item as pulumi.Input<string>, expected, (r: unknown) =>
                typeof r === "string" && isHostPort(r) ? r : new Reason(),
            ),
        ),
    );
}

const CREDENTIAL_REGISTRY_EXPECTED = 'a registry as host[:port] (no scheme, no path), such as "registry.example.com", listed once';
const CREDENTIAL_USER_EXPECTED = "a non-empty user name without white space or ':'";

/**
 * Registry credentials: registry `host[:port]`, a user name, a password, each a plain value or an
 * Output (core's {@link RegistryCredential}). Plain parts are checked now; Output ones when they
 * resolve, by {@link secretFilesOutput}, which also refuses a registry listed twice.
 */
export function validateCredentials(v: Validator, property: string, value: unknown): PlainRegistryCredential[] {
    const list = validateList(v, property, value);
    const seen = new Set<string>();
    return list.map((item, i) => {
        const c = item as { registry?: unknown; username?: unknown; password?: RegistryCredential["password"] } | null;
        if (typeof c !== "object" || c === null) {
            v.fail(`${property}[${i}]`, item, "an object { registry, username, password }");
        }
        if (!pulumi.Output.isInstance(c.registry)) {
            if (!credentialRegistryOk(c.registry) || seen.has(c.registry)) v.fail(`${property}[${i}].registry`, c.registry, CREDENTIAL_REGISTRY_EXPECTED);
            seen.add(c.registry);
        }
        if (!pulumi.Output.isInstance(c.username) && !credentialUserOk(c.username)) {
            v.fail(`${property}[${i}].username`, c.username, CREDENTIAL_USER_EXPECTED);
        }
        if (c.password === undefined || c.password === null || c.password === "") {
            v.fail(`${property}[${i}].password`, c.password, "a password or token (a string or a secret Output)");
        }
        return { registry: c.registry as pulumi.Input<string>, username: c.username as pulumi.Input<string>, password: c.password };
    });
}

function credentialRegistryOk(r: unknown): r is string {
    return typeof r === "string" && isHostPort(r);
}

function credentialUserOk(u: unknown): u is string {
    return typeof u === "string" && u.length > 0 && !/[\s:]/.test(u);
}

/** The base URL of Docker's apt repository. */
export function validateAptUrl(v: Validator, value: unknown): string {
    if (value === undefined) return DEFAULT_DOCKER_APT_URL;
    if (typeof value !== "string" || !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(value)) {
        v.fail("dockerAptUrl", value, `an http(s) URL such as "${DEFAULT_DOCKER_APT_URL}"`);
    }
    return value.replace(/\/+$/, "");
}

/** The hosts: a non-empty list of Hosts (not a pool: its `hosts`), names DNS-safe and unique. */
export function validateHosts(v: Validator, value: unknown): Host[] {
    const hosts = v.hostList<Host>("hosts", value);
    const seen = new Set<string>();
    hosts.forEach((h: unknown, i: number) => {
        if (!isHost(h)) {
            v.fail(`hosts[${i}]`, h, "a Host (name, instanceId, privateAddress, connection, ready), e.g. from a host pool's `hosts`");
        }
        v.dnsLabel(`hosts[${i}].name`, h.name);
        if (seen.has(h.name)) {
            v.fail(`hosts[${i}].name`, h.name, "a name no other host in the list has");
        }
        seen.add(h.name);
    });
    return hosts;
}

function validateList(v: Validator, property: string, value: unknown): unknown[] {
    return v.list(property, value);
}

/** The key Docker's CLI and containerd's CRI use for a registry (Docker Hub has its own). */
export function dockerHubAlias(registry: string): boolean {
    return registry === "docker.io" || registry === "index.docker.io" || registry === "registry-1.docker.io";
}

/**
 * The settings of each host: those of the given source for every host, else each host's own
 * default from its facts (`distribution` access → the distribution's packages, else upstream);
 * with what a runtime component reports of them: the source per host, the one source (or
 * `per-host` when they differ) and the one version pin (none when they differ).
 */
export function settingsPerHost<Src extends string, S extends { source: Src; version: string | undefined }>(
    hosts: Host[],
    givenSource: Src | undefined,
    resolveFor: (source: Src | undefined) => S,
    defaults: { distribution: Src; upstream: Src },
): { perHost: S[]; sources: Record<string, Src>; source: Src | "per-host"; version: string | undefined } {
    const given = givenSource !== undefined ? resolveFor(givenSource) : undefined;
    const perHost = hosts.map((h) => given ?? resolveFor(h.packageAccess === "distribution" ? defaults.distribution : defaults.upstream));
    const sources = [...new Set(perHost.map((p) => p.source))];
    const pins = [...new Set(perHost.map((p) => p.version))];
    return {
        perHost,
        sources: Object.fromEntries(hosts.map((h, i) => [h.name, perHost[i].source])),
        source: sources.length === 1 ? sources[0] : "per-host",
        version: pins.length === 1 ? pins[0] : undefined,
    };
}

/** What the script reports on its last line. */
export interface RuntimeResult {
    runtime: string;
    /** Version the running daemon reports. */
    version: string;
    /** The package it came from (empty when not from a package). */
    package: string;
    /** The package's apt version. */
    packageVersion: string;
    source: string;
    /** The cgroup driver the runtime uses (`systemd` or `cgroupfs`). */
    cgroupDriver?: string;
}

/** Parses the script's result line; undefined while unknown (preview, mocks). */
export function parseResult(line: string | undefined, target: string): RuntimeResult | undefined {
    if (!line) return undefined;
    try {
        return JSON.parse(line) as RuntimeResult;
    } catch {
        throw new Error(`${target}: the runtime script's last line is not its result: ${JSON.stringify(line.slice(0, 200))}`);
    }
}

/** What a runtime component makes on its hosts. */
export interface Installation {
    /** The input hosts, `ready` replaced by their install, with what was installed. */
    hosts: RuntimeHost[];
    /** Daemon version per host name. */
    versions: pulumi.Output<Record<string, string>>;
    /** `package=version` per host name ("" when not installed from a package). */
    packages: pulumi.Output<Record<string, string>>;
}

/**
 * One RemoteScript per host (`<name>-install-<host>`), depending on the host's readiness and
 * replaced when the machine is. `environment(i)` is host i's environment; `runtime` what the
 * install hands on (the cgroup driver as the script reports it).
 */
export function installOnHosts(
    parent: pulumi.ComponentResource,
    name: string,
    label: string,
    hosts: Host[],
    environment: (index: number) => pulumi.Input<Record<string, string>>,
    secretFiles: pulumi.Output<string> | undefined,
    timeoutSeconds: number,
    runtime: Omit<RuntimeInfo, "cgroupDriver">,
): Installation {
    const script = bundledScript("runtime", RUNTIME_SCRIPT);
    const out: RuntimeHost[] = [];
    const results: pulumi.Output<[string, RuntimeResult | undefined]>[] = [];
    hosts.forEach((host, i) => {
        const target = pulumi.interpolate`${label} on ${host.name} (${host.connection.host})`;
        const install = new RemoteScript(
            `${name}-install-${host.name}`,
            {
                connection: host.connection,
                script,
                environment: environment(i),
                secretEnvironment: secretFiles ? { RUNTIME_SECRET_FILES: secretFiles } : undefined,
                target,
                triggers: [host.instanceId],
                timeoutSeconds,
            },
            { parent, dependsOn: host.ready },
        );
        const result = pulumi.all([install.result, target]).apply(([r, t]) => parseResult(r, t));
        out.push({
            ...host,
            ready: [install],
            runtime: {
                ...runtime,
                cgroupDriver: result.apply((r) => (r?.cgroupDriver === "systemd" ? "systemd" : "cgroupfs")),
            },
        });
        results.push(result.apply((r): [string, RuntimeResult | undefined] => [host.name, r]));
    });
    const all = pulumi.all(results);
    return {
        hosts: out,
        versions: all.apply((rs) => Object.fromEntries(rs.map(([h, r]) => [h, r?.version ?? ""]))),
        packages: all.apply((rs) =>
            Object.fromEntries(rs.map(([h, r]) => [h, r?.package ? `${r.package}=${r.packageVersion}` : ""])),
        ),
    };
}

/**
 * A cloud-init `#!/bin/bash` part: exports the settings (phase create, inside cloud-init), then
 * the script itself, unchanged.
 */
export function userDataPart(label: string, environment: Record<string, string>): string {
    const env: Record<string, string> = { FLOTILLA_PHASE: "create", RUNTIME_IN_CLOUD_INIT: "1", ...environment };
    return [
        "#!/bin/bash",
        `# flotilla: install and configure ${label} at first boot (lib/runtime/scripts/${RUNTIME_SCRIPT}).`,
        ...Object.entries(env).map(([k, val]) => `export ${k}=${shellQuote(val)}`),
        runtimeScript(),
    ].join("\n");
}

/**
 * Resolves the credentials (Output parts included: checked here, a secret one never shown) and
 * renders the secret files (a secret Output), or undefined when there are none. A registry listed
 * twice once resolved is refused.
 */
export function secretFilesOutput(
    credentials: PlainRegistryCredential[],
    render: (resolved: { registry: string; username: string; password: string }[]) => ManagedFile[],
    v: Validator,
): pulumi.Output<string> | undefined {
    if (credentials.length === 0) return undefined;
    const secretOf = (x: pulumi.Input<string>) => (pulumi.Output.isInstance(x) ? pulumi.isSecret(x as pulumi.Output<string>) : false);
    const parts = credentials.map((c) => pulumi.all([c.registry, c.username, c.password, secretOf(c.registry), secretOf(c.username)]));
    // Secret before the check: a failing check then rejects this one Output only.
    return pulumi.secret(pulumi.all(parts)).apply((resolved) => {
        const seen = new Set<string>();
        const list = resolved.map(([registry, username, password, registrySecret, userSecret], i) => {
            const at = `registryCredentials[${i}]`;
            if (!credentialRegistryOk(registry) || seen.has(registry)) {
                v.fail(`${at}.registry`, registrySecret ? hidden(registry) : registry, CREDENTIAL_REGISTRY_EXPECTED);
            }
            seen.add(registry);
            if (!credentialUserOk(username)) v.fail(`${at}.username`, userSecret ? hidden(username) : username, CREDENTIAL_USER_EXPECTED);
            return { registry, username, password };
        });
        return encodeFiles(render(list));
    });
}

/** Validates the timeouts shared by both runtimes. */
export function validateTimeouts(
    v: Validator,
    args: { waitTimeoutSeconds?: number; timeoutSeconds?: number },
): { wait: number; total: number } {
    const wait = v.integer("waitTimeoutSeconds", args.waitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS, 10, 3600);
    const total = v.integer("timeoutSeconds", args.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, 60, 7200);
    return { wait, total };
}
