/**
 * Ed25519 SSH keys in OpenSSH's own formats, generated with Node's crypto (no ssh-keygen needed).
 *
 * - public key: the `authorized_keys` / `known_hosts` line `ssh-ed25519 AAAA... comment`
 * - private key: the unencrypted `openssh-key-v1` container OpenSSH writes by default, which
 *   OpenSSH, Go's x/crypto/ssh (the command provider) and ssh2 (Node) all read.
 *
 * Self-contained on purpose (only `crypto` is required, inside the function): these functions are
 * captured by value into a dynamic provider, see ssh-key-pair.ts.
 */

/** The PEM label of an OpenSSH private key (spelled in parts so no source line looks like a key). */
const PEM_LABEL = ["OPENSSH", "PRIVATE", "KEY"].join(" ");

/** An ed25519 key pair in OpenSSH formats. */
export interface OpenSshKeyPair {
    /** `ssh-ed25519 <base64> <comment>` */
    publicKey: string;
    /** PEM-armoured openssh-key-v1 private key, unencrypted. Secret. */
    privateKey: string;
}

/** Generates a new ed25519 key pair and encodes it for OpenSSH. */
export function generateEd25519(comment: string): OpenSshKeyPair {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
    const pub = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
    const seed = Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url");
    return encodeEd25519(seed, pub, comment, crypto.randomBytes(4).readUInt32BE(0));
}

/**
 * Encodes an ed25519 key (32-byte seed and 32-byte public key) in OpenSSH formats.
 * `check` is the random check integer of the private section (fixed in tests for determinism).
 */
export function encodeEd25519(seed: Buffer, pub: Buffer, comment: string, check: number): OpenSshKeyPair {
    if (seed.length !== 32 || pub.length !== 32) {
        throw new Error("an ed25519 seed and public key are 32 bytes each");
    }
    const str = (b: Buffer | string): Buffer => {
        const data = typeof b === "string" ? Buffer.from(b, "utf8") : b;
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length, 0);
        return Buffer.concat([len, data]);
    };
    const u32 = (n: number): Buffer => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(n >>> 0, 0);
        return b;
    };
    const keyType = "ssh-ed25519";
    const publicBlob = Buffer.concat([str(keyType), str(pub)]);
    let priv = Buffer.concat([
        u32(check),
        u32(check),
        str(keyType),
        str(pub),
        str(Buffer.concat([seed, pub])),
        str(comment),
    ]);
    // Pad to the cipher block size ("none" = 8) with 1, 2, 3, ...
    const padLength = (8 - (priv.length % 8)) % 8;
    priv = Buffer.concat([priv, Buffer.from(Array.from({ length: padLength }, (_, i) => i + 1))]);
    const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0", "binary"),
        str("none"),
        str("none"),
        str(""),
        u32(1),
        str(publicBlob),
        str(priv),
    ]);

    const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
    return {
        publicKey: `${keyType} ${publicBlob.toString("base64")}${comment ? ` ${comment}` : ""}`,
        privateKey: [`-----BEGIN ${PEM_LABEL}-----`, ...lines, `-----END ${PEM_LABEL}-----`, ""].join("\n"),
    };
}

/** Prefix of a compact ed25519 private key: `ed25519:<base64 of the 32-byte seed>`. */
const COMPACT_PREFIX = "ed25519:";

/**
 * The seed of an unencrypted OpenSSH ed25519 private key, or undefined for any other key
 * (RSA, ECDSA, encrypted, not OpenSSH's format).
 */
export function ed25519Seed(privateKey: string): Buffer | undefined {
    const m = new RegExp(`-----BEGIN ${PEM_LABEL}-----([\\s\\S]*?)-----END ${PEM_LABEL}-----`).exec(privateKey);
    if (!m) return undefined;
    const body = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
    const magic = "openssh-key-v1\0";
    if (body.subarray(0, magic.length).toString("binary") !== magic) return undefined;
    let at = magic.length;
    const str = (): Buffer | undefined => {
        if (at + 4 > body.length) return undefined;
        const n = body.readUInt32BE(at);
        if (at + 4 + n > body.length) return undefined;
        const out = body.subarray(at + 4, at + 4 + n);
        at += 4 + n;
        return out;
    };
    const cipher = str()?.toString();
    const kdf = str()?.toString();
    str(); // kdf options
    if (cipher !== "none" || kdf !== "none" || at + 4 > body.length || body.readUInt32BE(at) !== 1) return undefined;
    at += 4;
    str(); // public key blob
    const priv = str();
    if (!priv || priv.length < 8 || priv.readUInt32BE(0) !== priv.readUInt32BE(4)) return undefined;
    const section = { body: priv, at: 8 };
    const field = (): Buffer | undefined => {
        const b = section.body;
        if (section.at + 4 > b.length) return undefined;
        const n = b.readUInt32BE(section.at);
        if (section.at + 4 + n > b.length) return undefined;
        const out = b.subarray(section.at + 4, section.at + 4 + n);
        section.at += 4 + n;
        return out;
    };
    if (field()?.toString() !== "ssh-ed25519") return undefined;
    field(); // public key
    const secret = field();
    return secret && secret.length === 64 ? Buffer.from(secret.subarray(0, 32)) : undefined;
}

/**
 * A private key as a resource keeps it in its state: an OpenSSH ed25519 key as its 32-byte seed
 * (`ed25519:<base64>`, 52 characters instead of about 400), any other key as it is.
 */
export function compactPrivateKey(privateKey: string): string {
    const seed = ed25519Seed(privateKey);
    return seed ? `${COMPACT_PREFIX}${seed.toString("base64")}` : privateKey;
}

/** The OpenSSH private key a compact one stands for (any other key is returned as it is). */
export function expandPrivateKey(key: string): string {
    if (!key.startsWith(COMPACT_PREFIX)) return key;
    const seed = Buffer.from(key.slice(COMPACT_PREFIX.length), "base64");
    return encodeEd25519(seed, ed25519PublicKey(seed), "", 0).privateKey;
}

/** The ed25519 public key (32 bytes) of a seed. */
export function ed25519PublicKey(seed: Buffer): Buffer {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    // PKCS#8 wrapping of an ed25519 seed (RFC 8410), so Node derives the public key.
    const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
    const publicKey = crypto.createPublicKey(crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
    return Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
}

/**
 * An ed25519 key pair derived from a secret (e.g. a pool's host-key seed) and a label (the
 * machine's name): HMAC-SHA256(secret, label) is the seed. The same secret and label always give
 * the same key, so a pool keeps one secret in its state instead of one key per machine.
 */
export function deriveEd25519(secret: Buffer, label: string, comment: string): OpenSshKeyPair {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    const seed = crypto.createHmac("sha256", secret).update(`flotilla ed25519\0${label}`, "utf8").digest();
    const check = crypto.createHmac("sha256", secret).update(`flotilla check\0${label}`, "utf8").digest().readUInt32BE(0);
    return encodeEd25519(seed, ed25519PublicKey(seed), comment, check);
}
