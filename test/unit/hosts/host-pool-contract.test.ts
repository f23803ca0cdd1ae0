/**
 * The one host-pool contract and vocabulary, across the five pools under mocks: every pool is an
 * IHostPool (isHostPool, every field present and resolved); the new names and the deprecated ones
 * register the very same children; both at once are refused; `clusterPorts` given as a port list
 * opens exactly those ports, and a name other than swarm/kubernetes is refused.
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, keyPairOutputs, messageOf, recordResources, valueOf } from "../mocks";
import { azureOutputs } from "./azure-mocks";
import { resetClaims } from "../../../lib/core/claims";
import { ClusterPort, KUBERNETES_PORTS, SWARM_PORTS } from "../../../lib/core/cluster";
import { IHostPool, isHostPool } from "../../../lib/core/host-pool";
import { AwsHostPool, AwsHostPoolArgs } from "../../../lib/hosts/aws";
import { AzureHostPool, AzureHostPoolArgs } from "../../../lib/hosts/azure";
import { ExistingHosts, ExistingHostsArgs } from "../../../lib/hosts/existing";
import { LabHostPool } from "../../../lib/hosts/lab";
import { ProxmoxHostPool, ProxmoxHostPoolArgs } from "../../../lib/hosts/proxmox";

const KEY = keyPairOutputs("x:SshKeyPair", "client")!.privateKey as string;
const PROBE = JSON.stringify({ os: "debian", osVersion: "12", arch: "amd64", machineId: "0123456789abcdef0123456789abcdef" });
const SEEN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfirstseenfirstseenfirstseenfirstseenfirsts";

let machineIndex = 0;
const registered = recordResources(
    (type, name, inputs) => {
        if (type === "aws:ec2/instance:Instance") {
            const n = ++machineIndex;
            return { privateIp: `10.60.0.${10 + n}`, ...(inputs.associatePublicIpAddress ? { publicIp: `203.0.113.${10 + n}` } : {}), availabilityZone: "eu-west-1b" };
        }
        if (type === "aws:ec2/keyPair:KeyPair") return { keyName: `${name}-name` };
        if (type.endsWith(":RemoteScript")) {
            return { result: PROBE, machineId: "0123456789abcdef0123456789abcdef", ...(inputs.connection?.hostKey ? {} : { seenHostKey: SEEN }) };
        }
        return azureOutputs(type, name, inputs);
    },
    (token) => (token === "aws:ec2/getAmi:getAmi" ? { id: "ami-amd64" } : undefined),
);

const settle = () => new Promise((r) => setTimeout(r, 30));
beforeEach(async () => {
    await settle();
    registered.splice(0);
    resetClaims();
    machineIndex = 0;
});

const AWS: AwsHostPoolArgs = { size: 2, region: "eu-west-1", adminCidrs: ["198.51.100.0/24"] };
const AZURE: AzureHostPoolArgs = { size: 2, location: "westeurope", adminCidrs: ["198.51.100.0/24"] };
const PROXMOX: ProxmoxHostPoolArgs = { size: 2, nodes: ["pve1"], subnet: "192.168.10.0/24", gateway: "192.168.10.1", firstAddress: "192.168.10.50" };
const EXISTING: ExistingHostsArgs = {
    machines: [
        { name: "db1", address: "10.0.0.5", user: "ops", privateKey: KEY },
        { name: "db2", address: "10.0.0.6", user: "ops", privateKey: KEY, publicAddress: "203.0.113.7" },
    ],
};

/** Builds a pool and waits until every child is registered and every contract field resolved. */
async function built<P extends IHostPool>(make: () => P): Promise<P> {
    const pool = make();
    await Promise.all([valueOf(pool.privateAddresses), valueOf(pool.publicAddresses), valueOf(pool.hostKeys), valueOf(pool.knownHosts), valueOf(pool.sshConfig)]);
    await Promise.all(pool.hosts.flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    await settle();
    return pool;
}

/** What the program registered, as comparable text (secret inputs as their values). */
function children(): string[] {
    const plain = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.map(plain);
        if (value && typeof value === "object") {
            const o = value as Record<string, unknown>;
            if (o[SECRET_SIG] === SECRET_MARK) return { secret: plain(o.value) };
            return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)]));
        }
        return value;
    };
    return registered.map((r) => JSON.stringify({ type: r.type, name: r.name, inputs: plain(r.inputs) })).sort();
}

