/** Private registry credentials of a workload deployer ({@link SwarmApp}, {@link KubernetesApp}), and their check. */
import * as pulumi from "@pulumi/pulumi";
import { REGISTRY_EXPECTED, parseRegistryAddress } from "../core/image-ref";
import { Reason, Validator } from "../core/validate";

/** Credentials for a private registry the nodes pull from. */
export interface RegistryAuth {
    /**
     * Registry address as in image references, `host[:port]`, e.g. `10.213.0.5:5000` or
     * `registry.example.com`; an Output is fine (e.g. a `LabRegistry`'s `address`).
     */
    readonly server: pulumi.Input<string>;
    /** User name. */
    readonly username: pulumi.Input<string>;
    /** Password or token. Kept secret. */
    readonly password: pulumi.Input<string>;
}

/** Properties of {@link RegistryAuth}. */
const REGISTRY_AUTH_KEYS = ["server", "username", "password"];

/**
 * Checks registry credentials: the server a registry address (now, or when it resolves), the
 * user name a non-empty token, the password present and non-empty (never shown). Returns them
 * as Outputs.
 */
export function checkRegistryAuth(v: Validator, auth: RegistryAuth): { server: pulumi.Output<string>; username: pulumi.Output<string>; password: pulumi.Output<string> } {
    if (typeof auth !== "object" || auth === null || Array.isArray(auth)) {
        v.fail("registryAuth", auth, "an object { server, username, password }");
    }
    v.known("registryAuth", auth, REGISTRY_AUTH_KEYS);
    for (const key of REGISTRY_AUTH_KEYS) {
        if ((auth as unknown as Record<string, unknown>)[key] === undefined) {
            v.fail(`registryAuth.${key}`, undefined, key === "password" ? "a password or token (a string or a secret Output)" : key === "server" ? REGISTRY_EXPECTED : "a user name");
        }
    }
    const server = v.later("registryAuth.server", auth.server, REGISTRY_EXPECTED, (s: unknown) => {
        const parsed = parseRegistryAddress(s);
        return typeof parsed === "string" ? new Reason(parsed) : (s as string);
    });
    const username = v.later("registryAuth.username", auth.username, "a non-empty user name without white space or ':'", (u: unknown) =>
        typeof u === "string" && u.length > 0 && !/[\s:]/.test(u) ? u : new Reason(),
    );
    const password = v.later(
        "registryAuth.password",
        auth.password,
        "a non-empty password or token",
        (p: unknown) => (typeof p === "string" && p.length > 0 ? p : new Reason()),
        { secret: true },
    );
    return { server, username, password };
}
