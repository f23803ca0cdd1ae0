/**
 * ProxmoxHostPool under mocks: the exact resources of each shape (one node or several, static
 * addresses or DHCP, a downloaded cloud image or a template), the VM's inputs, the user data
 * snippet (the first-boot document, whose host key is the one the Host announces), round-robin
 * placement, and bad input refused at construction with nothing registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, keyPairOutputs, messageOf, recordResources, valueOf } from "../mocks";
import { resetClaims } from "../../../lib/core/claims";
import { deriveEd25519, ed25519Seed } from "../../../lib/shared/ssh-keys";
import { ProxmoxHostPool, ProxmoxHostPoolArgs } from "../../../lib/hosts/proxmox";
import { agentAddress, guestAgentUserData } from "../../../lib/hosts/proxmox/proxmox-checks";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const SNIPPET = "proxmoxve:index/fileLegacy:FileLegacy";
const IMAGE = "proxmoxve:download/file:File";
const KEY = "pulumi-nodejs:dynamic/flotilla:SshKeyPair";

/** What Proxmox reports for VM `<name>-vm-<i>`: its id, its NIC's MAC, and the guest agent's view (DHCP address 192.168.77.(50+i)). */
function vmOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
    if (type !== VM) return keyPairOutputs(type, name);
    const i = Number(/-vm-(\d+)$/.exec(name)?.[1] ?? 0);
    const mac = `BC:24:11:00:00:${String(10 + i).padStart(2, "0")}`;
    return {
        vmId: inputs.vmId ?? 100 + i,
        networkDevices: (inputs.networkDevices as Record<string, unknown>[]).map((d) => ({ ...d, macAddress: mac })),
        networkInterfaceNames: ["lo", "docker0", "eth0"],
        macAddresses: ["00:00:00:00:00:00", "02:42:ac:11:00:01", mac],
        ipv4Addresses: [["127.0.0.1"], ["172.17.0.1"], [`192.168.77.${50 + i}`]],
    };
}

const registered = recordResources(vmOutputs);

/** Lets every registration started so far reach the mocks. */
const settle = () => new Promise((r) => setTimeout(r, 30));

beforeEach(async () => {
    await settle();
    registered.splice(0);
    resetClaims();
});

/** Builds a pool and waits until every child is registered. */
async function build(name: string, args: ProxmoxHostPoolArgs): Promise<ProxmoxHostPool> {
    const pool = new ProxmoxHostPool(name, args);
    await valueOf(pool.privateAddresses);
    await Promise.all(pool.hosts.map((h) => valueOf(h.connection.hostKey as pulumi.Output<string>)));
    await Promise.all(pool.userData.map((d) => valueOf(d)));
    await settle();
    return pool;
}

const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};
const shape = () => registered.map((r) => `${r.type} ${r.name}`).sort();

/** A value as the engine got it, secret markers removed (and noted in `secrets`). */
function plain(value: unknown, secrets: string[] = [], at = ""): any {
    if (Array.isArray(value)) return value.map((v, i) => plain(v, secrets, `${at}[${i}]`));
    if (typeof value === "object" && value !== null) {
        const o = value as Record<string, unknown>;
        if (o[SECRET_SIG] === SECRET_MARK) {
            secrets.push(at);
            return plain(o.value, secrets, at);
        }
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v, secrets, at ? `${at}.${k}` : k)]));
    }
    return value;
}

/** The #cloud-config parts of a multipart document, parsed. */
function cloudConfigs(document: string): Record<string, any>[] {
    const boundary = /boundary="([^"]+)"/.exec(document)?.[1];
    if (!boundary) throw new Error("not a multipart document");
    return document
        .split(`--${boundary}`)
        .map((part) => part.split("\n\n").slice(1).join("\n\n"))
        .filter((body) => body.startsWith("#cloud-config\n"))
        .map((body) => JSON.parse(body.slice("#cloud-config\n".length)));
}

const STATIC = { subnet: "192.168.10.0/24", gateway: "192.168.10.1", firstAddress: "192.168.10.20" };

