/**
 * The three security rules of bad input (issue 20), by class, across the constructs they apply to:
 *
 * 1. No refusal message shows a secret: a secret-named property's value (as the property at fault or
 *    inside an object shown), a private key under any name, an unknown property's value.
 * 2. No private key in a plain input: a pool's `sshKey` is checked for the shape of both halves
 *    (a file path, a public line as the private key, a private key as the public line, a
 *    passphrase-protected key) and for being one pair, before anything is registered.
 * 3. No world-open admin port without its opt-in: admin and cluster ports are never app ports.
 *
 * (The secret guard of the unit suite, test/unit/guard/, also scans every refusal message of every
 * unit file; its own test is at the end.)
 */
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { keyPairOutputs, recordResources, refusedIn, testHost, valueOf } from "./mocks";
import { findLeaks, secretRuns } from "./guard/secret-scan";
import { resetClaims } from "../../lib/core/claims";
import { Validator, isSecretName, show } from "../../lib/core/validate";
import { ADMIN_TCP_PORTS, checkSuppliedKey } from "../../lib/hosts/common/cloud-common";
import { AwsHostPool } from "../../lib/hosts/aws";
import { AzureHostPool } from "../../lib/hosts/azure";
import { ProxmoxHostPool } from "../../lib/hosts/proxmox";
import { ExistingHosts } from "../../lib/hosts/existing";
import { KubernetesCluster } from "../../lib/cluster/kubernetes";
import { inspectPrivateKey, keyPairMismatch, KeyProblem } from "../../lib/shared/ssh-key-check";
import { generateEd25519 } from "../../lib/shared/ssh-keys";

const registered = recordResources(keyPairOutputs);
const refused = refusedIn(registered);
beforeEach(() => {
    registered.splice(0);
    resetClaims();
});

const pair = generateEd25519("me@laptop");
const other = generateEd25519("someone@else");
const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaPem = rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string;
const rsaEncrypted = rsa.privateKey.export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase: "correct horse" }) as string;

/** An OpenSSH key protected by a passphrase, as ssh-keygen writes it. */
function opensshEncrypted(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-key-"));
    try {
        childProcess.execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "a passphrase", "-f", path.join(dir, "k")]);
        return fs.readFileSync(path.join(dir, "k"), "utf8");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const POOLS = {
    AwsHostPool: (sshKey: unknown, more: object = {}) =>
        new AwsHostPool("p", { size: 1, region: "eu-west-1", adminCidrs: ["198.51.100.0/24"], sshKey, ...more } as never),
    AzureHostPool: (sshKey: unknown, more: object = {}) =>
        new AzureHostPool("p", { size: 1, location: "westeurope", adminCidrs: ["198.51.100.0/24"], sshKey, ...more } as never),
    ProxmoxHostPool: (sshKey: unknown) =>
        new ProxmoxHostPool("p", { size: 1, nodes: ["pve1"], sshKey } as never),
};

describe("1. no refusal message shows a secret", () => {
    test("a secret-named property's value is shown by its length only, wherever it is", () => {
        const v = new Validator("flotilla:test:T", "t");
        const message = (f: () => unknown) => {
            try {
                f();
            } catch (e) {
                return (e as Error).message;
            }
            throw new Error("no refusal");
        };
        expect(message(() => v.fail("clusterToken", "K10secret-token-value", "nothing"))).toBe(
            'flotilla:test:T "t": invalid clusterToken: received a secret of 21 characters; expected nothing.',
        );
        expect(message(() => v.fail("registryCredentials[0].password", "hunter2hunter2", "x"))).toContain("received a secret of 14 characters");
        expect(message(() => v.fail("registryCredentials", [{ registry: "r", password: "hunter2hunter2" }], "x"))).toContain("received a secret list");
        // Inside an object shown under another name, the secret-named member is hidden, the rest shown.
        expect(show({ server: "r.example.com", username: "u", password: "hunter2hunter2", auth: { token: "abcdefgh" } })).toBe(
            '{"server":"r.example.com","username":"u","password":"<a secret of 14 characters>","auth":"<a secret object>"}',
        );
        // A private key is never shown, under any name.
        expect(show(pair.privateKey)).toBe("a private key (not shown)");
        expect(show({ address: pair.privateKey })).toBe('{"address":"<private key>"}');
        // An unknown property's value (perhaps a misspelt secret) is shown by its kind only.
        expect(message(() => v.known("", { pasword: "hunter2hunter2" }, ["password"]))).toBe(
            'flotilla:test:T "t": invalid pasword: received a string of 14 characters; expected no such property (did you mean "password"?); known: password.',
        );
        expect(["password", "clusterToken", "sshKey", "privateKey", "registryAuth", "kubeconfig", "key", "passphrase"].every(isSecretName)).toBe(true);
        expect(["registry", "username", "server", "keyName", "authorizedKeys", "hostKey"].some(isSecretName)).toBe(false);
    });

    test("a setting given to the wrong distribution is refused without its value", async () => {
        const hosts = [testHost("cp0", "10.0.0.2")];
        const token = "K10" + "f".repeat(60) + "::server:" + "s".repeat(32);
        const kubeadm = await refused(() => new KubernetesCluster("k", { distribution: "kubeadm", version: "v1.37.2", controlPlane: hosts, clusterToken: token } as never));
        // A k3s setting is no property of a kubeadm cluster: refused as unknown, its value shown by its kind only.
        expect(kubeadm).toContain("invalid clusterToken: received a string of 104 characters; expected no such property");
        expect(kubeadm).not.toContain("fffff");
        const password = "p@ss-" + crypto.randomBytes(12).toString("hex");
        const k3s = await refused(
            () =>
                new KubernetesCluster("k", {
                    distribution: "k3s",
                    version: "v1.31.4+k3s1",
                    controlPlane: hosts,
                    registryCredentials: [{ registry: "r.example.com", username: "u", password }],
                } as never),
        );
        expect(k3s).toContain("invalid registryCredentials: received a list of 1; expected no such property");
        expect(k3s).not.toContain(password.slice(5));
    });
});

