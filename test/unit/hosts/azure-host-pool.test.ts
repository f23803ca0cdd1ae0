import * as childProcess from "child_process";
import { randomBytes } from "crypto";
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, keyPairOutputs, messageOf, refusedIn, recordResources, valueOf } from "../mocks";
import { azureOutputs } from "./azure-mocks";
import { resetClaims } from "../../../lib/core/claims";
import { SWARM_PORTS } from "../../../lib/core/cluster";
import { Validator, show } from "../../../lib/core/validate";
import { AzureHostPool, AzureHostPoolArgs } from "../../../lib/hosts/azure";
import { azureCustomData, azureVmArchitecture, isAzureVmSize } from "../../../lib/hosts/azure/azure-checks";
import { dockerEngineUserData } from "../../../lib/runtime/docker-engine";

const registered = recordResources(azureOutputs);
const settle = () => new Promise((r) => setTimeout(r, 100));

beforeEach(() => {
    registered.splice(0);
    resetClaims();
});

const BASE: AzureHostPoolArgs = { size: 2, location: "westeurope", adminCidrs: ["198.51.100.0/24"] };

async function build(name: string, args: Partial<AzureHostPoolArgs>) {
    const pool = new AzureHostPool(name, { ...BASE, ...args } as AzureHostPoolArgs);
    await valueOf(pool.privateAddresses);
    await valueOf(pool.publicAddresses);
    await Promise.all(pool.userData.map((d) => valueOf(d)));
    await Promise.all([...pool.hosts, ...(pool.bastion ? [pool.bastion] : [])].flatMap((h) => [valueOf(h.ready[0].urn), valueOf(h.connection.hostKey)]));
    await settle();
    return pool;
}

const resourceList = () => registered.map((r) => `${r.type.replace("azure-native:", "")} ${r.name}`).sort();
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r.inputs as Record<string, any>;
};
/** A secret input as the engine receives it: its value. */
const unsecret = (value: any) => {
    expect(value[SECRET_SIG]).toBe(SECRET_MARK);
    return value.value;
};
const rules = (nsg = "az-nsg") => byName(nsg).securityRules as Record<string, any>[];
/** The OS profile of a VM: a secret as a whole, since its custom data is one. */
const osProfileOf = (vm: string) => unsecret(byName(vm).osProfile);
const customDataOf = (vm: string) => zlib.gunzipSync(Buffer.from(osProfileOf(vm).customData, "base64")).toString("utf8");