/** The children two Args register, each in a program of its own. */
async function childrenOf(make: (args: never) => IHostPool, a: object, b: object): Promise<[string[], string[]]> {
    await built(() => make(a as never));
    const first = children();
    registered.splice(0);
    resetClaims();
    machineIndex = 0;
    await built(() => make(b as never));
    return [first, children()];
}

describe("every pool is an IHostPool", () => {
    const pools: [string, () => IHostPool, { sshUser: string | undefined; labels: Record<string, string>; publicAddresses: number }][] = [
        ["LabHostPool", () => new LabHostPool("lab", { size: 2, labels: { team: "a" } }), { sshUser: "admin", labels: { team: "a", provider: "lab", pool: "lab" }, publicAddresses: 2 }],
        ["AwsHostPool", () => new AwsHostPool("aws", AWS), { sshUser: "admin", labels: { provider: "aws", pool: "aws", region: "eu-west-1" }, publicAddresses: 2 }],
        ["AzureHostPool", () => new AzureHostPool("azure", AZURE), { sshUser: "flotilla", labels: { provider: "azure", pool: "azure", region: "westeurope" }, publicAddresses: 2 }],
        ["ProxmoxHostPool", () => new ProxmoxHostPool("pve", PROXMOX), { sshUser: "admin", labels: { provider: "proxmox", pool: "pve" }, publicAddresses: 0 }],
        ["ExistingHosts", () => new ExistingHosts("site", EXISTING), { sshUser: "ops", labels: { provider: "existing", pool: "site" }, publicAddresses: 1 }],
    ];
    test.each(pools)("%s: isHostPool, and every field of the contract is there", async (_kind, make, expected) => {
        const pool = await built(make);
        expect(isHostPool(pool)).toBe(true);
        expect(pool.hosts).toHaveLength(2);
        expect(pool.poolName).toBe(pool.hosts[0].labels.pool);
        expect(await valueOf(pool.privateAddresses)).toEqual(await Promise.all(pool.hosts.map((h) => valueOf(h.privateAddress))));
        expect(await valueOf(pool.publicAddresses)).toHaveLength(expected.publicAddresses);
        const hostKeys = await valueOf(pool.hostKeys);
        expect(hostKeys).toEqual(await Promise.all(pool.hosts.map((h) => valueOf(h.connection.hostKey as pulumi.Input<string>))));
        expect(hostKeys.every((k) => k.startsWith("ssh-ed25519 "))).toBe(true);
        const knownHosts = await valueOf(pool.knownHosts);
        for (const key of hostKeys) expect(knownHosts).toContain(key.split(" ")[1]);
        const sshConfig = await valueOf(pool.sshConfig);
        for (const h of pool.hosts) expect(sshConfig).toContain(`Host ${h.name} `);
        expect(pool.sshUser).toBe(expected.sshUser);
        expect(pool.labels).toEqual(expected.labels);
    });

    test("isHostPool is false for what is not one: a list of hosts, a host, a half pool, nothing", async () => {
        const pool = await built(() => new LabHostPool("lab", { size: 1 }));
        expect(isHostPool(pool.hosts)).toBe(false);
        expect(isHostPool(pool.hosts[0])).toBe(false);
        expect(isHostPool({ poolName: "p", hosts: pool.hosts })).toBe(false);
        expect(isHostPool({ ...pool, knownHosts: "text" })).toBe(false);
        expect(isHostPool(undefined)).toBe(false);
        expect(isHostPool(null)).toBe(false);
    });

    test("ExistingHosts: sshUser is undefined when its machines log in as different users and the pool names none", async () => {
        const pool = await built(() => new ExistingHosts("site", { machines: [EXISTING.machines[0], { ...EXISTING.machines[1], user: "root" }] }));
        expect(pool.sshUser).toBeUndefined();
        expect(isHostPool(pool)).toBe(true);
        // privateAddresses replaces the deprecated addresses: the same values.
        expect(await valueOf(pool.privateAddresses)).toEqual(pool.addresses);
    });
});

