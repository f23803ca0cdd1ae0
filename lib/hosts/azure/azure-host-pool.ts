/**
 * `AzureHostPool`: Linux VMs on Azure, configured at first boot through cloud-init (custom data)
 * exactly as the lab's machines are through NoCloud. Its own subpath export (`flotilla/azure`):
 * `@pulumi/azure-native` is an optional peer dependency, loaded only by programs that import this
 * folder, and only its `resources`, `network` and `compute` submodules (the package root makes the
 * TypeScript compiler load every Azure service's types).
 */
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import { claimName } from "../../core/claims";
import { Host, HostArchitecture, HostLabels, HostPlatform } from "../../core/host";
import { IHostPool } from "../../core/host-pool";
import { formatIpv4 } from "../../core/ipv4";
import { Reason, Validator, hasOwn } from "../../core/validate";
import { checkAppPorts, checkCidrs, checkSuppliedKey, machineUserData, poolKeys } from "../common/cloud-common";
import { checkClusterPorts } from "../common/cluster-ports";
import { renamed } from "../common/renamed";
import { poolOutputs } from "../common/pool-outputs";
import { checkUserData } from "../common/user-data";
import {
    AZURE_HOST_POOL_KEYS,
    AZURE_PLAIN_KEYS,
    AZURE_WORLD_ALIASES,
    POOL_LABELS,
    RESOURCE_GROUP,
    RESOURCE_GROUP_EXPECTED,
    SUBNET_ID,
    azureCustomData,
    azureVmArchitecture,
    checkBastion,
    checkImage,
    checkLocation,
    checkPoolName,
    checkTags,
    checkUser,
    checkVmSize,
    checkVnetCidr,
    imageReference,
    publicIpArgs,
} from "./azure-checks";
import {
    AZURE_HOST_POOL_TYPE,
    AZURE_OS_DISK_TYPES,
    AZURE_ZONES,
    AzureHostPoolArgs,
    AzureZone,
    DEFAULT_AZURE_SSH_USER,
    DEFAULT_AZURE_VM_SIZE,
    DEFAULT_AZURE_VNET_CIDR,
    MAX_AZURE_POOL_SIZE,
} from "./azure-host-pool-args";
import { securityRules } from "./azure-security-rules";

/**
 * A pool of Linux VMs on Azure: a resource group (or yours), a virtual network and subnet (or
 * yours), one network security group on every NIC (on the NICs rather than the subnet, so a given
 * subnet is never modified), an application security group the pool's NICs join, optional public
 * IPs or a bastion, and the VMs, first-booted by cloud-init with the pool's user, key and pre-set
 * SSH host key (so the first connection is checked strictly). A host is `ready` when Azure reports
 * its VM provisioned; cloud-init may still be running then, which every flotilla script waits for.
 *
 * The NSG's inbound rules, in priority order: SSH from `adminCidrs` (to the machines, or to the
 * bastion only), SSH from the bastion's ASG to the machines, the cluster ports from the pool's ASG
 * to the pool's ASG, `appPorts` from `appCidrs`, and an explicit deny of everything else at 4096.
 * The explicit deny matters: Azure's implicit default rules allow all traffic from the whole
 * virtual network (`AllowVnetInBound`) and from Azure's load balancer before their final
 * `DenyAllInBound`, so without it any VM of the network would reach every port. (The pool makes no
 * load balancer; put one in front with your own rules.) Outbound is Azure's default (allowed).
 */