describe("2. a pool's sshKey: both halves' shapes and one pair, before anything is registered", () => {
    const encrypted = opensshEncrypted();
    const cases: [string, unknown, RegExp][] = [
        ["halves swapped", { privateKey: pair.publicKey, publicKey: pair.privateKey }, /invalid sshKey\.privateKey: received a secret of \d+ characters; .*a public key line, not a private key \(are privateKey and publicKey swapped\?\)/],
        ["a file path as the private key", { privateKey: "~/.ssh/id_ed25519", publicKey: pair.publicKey }, /invalid sshKey\.privateKey: .*a file path, not a key/],
        ["a passphrase-protected OpenSSH key", { privateKey: encrypted, publicKey: pair.publicKey }, /invalid sshKey\.privateKey: .*passphrase-protected/],
        ["a passphrase-protected PEM key", { privateKey: rsaEncrypted, publicKey: pair.publicKey }, /invalid sshKey\.privateKey: .*passphrase-protected/],
        ["the private key as the public half", { privateKey: pair.privateKey, publicKey: pair.privateKey }, /invalid sshKey\.publicKey: received a private key \(not shown\); .*swapped/],
        ["halves of two pairs", { privateKey: pair.privateKey, publicKey: other.publicKey }, /invalid sshKey\.publicKey: received a public key line; expected the public half of sshKey\.privateKey \(.*two different key pairs\)/],
    ];
    describe.each(Object.entries(POOLS))("%s", (_pool, make) => {
        test.each(cases)("%s", async (_name, sshKey, expected) => {
            const message = await refused(() => make(sshKey));
            expect(message).toMatch(expected);
            for (const key of [pair.privateKey, encrypted, rsaEncrypted]) {
                expect(findLeaks([{ property: "sshKey", message }], new Map([[key, "key"]]))).toEqual([]);
            }
        });
    });

    test("a matching pair is accepted (ed25519 and RSA), by the check every pool uses", async () => {
        const v = new Validator("flotilla:test:T", "t");
        const rsaPublic = `ssh-rsa ${(inspectPrivateKey(rsaPem) as { publicBlob: string }).publicBlob} me@laptop`;
        for (const [privateKey, publicKey] of [
            [pair.privateKey, pair.publicKey],
            [rsaPem, rsaPublic],
        ]) {
            const checked = checkSuppliedKey(v, "sshKey", { privateKey, publicKey: pulumi.output(publicKey) });
            expect(await valueOf(checked!.publicKey)).toBe(publicKey);
            expect(await pulumi.isSecret(pulumi.output(checked!.publicKey))).toBe(false);
            expect(await pulumi.isSecret(pulumi.output(checked!.privateKey))).toBe(true);
        }
    });

    test("AwsHostPool: the key pair's publicKey is the public line, never the private key", async () => {
        POOLS.AwsHostPool({ privateKey: pulumi.output(pair.privateKey), publicKey: pulumi.output(pair.publicKey) });
        await new Promise((r) => setTimeout(r, 200));
        const keyPair = registered.find((r) => r.type === "aws:ec2/keyPair:KeyPair");
        expect(keyPair?.inputs.publicKey).toBe(pair.publicKey);
    });

    test("ExistingHosts: the same key checks for a machine's and a bastion's key", async () => {
        const machine = (privateKey: unknown, bastionKey: unknown = pair.privateKey) => ({
            machines: [{ name: "m0", address: "10.0.0.2", user: "root", privateKey, bastion: { host: "203.0.113.9", user: "jump", privateKey: bastionKey } }],
        });
        expect(await refused(() => new ExistingHosts("e", machine(encrypted) as never))).toMatch(/invalid machines\[0\]\.privateKey: received a secret of \d+ characters; .*passphrase-protected/);
        expect(await refused(() => new ExistingHosts("e", machine(pair.publicKey) as never))).toMatch(/invalid machines\[0\]\.privateKey: .*swapped/);
        expect(await refused(() => new ExistingHosts("e", machine(pair.privateKey, "~/.ssh/jump") as never))).toMatch(
            /invalid machines\[0\]\.bastion\.privateKey: received a secret of \d+ characters; .*a file path, not a key/,
        );
        expect(await refused(() => new ExistingHosts("e", machine(pair.privateKey, rsaEncrypted) as never))).toMatch(
            /invalid machines\[0\]\.bastion\.privateKey: .*passphrase-protected/,
        );
    });

    test("what the key check says of each kind of text", () => {
        const why = (text: unknown) => {
            const r = inspectPrivateKey(text);
            return r instanceof KeyProblem ? r.why : r.type;
        };
        expect(why(pair.privateKey)).toBe("ssh-ed25519");
        expect(why(rsaPem)).toBe("ssh-rsa");
        expect(why("./id_rsa")).toMatch(/a file path/);
        expect(why("C:\\Users\\me\\.ssh\\id_ed25519")).toMatch(/a file path/);
        expect(why(rsa.privateKey.export({ type: "pkcs8", format: "pem" }))).toMatch(/PKCS#8/);
        expect(why("hello")).toMatch(/no -----BEGIN/);
        expect(keyPairMismatch(pair.privateKey, pair.publicKey)).toBeUndefined();
        expect(keyPairMismatch(pair.privateKey, other.publicKey)).toMatch(/two different key pairs/);
    });
});

describe("3. admin and cluster ports are never app ports", () => {
    const world = ["0.0.0.0/0"];
    const adminPorts = [22, 2375, 2376, 2377, 6443, 2379, 2380, 10250, 10257, 10259, 7946];
    describe.each([
        ["AwsHostPool", POOLS.AwsHostPool],
        ["AzureHostPool", POOLS.AzureHostPool],
    ])("%s", (_pool, make) => {
        test.each(adminPorts)("port %d is refused as an app port, even with allowWorldSsh", async (port) => {
            const message = await refused(() => make(undefined, { appPorts: [443, port], appCidrs: world, allowWorldSsh: true }));
            expect(message).toContain(`invalid appPorts[1]: received ${port}; expected a port an app publishes, not `);
            expect(message).toContain("are never app ports");
        });
        test("web ports and NodePorts are app ports", () => {
            expect(() => make(undefined, { appPorts: [80, 443, 8080, 30080], appCidrs: world })).not.toThrow();
        });
    });
    test("every TCP port a cluster uses between its nodes is an admin port", () => {
        const listed = new Set(ADMIN_TCP_PORTS.flatMap((p) => Array.from({ length: (p.toPort ?? p.port) - p.port + 1 }, (_, i) => p.port + i)));
        expect(adminPorts.every((p) => listed.has(p))).toBe(true);
    });
});

describe("the unit suite's secret guard", () => {
    test("finds a secret, or any 16-character run of a long one, in a message; PEM armour is not secret", () => {
        const secrets = new Map([
            ["hunter2hunter2", "password"],
            [pair.privateKey, "privateKey"],
        ]);
        const body = pair.privateKey.split("\n")[2];
        const leaks = findLeaks(
            [
                { property: "a", message: "received hunter2hunter2; expected x" },
                { property: "b", message: `received "${body.slice(10, 40)}..."` },
                { property: "c", message: `expected an OpenSSH key (${pair.privateKey.split("\n")[0]})` },
                { property: "d", message: "received a secret of 14 characters" },
            ],
            secrets,
        );
        expect(leaks).toEqual([
            { property: "a", secretLength: 14, secretFrom: "password" },
            { property: "b", secretLength: pair.privateKey.length, secretFrom: "privateKey" },
        ]);
        expect(secretRuns("short")).toEqual([]);
        expect(secretRuns("sixsix")).toEqual(["sixsix"]);
    });
});
