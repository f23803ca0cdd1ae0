/**
 * The one installer both runtimes are: {@link ContainerRuntimeBase} validates the Args, resolves
 * each host's settings, runs `scripts/runtime.sh` on every host and hands the hosts on as
 * RuntimeHosts; {@link runtimeUserData} puts the same script in a cloud-init part. What differs
 * between Docker Engine and containerd is data, a {@link RuntimeSpec}: the type token, the Args'
 * properties, the package sources, how settings resolve and render into the script's environment
 * and secret files, the CRI socket and what the daemon is set up for.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Host, RuntimeHost, RuntimeInfo, RuntimeKind } from "../core/host";
import { Validator } from "../core/validate";
import {
    PlainRegistryCredential,
    installOnHosts,
    settingsPerHost,
    userDataPart,
    validateAptUrl,
    validateCredentials,
    validateHosts,
    validateInsecure,
    validateMirrors,
    validateTimeouts,
    validateVersion,
} from "./common";

/** What the settings of every runtime have once validated, defaults applied. */
export interface ResolvedRuntimeSettings<Src extends string = string> {
    source: Src;
    version: string | undefined;
    registryMirrors: string[];
    /** Resolved when every Output among them is. */
    insecureRegistries: pulumi.Output<string[]>;
    registryCredentials: PlainRegistryCredential[];
    dockerAptUrl: string;
    waitTimeoutSeconds: number;
}

/** Settings with every value plain (the insecure registries resolved). */
export type PlainRuntimeSettings<R extends ResolvedRuntimeSettings> = Omit<R, "insecureRegistries"> & { insecureRegistries: string[] };

/** Resolves the settings' Outputs. */
export function plainRuntimeSettings<R extends ResolvedRuntimeSettings>(s: R): pulumi.Output<PlainRuntimeSettings<R>> {
    return s.insecureRegistries.apply((insecureRegistries) => ({ ...s, insecureRegistries })) as unknown as pulumi.Output<PlainRuntimeSettings<R>>;
}

/** The settings every runtime takes (its Settings interface declares them with its own docs). */
interface CommonSettingsArgs<Src extends string> {
    readonly source?: Src;
    readonly version?: string;
    readonly registryMirrors?: string[];
    readonly insecureRegistries?: pulumi.Input<string>[];
    readonly registryCredentials?: unknown[];
    readonly dockerAptUrl?: string;
    readonly waitTimeoutSeconds?: number;
}

/** A runtime's package sources and pins, as data. */
export interface RuntimeSources<Src extends string> {
    /** Every source, in the order error messages list them. */
    readonly all: readonly Src[];
    /** The source from Docker's apt repository (the script's `upstream`). */
    readonly upstream: Src;
    /** The source of hosts that reach only their distribution's mirror. */
    readonly distribution: Src;
    /** The version installed from the upstream source unless pinned. */
    readonly upstreamVersion: string;
    /** Examples of a pin, for error messages: an upstream version and an exact apt version. */
    readonly pinExample: string;
    readonly pinExact: string;
}

/** Validates `source` and `version` (the pin defaulted for the upstream source). */
export function resolveSource<Src extends string>(
    v: Validator,
    args: CommonSettingsArgs<Src>,
    defaultSource: Src,
    sources: RuntimeSources<Src>,
): { source: Src; version: string | undefined } {
    const source = v.oneOf("source", args.source ?? defaultSource, sources.all);
    const pin = validateVersion(v, args.version, sources.pinExample, sources.pinExact);
    return { source, version: pin ?? (source === sources.upstream ? sources.upstreamVersion : undefined) };
}

/** Validates the registry settings, the apt URL and the wait timeout every runtime takes. */
export function resolveRegistrySettings(
    v: Validator,
    args: CommonSettingsArgs<string>,
): Pick<ResolvedRuntimeSettings, "registryMirrors" | "insecureRegistries" | "registryCredentials" | "dockerAptUrl" | "waitTimeoutSeconds"> {
    return {
        registryMirrors: validateMirrors(v, "registryMirrors", args.registryMirrors),
        insecureRegistries: validateInsecure(v, "insecureRegistries", args.insecureRegistries),
        registryCredentials: validateCredentials(v, "registryCredentials", args.registryCredentials),
        dockerAptUrl: validateAptUrl(v, args.dockerAptUrl),
        waitTimeoutSeconds: validateTimeouts(v, args).wait,
    };
}

/** A runtime as data: everything {@link ContainerRuntimeBase} and {@link runtimeUserData} need to know of it. */
export interface RuntimeSpec<Src extends string, R extends ResolvedRuntimeSettings<Src>> {
    /** Its type token (`flotilla:runtime:<Class>`). */
    readonly type: string;
    /** The kind the hosts report, and the script's `RUNTIME_KIND`. */
    readonly kind: RuntimeKind;
    /** The CRI endpoint it serves a kubelet; undefined when it serves none. */
    readonly criSocket?: string;
    /** What the install is called in targets and the cloud-init part (`docker engine`). */
    readonly label: string;
    /** Names of its Args and Settings interfaces, for error messages. */
    readonly argsName: string;
    readonly settingsName: string;
    /** The properties of its Args, `hosts` and `timeoutSeconds` first. */
    readonly argsKeys: readonly string[];
    /** The properties that must be plain values (checked before anything is installed). */
    readonly plainKeys: readonly string[];
    readonly sources: RuntimeSources<Src>;
    /** Validates the settings and resolves their defaults; throws naming the property at fault. */
    resolve(v: Validator, args: object, defaultSource: Src): R;
    /** The script's plain environment for one host's settings. */
    environment(s: PlainRuntimeSettings<R>): Record<string, string>;
    /** The secret files (credentials), resolved and encoded, or undefined for none. */
    secretFiles(v: Validator, s: R): pulumi.Output<string> | undefined;
    /** What the daemon is set up for, as the hosts report it. */
    daemon(s: R): Pick<RuntimeInfo, "liveRestore" | "swarmReady">;
}

