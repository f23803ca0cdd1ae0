import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, keyPairOutputs, recordResources, valueOf } from "../mocks";
import { deriveEd25519, ed25519Seed } from "../../../lib/shared/ssh-keys";
import { resetClaims } from "../../../lib/core/claims";
import { bundledScript } from "../../../lib/shared/scripts";
import { LabHostPool } from "../../../lib/hosts/lab";
import { labUserData } from "../../../lib/hosts/common/user-data";
import { InvalidArgumentError } from "../../../lib/core/validate";

const registered = recordResources(keyPairOutputs);

// Each test is a program of its own: pool names and address blocks are claimed once per program.
beforeEach(() => {
    registered.splice(0);
    resetClaims();
});

/** Builds a pool and waits until every child is registered. */
async function build(name: string, args: ConstructorParameters<typeof LabHostPool>[1]) {
    const pool = new LabHostPool(name, args);
    await valueOf(pool.privateAddresses);
    await Promise.all(pool.hosts.map((h) => valueOf(h.connection.hostKey as pulumi.Output<string>)));
    await Promise.all(pool.hosts.flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    return pool;
}

const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};

describe("LabHostPool", () => {
    test("registers exactly: the component, a client key, the host-key seed, a network, the image step and a machine per machine", async () => {
        await build("lab", { size: 3 });
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                "flotilla:hosts:LabHostPool lab",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair lab-ssh-key",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-network",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-image",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair lab-host-key-seed",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-machine-0",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-machine-1",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-machine-2",
            ].sort(),
        );
    });

    test("network and machines get the shipped scripts and their exact environment", async () => {
        await build("lab", { size: 2, subnet: "192.168.50.0/28", poolName: "web", labels: { team: "blue" } });
        const network = byName("lab-network").inputs;
        expect([network.script ?? "", network.scriptRef, network.scriptHash]).toEqual(["", "hosts/lab-network.sh", bundledScript("hosts", "lab-network.sh").hash]);
        expect(network.environment).toEqual({
            NETWORK_NAME: "web-net",
            NETWORK_SUBNET: "192.168.50.0/28",
            NETWORK_GATEWAY: "192.168.50.1",
            NETWORK_POOL: "web",
        });
        expect(network.target).toBe("lab network web-net (192.168.50.0/28)");

        const image = byName("lab-image").inputs;
        expect([image.script ?? "", image.scriptRef, image.scriptHash]).toEqual(["", "hosts/lab-image-ensure.sh", bundledScript("hosts", "lab-image-ensure.sh").hash]);
        expect(image.environment).toEqual({ MACHINE_IMAGE: "flotilla-lab:debian12", LAB_IMAGE_DEFAULT: "1" });
        expect(image.target).toBe("lab image flotilla-lab:debian12");
        expect(image.timeoutSeconds).toBe(1800);

        const machine = byName("lab-machine-1").inputs;
        expect([machine.script ?? "", machine.scriptRef, machine.scriptHash]).toEqual(["", "hosts/lab-machine.sh", bundledScript("hosts", "lab-machine.sh").hash]);
        expect(machine.environment).toEqual({
            MACHINE_NAME: "web-1",
            MACHINE_POOL: "web",
            MACHINE_NETWORK: "web-net",
            MACHINE_ADDRESS: "192.168.50.3",
            MACHINE_IMAGE: "flotilla-lab:debian12",
            MACHINE_BOOT_TIMEOUT: "300",
            MACHINE_META_DATA: "instance-id: web-1\nlocal-hostname: web-1\n",
        });
        expect(machine.target).toBe("lab machine web-1 (192.168.50.3)");
        expect(machine.timeoutSeconds).toBe(420);
        expect(byName("lab-ssh-key").inputs.comment).toBe("flotilla@web");
        expect(byName("lab-host-key-seed").inputs.comment).toBe("host-keys@web");
    });

    test("kubernetes: true gives the machines the kernel log device (MACHINE_KUBERNETES); other pools keep their environment", async () => {
        await build("lab", { size: 1, subnet: "192.168.51.0/28", poolName: "k8s", kubernetes: true });
        expect((byName("lab-machine-0").inputs as Record<string, any>).environment.MACHINE_KUBERNETES).toBe("1");
        registered.splice(0);
        await build("plain", { size: 1, subnet: "192.168.52.0/28", poolName: "plain", kubernetes: false });
        expect((byName("plain-machine-0").inputs as Record<string, any>).environment.MACHINE_KUBERNETES).toBeUndefined();
    });

    test("hosts follow the Host contract: names, addresses, connection, labels, readiness", async () => {
        const pool = await build("lab", { size: 2, poolName: "web", labels: { team: "blue" } });
        expect(pool.hosts.map((h) => h.name)).toEqual(["web-0", "web-1"]);
        expect(await valueOf(pool.privateAddresses)).toEqual(["10.213.0.2", "10.213.0.3"]);
        expect(await valueOf(pool.hosts[1].publicAddress)).toBe("10.213.0.3");
        const c = pool.hosts[1].connection;
        expect([await valueOf(c.host), await valueOf(c.port), await valueOf(c.user)]).toEqual(["10.213.0.3", 22, "admin"]);
        expect(pool.hosts[1].labels).toEqual({ team: "blue", provider: "lab", pool: "web" });
        expect(pool.hosts[1].ready).toHaveLength(1);
        expect(await valueOf(pool.hosts[1].ready[0].urn)).toContain("lab-machine-1");
        expect([pool.poolName, pool.networkName, pool.subnet, pool.size, pool.sshUser]).toEqual([
            "web",
            "web-net",
            "10.213.0.0/24",
            2,
            "admin",
        ]);
    });

    test("the private key and the user data (which holds the host key) are secrets", async () => {
        const pool = await build("lab", { size: 1 });
        expect(await pulumi.isSecret(pool.sshPrivateKey)).toBe(true);
        expect(await pulumi.isSecret(pool.hosts[0].connection.privateKey as pulumi.Output<string>)).toBe(true);
        expect(await pulumi.isSecret(pool.sshPublicKey)).toBe(false);
        // The user data (with the host's private key) travels only in the create-only secret
        // environment (the first boot alone needs it): the engine receives it as a secret.
        const env = byName("lab-machine-0").inputs.createOnlySecretEnvironment as Record<string, unknown>;
        expect(env[SECRET_SIG]).toBe(SECRET_MARK);
        const value = env.value as Record<string, string>;
        expect(Object.keys(value)).toEqual(["MACHINE_USER_DATA_GZ"]);
        // gzip then base64, as cloud-init reads it; inside, the pool's own #cloud-config part.
        const userData = zlib.gunzipSync(Buffer.from(value.MACHINE_USER_DATA_GZ, "base64")).toString("utf8");
        expect(userData).toMatch(/^#cloud-config\n/);
        // The machine's host key, derived from the pool's seed and its name, is the one the Host
        // announces for strict checking: its private half in the user data, its public half in
        // the connection (and in the user data).
        const seed = ed25519Seed(keyPairOutputs(":SshKeyPair", "lab-host-key-seed")?.privateKey as string) as Buffer;
        const expected = deriveEd25519(seed, "lab-0", "root@lab-0");
        expect(userData).toContain(JSON.stringify(expected.privateKey).slice(1, -1));
        expect(await valueOf(pool.hosts[0].connection.hostKey)).toBe(expected.publicKey);
        expect(await pulumi.isSecret(pulumi.output(pool.hosts[0].connection.hostKey))).toBe(false);
        expect(JSON.stringify(byName("lab-machine-0").inputs.environment)).not.toContain("PRIVATE KEY");
    });

    test("user data: a sudo user with the pool key, the given host key, no passwords, no root login", () => {
        const text = labUserData({
            user: "admin",
            authorizedKey: "ssh-ed25519 AAAA client",
            hostPrivate: "PRIVATE",
            hostPublic: "ssh-ed25519 BBBB host",
        });
        expect(text.startsWith("#cloud-config\n")).toBe(true);
        expect(JSON.parse(text.slice("#cloud-config\n".length))).toEqual({
            users: [
                {
                    name: "admin",
                    shell: "/bin/bash",
                    sudo: "ALL=(ALL) NOPASSWD:ALL",
                    lock_passwd: true,
                    ssh_authorized_keys: ["ssh-ed25519 AAAA client"],
                },
            ],
            disable_root: true,
            ssh_pwauth: false,
            write_files: [
                { path: "/etc/ssh/sshd_config.d/00-flotilla.conf", owner: "root:root", permissions: "0644", content: "PermitRootLogin no\n" },
            ],
            ssh_deletekeys: true,
            ssh_genkeytypes: ["ed25519"],
            ssh_keys: { ed25519_private: "PRIVATE", ed25519_public: "ssh-ed25519 BBBB host" },
        });
    });

    const T = 'flotilla:hosts:LabHostPool "lab": invalid';
    test.each([
        [{ size: 0 }, `${T} size: received 0; expected an integer from 1 to 64.`],
        [{ size: 65 }, `${T} size: received 65; expected an integer from 1 to 64.`],
        [{ size: 2.5 }, `${T} size: received 2.5; expected an integer from 1 to 64.`],
        [
            { size: 1, poolName: "Lab_1" },
            `${T} poolName: received "Lab_1"; expected a DNS-safe name of 1 to 40 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
        ],
        [
            { size: 1, subnet: "10.0.0.0" },
            `${T} subnet: received "10.0.0.0"; expected a private IPv4 CIDR block such as "10.213.0.0/24" (not in a.b.c.d/prefix form).`,
        ],
        [
            { size: 1, subnet: "10.0.0.5/24" },
            `${T} subnet: received "10.0.0.5/24"; expected a private IPv4 CIDR block such as "10.213.0.0/24" (host bits set (did you mean 10.0.0.0/24?)).`,
        ],
        [
            { size: 1, subnet: "8.8.8.0/24" },
            `${T} subnet: received "8.8.8.0/24"; expected a private (RFC 1918) IPv4 block of prefix /8 to /29.`,
        ],
        [
            { size: 1, subnet: "10.0.0.0/30" },
            `${T} subnet: received "10.0.0.0/30"; expected a private (RFC 1918) IPv4 block of prefix /8 to /29.`,
        ],
        [
            { size: 6, subnet: "10.0.0.0/29" },
            `${T} subnet: received "10.0.0.0/29"; expected a block with room for 6 machines besides network, gateway and broadcast (it has room for 5).`,
        ],
        [
            { size: 1, sshUser: "root" },
            `${T} sshUser: received "root"; expected a Linux user name other than root ([a-z_][a-z0-9_-], at most 32).`,
        ],
        [
            { size: 1, labels: { provider: "aws" } },
            `${T} labels.provider: received "aws"; expected no "provider" label: the pool sets it.`,
        ],
        [
            { size: 1, image: "bad image" },
            `${T} image: received "bad image"; expected a Docker image reference [registry[:port]/]path[:tag][@digest] of an image on the local Docker engine (path component "bad image" is not lower-case letters and digits separated by '.', '_', '__' or '-').`,
        ],
        [
            { size: 1, bootTimeoutSeconds: 5 },
            `${T} bootTimeoutSeconds: received 5; expected an integer from 30 to 3600.`,
        ],
    ])("bad input %p fails at construction and creates nothing", async (args, message) => {
        expect(() => new LabHostPool("lab", args)).toThrow(InvalidArgumentError);
        expect(() => new LabHostPool("lab", args)).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });

    test("a resource name that is not DNS-safe is rejected when no poolName is given", () => {
        expect(() => new LabHostPool("My Lab", { size: 1 })).toThrow(
            `flotilla:hosts:LabHostPool "My Lab": invalid name: received "My Lab"; expected a DNS-safe name`,
        );
        expect(registered).toEqual([]);
    });
});