describe("ProxmoxHostPool: resources of each shape", () => {
    test("one node, static addresses, cloud image: keys, one image download, a snippet and a VM per machine", async () => {
        await build("pve", { size: 3, nodes: ["pve1"], ...STATIC });
        expect(shape()).toEqual(
            [
                "flotilla:hosts:ProxmoxHostPool pve",
                `${KEY} pve-ssh-key`,
                `${KEY} pve-host-key-seed`,
                `${IMAGE} pve-image-pve1`,
                `${SNIPPET} pve-user-data-0`,
                `${SNIPPET} pve-user-data-1`,
                `${SNIPPET} pve-user-data-2`,
                `${VM} pve-vm-0`,
                `${VM} pve-vm-1`,
                `${VM} pve-vm-2`,
            ].sort(),
        );
    });

    test("three nodes, DHCP: the image downloaded to each node (its local storage is its own)", async () => {
        await build("pve", { size: 4, nodes: ["pve1", "pve2", "pve3"] });
        expect(shape()).toEqual(
            [
                "flotilla:hosts:ProxmoxHostPool pve",
                `${KEY} pve-ssh-key`,
                `${KEY} pve-host-key-seed`,
                `${IMAGE} pve-image-pve1`,
                `${IMAGE} pve-image-pve2`,
                `${IMAGE} pve-image-pve3`,
                ...[0, 1, 2, 3].flatMap((i) => [`${SNIPPET} pve-user-data-${i}`, `${VM} pve-vm-${i}`]),
            ].sort(),
        );
    });

    test("fewer machines than nodes: images only where a VM runs", async () => {
        await build("pve", { size: 2, nodes: ["pve1", "pve2", "pve3"] });
        expect(shape().filter((s) => s.startsWith(IMAGE))).toEqual([`${IMAGE} pve-image-pve1`, `${IMAGE} pve-image-pve2`]);
    });

    test("template clone with a supplied key: no image, no generated client key", async () => {
        await build("pve", {
            size: 2,
            nodes: ["pve1", "pve2"],
            templateVmId: 9000,
            sshKey: { privateKey: pulumi.secret(keyPairOutputs(":SshKeyPair", "mine")?.privateKey as string), publicKey: keyPairOutputs(":SshKeyPair", "mine")?.publicKey as string },
        });
        expect(shape()).toEqual(
            [
                "flotilla:hosts:ProxmoxHostPool pve",
                `${KEY} pve-host-key-seed`,
                `${SNIPPET} pve-user-data-0`,
                `${SNIPPET} pve-user-data-1`,
                `${VM} pve-vm-0`,
                `${VM} pve-vm-1`,
            ].sort(),
        );
    });
});

