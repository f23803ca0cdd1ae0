/**
 * `AzureHostPool`: Linux VMs on Azure, configured at first boot through cloud-init (custom data)
 * exactly as the lab's machines are through NoCloud. Its own subpath export (`flotilla/azure`):
 * `@pulumi/azure-native` is an optional peer dependency, loaded only by programs that import this
 * module, and only its `resources`, `network` and `compute` submodules (the package root makes the
 * TypeScript compiler load every Azure service's types).
 */
import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import { claimName } from "../core/claims";
import { Host, HostArchitecture, HostLabels, HostPlatform } from "../core/host";
import { defaultSshConfigFiles, knownHostsText, sshConfigText } from "../core/known-hosts";
import { isPrivate, parseCidr, formatIpv4 } from "../core/ipv4";
import { Described, Reason, Validator, hasOwn, isPlainObject } from "../core/validate";
import { ClusterKind, checkAppPorts, checkCidrs, checkSuppliedKey, checkClusterKinds, clusterPorts, machineUserData, poolKeys } from "./cloud-common";
import { checkUserData, gzipBase64 } from "./user-data";

/** Type token of {@link AzureHostPool}. */
export const AZURE_HOST_POOL_TYPE = "flotilla:hosts:AzureHostPool";

/** Default VM size: 2 vCPUs, 4 GiB, amd64, burstable. */
export const DEFAULT_AZURE_VM_SIZE = "Standard_B2s";
/** Default VM size of the bastion: 1 vCPU, 1 GiB. */
export const DEFAULT_AZURE_BASTION_VM_SIZE = "Standard_B1s";
/** Default address space of the pool's own virtual network; its subnet is the first /24 inside. */
export const DEFAULT_AZURE_VNET_CIDR = "10.61.0.0/16";
/** Default login user. */
export const DEFAULT_AZURE_SSH_USER = "flotilla";
/** Largest pool: one /24 subnet holds 251 usable addresses (Azure keeps 5), one for a bastion. */
export const MAX_AZURE_POOL_SIZE = 250;
/** Azure's limit of `osProfile.customData`: 65,535 bytes before base64 (87,380 base64 characters). */
export const AZURE_CUSTOM_DATA_MAX_BYTES = 65535;
/** The availability zones an Azure region may have. */
export const AZURE_ZONES = ["1", "2", "3"] as const;
/** An availability zone. */
export type AzureZone = (typeof AZURE_ZONES)[number];
/** Managed OS disk types. */
export const AZURE_OS_DISK_TYPES = ["StandardSSD_LRS", "Premium_LRS"] as const;
/** A managed OS disk type. */
export type AzureOsDiskType = (typeof AZURE_OS_DISK_TYPES)[number];
/** The images flotilla knows by name. */
export const AZURE_IMAGES = ["debian-12", "ubuntu-24.04"] as const;
/** An image flotilla knows by name. */
export type AzureImageName = (typeof AZURE_IMAGES)[number];

/**
 * Names Azure refuses as a Linux VM's `adminUsername` (Compute API), so the pool refuses them before
 * anything is created.
 */
export const AZURE_RESERVED_USER_NAMES: readonly string[] = [
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123", "a",
    "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner", "root",
    "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4", "user5",
];

/**
 * The longest pool name: every Azure name the pool derives from it fits Azure's limits with room to
 * spare (the longest, `<pool>-bastion-asg` and `<pool>-bastion-nic`, are 52 characters; the VM and
 * computer names `<pool>-<i>` and `<pool>-bastion` at most 48, where Azure takes 64 for Linux; NICs,
 * NSGs, ASGs, public IPs, disks and networks take 80, resource groups 90). A DNS label has no
 * underscore, which computer names may not hold.
 */
export const MAX_AZURE_POOL_NAME = 40;

/** Azure's limit of tags on a resource. */
export const AZURE_MAX_TAGS = 50;

/** The labels the pool sets on every host. */
const POOL_LABELS = ["provider", "pool", "region", "zone"];