/** The Args every runtime takes besides its settings. */
export interface RuntimeHostsArgs {
    readonly hosts: Host[];
    readonly timeoutSeconds?: number;
}

/** The properties of a spec's Settings: its Args' without the hosts and the total timeout. */
function settingsKeys(spec: { argsKeys: readonly string[] }): string[] {
    return spec.argsKeys.filter((k) => k !== "hosts" && k !== "timeoutSeconds");
}

/**
 * A container runtime installed and configured on each host over SSH, by `scripts/runtime.sh`:
 * one `RemoteScript` per host (`<name>-install-<host>`), replaced with its machine; the hosts
 * handed on with `ready` replaced by their install. The subclass gives its {@link RuntimeSpec},
 * sets its own outputs and registers them.
 */
export abstract class ContainerRuntimeBase<Src extends string, R extends ResolvedRuntimeSettings<Src>> extends pulumi.ComponentResource {
    /** The input hosts, each one's `ready` replaced by its install, with what was installed. */
    public readonly hosts: RuntimeHost[];
    /** The runtime installed. */
    public abstract readonly runtime: RuntimeKind;
    /**
     * Where the runtime comes from: the given `source`, else each host's default from its facts
     * (`distro` for a host that reaches only its distribution's mirror, the upstream source
     * otherwise); `per-host` when those differ ({@link sources} has each).
     */
    public readonly source: Src | "per-host";
    /** Where the runtime comes from, per host name. */
    public readonly sources: Record<string, Src>;
    /** The version pin, or undefined for none (or when the hosts' pins differ). */
    public readonly version: string | undefined;
    /** Docker Hub mirrors configured. */
    public readonly registryMirrors: string[];
    /** Insecure registries configured. */
    public readonly insecureRegistries: pulumi.Output<string[]>;
    /** Version the daemon reports, per host name. */
    public readonly versions: pulumi.Output<Record<string, string>>;
    /** Installed package and its apt version, per host name. */
    public readonly packages: pulumi.Output<Record<string, string>>;
    /** The settings given, validated, defaults applied (the given source, else the upstream one). */
    protected readonly settings: R;

    protected constructor(spec: RuntimeSpec<Src, R>, name: string, args: RuntimeHostsArgs & { readonly source?: Src }, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(spec.type, name);
        v.args(args, spec.argsKeys, spec.argsName);
        for (const key of spec.plainKeys) {
            v.plain(key, (args as unknown as Record<string, unknown>)[key], "it is checked before anything is installed");
        }
        const hosts = validateHosts(v, args.hosts);
        const s = spec.resolve(v, args, spec.sources.upstream);
        // Each host's own default source, from its facts, unless one is given.
        const hostSettings = settingsPerHost(hosts, args.source, (source) => spec.resolve(v, { ...args, source }, spec.sources.upstream), spec.sources);
        const perHost = hostSettings.perHost;
        const { total } = validateTimeouts(v, args);

        super(spec.type, name, {}, opts);

        this.settings = s;
        this.sources = hostSettings.sources;
        this.source = hostSettings.source;
        this.version = hostSettings.version;
        this.registryMirrors = s.registryMirrors;
        this.insecureRegistries = s.insecureRegistries;

        const installed = installOnHosts(
            this,
            name,
            spec.label,
            hosts,
            (i) => plainRuntimeSettings(perHost[i]).apply((p) => spec.environment(p as PlainRuntimeSettings<R>)),
            spec.secretFiles(v, s),
            total,
            { kind: spec.kind, ...(spec.criSocket !== undefined ? { criSocket: spec.criSocket } : {}), ...spec.daemon(s) },
        );
        this.hosts = installed.hosts;
        this.versions = installed.versions;
        this.packages = installed.packages;
    }
}

/**
 * The cloud-init part installing a runtime at first boot: a `#!/bin/bash` user-data part that
 * exports the settings and contains the very script the runtime component runs over SSH. Secret
 * (an Output marked secret) when credentials are given: they are in it. Default: the upstream source.
 */
export function runtimeUserData<Src extends string, R extends ResolvedRuntimeSettings<Src>>(
    spec: RuntimeSpec<Src, R>,
    args: object,
): pulumi.Output<string> {
    const v: Validator = new Validator(spec.type, "userData");
    v.args(args, settingsKeys(spec), spec.settingsName);
    const s = spec.resolve(v, args, spec.sources.upstream);
    const env = plainRuntimeSettings(s).apply((p) => spec.environment(p as PlainRuntimeSettings<R>));
    const secret = spec.secretFiles(v, s);
    if (!secret) return env.apply((e) => userDataPart(spec.label, e));
    return pulumi.secret(pulumi.all([env, secret]).apply(([e, files]) => userDataPart(spec.label, { ...e, RUNTIME_SECRET_FILES: files })));
}