describe("ProxmoxHostPool: the VMs", () => {
    test("a VM booted from the downloaded image: exact inputs", async () => {
        await build("pve", { size: 2, nodes: ["pve1", "pve2"], ...STATIC, vlan: 20, tags: ["web"], dnsServers: ["192.168.10.53"] });
        expect(byName("pve-image-pve2").inputs).toEqual({
            nodeName: "pve2",
            datastoreId: "local",
            contentType: "iso",
            fileName: "flotilla-pve-pve2.img",
            url: "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2",
            overwrite: false,
            uploadTimeout: 1800,
        });
        const secrets: string[] = [];
        const vm = plain(byName("pve-vm-1").inputs, secrets);
        expect(secrets).toEqual([]);
        expect(vm).toEqual({
            name: "pve-1",
            nodeName: "pve2",
            description: "flotilla: machine 1 of pool pve",
            tags: ["flotilla", "pve", "web"],
            agent: { enabled: true, trim: true, timeout: "900s", waitForIp: { ipv4: true } },
            cpu: { cores: 2, type: "x86-64-v2-AES" },
            memory: { dedicated: 2048 },
            operatingSystem: { type: "l26" },
            scsiHardware: "virtio-scsi-single",
            serialDevices: [{ device: "socket" }],
            disks: [
                {
                    interface: "scsi0",
                    datastoreId: "local-lvm",
                    size: 20,
                    discard: "on",
                    fileId: "pve-image-pve2-id",
                    iothread: true,
                    ssd: true,
                },
            ],
            networkDevices: [{ bridge: "vmbr0", model: "virtio", vlanId: 20 }],
            initialization: {
                datastoreId: "local-lvm",
                ipConfigs: [{ ipv4: { address: "192.168.10.21/24", gateway: "192.168.10.1" } }],
                dns: { servers: ["192.168.10.53"] },
                userDataFileId: "pve-user-data-1-id",
            },
            started: true,
            onBoot: true,
            stopOnDestroy: true,
            timeoutStartVm: 900,
        });
    });

    test("a VM cloned from a template: full clone from the template's node, sized disk, DHCP, given ids", async () => {
        await build("pve", {
            size: 2,
            nodes: ["pve1", "pve2"],
            templateVmId: 9000,
            templateNode: "pve2",
            firstVmId: 500,
            cores: 4,
            memoryMb: 8192,
            diskSizeGb: 64,
            bridge: "vmbr1",
            diskDatastore: "ceph",
            cpuType: "host",
        });
        const vm = plain(byName("pve-vm-0").inputs);
        expect(vm.vmId).toBe(500);
        expect(plain(byName("pve-vm-1").inputs).vmId).toBe(501);
        expect(vm.clone).toEqual({ vmId: 9000, nodeName: "pve2", full: true, datastoreId: "ceph", retries: 3 });
        expect(vm.disks).toEqual([{ interface: "scsi0", datastoreId: "ceph", size: 64, discard: "on", iothread: true, ssd: true }]);
        expect([vm.cpu, vm.memory, vm.networkDevices]).toEqual([{ cores: 4, type: "host" }, { dedicated: 8192 }, [{ bridge: "vmbr1", model: "virtio" }]]);
        expect(vm.initialization).toEqual({ datastoreId: "ceph", ipConfigs: [{ ipv4: { address: "dhcp" } }], userDataFileId: "pve-user-data-0-id" });
    });

    test("round-robin over the nodes, addresses in order, hosts as the contract wants them", async () => {
        const pool = await build("pve", { size: 5, nodes: ["a", "b", "c"], poolName: "web", ...STATIC, labels: { team: "blue" } });
        expect([0, 1, 2, 3, 4].map((i) => byName(`pve-vm-${i}`).inputs.nodeName)).toEqual(["a", "b", "c", "a", "b"]);
        expect([0, 1, 2, 3, 4].map((i) => byName(`pve-user-data-${i}`).inputs.nodeName)).toEqual(["a", "b", "c", "a", "b"]);
        expect(pool.nodes).toEqual(["a", "b", "c", "a", "b"]);
        expect(pool.hosts.map((h) => [h.name, h.labels.zone])).toEqual([
            ["web-0", "a"],
            ["web-1", "b"],
            ["web-2", "c"],
            ["web-3", "a"],
            ["web-4", "b"],
        ]);
        expect(await valueOf(pool.privateAddresses)).toEqual(["192.168.10.20", "192.168.10.21", "192.168.10.22", "192.168.10.23", "192.168.10.24"]);
        expect(pool.staticAddresses).toEqual(await valueOf(pool.privateAddresses));
        expect(await valueOf(pool.vmIds)).toEqual([100, 101, 102, 103, 104]);
        const h = pool.hosts[3];
        expect(h.labels).toEqual({ team: "blue", provider: "proxmox", pool: "web", zone: "a" });
        expect(h.network).toBe("proxmox:vmbr0");
        expect(h.publicAddress).toBeUndefined();
        expect(h.platform).toEqual({ os: "debian", osVersion: "12", arch: "amd64" });
        expect(h.packageAccess).toBe("upstream");
        expect(await valueOf(h.instanceId)).toBe("103/bc:24:11:00:00:13");
        const c = h.connection;
        expect([await valueOf(c.host), await valueOf(c.port), await valueOf(c.user)]).toEqual(["192.168.10.23", 22, "admin"]);
        expect(await pulumi.isSecret(pulumi.output(c.privateKey))).toBe(true);
        expect(h.ready).toHaveLength(1);
        expect(await valueOf(h.ready[0].urn)).toContain("pve-vm-3");
        expect([pool.poolName, pool.size, pool.sshUser]).toEqual(["web", 5, "admin"]);
    });

    test("DHCP: the address is the one the guest agent reports for the VM's network device; VLAN in the network name", async () => {
        const pool = await build("pve", { size: 2, nodes: ["pve1"], vlan: 30 });
        expect(await valueOf(pool.privateAddresses)).toEqual(["192.168.77.50", "192.168.77.51"]);
        expect(await valueOf(pool.hosts[1].connection.host)).toBe("192.168.77.51");
        expect(pool.hosts[1].network).toBe("proxmox:vmbr0.30");
        expect(pool.staticAddresses).toBeUndefined();
    });

    test("tags: flotilla, the pool and the user's, sorted and deduplicated (Proxmox sorts them)", async () => {
        await build("pve", { size: 1, nodes: ["pve1"], poolName: "zeta", tags: ["prod", "flotilla", "alpha"] });
        expect(byName("pve-vm-0").inputs.tags).toEqual(["alpha", "flotilla", "prod", "zeta"]);
    });
});

