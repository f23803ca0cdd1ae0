/**
 * ExistingHosts under mocks: one probe (RemoteScript, bundled script) per machine with exactly its
 * connection; Hosts whose platform and identity come from the probe and whose host key is the pin
 * or the key first seen; and the validation contract, message by message, creating nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, keyPairOutputs, messageOf, recordResources, valueOf } from "../mocks";
import { ExistingHosts, ExistingHostsArgs } from "../../../lib/hosts/existing";
import { bundledScript } from "../../../lib/shared/scripts";
import { compactPrivateKey } from "../../../lib/shared/ssh-keys";

const KEY = keyPairOutputs("x:SshKeyPair", "client")!.privateKey as string;
const PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm2cFvR9YlK2oFz0b2mC3r8oQb3m6m7kq8o8m1q2w3e root@db1";
const SEEN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfirstseenfirstseenfirstseenfirstseenfirsts";
const PROBE = JSON.stringify({ os: "ubuntu", osVersion: "24.04", arch: "arm64", machineId: "0123456789abcdef0123456789abcdef" });

// A real probe returns its result, the machine id and (unpinned) the key first seen.
const registered = recordResources((type, _name, inputs) =>
    type.endsWith(":RemoteScript")
        ? { result: PROBE, machineId: "0123456789abcdef0123456789abcdef", ...(inputs.connection?.hostKey ? {} : { seenHostKey: SEEN }) }
        : undefined,
);
beforeEach(async () => {
    await settle();
    registered.splice(0);
});
const settle = () => new Promise((r) => setTimeout(r, 30));

const machines = (): ExistingHostsArgs["machines"] => [
    { name: "db1", address: "10.0.0.5", user: "ops", privateKey: pulumi.secret(KEY), hostKey: PIN, labels: { rack: "r1" } },
    { name: "db2", address: "db2.example.com", port: 2222, user: "root", privateKey: KEY, publicAddress: "203.0.113.7" },
];

async function build(args: ExistingHostsArgs, name = "site") {
    const pool = new ExistingHosts(name, args);
    await valueOf(pool.hostKeys);
    await valueOf(pool.platforms);
    await settle();
    return pool;
}

const unsecret = (v: unknown) => (v && typeof v === "object" && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_MARK ? (v as { value: unknown }).value : v);

describe("ExistingHosts", () => {
    test("registers exactly the component and one probe per machine", async () => {
        await build({ machines: machines() });
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "flotilla:hosts:ExistingHosts site",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript site-probe-db1",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript site-probe-db2",
        ]);
    });

    test("each probe runs the bundled probe over the machine's own connection, the key kept secret and compact", async () => {
        await build({ machines: machines() });
        const probe = registered.find((r) => r.name === "site-probe-db1")!.inputs;
        expect([probe.script ?? "", probe.scriptRef, probe.scriptHash]).toEqual(["", "hosts/existing-probe.sh", bundledScript("hosts", "existing-probe.sh").hash]);
        expect(probe.connection).toEqual({ host: "10.0.0.5", port: 22, user: "ops", hostKey: PIN.split(" ").slice(0, 2).join(" ") });
        expect(probe.privateKey).toEqual({ [SECRET_SIG]: SECRET_MARK, value: compactPrivateKey(KEY) });
        expect(probe.environment).toEqual({ MACHINE_NAME: "db1" });
        expect(probe.target).toBe("existing machine db1 (ops@10.0.0.5:22)");
        expect([probe.timeoutSeconds, probe.connectTimeoutSeconds, probe.triggers]).toEqual([120, 60, undefined]);
        const second = registered.find((r) => r.name === "site-probe-db2")!.inputs;
        expect(second.connection).toEqual({ host: "db2.example.com", port: 2222, user: "root", hostKey: "" });
        expect(unsecret(second.privateKey)).toBe(compactPrivateKey(KEY));
    });

    test("hosts: probed platform and identity, the pin or the key first seen, labels, defaults", async () => {
        const pool = await build({ machines: machines(), labels: { site: "berlin" } });
        expect(pool.poolName).toBe("site");
        expect(pool.packageAccess).toBe("upstream");
        expect(pool.network).toBeUndefined();
        expect(await valueOf(pool.hostKeys)).toEqual([PIN.split(" ").slice(0, 2).join(" "), SEEN]);
        const [db1, db2] = pool.hosts;
        expect(await valueOf(db1.platform)).toEqual({ os: "ubuntu", osVersion: "24.04", arch: "arm64" });
        expect(await valueOf(db1.instanceId)).toBe("0123456789abcdef0123456789abcdef");
        expect(await valueOf(db1.privateAddress)).toBe("10.0.0.5");
        expect(db1.publicAddress).toBeUndefined();
        expect(await valueOf(db2.publicAddress!)).toBe("203.0.113.7");
        expect(db1.network).toBeUndefined();
        expect(db1.labels).toEqual({ site: "berlin", rack: "r1", provider: "existing", pool: "site" });
        expect(db2.labels).toEqual({ site: "berlin", provider: "existing", pool: "site" });
        expect([db2.connection.host, db2.connection.port, db2.connection.user]).toEqual(["db2.example.com", 2222, "root"]);
        expect(await valueOf(db2.connection.hostKey!)).toBe(SEEN);
        expect(await pulumi.isSecret(db2.connection.privateKey as pulumi.Output<string>)).toBe(true);
        expect(db1.ready).toHaveLength(1);
        expect(db1.packageAccess).toBe("upstream");
    });

    test("poolName, network and packageAccess as given; a bastion is passed on", async () => {
        const pool = await build({
            poolName: "berlin",
            network: "site:berlin",
            packageAccess: "distribution",
            machines: [{ name: "m", address: "10.1.0.2", user: "ops", privateKey: KEY, bastion: { host: "jump.example.com", user: "j", privateKey: KEY } }],
        });
        const [m] = pool.hosts;
        expect([m.network, m.packageAccess, m.labels.pool]).toEqual(["site:berlin", "distribution", "berlin"]);
        expect(m.connection.bastion?.host).toBe("jump.example.com");
        expect(m.connection.bastion?.port).toBe(22);
        const probe = registered.find((r) => r.name === "site-probe-m")!.inputs;
        expect(unsecret(probe.bastion)).toEqual({ host: "jump.example.com", port: 22, user: "j", hostKey: "", privateKey: compactPrivateKey(KEY) });
    });

    const T = 'flotilla:hosts:ExistingHosts "site": invalid';
    const KNOWN = "known: machines, poolName, network, packageAccess, labels, sshUser, sshKey";
    const MKNOWN = "known: name, address, port, user, privateKey, hostKey, bastion, publicAddress, labels";
    const ADDRESS = 'an IPv4 address with four numbers from 0 to 255, or a DNS name (its last label not all digits), such as "10.0.0.5" or "db1.example.com"';
    const one = (extra: Record<string, unknown>) => ({ machines: [{ name: "m", address: "10.0.0.2", user: "ops", privateKey: KEY, ...extra }] });
    test.each([
        [{ machines: [] }, `${T} machines: received "0 machines"; expected a list of at least one machine { name, address, user, privateKey, ... }.`],
        [{}, `${T} machines: received undefined; expected a list of at least one machine { name, address, user, privateKey, ... }.`],
        [{ machines: pulumi.output([]) }, `${T} machines: received an Output; expected a plain value, not an Output (the list decides which resources exist).`],
        [{ ...one({}), machine: [] }, `${T} machine: received a list of 0; expected no such property (did you mean "machines"?); ${KNOWN}.`],
        [one({ adress: "10.0.0.2" }), `${T} machines[0].adress: received a string of 8 characters; expected no such property (did you mean "address"?); ${MKNOWN}.`],
        [one({ name: "DB_1" }), `${T} machines[0].name: received "DB_1"; expected a DNS-safe name of 1 to 63 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`],
        [one({ name: pulumi.output("m") }), `${T} machines[0].name: received an Output; expected a plain value, not an Output (it names the machine's resources).`],
        [one({ address: pulumi.output("10.0.0.2") }), `${T} machines[0].address: received an Output; expected a plain value, not an Output (it is checked (and compared with the other machines') before any resource is created).`],
        [one({ address: "http://x" }), `${T} machines[0].address: received "http://x"; expected ${ADDRESS}.`],
        [one({ port: 0 }), `${T} machines[0].port: received 0; expected an integer from 1 to 65535.`],
        [one({ user: "Ops" }), `${T} machines[0].user: received "Ops"; expected a Linux user name ([a-z_][a-z0-9_-], at most 32): root or one with password-less sudo.`],
        [one({ privateKey: "secret-text" }), `${T} machines[0].privateKey: received a secret of 11 characters; expected the text of an unencrypted private key in OpenSSH's format or PEM (RSA, EC) (this is no -----BEGIN ... PRIVATE KEY----- block).`],
        [one({ privateKey: undefined }), `${T} machines[0].privateKey: received undefined; expected the text of an unencrypted private key in OpenSSH's format or PEM (RSA, EC).`],
        [one({ hostKey: "AAAA" }), `${T} machines[0].hostKey: received "AAAA"; expected an SSH public host key line such as "ssh-ed25519 AAAA..." (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521).`],
        [one({ labels: { provider: "x" } }), `${T} machines[0].labels.provider: received "x"; expected no "provider" label: the pool sets it.`],
        [one({ bastion: { host: "j", user: "u", privateKey: KEY, prot: 22 } }), `${T} machines[0].bastion.prot: received 22; expected no such property (did you mean "port"?); known: host, port, user, privateKey, hostKey.`],
        [
            { machines: [...one({}).machines, { name: "m", address: "10.0.0.3", user: "ops", privateKey: KEY }] },
            `${T} machines[1].name: received "m"; expected a name no other machine of the pool has (machines[0] has it).`,
        ],
        [
            { machines: [...one({}).machines, { name: "n", address: "10.0.0.2", user: "ops", privateKey: KEY }] },
            `${T} machines[1].address: received "10.0.0.2"; expected an address no other machine of the pool has (machines[0] has it).`,
        ],
        [{ ...one({}), packageAccess: "mirror" }, `${T} packageAccess: received "mirror"; expected one of "upstream", "distribution".`],
        [{ ...one({}), network: pulumi.output("n") }, `${T} network: received an Output; expected a plain value, not an Output (it is checked before any resource is created).`],
        [{ ...one({}), poolName: "Site A" }, `${T} poolName: received "Site A"; expected a DNS-safe name of 1 to 40 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`],
    ])("%p fails at construction, creating nothing", async (args, message) => {
        await settle();
        expect(messageOf(() => new ExistingHosts("site", args as never))).toBe(message);
        await settle();
        expect(registered).toEqual([]);
    });

    describe("an address whose last label is all digits must be a valid dotted IPv4 address (no DNS name ends so)", () => {
        const BAD = ["10.0.0.256", "1.2.3", "10.1", "123", "1.2.3.4.5", "256.1.1.1", "010.0.0.1", "10.0.0.01", "db1.10", "999.999.999.999"];
        const where: [string, (address: string) => Record<string, unknown>, string][] = [
            ["address", (address) => one({ address }), "machines[0].address"],
            ["publicAddress", (publicAddress) => one({ publicAddress }), "machines[0].publicAddress"],
            ["bastion.host", (host) => one({ bastion: { host, user: "j", privateKey: KEY } }), "machines[0].bastion.host"],
        ];
        test.each(where.flatMap(([what, args, property]) => BAD.map((address) => [what, address, args, property] as const)))(
            "%s %s: refused at construction, creating nothing",
            async (_what, address, args, property) => {
                await settle();
                expect(messageOf(() => new ExistingHosts("site", args(address) as never))).toBe(`${T} ${property}: received "${address}"; expected ${ADDRESS}.`);
                await settle();
                expect(registered).toEqual([]);
            },
        );
        test.each(["10.0.0.255", "0.0.0.0", "255.255.255.255", "db1.example.com", "123.example.com", "10.0.0.5x", "node-1", "a1.b2.c3"])("%s: accepted", async (address) => {
            expect(() => new ExistingHosts("site", { machines: [{ name: "m", address, user: "ops", privateKey: KEY, publicAddress: address }] })).not.toThrow();
            await settle();
        });
    });

    describe("the same machine twice: addresses are compared ignoring case (DNS names are case-insensitive)", () => {
        test.each([
            ["DB1.example.com", "db1.example.com"],
            ["db1.example.com", "DB1.EXAMPLE.COM"],
            ["Db1.Example.Com", "dB1.eXample.cOM"],
            ["node-A", "node-a"],
        ])("%s then %s: refused at construction, creating nothing", async (first, second) => {
            await settle();
            const args = {
                machines: [
                    { name: "a", address: first, user: "ops", privateKey: KEY },
                    { name: "b", address: second, user: "ops", privateKey: KEY },
                ],
            };
            expect(messageOf(() => new ExistingHosts("site", args))).toBe(
                `${T} machines[1].address: received "${second}"; expected an address no other machine of the pool has (machines[0] has "${first}", the same name: DNS names ignore case).`,
            );
            await settle();
            expect(registered).toEqual([]);
        });
        test("the same machine listed third, after another: names the first listing", async () => {
            const args = {
                machines: [
                    { name: "a", address: "db1.example.com", user: "ops", privateKey: KEY },
                    { name: "b", address: "db2.example.com", user: "ops", privateKey: KEY },
                    { name: "c", address: "DB1.example.com", user: "ops", privateKey: KEY },
                ],
            };
            expect(messageOf(() => new ExistingHosts("site", args))).toBe(
                `${T} machines[2].address: received "DB1.example.com"; expected an address no other machine of the pool has (machines[0] has "db1.example.com", the same name: DNS names ignore case).`,
            );
        });
        test("different names are different machines, whatever their case", async () => {
            const pool = new ExistingHosts("site", {
                machines: [
                    { name: "a", address: "DB1.example.com", user: "ops", privateKey: KEY },
                    { name: "b", address: "db2.example.com", user: "ops", privateKey: KEY },
                ],
            });
            expect(pool.addresses).toEqual(["DB1.example.com", "db2.example.com"]);
            await settle();
        });
    });
});