describe("AzureHostPool: resources", () => {
    test("own resource group and network, public IPs, one zone: exactly these resources", async () => {
        await build("az", { zones: ["1"] });
        expect(resourceList()).toEqual(
            [
                "flotilla:hosts:AzureHostPool az",
                "resources:ResourceGroup az-rg",
                "network:VirtualNetwork az-vnet",
                "network:Subnet az-subnet",
                "network:ApplicationSecurityGroup az-asg",
                "network:NetworkSecurityGroup az-nsg",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-ssh-key",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-host-key-seed",
                "network:PublicIPAddress az-vm-0-ip",
                "network:PublicIPAddress az-vm-1-ip",
                "network:NetworkInterface az-vm-0-nic",
                "network:NetworkInterface az-vm-1-nic",
                "compute:VirtualMachine az-vm-0",
                "compute:VirtualMachine az-vm-1",
            ].sort(),
        );
        expect(byName("az-rg")).toMatchObject({ resourceGroupName: "az-rg", location: "westeurope" });
        expect(byName("az-vnet").addressSpace).toEqual({ addressPrefixes: ["10.61.0.0/16"] });
        expect(byName("az-subnet")).toMatchObject({ addressPrefix: "10.61.0.0/24", virtualNetworkName: "az-vnet", resourceGroupName: "az-rg", defaultOutboundAccess: false });
        expect(byName("az-subnet").natGateway).toBeUndefined();
        expect(byName("az-vm-0").zones).toEqual(["1"]);
        expect(byName("az-vm-1").zones).toEqual(["1"]);
        expect(byName("az-vm-1-ip").zones).toEqual(["1"]);
    });

    test("three zones: VMs and their public IPs round-robin over them, labels name the zone", async () => {
        const pool = await build("az", { size: 4, zones: ["1", "2", "3"] });
        expect([0, 1, 2, 3].map((i) => byName(`az-vm-${i}`).zones)).toEqual([["1"], ["2"], ["3"], ["1"]]);
        expect([0, 1, 2, 3].map((i) => byName(`az-vm-${i}-ip`).zones)).toEqual([["1"], ["2"], ["3"], ["1"]]);
        expect(pool.hosts.map((h) => h.labels.zone)).toEqual(["westeurope-1", "westeurope-2", "westeurope-3", "westeurope-1"]);
        expect(resourceList().filter((r) => r.startsWith("compute:"))).toHaveLength(4);
    });

    test("no zones: a regional pool (no zone on VMs nor IPs, no zone label)", async () => {
        const pool = await build("az", {});
        expect(byName("az-vm-0").zones).toBeUndefined();
        expect(byName("az-vm-0-ip").zones).toBeUndefined();
        expect(pool.hosts[0].labels).toEqual({ provider: "azure", pool: "az", region: "westeurope" });
    });

    test("private machines behind a bastion: no public IPs on them, a NAT gateway, the bastion's own IP and ASG", async () => {
        const pool = await build("az", { bastion: true, zones: ["2", "3"] });
        expect(resourceList()).toEqual(
            [
                "flotilla:hosts:AzureHostPool az",
                "resources:ResourceGroup az-rg",
                "network:VirtualNetwork az-vnet",
                "network:PublicIPAddress az-nat-ip",
                "network:NatGateway az-nat",
                "network:Subnet az-subnet",
                "network:ApplicationSecurityGroup az-asg",
                "network:ApplicationSecurityGroup az-bastion-asg",
                "network:NetworkSecurityGroup az-nsg",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-ssh-key",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-host-key-seed",
                "network:PublicIPAddress az-bastion-ip",
                "network:NetworkInterface az-bastion-nic",
                "compute:VirtualMachine az-bastion",
                "network:NetworkInterface az-vm-0-nic",
                "network:NetworkInterface az-vm-1-nic",
                "compute:VirtualMachine az-vm-0",
                "compute:VirtualMachine az-vm-1",
            ].sort(),
        );
        expect(byName("az-subnet").natGateway).toEqual({ id: "az-nat-id" });
        expect(byName("az-nat").publicIpAddresses).toEqual([{ id: "az-nat-ip-id" }]);
        expect(byName("az-vm-0-nic").ipConfigurations[0].publicIPAddress).toBeUndefined();
        expect(byName("az-bastion-nic").ipConfigurations[0]).toMatchObject({ publicIPAddress: { id: "az-bastion-ip-id" }, applicationSecurityGroups: [{ id: "az-bastion-asg-id" }] });
        expect(byName("az-bastion").hardwareProfile).toEqual({ vmSize: "Standard_B1s" });
        expect(byName("az-bastion").zones).toEqual(["2"]);
        // SSH from the admins reaches the bastion only; the machines only from the bastion.
        const ssh = rules().filter((r) => r.destinationPortRange === "22");
        expect(ssh.map((r) => [r.name, r.sourceAddressPrefix ?? r.sourceApplicationSecurityGroups, r.destinationApplicationSecurityGroups])).toEqual([
            ["ssh-from-admins", "198.51.100.0/24", [{ id: "az-bastion-asg-id" }]],
            ["ssh-from-bastion", [{ id: "az-bastion-asg-id" }], [{ id: "az-asg-id" }]],
        ]);
        // Hosts: private addresses only, reached through the bastion, whose host key is pinned too.
        const bastion = pool.bastion!;
        expect(bastion.name).toBe("az-bastion");
        expect(await valueOf(bastion.publicAddress)).toBe(await valueOf(pool.bastion!.connection.host));
        expect(pool.hosts[0].publicAddress).toBeUndefined();
        expect(await valueOf(pool.publicAddresses)).toEqual([]);
        const c = pool.hosts[1].connection;
        expect(await valueOf(c.host)).toBe("10.61.0.5");
        expect(c.bastion).toBeDefined();
        expect(await valueOf(c.bastion!.host)).toBe(await valueOf(bastion.publicAddress));
        expect(await valueOf(c.bastion!.hostKey)).toBe(await valueOf(bastion.connection.hostKey));
        expect(await valueOf(c.bastion!.hostKey)).not.toBe(await valueOf(c.hostKey));
        expect(customDataOf("az-bastion")).toContain(String(await valueOf(bastion.connection.hostKey)));
        expect(bastion.labels).toEqual({ provider: "azure", pool: "az", region: "westeurope", zone: "westeurope-2", role: "bastion" });
    });

    test("publicIp false without a bastion: private addresses only, a NAT gateway for outbound, SSH from adminCidrs to the machines", async () => {
        const pool = await build("az", { publicIp: false });
        expect(resourceList().filter((r) => r.startsWith("network:PublicIPAddress") || r.startsWith("network:NatGateway"))).toEqual([
            "network:NatGateway az-nat",
            "network:PublicIPAddress az-nat-ip",
        ]);
        expect(await valueOf(pool.hosts[0].connection.host)).toBe("10.61.0.4");
        expect([pool.hosts[0].publicAddress, pool.hosts[0].connection.bastion, pool.bastion]).toEqual([undefined, undefined, undefined]);
        expect(rules()[0]).toMatchObject({ name: "ssh-from-admins", sourceAddressPrefix: "198.51.100.0/24", destinationApplicationSecurityGroups: [{ id: "az-asg-id" }] });
    });

    test("given resource group and subnet: no group, no network, the given subnet everywhere, the network named after its VNet", async () => {
        const subnetId = "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/shared/subnets/apps";
        const pool = await build("az", { resourceGroupName: "team-rg", subnetId, poolName: "web" });
        expect(resourceList()).toEqual(
            [
                "flotilla:hosts:AzureHostPool az",
                "network:ApplicationSecurityGroup az-asg",
                "network:NetworkSecurityGroup az-nsg",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-ssh-key",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-host-key-seed",
                "network:PublicIPAddress az-vm-0-ip",
                "network:PublicIPAddress az-vm-1-ip",
                "network:NetworkInterface az-vm-0-nic",
                "network:NetworkInterface az-vm-1-nic",
                "compute:VirtualMachine az-vm-0",
                "compute:VirtualMachine az-vm-1",
            ].sort(),
        );
        for (const r of registered.filter((x) => x.type.startsWith("azure-native:"))) {
            expect([r.name, r.inputs.resourceGroupName]).toEqual([r.name, "team-rg"]);
        }
        expect(byName("az-vm-1-nic").ipConfigurations[0].subnet).toEqual({ id: subnetId });
        expect([byName("az-vm-1").vmName, osProfileOf("az-vm-1").computerName]).toEqual(["web-1", "web-1"]);
        expect(await valueOf(pool.hosts[0].network)).toBe("azure:/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/shared");
        expect([await valueOf(pool.subnetId), await valueOf(pool.resourceGroupName), await valueOf(pool.networkSecurityGroupId)]).toEqual([subnetId, "team-rg", "az-nsg-id"]);
    });
});