describe("ProxmoxHostPool: the user data snippet", () => {
    test("the snippet holds the first-boot document: key-only login, the host key the Host announces, guest agent, extra parts", async () => {
        const extra = "#cloud-config\n" + JSON.stringify({ runcmd: ["echo extra"] });
        const pool = await build("pve", { size: 2, nodes: ["pve1", "pve2"], ...STATIC, userData: [extra, "#!/bin/sh\necho script\n"] });
        const secrets: string[] = [];
        const snippet = plain(byName("pve-user-data-1").inputs, secrets);
        // The document holds the host's private key: it reaches the engine as a secret.
        expect(secrets).toEqual(["sourceRaw"]);
        expect(Object.keys(snippet).sort()).toEqual(["contentType", "datastoreId", "nodeName", "overwrite", "sourceRaw"]);
        expect([snippet.contentType, snippet.datastoreId, snippet.nodeName, snippet.overwrite]).toEqual(["snippets", "local", "pve2", false]);
        const document: string = snippet.sourceRaw.data;
        expect(snippet.sourceRaw.fileName).toMatch(/^flotilla-pve-1-[0-9a-f]{12}\.yaml$/);
        // The pool's output is exactly what the snippet holds, and a secret.
        expect(await valueOf(pool.userData[1])).toBe(document);
        expect(await pulumi.isSecret(pool.userData[1])).toBe(true);

        const configs = cloudConfigs(document);
        const [own, hostname, agent, extraConfig] = configs;
        expect(configs).toHaveLength(4);
        expect(document).toContain('Content-Type: text/x-shellscript; charset="utf-8"');
        expect(document).toContain("#!/bin/sh\necho script");
        // Key-only SSH for the pool's user; no root, no passwords.
        expect(own.users).toEqual([
            {
                name: "admin",
                shell: "/bin/bash",
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                lock_passwd: true,
                ssh_authorized_keys: [await valueOf(pool.sshPublicKey)],
            },
        ]);
        expect([own.ssh_pwauth, own.disable_root, own.ssh_deletekeys, own.ssh_genkeytypes]).toEqual([false, true, true, ["ed25519"]]);
        // The host key: derived from the pool's seed and the machine's name, announced by the Host.
        const seed = ed25519Seed(keyPairOutputs(":SshKeyPair", "pve-host-key-seed")?.privateKey as string) as Buffer;
        const expected = deriveEd25519(seed, "pve-1", "root@pve-1");
        expect(own.ssh_keys).toEqual({ ed25519_private: expected.privateKey, ed25519_public: expected.publicKey });
        expect(await valueOf(pool.hosts[1].connection.hostKey)).toBe(own.ssh_keys.ed25519_public);
        expect(hostname).toEqual({ hostname: "pve-1", preserve_hostname: false, manage_etc_hosts: true });
        expect(agent).toEqual(JSON.parse(guestAgentUserData().slice("#cloud-config\n".length)));
        expect(agent.packages).toEqual(["qemu-guest-agent"]);
        expect(extraConfig).toEqual({ runcmd: ["echo extra"] });
        // Each machine its own host key.
        const other = cloudConfigs(plain(byName("pve-user-data-0").inputs).sourceRaw.data)[0];
        expect(other.ssh_keys.ed25519_public).not.toBe(own.ssh_keys.ed25519_public);
        expect(await valueOf(pool.hosts[0].connection.hostKey)).toBe(other.ssh_keys.ed25519_public);
    });

    test("a supplied key is the one authorized; no guest agent part when the image has it", async () => {
        const pool = await build("pve", {
            size: 1,
            nodes: ["pve1"],
            installGuestAgent: false,
            sshKey: { privateKey: keyPairOutputs(":SshKeyPair", "mine")?.privateKey as string, publicKey: keyPairOutputs(":SshKeyPair", "mine")?.publicKey as string },
        });
        const document = await valueOf(pool.userData[0]);
        const configs = cloudConfigs(document);
        expect(configs).toHaveLength(2);
        expect(configs[0].users[0].ssh_authorized_keys).toEqual([keyPairOutputs(":SshKeyPair", "mine")?.publicKey]);
        expect(document).not.toContain("qemu-guest-agent");
        expect(await valueOf(pool.sshPublicKey)).toBe(keyPairOutputs(":SshKeyPair", "mine")?.publicKey);
        expect(await pulumi.isSecret(pool.sshPrivateKey)).toBe(true);
    });

    test("the snippet's name follows its content (new user data, new file, new VM)", async () => {
        await build("a", { size: 1, nodes: ["pve1"], poolName: "same" });
        const before = plain(byName("a-user-data-0").inputs).sourceRaw.fileName;
        registered.splice(0);
        resetClaims();
        await build("a", { size: 1, nodes: ["pve1"], poolName: "same" });
        expect(plain(byName("a-user-data-0").inputs).sourceRaw.fileName).toBe(before);
        registered.splice(0);
        resetClaims();
        await build("a", { size: 1, nodes: ["pve1"], poolName: "same", userData: ["#!/bin/sh\ntrue\n"] });
        expect(plain(byName("a-user-data-0").inputs).sourceRaw.fileName).not.toBe(before);
    });
});

