import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { ed25519PublicKey, encodeEd25519 } from "../../lib/shared/ssh-keys";
import type { Host, PackageAccess, RuntimeHost, RuntimeInfo } from "../../lib/core/host";
import { InvalidArgumentError } from "../../lib/core/validate";

/** A resource the program registered under mocks. */
export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    /** The provider reference (`<urn>::<id>`) the resource was created with, when it names one. */
    provider?: string;
}

/**
 * Installs Pulumi mocks that record every registered resource (custom and component) and echo the
 * inputs back as state, plus what `outputs` adds for a resource (what a real create would return),
 * for project `flotilla` and stack `test` unless `where` says otherwise. Returns the live list.
 */
export function recordResources(
    outputs?: (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined,
    calls?: (token: string, inputs: Record<string, any>) => Record<string, unknown> | undefined,
    where: { project?: string; stack?: string } = {},
): Registered[] {
    const registered: Registered[] = [];
    void pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, ...(args.provider ? { provider: args.provider } : {}) });
                const extra = outputs?.(args.type, args.name, args.inputs) ?? keyPairOutputs(args.type, args.name);
                return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                // An invoke echoes its inputs, plus what `calls` returns (what the provider would).
                return { ...args.inputs, ...calls?.(args.token, args.inputs) };
            },
        },
        where.project ?? "flotilla",
        where.stack ?? "test",
        false,
    );
    return registered;
}

/**
 * What a real create of a flotilla SshKeyPair returns (the mocks echo only the inputs, and the
 * key pair has none of its keys as inputs), for `recordResources(keyPairOutputs)`.
 */
export function keyPairOutputs(type: string, name: string): Record<string, unknown> | undefined {
    if (!type.endsWith(":SshKeyPair")) return undefined;
    // A real ed25519 key, derived from the resource name (deterministic), as the provider makes it.
    const seed = createHash("sha256").update(name).digest();
    const pair = encodeEd25519(seed, ed25519PublicKey(seed), name, 0);
    return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** The value of an Output (unknowns resolve to undefined under mocks). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** The message of the InvalidArgumentError `f` throws (fails the test if it throws anything else). */
export function messageOf(f: () => unknown): string {
    try {
        f();
    } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
    }
    throw new Error("expected an InvalidArgumentError");
}

/**
 * `refused(f)`: the message of the InvalidArgumentError `f` throws at construction, after checking
 * that it registered nothing (`registered` the list {@link recordResources} returned; `settleMs`
 * lets started registrations reach the mocks before and after).
 */
export function refusedIn(registered: Registered[], settleMs = 30): (f: () => unknown) => Promise<string> {
    const settle = () => new Promise((r) => setTimeout(r, settleMs));
    return async (f) => {
        await settle();
        const before = registered.map((r) => r.name);
        const message = messageOf(f);
        await settle();
        expect(registered.map((r) => r.name)).toEqual(before);
        return message;
    };
}

/** Pulumi's wire marker of a secret value: a secret input reaches the mocks as `{[SECRET_SIG]: SECRET_MARK, value}`. */
export { specialSigKey as SECRET_SIG, specialSecretSig as SECRET_MARK } from "@pulumi/pulumi/runtime/rpc";

/** Options of {@link testHost}: anything of a Host to set differently. */
export interface TestHostOptions {
    /** Where the host comes from (label `provider`); `lab` hosts reach only their distribution's packages. */
    provider?: string;
    /** Label `pool`. Default `p`. */
    pool?: string;
    /** Which package repositories the host reaches. Default: `distribution` for `lab`, else `upstream`. */
    packageAccess?: PackageAccess;
    /** Private network. Default none (flat). */
    network?: string;
    /** Public address. Default: the private address. */
    publicAddress?: string;
    /** SSH host key. Default `ssh-ed25519 AAAA`. */
    hostKey?: string;
    /** SSH private key. Default `PRIVATE` (a secret). */
    privateKey?: string;
    /** Extra labels. */
    labels?: Record<string, string>;
    /** Identity of this incarnation of the machine. Default `i-<name>`. */
    instanceId?: string;
    /** Readiness resources. Default none. */
    ready?: pulumi.Resource[];
}

/** A complete Host as any pool makes it (no resources behind it unless `ready` is given). */
export function testHost(name: string, address: string, opts: TestHostOptions = {}): Host {
    const provider = opts.provider ?? "aws";
    return {
        name,
        instanceId: pulumi.output(opts.instanceId ?? `i-${name}`),
        publicAddress: pulumi.output(opts.publicAddress ?? address),
        privateAddress: pulumi.output(address),
        ...(opts.network !== undefined ? { network: opts.network } : {}),
        connection: {
            host: address,
            port: 22,
            user: "admin",
            privateKey: pulumi.secret(opts.privateKey ?? "PRIVATE"),
            hostKey: opts.hostKey ?? "ssh-ed25519 AAAA",
        },
        platform: { os: "debian", osVersion: "12", arch: "amd64" },
        packageAccess: opts.packageAccess ?? (provider === "lab" ? "distribution" : "upstream"),
        labels: { provider, pool: opts.pool ?? "p", ...opts.labels },
        ready: opts.ready ?? [],
    };
}

/** A complete RuntimeHost: by default Docker installed for Swarm (what SwarmCluster takes). */
export function testRuntimeHost(
    name: string,
    address: string,
    opts: TestHostOptions & { runtime?: Partial<RuntimeInfo> } = {},
): RuntimeHost {
    return {
        ...testHost(name, address, opts),
        runtime: { kind: "docker", cgroupDriver: "cgroupfs", liveRestore: false, swarmReady: true, ...opts.runtime },
    };
}

/**
 * The message of the InvalidArgumentError an Output fails with when it resolves (fails the test if
 * it resolves). Its isKnown and isSecret promises reject too: they are handled here, or Jest would
 * report them as unhandled rejections.
 */
export async function rejectionOf(output: pulumi.Output<unknown>): Promise<string> {
    const o = output as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
    o.isKnown.catch(() => undefined);
    o.isSecret.catch(() => undefined);
    try {
        await o.promise();
    } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
    }
    throw new Error("expected the Output to fail when it resolves");
}