describe("AzureHostPool: security", () => {
    test("SSH only from adminCidrs; cluster ports only between the pool's ASG; app ports from appCidrs; everything else denied", async () => {
        await build("az", { adminCidrs: ["198.51.100.0/24", "2001:db8::/32", "203.0.113.0/28"], appPorts: [80, 443], appCidrs: ["0.0.0.0/0"], clusterPorts: ["swarm"] });
        const pool = [{ id: "az-asg-id" }];
        expect(rules()).toEqual([
            {
                name: "ssh-from-admins",
                description: "SSH from adminCidrs",
                direction: "Inbound",
                priority: 100,
                access: "Allow",
                protocol: "Tcp",
                sourcePortRange: "*",
                sourceAddressPrefixes: ["198.51.100.0/24", "203.0.113.0/28"],
                destinationApplicationSecurityGroups: pool,
                destinationPortRange: "22",
            },
            {
                name: "ssh-from-admins-v6",
                description: "SSH from adminCidrs",
                direction: "Inbound",
                priority: 101,
                access: "Allow",
                protocol: "Tcp",
                sourcePortRange: "*",
                sourceAddressPrefix: "2001:db8::/32",
                destinationApplicationSecurityGroups: pool,
                destinationPortRange: "22",
            },
            {
                name: "cluster-tcp",
                description: "cluster ports (tcp) between the pool's machines only",
                direction: "Inbound",
                priority: 200,
                access: "Allow",
                protocol: "Tcp",
                sourcePortRange: "*",
                sourceApplicationSecurityGroups: pool,
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: ["2377", "7946"],
            },
            {
                name: "cluster-udp",
                description: "cluster ports (udp) between the pool's machines only",
                direction: "Inbound",
                priority: 210,
                access: "Allow",
                protocol: "Udp",
                sourcePortRange: "*",
                sourceApplicationSecurityGroups: pool,
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: ["7946", "4789"],
            },
            {
                name: "app-ports",
                description: "the workloads' published ports from appCidrs",
                direction: "Inbound",
                priority: 300,
                access: "Allow",
                protocol: "Tcp",
                sourcePortRange: "*",
                sourceAddressPrefix: "0.0.0.0/0",
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: ["80", "443"],
            },
            {
                name: "deny-all-inbound",
                description: "everything else, from anywhere (the virtual network included)",
                direction: "Inbound",
                priority: 4096,
                access: "Deny",
                protocol: "*",
                sourcePortRange: "*",
                sourceAddressPrefix: "*",
                destinationAddressPrefix: "*",
                destinationPortRange: "*",
            },
        ]);
        // Every NIC joins the pool's ASG and carries the NSG.
        for (const nic of ["az-vm-0-nic", "az-vm-1-nic"]) {
            expect(byName(nic).networkSecurityGroup).toEqual({ id: "az-nsg-id" });
            expect(byName(nic).ipConfigurations[0].applicationSecurityGroups).toEqual(pool);
        }
        expect(SWARM_PORTS.map((p) => `${p.protocol}/${p.port}`)).toEqual(["tcp/2377", "tcp/7946", "udp/7946", "udp/4789"]);
    });

    test("default cluster ports: swarm and kubernetes, only from the pool's ASG, never from an address", async () => {
        await build("az", {});
        const cluster = rules().filter((r) => r.name.startsWith("cluster-"));
        expect(cluster.map((r) => [r.name, r.destinationPortRanges])).toEqual([
            ["cluster-tcp", ["2377", "7946", "6443", "2379-2380", "10250", "10259", "10257", "10256"]],
            ["cluster-udp", ["7946", "4789", "8472"]],
        ]);
        for (const r of cluster) {
            expect([r.sourceAddressPrefix, r.sourceAddressPrefixes, r.sourceApplicationSecurityGroups]).toEqual([undefined, undefined, [{ id: "az-asg-id" }]]);
        }
    });

    test("clusterPeerCidrs: the cluster ports also from the members outside the pool (a hybrid cluster), never from the world", async () => {
        await build("az", { clusterPorts: ["swarm"], clusterPeerCidrs: ["192.0.2.10/32"] });
        const peers = rules().filter((r) => r.name.includes("-peers"));
        expect(peers.map((r) => [r.name, r.protocol, r.destinationPortRanges, r.sourceAddressPrefix, r.destinationApplicationSecurityGroups])).toEqual([
            ["cluster-tcp-peers", "Tcp", ["2377", "7946"], "192.0.2.10/32", [{ id: "az-asg-id" }]],
            ["cluster-udp-peers", "Udp", ["7946", "4789"], "192.0.2.10/32", [{ id: "az-asg-id" }]],
        ]);
        registered.splice(0);
        resetClaims();
        for (const world of ["0.0.0.0/0", "Internet"]) {
            expect(messageOf(() => new AzureHostPool("az", { ...BASE, clusterPeerCidrs: [world] }))).toBe(
                `flotilla:hosts:AzureHostPool "az": invalid clusterPeerCidrs[0]: received "${world}"; expected a block narrower than the whole internet (cluster ports are never open to the world).`,
            );
        }
        await settle();
        expect(registered).toEqual([]);
    });

    test("no rule opens SSH to the world without the opt-in; with it, the world-open rule is there", async () => {
        await build("az", {});
        const world = (r: Record<string, any>) =>
            r.access === "Allow" && ["*", "0.0.0.0/0", "::/0", "Internet"].some((w) => r.sourceAddressPrefix === w || r.sourceAddressPrefixes?.includes(w));
        expect(rules().filter(world)).toEqual([]);
        registered.splice(0);
        resetClaims();
        await build("az", { adminCidrs: ["0.0.0.0/0"], allowWorldSsh: true });
        expect(rules().filter(world).map((r) => [r.name, r.destinationPortRange])).toEqual([["ssh-from-admins", "22"]]);
    });

    test("VMs: password login disabled, the pool's key only, at the login user's authorized_keys; image, disk, size", async () => {
        const pool = await build("az", { sshUser: "ops" });
        const vm = byName("az-vm-0");
        const publicKey = await valueOf(pool.sshPublicKey);
        expect(osProfileOf("az-vm-0")).toMatchObject({
            computerName: "az-0",
            adminUsername: "ops",
            linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: "/home/ops/.ssh/authorized_keys", keyData: publicKey }] } },
        });
        expect(osProfileOf("az-vm-0").adminPassword).toBeUndefined();
        expect(vm.hardwareProfile).toEqual({ vmSize: "Standard_B2s" });
        expect(vm.storageProfile).toEqual({
            imageReference: { publisher: "Debian", offer: "debian-12", sku: "12-gen2", version: "latest" },
            osDisk: { name: "az-0-os", createOption: "FromImage", deleteOption: "Delete", diskSizeGB: 30, managedDisk: { storageAccountType: "StandardSSD_LRS" } },
        });
        expect(vm.networkProfile).toEqual({ networkInterfaces: [{ id: "az-vm-0-nic-id", primary: true }] });
        expect(vm.securityProfile).toBeUndefined();
        expect(await pulumi.isSecret(pool.sshPrivateKey)).toBe(true);
        expect(await pulumi.isSecret(pool.userData[0])).toBe(true);
    });

    test("arm64 sizes get the arm64 image; Ubuntu 24.04; premium disk; encryption at host and trusted launch", async () => {
        const pool = await build("az", { vmSize: "Standard_D2ps_v5", image: "ubuntu-24.04", osDiskGiB: 64, osDiskType: "Premium_LRS", encryptionAtHost: true, trustedLaunch: true });
        const vm = byName("az-vm-0");
        expect(vm.storageProfile.imageReference).toEqual({ publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server-arm64", version: "latest" });
        expect(vm.storageProfile.osDisk).toMatchObject({ diskSizeGB: 64, managedDisk: { storageAccountType: "Premium_LRS" } });
        expect(vm.securityProfile).toEqual({ encryptionAtHost: true, securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } });
        expect(await valueOf(pool.hosts[0].platform)).toEqual({ os: "ubuntu", osVersion: "24.04", arch: "arm64" });
        expect(["Standard_B2s", "Standard_D2ps_v5", "Standard_B2pts_v2", "Standard_E4pds_v5", "Standard_D4s_v5", "Standard_NC24ads_A100_v4"].map(azureVmArchitecture)).toEqual(
            ["amd64", "arm64", "arm64", "arm64", "amd64", "amd64"],
        );
    });

    test("public IPs: Standard SKU, static, IPv4; the hosts' addresses and connection", async () => {
        const pool = await build("az", { zones: ["3"] });
        expect(byName("az-vm-0-ip")).toMatchObject({
            publicIpAddressName: "az-0-ip",
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
            zones: ["3"],
        });
        const h = pool.hosts[1];
        expect(h.name).toBe("az-1");
        expect(await valueOf(h.instanceId)).toBe("vmid-az-1");
        expect(await valueOf(h.privateAddress)).toBe("10.61.0.5");
        expect(await valueOf(h.publicAddress)).toBe("203.0.113.11");
        expect(await valueOf(pool.publicAddresses)).toEqual(["203.0.113.10", "203.0.113.11"]);
        expect([await valueOf(h.connection.host), h.connection.port, h.connection.user, h.connection.bastion]).toEqual(["203.0.113.11", 22, "flotilla", undefined]);
        expect(await valueOf(h.network)).toBe("azure:az-vnet-id");
        expect([h.packageAccess, await valueOf(h.platform)]).toEqual(["upstream", { os: "debian", osVersion: "12", arch: "amd64" }]);
        expect(h.labels).toEqual({ provider: "azure", pool: "az", region: "westeurope", zone: "westeurope-3" });
        expect(await valueOf(h.ready[0].urn)).toContain("az-vm-1");
    });

    test("custom data: gzip + base64 of the pool's document, whose host key is the Host's, with the extra parts after it", async () => {
        const pool = await build("az", { userData: [dockerEngineUserData({ joinsSwarm: true })] });
        for (const i of [0, 1]) {
            const text = customDataOf(`az-vm-${i}`);
            expect(text).toBe(await valueOf(pool.userData[i]));
            expect(text).toMatch(/^Content-Type: multipart\/mixed/);
            const config = JSON.parse(/#cloud-config\n(\{[\s\S]*?\n\})\n/.exec(text)![1]);
            expect(config.ssh_keys.ed25519_public).toBe(await valueOf(pool.hosts[i].connection.hostKey));
            expect(config.ssh_keys.ed25519_private).toContain("OPENSSH PRIVATE KEY");
            expect(config.users[0]).toMatchObject({ name: "flotilla", lock_passwd: true, ssh_authorized_keys: [await valueOf(pool.sshPublicKey)] });
            expect(config.ssh_pwauth).toBe(false);
            expect(text).toContain("docker engine");
        }
        expect(await valueOf(pool.hosts[0].connection.hostKey)).not.toBe(await valueOf(pool.hosts[1].connection.hostKey));
    });

    test("a supplied key pair: no client key generated, its public key authorized", async () => {
        const mine = keyPairOutputs(":SshKeyPair", "mine") as { privateKey: string; publicKey: string };
        const pool = await build("az", { sshKey: { privateKey: pulumi.secret(mine.privateKey), publicKey: mine.publicKey } });
        expect(resourceList().filter((r) => r.includes("SshKeyPair"))).toEqual(["pulumi-nodejs:dynamic/flotilla:SshKeyPair az-host-key-seed"]);
        expect(osProfileOf("az-vm-0").linuxConfiguration.ssh.publicKeys[0].keyData).toBe(mine.publicKey);
        expect(await valueOf(pool.sshPrivateKey)).toBe(mine.privateKey);
    });

    test("tags: every Azure resource that takes tags carries the user's and flotilla-pool", async () => {
        await build("az", { bastion: { vmSize: "Standard_B2ats_v2" }, tags: { team: "blue" }, poolName: "shop" });
        const azure = registered.filter((r) => r.type.startsWith("azure-native:"));
        expect(azure.length).toBeGreaterThan(10);
        for (const r of azure) {
            if (r.type === "azure-native:network:Subnet") continue; // subnets take no tags
            expect([r.name, r.inputs.tags]).toEqual([r.name, { team: "blue", "flotilla-pool": "shop" }]);
        }
    });

    test("custom data over Azure's 65,535 bytes fails naming userData, never showing the document", () => {
        const v = new Validator("flotilla:hosts:AzureHostPool", "az");
        // Random text: gzip cannot shrink it below Azure's limit.
        const random = randomBytes(75000).toString("base64");
        const big = `#!/bin/sh\n# ${random}\n`;
        const message = messageOf(() => azureCustomData(v, big));
        expect(message).toMatch(
            /^flotilla:hosts:AzureHostPool "az": invalid userData: received parts making a first-boot document of 100013 bytes, \d+ compressed; expected parts whose whole document fits Azure's custom data once gzip-compressed \(at most 65535 bytes\)\.$/,
        );
        expect(message).not.toContain(random.slice(0, 20));
        // A small document passes, compressed.
        expect(zlib.gunzipSync(Buffer.from(azureCustomData(v, "#!/bin/sh\necho hi\n"), "base64")).toString()).toBe("#!/bin/sh\necho hi\n");
    });
});

