/**
 * What a supplied SSH key is, read with ssh2's own key parser (the SSH client every flotilla script
 * runs through), so a key is accepted exactly when flotilla can log in with it. Helpers, not
 * constructs: the validators of the host pools call them (DESIGN convention 14).
 *
 * Nothing here returns or prints a private key's content: only its type, its public half, or why it
 * is refused.
 */
import { utils } from "ssh2";

/** A private key flotilla can use: its type and its public half as a key line's base64 blob. */
export interface PrivateKeyInfo {
    readonly type: string;
    readonly publicBlob: string;
}

/** Why a text is not a private key flotilla can use (never quotes the text). */
export class KeyProblem {
    constructor(readonly why: string) {}
}

const PUBLIC_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|ssh-dss|sk-\S+) [A-Za-z0-9+/]+={0,2}( .*)?$/;

/** The type and base64 blob of an SSH public key line, or undefined when the text is not one. */
export function publicKeyLine(text: string): { type: string; blob: string } | undefined {
    const line = text.trim();
    if (!PUBLIC_LINE.test(line)) return undefined;
    const parsed = utils.parseKey(line);
    if (parsed instanceof Error || Array.isArray(parsed)) return undefined;
    const [type, blob] = line.split(/\s+/);
    return parsed.type === type ? { type, blob } : undefined;
}

/**
 * Reads a private key as flotilla's SSH client will. Refuses, each with its own reason: a file path
 * given instead of the key's contents, a public key line (the halves swapped), a passphrase-protected
 * key, and anything else ssh2 cannot read.
 */
export function inspectPrivateKey(text: unknown): PrivateKeyInfo | KeyProblem {
    if (typeof text !== "string" || text.trim() === "") return new KeyProblem("not a non-empty string");
    const trimmed = text.trim();
    if (!trimmed.includes("\n") && /^(~|\.{0,2}\/|[A-Za-z]:\\)/.test(trimmed) && !trimmed.includes("-----")) {
        return new KeyProblem('a file path, not a key: pass the key\'s contents, e.g. fs.readFileSync(path, "utf8")');
    }
    if (PUBLIC_LINE.test(trimmed)) {
        return new KeyProblem("a public key line, not a private key (are privateKey and publicKey swapped?)");
    }
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(trimmed) || /Proc-Type: *4,ENCRYPTED/.test(trimmed)) {
        return new KeyProblem("a passphrase-protected key: flotilla's SSH client needs it unencrypted (ssh-keygen -p -N '' -f <file>)");
    }
    if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(trimmed)) {
        return new KeyProblem("no -----BEGIN ... PRIVATE KEY----- block");
    }
    const parsed = utils.parseKey(trimmed);
    if (parsed instanceof Error) {
        if (/passphrase|encrypted/i.test(parsed.message)) {
            return new KeyProblem("a passphrase-protected key: flotilla's SSH client needs it unencrypted (ssh-keygen -p -N '' -f <file>)");
        }
        return new KeyProblem(
            /BEGIN PRIVATE KEY/.test(trimmed)
                ? "a PKCS#8 key, which flotilla's SSH client (ssh2) cannot read: convert it to OpenSSH's format (ssh-keygen -p -N '' -f <file>)"
                : "a key flotilla's SSH client (ssh2) cannot read: OpenSSH's format or PEM (RSA, EC) are",
        );
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || !key.isPrivateKey()) return new KeyProblem("no private key in the block");
    return { type: key.type, publicBlob: key.getPublicSSH().toString("base64") };
}

/**
 * Whether a public key line is the public half of a private key: undefined when it is, else why not
 * (without quoting either).
 */
export function keyPairMismatch(privateKey: string, publicKey: string): string | undefined {
    const info = inspectPrivateKey(privateKey);
    if (info instanceof KeyProblem) return `the private key is ${info.why}`;
    const line = publicKeyLine(publicKey);
    if (!line) return "the public key is not an SSH public key line";
    if (line.blob !== info.publicBlob) {
        return `the public key (${line.type}) is not the public half of the private key (${info.type}): they are from two different key pairs`;
    }
    return undefined;
}
