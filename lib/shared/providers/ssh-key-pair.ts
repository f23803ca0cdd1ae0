/**
 * The provider behind `SshKeyPair`, loaded by module path in Pulumi's dynamic-provider process.
 * A key pair never changes in place: a new comment means a new key.
 */
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { compactPrivateKey, generateEd25519 } from "../ssh-keys";

/** The state of a key pair. */
export interface KeyPairState {
    comment: string;
    publicKey: string;
    privateKey: string;
}

/** The provider. */
export const provider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: { comment: string }): Promise<pulumi.dynamic.CreateResult<KeyPairState>> {
        const pair = generateEd25519(inputs.comment);
        const blob = Buffer.from(pair.publicKey.split(" ")[1], "base64");
        const id = `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
        // The private key is kept as its seed (52 characters instead of about 400); SshKeyPair
        // presents it in OpenSSH's format again.
        return { id, outs: { comment: inputs.comment, publicKey: pair.publicKey, privateKey: compactPrivateKey(pair.privateKey) } };
    },
    async diff(_id: string, olds: KeyPairState, news: { comment: string }): Promise<pulumi.dynamic.DiffResult> {
        const changed = olds.comment !== news.comment;
        return { changes: changed, replaces: changed ? ["comment"] : [] };
    },
};
