/**
 * The Args of {@link AzureHostPool} and the constants they refer to: what a user of `flotilla/azure`
 * reads, apart from the construct itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterPort } from "../../core/cluster";
import type { SuppliedSshKey } from "../common/cloud-common";
import type { ClusterKind } from "../common/cluster-ports";
import { PoolAccessArgs, VmPoolArgs } from "../common/host-pool-args";

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
export const AZURE_ZONES = ["1", "2", "3"] as const satisfies readonly AzureZone[];
/** An availability zone. */
export type AzureZone = "1" | "2" | "3";
/** Managed OS disk types. */
export const AZURE_OS_DISK_TYPES = ["StandardSSD_LRS", "Premium_LRS"] as const satisfies readonly AzureOsDiskType[];
/** A managed OS disk type. */
export type AzureOsDiskType = "StandardSSD_LRS" | "Premium_LRS";
/** The images flotilla knows by name. */
export const AZURE_IMAGES = ["debian-12", "ubuntu-24.04"] as const satisfies readonly AzureImageName[];
/** An image flotilla knows by name. */
export type AzureImageName = "debian-12" | "ubuntu-24.04";

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

/** A marketplace image given by reference, with what it runs (the Host's `platform`). */
export interface AzureImageReference {
    /** Publisher, e.g. `Debian`. */
    readonly publisher: string;
    /** Offer, e.g. `debian-12`. */
    readonly offer: string;
    /** SKU, e.g. `12-gen2` (its architecture must match `vmSize`'s). */
    readonly sku: string;
    /**
     * Version.
     * @default `latest`.
     */
    readonly version?: string;
    /** os-release `ID` of the image: `debian` or `ubuntu`. */
    readonly os: "debian" | "ubuntu";
    /** os-release `VERSION_ID`, e.g. `12`, `24.04`. */
    readonly osVersion: string;
}