describe("the new vocabulary and the deprecated names register the very same children", () => {
    test.each([
        ["AwsHostPool diskGiB / rootVolumeGiB", (a: never) => new AwsHostPool("aws", a), { ...AWS, diskGiB: 40 }, { ...AWS, rootVolumeGiB: 40 }],
        ["AzureHostPool diskGiB / osDiskGiB", (a: never) => new AzureHostPool("azure", a), { ...AZURE, diskGiB: 64 }, { ...AZURE, osDiskGiB: 64 }],
        [
            "ProxmoxHostPool memoryMiB, diskGiB / memoryMb, diskSizeGb",
            (a: never) => new ProxmoxHostPool("pve", a),
            { ...PROXMOX, memoryMiB: 4096, diskGiB: 40 },
            { ...PROXMOX, memoryMb: 4096, diskSizeGb: 40 },
        ],
        ["ProxmoxHostPool tags as a record / as a list", (a: never) => new ProxmoxHostPool("pve", a), { ...PROXMOX, tags: { web: "", tier: "front" } }, { ...PROXMOX, tags: ["web", "tier-front"] }],
        ["AwsHostPool clusterPorts SWARM_PORTS / \"swarm\"", (a: never) => new AwsHostPool("aws", a), { ...AWS, clusterPorts: SWARM_PORTS }, { ...AWS, clusterPorts: ["swarm"] }],
        [
            "AwsHostPool clusterPorts both lists / both names",
            (a: never) => new AwsHostPool("aws", a),
            { ...AWS, clusterPorts: [...SWARM_PORTS, ...KUBERNETES_PORTS] },
            { ...AWS, clusterPorts: ["swarm", "kubernetes"] },
        ],
        ["AzureHostPool clusterPorts KUBERNETES_PORTS / \"kubernetes\"", (a: never) => new AzureHostPool("azure", a), { ...AZURE, clusterPorts: KUBERNETES_PORTS }, { ...AZURE, clusterPorts: ["kubernetes"] }],
        [
            "ExistingHosts pool sshUser, sshKey / each machine's user, privateKey",
            (a: never) => new ExistingHosts("site", a),
            { sshUser: "ops", sshKey: { privateKey: KEY }, machines: EXISTING.machines.map(({ name, address, publicAddress }) => ({ name, address, ...(publicAddress ? { publicAddress } : {}) })) },
            EXISTING,
        ],
    ])("%s", async (_what, make, next, old) => {
        const [withNew, withOld] = await childrenOf(make, next, old);
        expect(withNew.length).toBeGreaterThan(0);
        expect(withNew).toEqual(withOld);
    });

    test("the new names change what they should: diskGiB is each machine's disk", async () => {
        await built(() => new AwsHostPool("aws", { ...AWS, diskGiB: 40 }));
        const vm = registered.find((r) => r.name === "aws-machine-0")!;
        expect((vm.inputs.rootBlockDevice as { volumeSize: number }).volumeSize).toBe(40);
    });
});