describe("agentAddress", () => {
    test.each([
        ["the NIC's MAC wins", ["lo", "eth1", "eth0"], ["00:00", "aa", "bb"], [["127.0.0.1"], ["10.9.0.5"], ["192.168.1.7"]], "BB", "192.168.1.7"],
        ["no MAC match: first interface not loopback or a container bridge", ["lo", "docker0", "ens18"], ["x", "y", "z"], [["127.0.0.1"], ["172.17.0.1"], ["10.0.0.4"]], "cc", "10.0.0.4"],
        ["link-local and IPv6 skipped", ["lo", "ens18"], ["x", "y"], [["127.0.0.1"], ["fe80::1", "169.254.3.3", "10.0.0.9"]], "y", "10.0.0.9"],
        ["nothing yet", ["lo"], ["x"], [["127.0.0.1"]], undefined, undefined],
    ])("%s", (_what, names, macs, addresses, mac, expected) => {
        expect(agentAddress(names as string[], macs as string[], addresses as string[][], mac as string | undefined)).toBe(expected);
    });
});

describe("ProxmoxHostPool: bad input is refused at construction, creating nothing", () => {
    const T = 'flotilla:hosts:ProxmoxHostPool "pve": invalid';
    const BRIDGE = "a Linux bridge name such as \"vmbr0\": a letter, then letters, digits, '_', '.' or '-', at most 15 characters";
    const KNOWN =
        "known: size, nodes, poolName, templateVmId, templateNode, imageUrl, imageChecksum, imageDatastore, diskDatastore, " +
        "snippetsDatastore, diskInterface, cores, cpuType, memoryMiB, memoryMb, diskGiB, diskSizeGb, bridge, vlan, subnet, gateway, firstAddress, " +
        "dnsServers, firstVmId, sshUser, sshKey, labels, tags, network, os, osVersion, installGuestAgent, bootTimeoutSeconds, userData";
    const N = { nodes: ["pve1"] };
    test.each<[string, Record<string, unknown>, string]>([
        ["size 0", { size: 0, ...N }, `${T} size: received 0; expected an integer from 1 to 100.`],
        ["size -1", { size: -1, ...N }, `${T} size: received -1; expected an integer from 1 to 100.`],
        ["no nodes", { size: 1, nodes: [] }, `${T} nodes: received []; expected a list of at least one Proxmox node name, e.g. ["pve1"].`],
        ["nodes missing", { size: 1 }, `${T} nodes: received undefined; expected a list of at least one Proxmox node name, e.g. ["pve1"].`],
        [
            "a node twice",
            { size: 2, nodes: ["pve1", "pve2", "pve1"] },
            `${T} nodes[2]: received "pve1"; expected a node not listed before (nodes[0] is "pve1").`,
        ],
        [
            "a bad node name",
            { size: 1, nodes: ["pve 1"] },
            `${T} nodes[0]: received "pve 1"; expected a Proxmox node name (its host name: letters, digits and '-', at most 63 characters).`,
        ],
        [
            "an unknown property",
            { size: 1, ...N, memory: 4096 },
            `${T} memory: received 4096; expected no such property (did you mean "memoryMb"?); ${KNOWN}.`,
        ],
        [
            "an Output size",
            { size: pulumi.output(2), ...N },
            `${T} size: received an Output; expected a plain value, not an Output (it decides which VMs exist and is checked before any is created).`,
        ],
        [
            "address pool too small",
            { size: 5, ...N, subnet: "192.168.10.0/24", gateway: "192.168.10.1", firstAddress: "192.168.10.252" },
            `${T} size: received 5; expected at most 3 machines: the addresses from firstAddress 192.168.10.252 to 192.168.10.254 (before the broadcast address of 192.168.10.0/24).`,
        ],
        [
            "addresses overlapping the gateway",
            { size: 3, ...N, subnet: "192.168.10.0/24", gateway: "192.168.10.11", firstAddress: "192.168.10.10" },
            `${T} firstAddress: received "192.168.10.10"; expected a first address whose 3 consecutive addresses (192.168.10.10 to 192.168.10.12) leave out the gateway 192.168.10.11.`,
        ],
        [
            "a gateway outside the subnet",
            { size: 1, ...N, subnet: "192.168.10.0/24", gateway: "192.168.11.1", firstAddress: "192.168.10.10" },
            `${T} gateway: received "192.168.11.1"; expected the gateway in 192.168.10.0/24: from 192.168.10.1 to 192.168.10.254 (not its network or broadcast address).`,
        ],
        [
            "subnet without gateway",
            { size: 1, ...N, subnet: "192.168.10.0/24", firstAddress: "192.168.10.10" },
            `${T} gateway: received undefined; expected the gateway in 192.168.10.0/24 (static addresses need subnet, gateway and firstAddress; leave all three out for DHCP).`,
        ],
        [
            "firstAddress without subnet",
            { size: 1, ...N, firstAddress: "192.168.10.10" },
            `${T} subnet: received undefined; expected the IPv4 block of the VMs' network, e.g. "192.168.10.0/24" (static addresses need subnet, gateway and firstAddress; leave all three out for DHCP).`,
        ],
        [
            "a subnet with host bits",
            { size: 1, ...N, subnet: "192.168.10.5/24", gateway: "192.168.10.1", firstAddress: "192.168.10.10" },
            `${T} subnet: received "192.168.10.5/24"; expected an IPv4 CIDR block such as "192.168.10.0/24" (host bits set (did you mean 192.168.10.0/24?)).`,
        ],
        ["an invalid bridge", { size: 1, ...N, bridge: "vmbr 0" }, `${T} bridge: received "vmbr 0"; expected ${BRIDGE}.`],
        ["a bridge name too long", { size: 1, ...N, bridge: "vmbr0123456789012" }, `${T} bridge: received "vmbr0123456789012"; expected ${BRIDGE}.`],
        ["vlan 4095", { size: 1, ...N, vlan: 4095 }, `${T} vlan: received 4095; expected an integer from 1 to 4094.`],
        ["memory too small", { size: 1, ...N, memoryMb: 256 }, `${T} memoryMb: received 256; expected an integer from 512 to 1048576.`],
        ["cores 0", { size: 1, ...N, cores: 0 }, `${T} cores: received 0; expected an integer from 1 to 128.`],
        ["cores 129", { size: 1, ...N, cores: 129 }, `${T} cores: received 129; expected an integer from 1 to 128.`],
        ["disk 2 GiB", { size: 1, ...N, diskSizeGb: 2 }, `${T} diskSizeGb: received 2; expected an integer from 4 to 65536.`],
        [
            "template and image",
            { size: 1, ...N, templateVmId: 9000, imageUrl: "https://example.com/a.qcow2" },
            `${T} imageUrl: received "https://example.com/a.qcow2"; expected no imageUrl with templateVmId (a VM is cloned from the template or booted from the image, not both).`,
        ],
        [
            "templateNode alone",
            { size: 1, ...N, templateNode: "pve1" },
            `${T} templateNode: received "pve1"; expected no templateNode without templateVmId (the template's VM id).`,
        ],
        [
            "a datastore with a space",
            { size: 1, ...N, snippetsDatastore: "my store" },
            `${T} snippetsDatastore: received "my store"; expected a Proxmox storage id such as "local" or "local-lvm".`,
        ],
        [
            "firstVmId past the last id",
            { size: 3, ...N, firstVmId: 999999998 },
            `${T} firstVmId: received 999999998; expected an integer from 100 to 999999997.`,
        ],
        [
            "root as the user",
            { size: 1, ...N, sshUser: "root" },
            `${T} sshUser: received "root"; expected a Linux user name other than root ([a-z_][a-z0-9_-], at most 32).`,
        ],
        ["the zone label", { size: 1, ...N, labels: { zone: "x" } }, `${T} labels.zone: received "x"; expected no "zone" label: the pool sets it.`],
        [
            "a bad tag",
            { size: 1, ...N, tags: ["Web Tier"] },
            `${T} tags[0]: received "Web Tier"; expected a Proxmox tag: lower-case letters, digits, '_', '-', '+' and '.', starting with a letter, digit or '_', at most 64.`,
        ],
        [
            "a key pair without its public key",
            { size: 1, ...N, sshKey: { privateKey: "x" } },
            `${T} sshKey.publicKey: received undefined; expected an SSH public key line such as "ssh-ed25519 AAAA... comment" (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521).`,
        ],
        [
            "a private key that is none (never printed)",
            { size: 1, ...N, sshKey: { privateKey: "hunter2", publicKey: "ssh-ed25519 AAAA" } },
            `${T} sshKey.privateKey: received a secret of 7 characters; expected the text of an unencrypted private key in OpenSSH's format or PEM (RSA, EC) (this is no -----BEGIN ... PRIVATE KEY----- block).`,
        ],
        [
            "a bad checksum",
            { size: 1, ...N, imageChecksum: "abc" },
            `${T} imageChecksum: received "abc"; expected a sha256 (64 hex digits) or sha512 (128 hex digits) checksum.`,
        ],
    ])("%s", async (_what, args, message) => {
        await settle();
        expect(messageOf(() => new ProxmoxHostPool("pve", args as never))).toBe(message);
        await settle();
        expect(registered).toEqual([]);
    });

    test("two pools of one name in a program: the second is refused, naming the first", async () => {
        await build("a", { size: 1, nodes: ["pve1"], poolName: "shared" });
        const before = registered.map((r) => r.name);
        expect(messageOf(() => new ProxmoxHostPool("b", { size: 1, nodes: ["pve2"], poolName: "shared" }))).toBe(
            'flotilla:hosts:ProxmoxHostPool "b": invalid poolName: received "shared"; expected a pool name no other pool of this program uses (flotilla:hosts:ProxmoxHostPool "a" does).',
        );
        await settle();
        expect(registered.map((r) => r.name)).toEqual(before);
    });

    test("two pools giving out one address: the second is refused, naming the address", async () => {
        await build("a", { size: 3, nodes: ["pve1"], ...STATIC });
        const before = registered.map((r) => r.name);
        expect(messageOf(() => new ProxmoxHostPool("b", { size: 2, nodes: ["pve1"], ...STATIC, firstAddress: "192.168.10.22" }))).toBe(
            'flotilla:hosts:ProxmoxHostPool "b": invalid firstAddress: received "192.168.10.22"; expected addresses no other pool of this program uses (flotilla:hosts:ProxmoxHostPool "a" has 192.168.10.22).',
        );
        await settle();
        expect(registered.map((r) => r.name)).toEqual(before);
    });
});
