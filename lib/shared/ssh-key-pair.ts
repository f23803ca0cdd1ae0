import * as pulumi from "@pulumi/pulumi";
import { FlotillaDynamicResource } from "./dynamic";
import { expandPrivateKey } from "./ssh-keys";

/** Arguments of {@link SshKeyPair}. */
export interface SshKeyPairArgs {
    /**
     * Comment written at the end of the public key line (e.g. `flotilla@lab`). Changing it makes a
     * new key pair.
     */
    readonly comment: pulumi.Input<string>;
}

/**
 * An ed25519 SSH key pair generated once and kept in the stack's state, the private key as a secret.
 * Used for the key a host source authorizes for its SSH user, and for a machine's SSH host key
 * (so clients can check the host strictly from the first connection).
 */
export class SshKeyPair extends FlotillaDynamicResource {
    /** `ssh-ed25519 AAAA... comment`, for `authorized_keys` or `known_hosts`. */
    declare public readonly publicKey: pulumi.Output<string>;
    /** OpenSSH private key (unencrypted openssh-key-v1). Secret. */
    declare public readonly privateKey: pulumi.Output<string>;
    /** The comment given. */
    declare public readonly comment: pulumi.Output<string>;

    constructor(name: string, args: SshKeyPairArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "ssh-key-pair",
            "SshKeyPair",
            name,
            { comment: args.comment, publicKey: undefined, privateKey: undefined },
            {
                ...opts,
                additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "privateKey"],
            },
        );
        // The state keeps an ed25519 key as its seed; present it as an OpenSSH private key.
        (this as { privateKey: pulumi.Output<string> }).privateKey = pulumi.secret(this.privateKey.apply(expandPrivateKey));
    }
}
