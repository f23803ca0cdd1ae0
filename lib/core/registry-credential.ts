/**
 * The one shape of private-registry credentials, for every layer: a runtime's
 * `registryCredentials` (the nodes' daemon or CRI log-in), a Kubernetes cluster's
 * `registryCredentials` (kubelet pulls of the control-plane images) and a deployer's
 * `registryAuth` (the app's own pull secret), and its one check.
 */
import * as pulumi from "@pulumi/pulumi";
import { REGISTRY_EXPECTED, parseRegistryAddress } from "./image-ref";
import { Reason, Validator } from "./validate";

/** Credentials for a private registry. The password is kept secret everywhere. */
export interface RegistryCredential {
    /**
     * The registry as image references start with, `host[:port]` (no scheme, no path), e.g.
     * `10.213.0.5:5000`, `registry.example.com`, or `docker.io` for Docker Hub. An Output is fine
     * (e.g. a `LabRegistry`'s `address`).
     */
    readonly registry: pulumi.Input<string>;
    /** User name. */
    readonly username: pulumi.Input<string>;
    /** Password or access token. Secret: stored encrypted, never printed, masked in errors. */
    readonly password: pulumi.Input<string>;
}

/** A checked {@link RegistryCredential}: every part an Output, the password secret. */
export interface CheckedRegistryCredential {
    readonly registry: pulumi.Output<string>;
    readonly username: pulumi.Output<string>;
    readonly password: pulumi.Output<string>;
}

/** Properties of {@link RegistryCredential}. */
export const REGISTRY_CREDENTIAL_KEYS = ["registry", "username", "password"] as const;

const USER_EXPECTED = "a non-empty user name without white space or ':'";

/**
 * Checks one credential given as `property`: an object of exactly {@link REGISTRY_CREDENTIAL_KEYS}
 * (`server` is accepted in place of `registry` where `acceptServer` is set: the name
 * `registryAuth` had before flotilla 0.2), the registry an address (now, or when it resolves), the
 * user a non-empty token, the password present and non-empty (never shown).
 */
export function checkRegistryCredential(
    v: Validator,
    property: string,
    value: unknown,
    opts: { acceptServer?: boolean } = {},
): CheckedRegistryCredential {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        v.fail(property, value, "an object { registry, username, password }");
    }
    const given = value as Record<string, unknown>;
    const server = opts.acceptServer === true && given.registry === undefined && given.server !== undefined;
    const keys: readonly string[] = server ? ["server", "username", "password"] : REGISTRY_CREDENTIAL_KEYS;
    v.known(property, given, [...keys]);
    for (const key of keys) {
        if (given[key] === undefined) {
            v.fail(`${property}.${key}`, undefined, key === "password" ? "a password or token (a string or a secret Output)" : key === "username" ? "a user name" : REGISTRY_EXPECTED);
        }
    }
    const registryKey = server ? "server" : "registry";
    const registry = v.later(`${property}.${registryKey}`, given[registryKey] as pulumi.Input<string>, REGISTRY_EXPECTED, (s: unknown) => {
        const parsed = parseRegistryAddress(s);
        return typeof parsed === "string" ? new Reason(parsed) : (s as string);
    });
    const username = v.later(`${property}.username`, given.username as pulumi.Input<string>, USER_EXPECTED, (u: unknown) =>
        typeof u === "string" && u.length > 0 && !/[\s:]/.test(u) ? u : new Reason(),
    );
    const password = v.later(
        `${property}.password`,
        given.password as pulumi.Input<string>,
        "a non-empty password or token",
        (p: unknown) => (typeof p === "string" && p.length > 0 ? p : new Reason()),
        { secret: true },
    );
    return { registry, username, password };
}

/**
 * Checks a list of credentials given as `property` (undefined: none): each as
 * {@link checkRegistryCredential}, and a registry given as a plain value listed once.
 */
export function checkRegistryCredentials(v: Validator, property: string, value: unknown): CheckedRegistryCredential[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) v.fail(property, value, "a list of { registry, username, password }");
    const seen = new Set<string>();
    return (value as unknown[]).map((item, i) => {
        const checked = checkRegistryCredential(v, `${property}[${i}]`, item);
        const registry = (item as RegistryCredential).registry;
        if (typeof registry === "string") {
            if (seen.has(registry)) v.fail(`${property}[${i}].registry`, registry, "a registry listed once");
            seen.add(registry);
        }
        return checked;
    });
}
