/**
 * The shape a deployer's `registryAuth` had before flotilla 0.2 (`server` where core's
 * {@link RegistryCredential} says `registry`), kept so that programs using it still compile and
 * work, and its former check.
 */
import * as pulumi from "@pulumi/pulumi";
import { RegistryCredential, checkRegistryCredential } from "../../core/registry-credential";
import { Validator } from "../../core/validate";

/**
 * Credentials for a private registry the nodes pull from, in the shape before flotilla 0.2.
 * @deprecated Use {@link RegistryCredential} (`registry` in place of `server`); deployers accept both.
 */
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

/**
 * Checks registry credentials given as `registryAuth` (`{ registry, ... }` or the former
 * `{ server, ... }`) and returns them as Outputs, the password secret.
 * @deprecated Use `checkRegistryCredential(v, "registryAuth", auth, { acceptServer: true })` (core),
 * which returns `registry` in place of `server`.
 */
export function checkRegistryAuth(
    v: Validator,
    auth: RegistryAuth | RegistryCredential,
): { server: pulumi.Output<string>; username: pulumi.Output<string>; password: pulumi.Output<string> } {
    const checked = checkRegistryCredential(v, "registryAuth", auth, { acceptServer: true });
    return { server: checked.registry, username: checked.username, password: checked.password };
}
