/**
 * The provider behind `SshKeyPair`, loaded by module path in Pulumi's dynamic-provider process.
 * A key pair never changes in place: a new comment means a new key.
 */
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { generateEd25519 } from "../ssh-keys";

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
        return { id, outs: { comment: inputs.comment, publicKey: pair.publicKey, privateKey: pair.privateKey } };
    },
    async diff(_id: string, olds: KeyPairState, news: { comment: string }): Promise<pulumi.dynamic.DiffResult> {
        const changed = olds.comment !== news.comment;
        return { changes: changed, replaces: changed ? ["comment"] : [] };
    },
};