describe("sshKey: the one way every pool that makes machines takes a login key", () => {
    test("LabHostPool given sshKey generates no key of its own and authorizes the given one", async () => {
        const pair = keyPairOutputs("x:SshKeyPair", "given")! as { privateKey: string; publicKey: string };
        const pool = await built(() => new LabHostPool("lab", { size: 1, sshKey: pair }));
        expect(registered.map((r) => r.name)).not.toContain("lab-ssh-key");
        expect(registered.map((r) => r.name)).toContain("lab-host-key-seed");
        expect(await valueOf(pool.sshPublicKey)).toBe(pair.publicKey);
        expect(await valueOf(pool.hosts[0].connection.privateKey)).toBe(pair.privateKey);
        expect(await pulumi.isSecret(pool.sshPrivateKey)).toBe(true);
    });

    test("LabHostPool refuses a key whose halves are not one pair, as every pool does", () => {
        const a = keyPairOutputs("x:SshKeyPair", "a")! as { privateKey: string; publicKey: string };
        const b = keyPairOutputs("x:SshKeyPair", "b")! as { privateKey: string; publicKey: string };
        expect(messageOf(() => new LabHostPool("lab", { size: 1, sshKey: { privateKey: a.privateKey, publicKey: b.publicKey } }))).toMatch(
            /^flotilla:hosts:LabHostPool "lab": invalid sshKey\.publicKey: received a public key line; expected the public half of sshKey\.privateKey/,
        );
    });

    test("ExistingHosts: a machine's own user and key override the pool's", async () => {
        const own = keyPairOutputs("x:SshKeyPair", "own")!.privateKey as string;
        const pool = await built(
            () => new ExistingHosts("site", { sshUser: "ops", sshKey: { privateKey: KEY }, machines: [{ name: "db1", address: "10.0.0.5" }, { name: "db2", address: "10.0.0.6", user: "root", privateKey: own }] }),
        );
        expect(pool.hosts.map((h) => h.connection.user)).toEqual(["ops", "root"]);
        expect(await Promise.all(pool.hosts.map((h) => valueOf(h.connection.privateKey)))).toEqual([KEY, own]);
        expect(pool.sshUser).toBe("ops");
    });

    test("ExistingHosts: a machine without a user or key, and none at the pool, is refused as before", () => {
        expect(messageOf(() => new ExistingHosts("site", { machines: [{ name: "db1", address: "10.0.0.5", privateKey: KEY }] }))).toBe(
            'flotilla:hosts:ExistingHosts "site": invalid machines[0].user: received undefined; expected a Linux user name ([a-z_][a-z0-9_-], at most 32): root or one with password-less sudo.',
        );
    });
});

describe("an old name beside its new one is refused, naming both", () => {
    const refusal = (old: string, name: string) => `no ${old} beside ${name}: ${old} is the deprecated name of ${name}, give ${name} only`;
    test.each([
        ["AwsHostPool", () => new AwsHostPool("aws", { ...AWS, diskGiB: 40, rootVolumeGiB: 40 }), `flotilla:hosts:AwsHostPool "aws": invalid rootVolumeGiB: received 40; expected ${refusal("rootVolumeGiB", "diskGiB")}.`],
        ["AzureHostPool", () => new AzureHostPool("azure", { ...AZURE, diskGiB: 64, osDiskGiB: 30 }), `flotilla:hosts:AzureHostPool "azure": invalid osDiskGiB: received 30; expected ${refusal("osDiskGiB", "diskGiB")}.`],
        ["ProxmoxHostPool memory", () => new ProxmoxHostPool("pve", { ...PROXMOX, memoryMiB: 2048, memoryMb: 2048 }), `flotilla:hosts:ProxmoxHostPool "pve": invalid memoryMb: received 2048; expected ${refusal("memoryMb", "memoryMiB")}.`],
        ["ProxmoxHostPool disk", () => new ProxmoxHostPool("pve", { ...PROXMOX, diskGiB: 20, diskSizeGb: 30 }), `flotilla:hosts:ProxmoxHostPool "pve": invalid diskSizeGb: received 30; expected ${refusal("diskSizeGb", "diskGiB")}.`],
    ])("%s", async (_what, make, message) => {
        expect(messageOf(make)).toBe(message);
        await settle();
        expect(registered).toEqual([]);
    });

    test("a deprecated name out of range is named as given", () => {
        expect(messageOf(() => new AwsHostPool("aws", { ...AWS, rootVolumeGiB: 4 }))).toBe('flotilla:hosts:AwsHostPool "aws": invalid rootVolumeGiB: received 4; expected an integer from 8 to 16384.');
        expect(messageOf(() => new AwsHostPool("aws", { ...AWS, diskGiB: 4 }))).toBe('flotilla:hosts:AwsHostPool "aws": invalid diskGiB: received 4; expected an integer from 8 to 16384.');
    });
});