describe("AzureHostPool: bad input fails before anything is registered", () => {
    /** The message a construction fails with; nothing registered by it. */
    const refused = refusedIn(registered, 100);
    const T = 'flotilla:hosts:AzureHostPool "az": invalid';
    const VM_SIZE =
        "an Azure VM size as `az vm list-sizes` names it: Standard_ or Basic_, the family's upper-case letters and the vCPU count, " +
        'then lower-case feature letters and _-separated parts, such as "Standard_B2s", "Standard_D4s_v5" or "Standard_D2ps_v5"';
    const cases: [Record<string, unknown>, string][] = [
        [{ size: 0 }, `${T} size: received 0; expected an integer from 1 to 250.`],
        [{ size: -1 }, `${T} size: received -1; expected an integer from 1 to 250.`],
        [
            { location: "West Europe" },
            `${T} location: received "West Europe"; expected an Azure region name of lower-case letters and digits such as "westeurope" (or the azure-native:location config value).`,
        ],
        [{ location: undefined }, `${T} location: received undefined; expected an Azure region name of lower-case letters and digits such as "westeurope" (or the azure-native:location config value).`],
        [{ zones: ["1", "4"] }, `${T} zones[1]: received "4"; expected one of "1", "2", "3".`],
        [{ zones: ["2", "2"] }, `${T} zones[1]: received "2"; expected a zone "1", "2" or "3" not listed before (zones[0] is "2"): each zone at most once.`],
        [
            { adminCidrs: ["198.51.100.7/24"] },
            `${T} adminCidrs[0]: received "198.51.100.7/24"; expected an IPv4 CIDR block such as "203.0.113.0/24" or an IPv6 one (host bits set (did you mean 198.51.100.0/24?)).`,
        ],
        [{ adminCidrs: [] }, `${T} adminCidrs: received []; expected at least one CIDR block, e.g. ["203.0.113.0/24"].`],
        [{ adminCidrs: undefined }, `${T} adminCidrs: received undefined; expected a list of at least one CIDR block, e.g. ["203.0.113.0/24"].`],
        [
            { adminCidrs: ["0.0.0.0/0"] },
            `${T} adminCidrs[0]: received "0.0.0.0/0"; expected a block narrower than the whole internet (world-open needs allowWorldSsh: true).`,
        ],
        [
            { adminCidrs: ["198.51.100.0/24", "Internet"] },
            `${T} adminCidrs[1]: received "Internet"; expected a block narrower than the whole internet (world-open needs allowWorldSsh: true).`,
        ],
        [{ adminCidrs: ["*"] }, `${T} adminCidrs[0]: received "*"; expected a block narrower than the whole internet (world-open needs allowWorldSsh: true).`],
        [{ vmSize: "" }, `${T} vmSize: received ""; expected ${VM_SIZE}.`],
        [
            { sshUser: "admin" },
            `${T} sshUser: received "admin"; expected a Linux user name ([a-z_][a-z0-9_-], at most 32) that Azure does not reserve (administrator, admin, user, user1, test, user2, test1, user3, admin1, 1, 123, a, actuser, adm, admin2, aspnet, backup, console, david, guest, john, owner, root, server, sql, support, support_388945a0, sys, test2, test3, user4, user5).`,
        ],
        [{ vmSise: "Standard_B2s" }, `${T} vmSise: received a string of 12 characters; expected no such property (did you mean "vmSize"?); known: size, poolName, location, zones, resourceGroupName, subnetId, vnetCidr, adminCidrs, allowWorldSsh, clusterPorts, clusterPeerCidrs, appPorts, appCidrs, publicIp, bastion, vmSize, image, diskGiB, osDiskGiB, osDiskType, encryptionAtHost, trustedLaunch, sshUser, sshKey, userData, tags, labels.`],
        [{ bastion: true, publicIp: true }, `${T} publicIp: received true; expected false or unset with a bastion (machines behind a bastion have only private addresses).`],
        [{ appPorts: [80] }, `${T} appCidrs: received undefined; expected at least one CIDR block the appPorts are open from, e.g. ["0.0.0.0/0"].`],
        [{ vnetCidr: "8.8.0.0/16" }, `${T} vnetCidr: received "8.8.0.0/16"; expected a private (RFC 1918) IPv4 block of prefix /8 to /24 (the VMs' subnet is its first /24).`],
        [
            { subnetId: "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/s", vnetCidr: "10.1.0.0/16" },
            `${T} vnetCidr: received "10.1.0.0/16"; expected undefined when subnetId is given (the pool makes no network of its own then): drop vnetCidr or subnetId.`,
        ],
        [{ subnetId: "apps" }, `${T} subnetId: received "apps"; expected a subnet resource id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>.`],
        [
            { resourceGroupName: "team/rg" },
            `${T} resourceGroupName: received "team/rg"; expected an Azure resource group name (1 to 90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.').`,
        ],
        [{ adminCidrs: ["Any"] }, `${T} adminCidrs[0]: received "Any"; expected an IPv4 CIDR block such as "203.0.113.0/24" or an IPv6 one (not in a.b.c.d/prefix form).`],
        [{ image: "centos-7" }, `${T} image: received "centos-7"; expected one of "debian-12", "ubuntu-24.04".`],
        [{ osDiskGiB: 8 }, `${T} osDiskGiB: received 8; expected an integer from 30 to 4095.`],
        [{ tags: { "flotilla-pool": "x" } }, `${T} tags.flotilla-pool: received "x"; expected a tag name other than "flotilla-pool" (the pool sets that tag): rename this one.`],
        [{ labels: { zone: "x" } }, `${T} labels.zone: received "x"; expected labels other than provider, pool, region, zone (the pool sets those): rename this one.`],
        [{ size: pulumi.output(2) }, `${T} size: received an Output; expected a plain value, not an Output (it decides which resources exist and is checked before any is created).`],
    ];
    test.each(cases.map(([args, message]) => [show(args), args, message] as const))("%s", async (_title, args, message) => {
        expect(await refused(() => new AzureHostPool("az", { ...BASE, ...args } as AzureHostPoolArgs))).toBe(message);
        expect(registered).toEqual([]);
    });

    test.each([
        ["vmSize", (size: string) => ({ vmSize: size })],
        ["bastion.vmSize", (size: string) => ({ bastion: { vmSize: size } })],
    ] as const)("%s: a size not in Azure's Standard_/Basic_ form is refused, naming it", async (property, args) => {
        for (const size of ["Standard", "Standard_", "B2s", "Premium_D2s", "standard_B2s", "Standard_b2s", "Standard-B2s", "Standard_B2s ", "Standard_B2s_", "Standard__B2s", "Standard_D2s__v5", "Standard_D2-s", "Standard_B", "Standard_D2PS_V5"]) {
            registered.splice(0);
            expect(await refused(() => new AzureHostPool("az", { ...BASE, ...args(size) } as AzureHostPoolArgs))).toBe(`${T} ${property}: received ${JSON.stringify(size)}; expected ${VM_SIZE}.`);
            expect(registered).toEqual([]);
        }
    });

    test("Azure's VM size names are accepted (constrained vCPUs, accelerators, versions, Promo, Basic)", () => {
        for (const size of [
            "Standard_B2s", "Standard_B1s", "Standard_D4s_v5", "Standard_D2ps_v5", "Standard_E4-2ds_v5", "Standard_M8-2ms", "Standard_GS4-8", "Standard_NC24ads_A100_v4",
            "Standard_NC4as_T4_v3", "Standard_DS1_v2", "Standard_D2_v2_Promo", "Standard_A2m_v2", "Standard_HB120-16rs_v3", "Standard_DC2ads_cc_v5", "Basic_A0", "Standard_A10",
        ]) {
            expect([size, isAzureVmSize(size)]).toEqual([size, true]);
        }
    });

    test.each<[unknown[], string]>([
        [["0"], `${T} zones[0]: received "0"; expected one of "1", "2", "3".`],
        [[1], `${T} zones[0]: received 1; expected one of "1", "2", "3".`],
        [["westeurope-1"], `${T} zones[0]: received "westeurope-1"; expected one of "1", "2", "3".`],
        [["1", "1"], `${T} zones[1]: received "1"; expected a zone "1", "2" or "3" not listed before (zones[0] is "1"): each zone at most once.`],
        [["3", "2", "3"], `${T} zones[2]: received "3"; expected a zone "1", "2" or "3" not listed before (zones[0] is "3"): each zone at most once.`],
    ])("zones %j: refused, naming the zone and what is accepted", async (zones, message) => {
        expect(await refused(() => new AzureHostPool("az", { ...BASE, zones } as AzureHostPoolArgs))).toBe(message);
        expect(registered).toEqual([]);
    });

    test.each(["My_Pool", "pool.prod", "-pool", `p${"x".repeat(40)}`])("resource name %j without poolName: refused, saying poolName is the way out", async (name) => {
        expect(await refused(() => new AzureHostPool(name, BASE))).toBe(
            `flotilla:hosts:AzureHostPool "${name}": invalid name: received ${JSON.stringify(name)}; expected a DNS-safe name of 1 to 40 characters: ` +
                "lower-case letters, digits and '-', starting and ending with a letter or digit (the Azure names derive from it); or give poolName.",
        );
        expect(registered).toEqual([]);
    });

    test.each(["Web", `p${"x".repeat(40)}`, "web_1", "web-"])("poolName %j (Azure names derive from it: <pool>-rg, VM and computer names <pool>-<i>): refused", async (poolName) => {
        expect(await refused(() => new AzureHostPool("az", { ...BASE, poolName }))).toBe(
            `${T} poolName: received ${JSON.stringify(poolName)}; expected a DNS-safe name of 1 to 40 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.`,
        );
    });

    test.each(["rg.", "a".repeat(91), "", "team/rg", "rg#1", "rg name", "rg:1"])("resourceGroupName %j: refused (Azure's 1 to 90 letters, digits, '.', '_', '-', '(' and ')', no final '.')", async (group) => {
        expect(await refused(() => new AzureHostPool("az", { ...BASE, resourceGroupName: group }))).toBe(
            `${T} resourceGroupName: received ${show(group)}; expected an Azure resource group name (1 to 90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.').`,
        );
        expect(registered).toEqual([]);
    });

    test.each(["provider", "pool", "region", "zone"])("labels.%s (the pool sets it): refused, naming the labels accepted", async (label) => {
        expect(await refused(() => new AzureHostPool("az", { ...BASE, labels: { [label]: "x" } }))).toBe(
            `${T} labels.${label}: received "x"; expected labels other than provider, pool, region, zone (the pool sets those): rename this one.`,
        );
    });

    test.each<[Record<string, unknown>, string]>([
        [Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, "v"])), `${T} tags: received 50 tags; expected at most 49 tags (Azure takes 50 on a resource, and the pool adds flotilla-pool).`],
        [{ note: "n".repeat(300) }, `${T} tags.note: received a string of 300 characters; expected a string of at most 256 characters.`],
        [{ "Flotilla-Pool": "x" }, `${T} tags.Flotilla-Pool: received "x"; expected a tag name other than "flotilla-pool" (the pool sets that tag): rename this one.`],
        [{ "a/b": "x" }, `${T} tags.a/b: received "a/b"; expected a tag name of 1 to 512 characters without <, >, %, &, \\, ? or /.`],
    ])("tags %#: what Azure refuses on a resource is refused before anything is created", async (tags, message) => {
        expect(await refused(() => new AzureHostPool("az", { ...BASE, tags: tags as Record<string, string> }))).toBe(message);
        expect(registered).toEqual([]);
    });

    test("what Azure takes is accepted: 49 tags, a resource group name with Unicode letters, parentheses and periods", async () => {
        const tags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, "v"]));
        const pool = await build("az", { size: 1, tags, resourceGroupName: "Équipe_(prod).rg-1" });
        expect(await valueOf(pool.resourceGroupName)).toBe("Équipe_(prod).rg-1");
        expect(Object.keys(byName("az-vm-0").tags)).toHaveLength(50);
    });

    test("two pools of one program may not share a pool name", async () => {
        new AzureHostPool("a", { ...BASE, poolName: "shared" });
        await settle();
        const message = await refused(() => new AzureHostPool("b", { ...BASE, poolName: "shared" }));
        expect(message).toBe(
            'flotilla:hosts:AzureHostPool "b": invalid poolName: received "shared"; expected a pool name no other pool of this program uses (flotilla:hosts:AzureHostPool "a" does).',
        );
        expect(registered.filter((r) => r.name === "b" || r.name.startsWith("b-"))).toEqual([]);
    });
});

