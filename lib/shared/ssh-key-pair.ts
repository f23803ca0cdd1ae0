import * as pulumi from "@pulumi/pulumi";
import { generateEd25519 } from "./ssh-keys";

/** Arguments of {@link SshKeyPair}. */
export interface SshKeyPairArgs {
    /**
     * Comment written at the end of the public key line (e.g. `flotilla@lab`). Changing it makes a
     * new key pair.
     */
    readonly comment: pulumi.Input<string>;
}

interface KeyPairState {
    comment: string;
    publicKey: string;
    privateKey: string;
}

/**
 * The provider runs in Pulumi's dynamic-provider host, so it is serialized with the closures it uses;
 * it only uses Node's `crypto`. A key pair never changes in place: a new comment means a new key.
 */
const keyPairProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { comment: string }): Promise<pulumi.dynamic.CreateResult<KeyPairState>> {
        const pair = generateEd25519(inputs.comment);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const crypto = require("crypto") as typeof import("crypto");
        const blob = Buffer.from(pair.publicKey.split(" ")[1], "base64");
        const id = `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
        return { id, outs: { comment: inputs.comment, publicKey: pair.publicKey, privateKey: pair.privateKey } };
    },
    async diff(_id: string, olds: KeyPairState, news: { comment: string }): Promise<pulumi.dynamic.DiffResult> {
        const changed = olds.comment !== news.comment;
        return { changes: changed, replaces: changed ? ["comment"] : [] };
    },
};

/**
 * An ed25519 SSH key pair generated once and kept in the stack's state, the private key as a secret.
 * Used for the key a host source authorizes for its SSH user, and for a machine's SSH host key
 * (so clients can check the host strictly from the first connection).
 */
export class SshKeyPair extends pulumi.dynamic.Resource {
    /** `ssh-ed25519 AAAA... comment`, for `authorized_keys` or `known_hosts`. */
    declare public readonly publicKey: pulumi.Output<string>;
    /** OpenSSH private key (unencrypted openssh-key-v1). Secret. */
    declare public readonly privateKey: pulumi.Output<string>;
    /** The comment given. */
    declare public readonly comment: pulumi.Output<string>;

    constructor(name: string, args: SshKeyPairArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            keyPairProvider,
            name,
            { comment: args.comment, publicKey: undefined, privateKey: undefined },
            {
                ...opts,
                additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "privateKey"],
            },
        );
    }
}