describe("a pool given clusterPorts opens exactly those ports", () => {
    const PORTS: ClusterPort[] = [
        { port: 9000, protocol: "tcp", purpose: "a control plane" },
        { port: 9001, toPort: 9002, protocol: "udp", purpose: "an overlay" },
    ];

    test("AwsHostPool: one rule per port between the machines (and per peer block), no Kubernetes API rule without 6443", async () => {
        await built(() => new AwsHostPool("aws", { ...AWS, clusterPorts: PORTS, clusterPeerCidrs: ["198.51.100.7/32"] }));
        const rules = registered.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && /^aws-(cluster|kube-api)/.test(r.name));
        expect(rules.map((r) => [r.name, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort]).sort()).toEqual(
            [
                ["aws-cluster-tcp-9000", "tcp", 9000, 9000],
                ["aws-cluster-tcp-9000-peer-0", "tcp", 9000, 9000],
                ["aws-cluster-udp-9001-9002", "udp", 9001, 9002],
                ["aws-cluster-udp-9001-9002-peer-0", "udp", 9001, 9002],
            ].sort(),
        );
        expect(rules.find((r) => r.name === "aws-cluster-tcp-9000")!.inputs.description).toBe("a control plane, between the pool's machines");
    });

    test("AwsHostPool: a list holding the Kubernetes API (6443/tcp) opens it from adminCidrs too", async () => {
        await built(() => new AwsHostPool("aws", { ...AWS, clusterPorts: [{ port: 6443, protocol: "tcp", purpose: "Kubernetes API server" }] }));
        const names = registered.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.name);
        expect(names.filter((n) => /cluster|kube-api/.test(n)).sort()).toEqual(["aws-cluster-tcp-6443", "aws-kube-api-0"]);
    });

    test("AzureHostPool: the cluster rules name exactly those ports", async () => {
        await built(() => new AzureHostPool("azure", { ...AZURE, clusterPorts: PORTS }));
        const nsg = registered.find((r) => r.type === "azure-native:network:NetworkSecurityGroup")!;
        const rules = (nsg.inputs.securityRules as { name: string; destinationPortRanges?: string[] }[]).filter((r) => r.name.startsWith("cluster-"));
        expect(rules.map((r) => [r.name, r.destinationPortRanges])).toEqual([
            ["cluster-tcp", ["9000"]],
            ["cluster-udp", ["9001-9002"]],
        ]);
    });

    test("a port given twice is opened once", async () => {
        await built(() => new AwsHostPool("aws", { ...AWS, clusterPorts: [...SWARM_PORTS, ...SWARM_PORTS] }));
        const rules = registered.filter((r) => /^aws-cluster-/.test(r.name)).map((r) => r.name);
        expect(rules.sort()).toEqual(["aws-cluster-tcp-2377", "aws-cluster-tcp-7946", "aws-cluster-udp-4789", "aws-cluster-udp-7946"]);
    });

    test.each([
        [["nomad"], 'clusterPorts[0]: received "nomad"; expected one of "swarm", "kubernetes".'],
        [[{ port: 0, protocol: "tcp", purpose: "x" }], "clusterPorts[0].port: received 0; expected an integer from 1 to 65535."],
        [[{ port: 9000, toPort: 8000, protocol: "tcp", purpose: "x" }], "clusterPorts[0].toPort: received 8000; expected an integer from 9000 to 65535."],
        [[{ port: 9000, protocol: "sctp", purpose: "x" }], 'clusterPorts[0].protocol: received "sctp"; expected one of "tcp", "udp".'],
        [[{ port: 9000, protocol: "tcp", purpose: "x", prot: 1 }], "clusterPorts[0].prot: received 1; expected no such property (did you mean \"port\"?); known: port, toPort, protocol, purpose."],
    ])("refused: %j", (ports, message) => {
        expect(messageOf(() => new AwsHostPool("aws", { ...AWS, clusterPorts: ports as never }))).toBe(`flotilla:hosts:AwsHostPool "aws": invalid ${message}`);
    });

    test("an app port that is one of the pool's own cluster ports is refused", () => {
        expect(messageOf(() => new AwsHostPool("aws", { ...AWS, clusterPorts: PORTS, appPorts: [9000], appCidrs: ["0.0.0.0/0"] }))).toBe(
            'flotilla:hosts:AwsHostPool "aws": invalid appPorts[0]: received 9000; expected a port an app publishes, not a control plane (9000): ' +
                "the pool's clusterPorts are opened only between its machines, never as app ports.",
        );
    });
});
