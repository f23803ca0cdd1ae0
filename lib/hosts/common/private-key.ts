/**
 * The one check of an SSH private key every pool applies to a key it is given (a pool's `sshKey`,
 * an existing machine's or bastion's key), as flotilla's SSH client reads it.
 */
import * as pulumi from "@pulumi/pulumi";
import { Reason, Validator } from "../../core/validate";
import { KeyProblem, inspectPrivateKey } from "../../shared/ssh-key-check";

/** Expected text of a private key. */
export const PRIVATE_KEY_EXPECTED = "the text of an unencrypted private key in OpenSSH's format or PEM (RSA, EC)";

/**
 * Checks an SSH private key (plain now, an Output when it resolves) as flotilla's SSH client reads it
 * ({@link inspectPrivateKey}: a file path, a public key line, a passphrase-protected key are each
 * refused with their reason), never printing it. Returns it as a secret.
 */
export function checkPrivateKey(v: Validator, property: string, value: unknown): pulumi.Output<string> {
    if (value === undefined || value === null || value === "") v.fail(property, value, PRIVATE_KEY_EXPECTED);
    return v.later(
        property,
        value as pulumi.Input<string>,
        PRIVATE_KEY_EXPECTED,
        (k: unknown) => {
            const info = inspectPrivateKey(k);
            return info instanceof KeyProblem ? new Reason(`this is ${info.why}`) : (k as string);
        },
        { secret: true },
    );
}