export class AzureHostPool extends pulumi.ComponentResource implements IHostPool {
    /** The VMs, in index order. */
    public readonly hosts: Host[];
    /**
     * known_hosts lines of the machines (and their bastion), one per address: save it as the file
     * {@link sshConfig} names (`~/.ssh/flotilla-<pool>.known_hosts`) for strict host-key checking.
     * Not kept in the state (derived from the hosts).
     */
    public readonly knownHosts: pulumi.Output<string>;
    /**
     * An ssh_config snippet: one `Host <machine name>` entry per machine with its address, user,
     * `IdentityFile ~/.ssh/flotilla-<pool>` (save `sshPrivateKey` there, mode 600) and
     * `UserKnownHostsFile ~/.ssh/flotilla-<pool>.known_hosts` with `StrictHostKeyChecking yes`, so
     * `ssh <name>` and `DOCKER_HOST=ssh://<name>` work as they are. Not kept in the state.
     */
    public readonly sshConfig: pulumi.Output<string>;
    /** Private addresses of the VMs, in index order. */
    public readonly privateAddresses: pulumi.Output<string[]>;
    /** Public addresses of the VMs, in index order; empty without public IPs. */
    public readonly publicAddresses: pulumi.Output<string[]>;
    /** The VMs' SSH host keys, in index order (derived from the pool's seed, set at first boot). */
    public readonly hostKeys: pulumi.Output<string[]>;
    /** The labels every VM carries: `provider: azure`, `pool`, `region` (the location) and yours (each VM also has its `zone` when zoned). */
    public readonly labels: Readonly<Record<string, string>>;
    /** Private key authorized for {@link sshUser} on every VM (and the bastion). Secret. */
    public readonly sshPrivateKey: pulumi.Output<string>;
    /** Public key authorized for {@link sshUser}. */
    public readonly sshPublicKey: pulumi.Output<string>;
    /** SSH login user. */
    public readonly sshUser: string;
    /** Resource group of everything the pool creates. */
    public readonly resourceGroupName: pulumi.Output<string>;
    /** The network security group on every NIC of the pool. */
    public readonly networkSecurityGroupId: pulumi.Output<string>;
    /** The subnet of the VMs. */
    public readonly subnetId: pulumi.Output<string>;
    /** The bastion, when there is one (its own Host: `connection.bastion` of every machine). */
    public readonly bastion: Host | undefined;
    /**
     * The first-boot document of each VM, uncompressed, in index order (what the VM gets, gzip +
     * base64, as custom data): for tests that boot it elsewhere. Secret: it holds host private keys.
     */
    public readonly userData: pulumi.Output<string>[];
    /** Name of the pool. */
    public readonly poolName: string;
    /** Region. */
    public readonly location: string;
    /** Zones, in round-robin order; empty for a regional pool. */
    public readonly zones: AzureZone[];
    /** VM size. */
    public readonly vmSize: string;
    /** Number of VMs. */
    public readonly size: number;