/**
 * A resource group name as Azure takes it (Microsoft.Resources/resourcegroups): 1 to 90 letters
 * (Unicode letters too), digits, '_', '-', '.', '(' and ')', not ending in '.'.
 */
const RESOURCE_GROUP = /^[-\p{L}\p{Nd}_.()]{1,90}$/u;
const RESOURCE_GROUP_EXPECTED = "an Azure resource group name (1 to 90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.')";

/**
 * A VM size as Azure names them: `Standard_` or `Basic_`, the family (upper-case letters) and vCPU
 * count, a constrained vCPU count (`-2`), feature letters, then `_`-separated parts (accelerator,
 * version, `Promo`): `Standard_B2s`, `Standard_D4s_v5`, `Standard_E4-2ds_v5`, `Standard_NC24ads_A100_v4`.
 * The case matters to flotilla: lower-case feature letters after the vCPU count say the
 * architecture ({@link azureVmArchitecture}).
 */
const VM_SIZE = /^(Standard|Basic)_[A-Z]+\d+(-\d+)?[a-z]*(_[A-Za-z0-9]+)*$/;
const VM_SIZE_EXPECTED =
    "an Azure VM size as `az vm list-sizes` names it: Standard_ or Basic_, the family's upper-case letters and the vCPU count, " +
    'then lower-case feature letters and _-separated parts, such as "Standard_B2s", "Standard_D4s_v5" or "Standard_D2ps_v5"';

/** Service tags and wildcards Azure accepts for "any source": world-open, like `0.0.0.0/0`. */
const AZURE_WORLD_ALIASES = ["*", "Internet"];

/** A marketplace image given by reference, with what it runs (the Host's `platform`). */
export interface AzureImageReference {
    /** Publisher, e.g. `Debian`. */
    readonly publisher: string;
    /** Offer, e.g. `debian-12`. */
    readonly offer: string;
    /** SKU, e.g. `12-gen2` (its architecture must match `vmSize`'s). */
    readonly sku: string;
    /** Version. Default `latest`. */
    readonly version?: string;
    /** os-release `ID` of the image: `debian` or `ubuntu`. */
    readonly os: "debian" | "ubuntu";
    /** os-release `VERSION_ID`, e.g. `12`, `24.04`. */
    readonly osVersion: string;
}

