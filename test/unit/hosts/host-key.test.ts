/**
 * The RemoteScript provider's host-key verifier as a pure function: a pinned key must match, a key
 * recorded on first sight must match on every later phase, and with neither the key seen is
 * accepted and recorded (trust on first use). A mismatch names the place and both fingerprints as
 * OpenSSH prints them.
 */
import * as crypto from "crypto";
import { checkHostKey, hostKeyAlgorithms, hostKeyFingerprint, hostKeyLine } from "../../../lib/shared/providers/remote-script";
import { ed25519PublicKey, encodeEd25519 } from "../../../lib/shared/ssh-keys";

/** A real ed25519 public key line from a fixed seed. */
function keyLine(label: string): string {
    const seed = crypto.createHash("sha256").update(label).digest();
    return encodeEd25519(seed, ed25519PublicKey(seed), "root@x", 0).publicKey;
}
const blob = (line: string) => Buffer.from(line.split(" ")[1], "base64");
const bare = (line: string) => line.split(" ").slice(0, 2).join(" ");
const fp = (line: string) => `SHA256:${crypto.createHash("sha256").update(blob(line)).digest("base64").replace(/=+$/, "")}`;

const A = keyLine("a");
const B = keyLine("b");
const WHERE = "10.0.0.5:22";

describe("host key verifier", () => {
    test.each([
        ["pinned, presented the same", A, "", bare(A), { accept: true, seen: bare(A), record: false }],
        ["pinned (with its comment), presented the same", A, "", A, { accept: true, seen: bare(A), record: false }],
        ["nothing pinned or recorded: trust on first use, record it", A, "", "", { accept: true, seen: bare(A), record: true }],
        ["recorded on first sight, presented the same", A, bare(A), "", { accept: true, seen: bare(A), record: true }],
        ["pinned wins over an older recorded key", A, bare(B), bare(A), { accept: true, seen: bare(A), record: false }],
    ])("%s: accepted", (_what, presented, recorded, pinned, verdict) => {
        expect(checkHostKey(WHERE, blob(presented), pinned, recorded)).toEqual(verdict);
    });

    test.each([
        [
            "pinned, another key presented",
            B,
            "",
            bare(A),
            `10.0.0.5:22 presents the host key ${fp(B)} (ssh-ed25519), not the pinned host key ${fp(A)}: ` +
                "refusing to connect (another machine at that address, or someone in between; if the machine was re-imaged, pin its new key)",
        ],
        [
            "recorded on first sight, another key presented later",
            B,
            bare(A),
            "",
            `10.0.0.5:22 presents the host key ${fp(B)} (ssh-ed25519), not the host key it presented when first seen, ${fp(A)} ` +
                "(recorded in the state): refusing to connect (another machine at that address, or someone in between; " +
                "if the machine was re-imaged, pin its new key (hostKey); the recorded one is never replaced silently)",
        ],
        [
            "pinned, the right key but another type claimed",
            A,
            "",
            `ssh-rsa ${bare(A).split(" ")[1]}`,
            `10.0.0.5:22 presents the host key ${fp(A)} (ssh-ed25519), not the pinned host key ${fp(A)}: ` +
                "refusing to connect (another machine at that address, or someone in between; if the machine was re-imaged, pin its new key)",
        ],
    ])("%s: refused, naming both fingerprints", (_what, presented, recorded, pinned, reason) => {
        expect(checkHostKey(WHERE, blob(presented), pinned, recorded)).toEqual({ accept: false, seen: bare(presented), reason });
    });

    test("fingerprints are OpenSSH's (SHA256:, unpadded base64 of the key blob's sha256)", () => {
        expect(hostKeyFingerprint(A)).toBe(fp(A));
        expect(hostKeyFingerprint(A)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
        expect(hostKeyLine(blob(A))).toBe(bare(A));
    });

    test("the algorithm offered matches the expected key's type, so the server presents that key", () => {
        expect(hostKeyAlgorithms("ssh-ed25519")).toEqual(["ssh-ed25519"]);
        expect(hostKeyAlgorithms("ssh-rsa")).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
        expect(hostKeyAlgorithms("ecdsa-sha2-nistp256")).toEqual(["ecdsa-sha2-nistp256"]);
        expect(hostKeyAlgorithms("")).toBeUndefined();
    });
});