    constructor(name: string, args: AzureHostPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything plain before registering anything.
        const v: Validator = new Validator(AZURE_HOST_POOL_TYPE, name);
        v.args(args, AZURE_HOST_POOL_KEYS, "AzureHostPoolArgs");
        for (const key of AZURE_PLAIN_KEYS) {
            v.plain(key, args[key], "it decides which resources exist and is checked before any is created");
        }
        const size = v.integer("size", args.size, 1, MAX_AZURE_POOL_SIZE);
        const poolName = checkPoolName(v, name, args.poolName);
        const location = checkLocation(v, args.location ?? new pulumi.Config("azure-native").get("location"));
        const zones = v.list("zones", args.zones, 'a list of zones "1", "2", "3"').map((z, i) => {
            const zone = v.oneOf(`zones[${i}]`, z, AZURE_ZONES);
            const first = (args.zones as unknown[]).indexOf(z);
            if (first !== i) v.fail(`zones[${i}]`, z, `a zone "1", "2" or "3" not listed before (zones[${first}] is "${z}"): each zone at most once`);
            return zone;
        });
        if (args.subnetId !== undefined && args.vnetCidr !== undefined) {
            v.fail("vnetCidr", args.vnetCidr, "undefined when subnetId is given (the pool makes no network of its own then): drop vnetCidr or subnetId");
        }
        const vnetCidr = checkVnetCidr(v, args.vnetCidr ?? DEFAULT_AZURE_VNET_CIDR);
        const adminCidrs = checkCidrs(v, "adminCidrs", args.adminCidrs, {
            required: true,
            worldOptIn: { allowed: v.boolean("allowWorldSsh", args.allowWorldSsh, false), property: "allowWorldSsh" },
            worldAliases: AZURE_WORLD_ALIASES,
        });
        const ports = checkClusterPorts(v, "clusterPorts", args.clusterPorts);
        const peerCidrs = checkCidrs(v, "clusterPeerCidrs", args.clusterPeerCidrs, {
            worldAliases: AZURE_WORLD_ALIASES,
            neverWorld: "cluster ports are never open to the world",
        });
        const appPorts = checkAppPorts(v, "appPorts", args.appPorts, ports);
        const appCidrs = checkCidrs(v, "appCidrs", args.appCidrs, { worldAliases: AZURE_WORLD_ALIASES });
        if (appPorts.length > 0 && appCidrs.length === 0) {
            v.fail("appCidrs", args.appCidrs, 'at least one CIDR block the appPorts are open from, e.g. ["0.0.0.0/0"]');
        }
        const bastionSize = checkBastion(v, args.bastion);
        const publicIp = v.boolean("publicIp", args.publicIp, bastionSize === undefined);
        if (publicIp && bastionSize !== undefined) {
            v.fail("publicIp", args.publicIp, "false or unset with a bastion (machines behind a bastion have only private addresses)");
        }
        const vmSize = checkVmSize(v, "vmSize", args.vmSize ?? DEFAULT_AZURE_VM_SIZE);
        const image = checkImage(v, args.image ?? "debian-12");
        const disk = renamed<number>(v, args, "diskGiB", "osDiskGiB");
        const diskGiB = v.integer(disk.property, disk.value ?? 30, 30, 4095);
        const osDiskType = v.oneOf("osDiskType", args.osDiskType ?? "StandardSSD_LRS", AZURE_OS_DISK_TYPES);
        const encryptionAtHost = v.boolean("encryptionAtHost", args.encryptionAtHost, false);
        const trustedLaunch = v.boolean("trustedLaunch", args.trustedLaunch, false);
        const sshUser = checkUser(v, args.sshUser ?? DEFAULT_AZURE_SSH_USER);
        const sshKey = checkSuppliedKey(v, "sshKey", args.sshKey);
        const userTags = checkTags(v, args.tags);
        const userLabels = v.labels("labels", args.labels);
        for (const reserved of POOL_LABELS) {
            if (hasOwn(userLabels, reserved)) {
                v.fail(`labels.${reserved}`, userLabels[reserved], `labels other than ${POOL_LABELS.join(", ")} (the pool sets those): rename this one`);
            }
        }
        const givenGroup =
            args.resourceGroupName === undefined
                ? undefined
                : v.later("resourceGroupName", args.resourceGroupName, RESOURCE_GROUP_EXPECTED, (g) =>
                      typeof g === "string" && RESOURCE_GROUP.test(g) && !g.endsWith(".") ? g : new Reason(),
                  );
        const givenSubnet =
            args.subnetId === undefined
                ? undefined
                : v.later("subnetId", args.subnetId, "a subnet resource id /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>", (id) =>
                      typeof id === "string" && SUBNET_ID.test(id) ? id : new Reason(),
                  );
        const extraParts = checkUserData(v, args.userData);
        const owner = `${AZURE_HOST_POOL_TYPE} "${name}"`;
        const holder = claimName("azure pool", poolName, owner);
        if (holder !== undefined) {
            v.fail(args.poolName === undefined ? "name" : "poolName", poolName, `a pool name no other pool of this program uses (${holder} does)`);
        }

        super(AZURE_HOST_POOL_TYPE, name, {}, opts);

        this.poolName = poolName;
        this.location = location;
        this.zones = zones;
        this.vmSize = vmSize;
        this.size = size;
        this.sshUser = sshUser;
        this.labels = { ...userLabels, provider: "azure", pool: poolName, region: location };

        const parent = { parent: this };
        // The keys and every VM's first-boot document come first: each Azure resource waits until
        // the Output parts of userData passed their check and every document fits Azure's custom
        // data, so bad user data creates nothing in Azure.
        const keys = poolKeys(name, poolName, owner, this, sshKey);
        const firstBoot = (machineName: string, parts: pulumi.Input<string[]>) => {
            const hostKey = keys.hostKey(machineName);
            const document = machineUserData(sshUser, keys.publicKey, hostKey, parts);
            return { hostKey, document, customData: document.apply((text) => azureCustomData(v, text)) };
        };
        const bastionBoot = bastionSize === undefined ? undefined : firstBoot(`${poolName}-bastion`, []);
        const boots = Array.from({ length: size }, (_, i) => firstBoot(`${poolName}-${i}`, extraParts));
        const allFit = pulumi.all([...boots, ...(bastionBoot ? [bastionBoot] : [])].map((b) => b.customData));
        const tags = pulumi.unsecret(allFit.apply(() => ({ ...userTags, "flotilla-pool": poolName })));

        const resourceGroupName: pulumi.Output<string> =
            givenGroup ?? new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: `${poolName}-rg`, location, tags }, parent).name;
        const common = { resourceGroupName, location, tags };

        // The network: the given subnet, or a virtual network of the pool's own with one /24 subnet.
        let subnetId: pulumi.Output<string>;
        let networkName: pulumi.Output<string>;
        if (givenSubnet) {
            subnetId = givenSubnet;
            networkName = givenSubnet.apply((id) => `azure:${id.replace(/\/subnets\/[^/]+$/i, "")}`);
        } else {
            const vnet = new network.VirtualNetwork(
                `${name}-vnet`,
                { ...common, virtualNetworkName: `${poolName}-vnet`, addressSpace: { addressPrefixes: [vnetCidr.cidr] } },
                parent,
            );
            // Machines behind a bastion have no public IP: a NAT gateway gives them outbound access
            // (Azure retires implicit outbound access; the subnet is private).
            let nat: network.NatGateway | undefined;
            if (!publicIp) {
                const natIp = new network.PublicIPAddress(`${name}-nat-ip`, { ...common, ...publicIpArgs(`${poolName}-nat-ip`) }, parent);
                nat = new network.NatGateway(
                    `${name}-nat`,
                    { ...common, natGatewayName: `${poolName}-nat`, sku: { name: "Standard" }, publicIpAddresses: [{ id: natIp.id }] },
                    parent,
                );
            }
            const subnet = new network.Subnet(
                `${name}-subnet`,
                {
                    resourceGroupName,
                    virtualNetworkName: vnet.name,
                    subnetName: `${poolName}-subnet`,
                    addressPrefix: `${formatIpv4(vnetCidr.network)}/24`,
                    defaultOutboundAccess: false,
                    ...(nat ? { natGateway: { id: nat.id } } : {}),
                },
                parent,
            );
            subnetId = subnet.id;
            networkName = vnet.id.apply((id) => `azure:${id}`);
        }

        // The pool's VMs join one application security group (the bastion another): rules name
        // them as source and destination, so cluster ports are open between the pool's VMs only.
        const asg = new network.ApplicationSecurityGroup(`${name}-asg`, { ...common, applicationSecurityGroupName: `${poolName}-asg` }, parent);
        const bastionAsg = bastionSize === undefined
            ? undefined
            : new network.ApplicationSecurityGroup(`${name}-bastion-asg`, { ...common, applicationSecurityGroupName: `${poolName}-bastion-asg` }, parent);
        const nsg = new network.NetworkSecurityGroup(
            `${name}-nsg`,
            {
                ...common,
                networkSecurityGroupName: `${poolName}-nsg`,
                securityRules: securityRules({ adminCidrs, ports, peerCidrs, appPorts, appCidrs, asg: asg.id, bastionAsg: bastionAsg?.id }),
            },
            parent,
        );

        const platform = (arch: HostArchitecture): HostPlatform => ({ os: image.os, osVersion: image.osVersion, arch });

        /** One VM with its NIC (and public IP): the pieces a machine and the bastion share. */
        const machine = (
            role: string,
            machineName: string,
            zone: AzureZone | undefined,
            size: string,
            withPublicIp: boolean,
            group: pulumi.Output<string>,
            boot: ReturnType<typeof firstBoot>,
        ) => {
            const zoneArgs = zone ? { zones: [zone] } : {};
            const pip = withPublicIp
                ? new network.PublicIPAddress(`${name}-${role}-ip`, { ...common, ...publicIpArgs(`${machineName}-ip`), ...zoneArgs }, parent)
                : undefined;
            const nic = new network.NetworkInterface(
                `${name}-${role}-nic`,
                {
                    ...common,
                    networkInterfaceName: `${machineName}-nic`,
                    networkSecurityGroup: { id: nsg.id },
                    ipConfigurations: [
                        {
                            name: "ipconfig1",
                            primary: true,
                            subnet: { id: subnetId },
                            privateIPAllocationMethod: "Dynamic",
                            applicationSecurityGroups: [{ id: group }],
                            ...(pip ? { publicIPAddress: { id: pip.id } } : {}),
                        },
                    ],
                },
                parent,
            );
            const arch = azureVmArchitecture(size);
            const { hostKey, document, customData } = boot;
            const vm = new compute.VirtualMachine(
                `${name}-${role}`,
                {
                    ...common,
                    ...zoneArgs,
                    vmName: machineName,
                    hardwareProfile: { vmSize: size },
                    networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
                    osProfile: {
                        computerName: machineName,
                        adminUsername: sshUser,
                        customData,
                        linuxConfiguration: {
                            disablePasswordAuthentication: true,
                            ssh: { publicKeys: [{ path: `/home/${sshUser}/.ssh/authorized_keys`, keyData: keys.publicKey }] },
                        },
                    },
                    storageProfile: {
                        imageReference: imageReference(image, arch),
                        osDisk: {
                            name: `${machineName}-os`,
                            createOption: "FromImage",
                            deleteOption: "Delete",
                            diskSizeGB: diskGiB,
                            managedDisk: { storageAccountType: osDiskType },
                        },
                    },
                    ...(encryptionAtHost || trustedLaunch
                        ? {
                              securityProfile: {
                                  ...(encryptionAtHost ? { encryptionAtHost: true } : {}),
                                  ...(trustedLaunch ? { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } } : {}),
                              },
                          }
                        : {}),
                },
                // Custom data is read at first boot only: a change is a new machine.
                { parent: this, replaceOnChanges: ["osProfile.customData"], deleteBeforeReplace: true },
            );
            const privateAddress = nic.ipConfigurations.apply((c) => c?.[0]?.privateIPAddress ?? "");
            const publicAddress = pip?.ipAddress.apply((a) => a ?? "");
            const labels: HostLabels = {
                ...userLabels,
                provider: "azure",
                pool: poolName,
                region: location,
                ...(zone ? { zone: `${location}-${zone}` } : {}),
            };
            return { vm, document, hostKey, privateAddress, publicAddress, labels, arch };
        };

        const privateKey = keys.privateKey;
        let bastion: Host | undefined;
        if (bastionSize !== undefined && bastionAsg) {
            const b = machine("bastion", `${poolName}-bastion`, zones[0], bastionSize, true, bastionAsg.id, bastionBoot!);
            const bastionAddress = b.publicAddress as pulumi.Output<string>;
            bastion = {
                name: `${poolName}-bastion`,
                instanceId: b.vm.vmId,
                publicAddress: bastionAddress,
                privateAddress: b.privateAddress,
                network: networkName,
                platform: platform(b.arch),
                packageAccess: "upstream",
                connection: { host: bastionAddress, port: 22, user: sshUser, privateKey, hostKey: b.hostKey.publicKey },
                labels: { ...b.labels, role: "bastion" },
                ready: [b.vm],
            };
        }

        const hosts: Host[] = [];
        const documents: pulumi.Output<string>[] = [];
        for (let i = 0; i < size; i++) {
            const machineName = `${poolName}-${i}`;
            const zone = zones.length > 0 ? zones[i % zones.length] : undefined;
            const m = machine(`vm-${i}`, machineName, zone, vmSize, publicIp, asg.id, boots[i]);
            documents.push(m.document);
            hosts.push({
                name: machineName,
                instanceId: m.vm.vmId,
                ...(m.publicAddress ? { publicAddress: m.publicAddress } : {}),
                privateAddress: m.privateAddress,
                network: networkName,
                platform: platform(m.arch),
                packageAccess: "upstream",
                connection: {
                    host: m.publicAddress ?? m.privateAddress,
                    port: 22,
                    user: sshUser,
                    privateKey,
                    hostKey: m.hostKey.publicKey,
                    ...(bastion ? { bastion: bastion.connection as Omit<Host["connection"], "bastion"> } : {}),
                },
                labels: m.labels,
                ready: [m.vm],
            });
        }

        this.hosts = hosts;
        this.bastion = bastion;
        this.userData = documents;
        ({ privateAddresses: this.privateAddresses, publicAddresses: this.publicAddresses, hostKeys: this.hostKeys, knownHosts: this.knownHosts, sshConfig: this.sshConfig } =
            poolOutputs(hosts, poolName));
        this.sshPrivateKey = privateKey;
        this.sshPublicKey = keys.publicKey;
        this.resourceGroupName = resourceGroupName;
        this.networkSecurityGroupId = nsg.id;
        this.subnetId = subnetId;

        this.registerOutputs({
            privateAddresses: this.privateAddresses,
            publicAddresses: this.publicAddresses,
            sshPrivateKey: this.sshPrivateKey,
            sshPublicKey: this.sshPublicKey,
            sshUser: this.sshUser,
            resourceGroupName: this.resourceGroupName,
            networkSecurityGroupId: this.networkSecurityGroupId,
            subnetId: this.subnetId,
            bastionAddress: bastion?.publicAddress,
            poolName,
            location,
            zones,
            vmSize,
            size,
        });
    }
}