/** Arguments of {@link AzureHostPool}. Every property is plain unless typed `pulumi.Input`. */
export interface AzureHostPoolArgs {
    /** Number of VMs, 1 to 250. It decides which resources exist, so it is checked before any is created. */
    readonly size: number;
    /**
     * Name of the pool: prefix of every Azure resource name (`<pool>-rg`, `<pool>-vnet`, `<pool>-nsg`,
     * VMs `<pool>-0`, `<pool>-1`, ... which are also their host names). DNS-safe, at most 40
     * characters; unique in the subscription when the pool makes its resource group, within the
     * resource group otherwise, and among the pools of one program. Default: the resource name.
     */
    readonly poolName?: string;
    /**
     * Azure region, e.g. `westeurope` (lower-case letters and digits, as `az account list-locations`
     * prints `name`). Default: the `azure-native:location` config value; one of them is required.
     */
    readonly location?: string;
    /**
     * Availability zones to spread the VMs over, round-robin (VM `i` in `zones[i % n]`); each public
     * IP is in its VM's zone. Default none: a regional deployment (no zone).
     */
    readonly zones?: AzureZone[];
    /** Existing resource group to create everything in. Default: the pool creates `<pool>-rg` in `location`. */
    readonly resourceGroupName?: pulumi.Input<string>;
    /**
     * Existing subnet (its full resource id) for the VMs (and the bastion), in a virtual network in
     * `location` (the pool's NSG and ASGs must be in its region). Its network's own rules still apply: an NSG on that subnet must allow what the pool's NSG allows, and
     * machines without a public IP need the subnet's own outbound access (a NAT gateway) to reach
     * package repositories. Default: the pool's own virtual network (`vnetCidr`) and subnet.
     */
    readonly subnetId?: pulumi.Input<string>;
    /**
     * Address space of the pool's own virtual network: a private (RFC 1918) IPv4 block of prefix /8
     * to /24; the VMs' subnet is its first /24. Not allowed with `subnetId`. Default `10.61.0.0/16`.
     */
    readonly vnetCidr?: string;
    /**
     * Where administrators (and this Pulumi program, which runs scripts over SSH) connect from:
     * SSH (22) is open only from these CIDR blocks. Required, at least one. The whole internet
     * (`0.0.0.0/0`, `::/0`, `*`, `Internet`) only with `allowWorldSsh: true`.
     */
    readonly adminCidrs: string[];
    /** Accept a world-open block in `adminCidrs`. Default false. */
    readonly allowWorldSsh?: boolean;
    /**
     * Which orchestrators' ports are open between the pool's VMs (and only between them: source and
     * destination are the pool's application security group). Default both `swarm` and `kubernetes`.
     */
    readonly clusterPorts?: ClusterKind[];
    /**
     * Blocks outside the pool whose machines are members of the same cluster (another pool's or an
     * on-premises site's public addresses, e.g. `["198.51.100.7/32"]`): the cluster ports are open
     * from them too, as a hybrid cluster needs. Never world-open. Default none.
     */
    readonly clusterPeerCidrs?: string[];
    /** TCP ports the workloads publish, open from `appCidrs` (e.g. `[80, 443]`). Default none. */
    readonly appPorts?: number[];
    /** Where `appPorts` are open from (may be `0.0.0.0/0`). Required when `appPorts` is given. */
    readonly appCidrs?: string[];
    /**
     * A public IP per VM (Standard SKU, static, in its VM's zone): clients reach the VMs at it.
     * Default true, false with a bastion (true and a bastion together are refused: machines behind
     * a bastion have only private addresses). Without either, machines are reached at their private
     * addresses (a VPN or peered network). Without public IPs, the pool's own subnet gets a NAT
     * gateway (Standard, with its own static IP) for outbound access to package repositories.
     */
    readonly publicIp?: boolean;
    /**
     * A bastion VM (jump host) with a public IP in the pool's subnet (Azure attaches a public IP to a
     * NIC in any subnet, a given `subnetId` included): SSH to it only from `adminCidrs`, SSH to the
     * machines only from it; the machines get no public IP and reach the internet through a NAT
     * gateway the pool creates on its own subnet. `true` or `{ vmSize }` (default
     * `Standard_B1s`); its image is the pool's, its user data the pool's own part only (no
     * `userData` parts), its Host the pool's `bastion` output. Default none.
     */
    readonly bastion?: boolean | { vmSize?: string };
    /**
     * VM size, e.g. `Standard_B2s`, `Standard_D2ps_v5`. A `p` among the feature letters after the
     * vCPU count (`D2ps`) is an Arm64 size: the image's arm64 variant is used. Default `Standard_B2s`.
     */
    readonly vmSize?: string;
    /**
     * Image: `debian-12` (`Debian`/`debian-12`/`12-gen2`, or `12-arm64`), `ubuntu-24.04`
     * (`Canonical`/`ubuntu-24_04-lts`/`server`, or `server-arm64`), or a marketplace reference with
     * its os and version. Default `debian-12`.
     */
    readonly image?: AzureImageName | AzureImageReference;
    /** Size of the managed OS disk in GiB, 30 to 4095 (deleted with its VM). Default 30. */
    readonly osDiskGiB?: number;
    /** Storage type of the OS disk. Default `StandardSSD_LRS` (`Premium_LRS` needs a size with an `s`). */
    readonly osDiskType?: AzureOsDiskType;
    /**
     * Encryption at host (temporary disks and caches encrypted too). Needs the subscription feature
     * `Microsoft.Compute/EncryptionAtHost` registered. Default false (managed disks are still
     * encrypted at rest by Azure).
     */
    readonly encryptionAtHost?: boolean;
    /** Trusted Launch (secure boot and vTPM; the default images are generation 2). Default false. */
    readonly trustedLaunch?: boolean;
    /**
     * Login user (`adminUsername`), with the pool's key and password-less sudo; password login is
     * disabled. A Linux user name Azure does not reserve (`admin`, `root`, ... are refused). Default `flotilla`.
     */
    readonly sshUser?: string;
    /** The login key pair to authorize (OpenSSH). Default: one the pool generates (`<name>-ssh-key`). */
    readonly sshKey?: { privateKey: pulumi.Input<string>; publicKey: pulumi.Input<string> };
    /**
     * More cloud-init user data for every VM (not the bastion), e.g. `dockerEngineUserData(...)`: each
     * part a `#cloud-config` document (merged with the pool's own) or a `#!` script. The whole
     * document reaches Azure gzip-compressed (cloud-init reads it so) and must fit Azure's 65,535
     * bytes, checked when it resolves, before any Azure resource is created. Changing it replaces
     * the VMs. Default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
    /** Azure tags on every resource, beside `flotilla-pool: <pool>`. Default none. */
    readonly tags?: Record<string, string>;
    /** Labels added to every host, beside `provider`, `pool`, `region` and `zone`. Default none. */
    readonly labels?: Record<string, string>;
}

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
export class AzureHostPool extends pulumi.ComponentResource {
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
        for (const key of PLAIN_KEYS) {
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
        const kinds = checkClusterKinds(v, "clusterPorts", args.clusterPorts);
        const peerCidrs = checkCidrs(v, "clusterPeerCidrs", args.clusterPeerCidrs, {
            worldAliases: AZURE_WORLD_ALIASES,
            neverWorld: "cluster ports are never open to the world",
        });
        const appPorts = checkAppPorts(v, "appPorts", args.appPorts);
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
        const osDiskGiB = v.integer("osDiskGiB", args.osDiskGiB ?? 30, 30, 4095);
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
                securityRules: securityRules({ adminCidrs, ports: clusterPorts(kinds), peerCidrs, appPorts, appCidrs, asg: asg.id, bastionAsg: bastionAsg?.id }),
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
                            diskSizeGB: osDiskGiB,
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
        this.privateAddresses = pulumi.all(hosts.map((h) => h.privateAddress));
        this.publicAddresses = pulumi.all(hosts.flatMap((h) => (h.publicAddress ? [h.publicAddress] : [])));
        this.sshPrivateKey = privateKey;
        this.sshPublicKey = keys.publicKey;
        this.resourceGroupName = resourceGroupName;
        this.networkSecurityGroupId = nsg.id;
        this.subnetId = subnetId;

        this.knownHosts = knownHostsText(this.hosts);
        this.sshConfig = sshConfigText(this.hosts, defaultSshConfigFiles(this.poolName));

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

/** Properties of {@link AzureHostPoolArgs}. */
const AZURE_HOST_POOL_KEYS = [
    "size", "poolName", "location", "zones", "resourceGroupName", "subnetId", "vnetCidr", "adminCidrs", "allowWorldSsh",
    "clusterPorts", "clusterPeerCidrs", "appPorts", "appCidrs", "publicIp", "bastion", "vmSize", "image", "osDiskGiB", "osDiskType",
    "encryptionAtHost", "trustedLaunch", "sshUser", "sshKey", "userData", "tags", "labels",
];
/** Properties that must be plain (they decide which resources exist, or are checked first). */
const PLAIN_KEYS = [
    "size", "poolName", "location", "zones", "vnetCidr", "adminCidrs", "allowWorldSsh", "clusterPorts", "clusterPeerCidrs", "appPorts",
    "appCidrs", "publicIp", "bastion", "vmSize", "image", "osDiskGiB", "osDiskType", "encryptionAtHost",
    "trustedLaunch", "sshUser", "sshKey", "tags", "labels",
] as const;

const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;

/** The architecture of an Azure VM size: Arm64 when its feature letters (after the vCPU count) hold a `p`. */
export function azureVmArchitecture(vmSize: string): HostArchitecture {
    const m = /^(?:Standard|Basic)_[A-Z]+\d+(?:-\d+)?([a-z]*)/.exec(vmSize);
    return m && m[1].includes("p") ? "arm64" : "amd64";
}

/**
 * Custom data of a VM: the first-boot document gzip-compressed (cloud-init decompresses user data
 * from any datasource) and base64-encoded, as Azure takes it. Fails naming `userData` when it does
 * not fit Azure's 65,535 bytes (never showing the document: it holds the host's private key).
 */
export function azureCustomData(v: Validator, document: string): string {
    const encoded = gzipBase64(document);
    const bytes = Buffer.from(encoded, "base64").length;
    if (bytes > AZURE_CUSTOM_DATA_MAX_BYTES) {
        v.fail(
            "userData",
            new Described(`parts making a first-boot document of ${Buffer.byteLength(document)} bytes, ${bytes} compressed`),
            `parts whose whole document fits Azure's custom data once gzip-compressed (at most ${AZURE_CUSTOM_DATA_MAX_BYTES} bytes)`,
        );
    }
    return encoded;
}

/** The marketplace reference of an image for an architecture. */
function imageReference(image: ResolvedImage, arch: HostArchitecture): azureInputs.compute.ImageReferenceArgs {
    return { publisher: image.publisher, offer: image.offer, sku: arch === "arm64" ? image.armSku : image.sku, version: image.version };
}

interface ResolvedImage {
    publisher: string;
    offer: string;
    sku: string;
    armSku: string;
    version: string;
    os: string;
    osVersion: string;
}

const KNOWN_IMAGES: Record<AzureImageName, ResolvedImage> = {
    "debian-12": { publisher: "Debian", offer: "debian-12", sku: "12-gen2", armSku: "12-arm64", version: "latest", os: "debian", osVersion: "12" },
    "ubuntu-24.04": {
        publisher: "Canonical",
        offer: "ubuntu-24_04-lts",
        sku: "server",
        armSku: "server-arm64",
        version: "latest",
        os: "ubuntu",
        osVersion: "24.04",
    },
};

function checkImage(v: Validator, value: unknown): ResolvedImage {
    if (typeof value === "string") {
        return KNOWN_IMAGES[v.oneOf("image", value, AZURE_IMAGES)];
    }
    if (!isPlainObject(value)) {
        v.fail("image", value, `one of ${AZURE_IMAGES.map((i) => `"${i}"`).join(", ")} or { publisher, offer, sku, version?, os, osVersion }`);
    }
    v.known("image", value, ["publisher", "offer", "sku", "version", "os", "osVersion"]);
    const ref = value as Partial<AzureImageReference>;
    for (const key of ["publisher", "offer", "sku"] as const) {
        v.token(`image.${key}`, ref[key], "a non-empty name without spaces, as `az vm image list` prints it");
    }
    const version = ref.version === undefined ? "latest" : v.token("image.version", ref.version, 'a version such as "latest"');
    const os = v.oneOf("image.os", ref.os, ["debian", "ubuntu"] as const);
    const osVersion = v.token("image.osVersion", ref.osVersion, 'an os-release VERSION_ID such as "12" or "24.04"');
    // A reference names one architecture: the same SKU whatever the VM size.
    return { publisher: ref.publisher as string, offer: ref.offer as string, sku: ref.sku as string, armSku: ref.sku as string, version, os, osVersion };
}

/** The pool name (`poolName`, else the resource name), which every Azure name of the pool derives from. */
function checkPoolName(v: Validator, name: string, poolName: unknown): string {
    if (poolName !== undefined) return v.dnsLabel("poolName", poolName, MAX_AZURE_POOL_NAME);
    if (typeof name !== "string" || name.length > MAX_AZURE_POOL_NAME || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
        v.fail(
            "name",
            name,
            `a DNS-safe name of 1 to ${MAX_AZURE_POOL_NAME} characters: lower-case letters, digits and '-', starting and ending with ` +
                "a letter or digit (the Azure names derive from it); or give poolName",
        );
    }
    return name;
}

function checkLocation(v: Validator, value: unknown): string {
    if (typeof value !== "string" || !/^[a-z][a-z0-9]{1,39}$/.test(value)) {
        v.fail(
            "location",
            value,
            'an Azure region name of lower-case letters and digits such as "westeurope" (or the azure-native:location config value)',
        );
    }
    return value;
}

function checkVnetCidr(v: Validator, text: unknown) {
    const block = parseCidr(text);
    if (typeof block === "string") v.fail("vnetCidr", text, `a private IPv4 CIDR block such as "10.61.0.0/16" (${block})`);
    if (!isPrivate(block) || block.prefix < 8 || block.prefix > 24) {
        v.fail("vnetCidr", text, "a private (RFC 1918) IPv4 block of prefix /8 to /24 (the VMs' subnet is its first /24)");
    }
    return block;
}

/** True for a VM size as Azure names them (see {@link VM_SIZE}), e.g. `Standard_D4s_v5`. */
export function isAzureVmSize(value: unknown): value is string {
    return typeof value === "string" && VM_SIZE.test(value);
}

function checkVmSize(v: Validator, property: string, value: unknown): string {
    if (!isAzureVmSize(value)) {
        v.fail(property, value, VM_SIZE_EXPECTED);
    }
    return value;
}

function checkBastion(v: Validator, value: unknown): string | undefined {
    if (value === undefined || value === false) return undefined;
    if (value === true) return DEFAULT_AZURE_BASTION_VM_SIZE;
    if (!isPlainObject(value)) v.fail("bastion", value, "true, false or { vmSize }");
    v.known("bastion", value, ["vmSize"]);
    return checkVmSize(v, "bastion.vmSize", (value as { vmSize?: unknown }).vmSize ?? DEFAULT_AZURE_BASTION_VM_SIZE);
}

function checkUser(v: Validator, value: unknown): string {
    if (typeof value !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(value) || AZURE_RESERVED_USER_NAMES.includes(value)) {
        v.fail(
            "sshUser",
            value,
            `a Linux user name ([a-z_][a-z0-9_-], at most 32) that Azure does not reserve (${AZURE_RESERVED_USER_NAMES.join(", ")})`,
        );
    }
    return value;
}

function checkTags(v: Validator, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (!isPlainObject(value)) v.fail("tags", value, "an object mapping tag names to string values");
    const count = Object.keys(value).length;
    if (count > AZURE_MAX_TAGS - 1) {
        v.fail("tags", new Described(`${count} tags`), `at most ${AZURE_MAX_TAGS - 1} tags (Azure takes ${AZURE_MAX_TAGS} on a resource, and the pool adds flotilla-pool)`);
    }
    const out: Record<string, string> = {};
    for (const [k, t] of Object.entries(value)) {
        if (k.length === 0 || k.length > 512 || /[<>%&\\?/]/.test(k)) {
            v.fail(`tags.${k}`, k, "a tag name of 1 to 512 characters without <, >, %, &, \\, ? or /");
        }
        // Azure compares tag names ignoring case.
        if (k.toLowerCase() === "flotilla-pool") v.fail(`tags.${k}`, t, 'a tag name other than "flotilla-pool" (the pool sets that tag): rename this one');
        if (typeof t !== "string" || t.length > 256) {
            v.fail(`tags.${k}`, typeof t === "string" ? new Described(`a string of ${t.length} characters`) : t, "a string of at most 256 characters");
        }
        out[k] = t;
    }
    return out;
}

/** A Standard, static, IPv4 public IP (zone set by the caller). */
function publicIpArgs(publicIpAddressName: string) {
    return {
        publicIpAddressName,
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
    };
}

/** One address list as Azure wants it: a single prefix, or several. */
function sources(cidrs: string[]): { sourceAddressPrefix: string } | { sourceAddressPrefixes: string[] } {
    return cidrs.length === 1 ? { sourceAddressPrefix: cidrs[0] } : { sourceAddressPrefixes: cidrs };
}

/**
 * Source lists one rule each: IPv4 blocks (and Azure's `*`/`Internet`) apart from IPv6 blocks, as
 * a security rule takes addresses of one IP version. Names get `-v6` for the IPv6 one.
 */
function byVersion(cidrs: string[]): { suffix: string; offset: number; cidrs: string[] }[] {
    const v6 = cidrs.filter((c) => c.includes(":"));
    const v4 = cidrs.filter((c) => !c.includes(":"));
    return [
        ...(v4.length ? [{ suffix: "", offset: 0, cidrs: v4 }] : []),
        ...(v6.length ? [{ suffix: "-v6", offset: 1, cidrs: v6 }] : []),
    ];
}

/** The pool's inbound rules (see {@link AzureHostPool}). */
function securityRules(p: {
    adminCidrs: string[];
    ports: ReturnType<typeof clusterPorts>;
    peerCidrs: string[];
    appPorts: number[];
    appCidrs: string[];
    asg: pulumi.Output<string>;
    bastionAsg?: pulumi.Output<string>;
}): azureInputs.network.SecurityRuleArgs[] {
    const inbound = { direction: "Inbound", sourcePortRange: "*" };
    const pool = [{ id: p.asg }];
    const rules: azureInputs.network.SecurityRuleArgs[] = byVersion(p.adminCidrs).map((s) => ({
        ...inbound,
        name: `ssh-from-admins${s.suffix}`,
        description: p.bastionAsg ? "SSH to the bastion from adminCidrs" : "SSH from adminCidrs",
        priority: 100 + s.offset,
        access: "Allow",
        protocol: "Tcp",
        ...sources(s.cidrs),
        destinationApplicationSecurityGroups: p.bastionAsg ? [{ id: p.bastionAsg }] : pool,
        destinationPortRange: "22",
    }));
    if (p.bastionAsg) {
        rules.push({
            ...inbound,
            name: "ssh-from-bastion",
            description: "SSH to the machines from the bastion only",
            priority: 110,
            access: "Allow",
            protocol: "Tcp",
            sourceApplicationSecurityGroups: [{ id: p.bastionAsg }],
            destinationApplicationSecurityGroups: pool,
            destinationPortRange: "22",
        });
    }
    (["tcp", "udp"] as const).forEach((protocol, i) => {
        const ranges = p.ports.filter((c) => c.protocol === protocol).map((c) => (c.toPort ? `${c.port}-${c.toPort}` : String(c.port)));
        if (ranges.length === 0) return;
        rules.push({
            ...inbound,
            name: `cluster-${protocol}`,
            description: `cluster ports (${protocol}) between the pool's machines only`,
            priority: 200 + 10 * i,
            access: "Allow",
            protocol: protocol === "tcp" ? "Tcp" : "Udp",
            sourceApplicationSecurityGroups: pool,
            destinationApplicationSecurityGroups: pool,
            destinationPortRanges: ranges,
        });
        for (const s of byVersion(p.peerCidrs)) {
            rules.push({
                ...inbound,
                name: `cluster-${protocol}-peers${s.suffix}`,
                description: `cluster ports (${protocol}) from the cluster's members outside the pool (clusterPeerCidrs)`,
                priority: 220 + 10 * i + s.offset,
                access: "Allow",
                protocol: protocol === "tcp" ? "Tcp" : "Udp",
                ...sources(s.cidrs),
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: ranges,
            });
        }
    });
    if (p.appPorts.length > 0) {
        for (const s of byVersion(p.appCidrs)) {
            rules.push({
                ...inbound,
                name: `app-ports${s.suffix}`,
                description: "the workloads' published ports from appCidrs",
                priority: 300 + s.offset,
                access: "Allow",
                protocol: "Tcp",
                ...sources(s.cidrs),
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: p.appPorts.map(String),
            });
        }
    }
    // Azure's defaults allow the whole virtual network and the load balancer before denying: deny here.
    rules.push({
        ...inbound,
        name: "deny-all-inbound",
        description: "everything else, from anywhere (the virtual network included)",
        priority: 4096,
        access: "Deny",
        protocol: "*",
        sourceAddressPrefix: "*",
        destinationAddressPrefix: "*",
        destinationPortRange: "*",
    });
    return rules;
}