describe("AzureHostPool: user data too large for Azure, known when it resolves", () => {
    test("fails naming userData before any Azure resource is registered (programs/azure-on-resolve.ts, in a process of its own)", () => {
        const r = childProcess.spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "..", "programs", "azure-on-resolve.ts")], {
            cwd: path.resolve(__dirname, "../../.."),
            encoding: "utf8",
            timeout: 110_000,
        });
        expect([r.status, r.stderr]).toEqual([0, ""]);
        const o = JSON.parse(r.stdout.trim().split("\n").pop()!);
        expect(o.isContractError).toBe(true);
        expect(o.message).toMatch(
            /^flotilla:hosts:AzureHostPool "az": invalid userData: received parts making a first-boot document of \d+ bytes, \d+ compressed; expected parts whose whole document fits Azure's custom data once gzip-compressed \(at most 65535 bytes\)\.$/,
        );
        // Nothing in Azure: only the component and its local keys (the documents need the host keys).
        expect(o.registered).toEqual([
            "flotilla:hosts:AzureHostPool az",
            "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-ssh-key",
            "pulumi-nodejs:dynamic/flotilla:SshKeyPair az-host-key-seed",
        ]);
        expect(o.strayTypes.filter((t: string) => t !== "InvalidArgumentError")).toEqual([]);
        expect(o.leaked).toBe(false);
    }, 120_000);
});