/** Arguments of {@link AzureHostPool}. Every property is plain unless typed `pulumi.Input`. */
export interface AzureHostPoolArgs extends VmPoolArgs, PoolAccessArgs {
    /** Number of VMs, 1 to 250. It decides which resources exist, so it is checked before any is created. */
    readonly size: number;
    /**
     * Name of the pool: prefix of every Azure resource name (`<pool>-rg`, `<pool>-vnet`, `<pool>-nsg`,
     * VMs `<pool>-0`, `<pool>-1`, ... which are also their host names). DNS-safe, at most 40
     * characters; unique in the subscription when the pool makes its resource group, within the
     * resource group otherwise, and among the pools of one program.
     * @default the resource name.
     */
    readonly poolName?: string;
    /**
     * Azure region, e.g. `westeurope` (lower-case letters and digits, as `az account list-locations`
     * prints `name`).
     * @default the `azure-native:location` config value; one of them is required.
     */
    readonly location?: string;
    /**
     * Availability zones to spread the VMs over, round-robin (VM `i` in `zones[i % n]`); each public
     * IP is in its VM's zone.
     * @default none: a regional deployment (no zone).
     */
    readonly zones?: AzureZone[];
    /**
     * Existing resource group to create everything in.
     * @default the pool creates `<pool>-rg` in `location`.
     */
    readonly resourceGroupName?: pulumi.Input<string>;
    /**
     * Existing subnet (its full resource id) for the VMs (and the bastion), in a virtual network in
     * `location` (the pool's NSG and ASGs must be in its region). Its network's own rules still apply: an NSG on that subnet must allow what the pool's NSG allows, and
     * machines without a public IP need the subnet's own outbound access (a NAT gateway) to reach
     * package repositories.
     * @default the pool's own virtual network (`vnetCidr`) and subnet.
     */
    readonly subnetId?: pulumi.Input<string>;
    /**
     * Address space of the pool's own virtual network: a private (RFC 1918) IPv4 block of prefix /8
     * to /24; the VMs' subnet is its first /24. Not allowed with `subnetId`.
     * @default `10.61.0.0/16`.
     */
    readonly vnetCidr?: string;
    /**
     * Where administrators (and this Pulumi program, which runs scripts over SSH) connect from:
     * SSH (22) is open only from these CIDR blocks. Required, at least one. The whole internet
     * (`0.0.0.0/0`, `::/0`, `*`, `Internet`) only with `allowWorldSsh: true`.
     */
    readonly adminCidrs: string[];
    /**
     * Accept a world-open block in `adminCidrs`.
     * @default false.
     */
    readonly allowWorldSsh?: boolean;
    /**
     * The ports the cluster's members reach on each other (a cluster's `ports`, `SWARM_PORTS`,
     * `KUBERNETES_PORTS`, or several concatenated), open between the pool's VMs only (source and
     * destination are the pool's application security group) and from `clusterPeerCidrs`. The names
     * `"swarm"` and `"kubernetes"` are deprecated shorthands for those two lists.
     * @default Swarm's and
     * Kubernetes' ports.
     */
    readonly clusterPorts?: readonly (ClusterPort | ClusterKind)[];
    /**
     * Blocks outside the pool whose machines are members of the same cluster (another pool's or an
     * on-premises site's public addresses, e.g. `["198.51.100.7/32"]`): the cluster ports are open
     * from them too, as a hybrid cluster needs. Never world-open.
     * @default none.
     */
    readonly clusterPeerCidrs?: string[];
    /**
     * TCP ports the workloads publish, open from `appCidrs` (e.g. `[80, 443]`).
     * @default none.
     */
    readonly appPorts?: number[];
    /**
     * Where `appPorts` are open from (may be `0.0.0.0/0`). Required when `appPorts` is given.
     * @default none: required with `appPorts`, refused without.
     */
    readonly appCidrs?: string[];
    /**
     * A public IP per VM (Standard SKU, static, in its VM's zone): clients reach the VMs at it.
     * @default true, false with a bastion (true and a bastion together are refused: machines behind
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
     * `userData` parts), its Host the pool's `bastion` output.
     * @default none.
     */
    readonly bastion?:
        | boolean
        | {
              /** The bastion's VM size. Default `Standard_B1s`. */
              vmSize?: string;
          };
    /**
     * VM size, e.g. `Standard_B2s`, `Standard_D2ps_v5`. A `p` among the feature letters after the
     * vCPU count (`D2ps`) is an Arm64 size: the image's arm64 variant is used.
     * @default `Standard_B2s`.
     */
    readonly vmSize?: string;
    /**
     * Image: `debian-12` (`Debian`/`debian-12`/`12-gen2`, or `12-arm64`), `ubuntu-24.04`
     * (`Canonical`/`ubuntu-24_04-lts`/`server`, or `server-arm64`), or a marketplace reference with
     * its os and version.
     * @default `debian-12`.
     */
    readonly image?: AzureImageName | AzureImageReference;
    /**
     * Size of the managed OS disk in GiB, 30 to 4095 (deleted with its VM).
     * @default 30.
     */
    readonly diskGiB?: number;
    /** @deprecated Use {@link diskGiB} (the same setting; giving both is refused). */
    readonly osDiskGiB?: number;
    /**
     * Storage type of the OS disk.
     * @default `StandardSSD_LRS` (`Premium_LRS` needs a size with an `s`).
     */
    readonly osDiskType?: AzureOsDiskType;
    /**
     * Encryption at host (temporary disks and caches encrypted too). Needs the subscription feature
     * `Microsoft.Compute/EncryptionAtHost` registered.
     * @default false (managed disks are still
     * encrypted at rest by Azure).
     */
    readonly encryptionAtHost?: boolean;
    /**
     * Trusted Launch (secure boot and vTPM; the default images are generation 2).
     * @default false.
     */
    readonly trustedLaunch?: boolean;
    /**
     * Login user (`adminUsername`), with the pool's key and password-less sudo; password login is
     * disabled. A Linux user name Azure does not reserve (`admin`, `root`, ... are refused).
     * @default `flotilla`.
     */
    readonly sshUser?: string;
    /**
     * The login key pair to authorize (OpenSSH).
     * @default one the pool generates (`<name>-ssh-key`).
     */
    readonly sshKey?: SuppliedSshKey;
    /**
     * More cloud-init user data for every VM (not the bastion), e.g. `dockerEngineUserData(...)`: each
     * part a `#cloud-config` document (merged with the pool's own) or a `#!` script. The whole
     * document reaches Azure gzip-compressed (cloud-init reads it so) and must fit Azure's 65,535
     * bytes, checked when it resolves, before any Azure resource is created. Changing it replaces
     * the VMs.
     * @default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Azure tags on every resource, beside `flotilla-pool: <pool>`.
     * @default none.
     */
    readonly tags?: Record<string, string>;
    /**
     * Labels added to every host, beside `provider`, `pool`, `region` and `zone`.
     * @default none.
     */
    readonly labels?: Record<string, string>;
}
