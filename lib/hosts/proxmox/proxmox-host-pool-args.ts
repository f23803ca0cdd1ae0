/**
 * The Args of {@link ProxmoxHostPool} and the constants they refer to: what a user of
 * `flotilla/proxmox` reads, apart from the construct itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { SuppliedSshKey } from "../common/cloud-common";
import { VmPoolArgs } from "../common/host-pool-args";

/** Type token of {@link ProxmoxHostPool}. */
export const PROXMOX_HOST_POOL_TYPE = "flotilla:hosts:ProxmoxHostPool";

/** Default image: Debian 12's "genericcloud" cloud image (cloud-init, no hardware drivers a VM does not need). */
export const DEFAULT_PROXMOX_IMAGE_URL = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2";
/** Default bridge of the machines' network device. */
export const DEFAULT_PROXMOX_BRIDGE = "vmbr0";
/** Default SSH login user (the same as every other flotilla pool). */
export const DEFAULT_PROXMOX_SSH_USER = "admin";
/** Largest pool. */
export const MAX_PROXMOX_POOL_SIZE = 100;
/** Default CPU type: what Proxmox recommends for guests that may migrate between hosts. */
export const DEFAULT_PROXMOX_CPU_TYPE = "x86-64-v2-AES";

/** Arguments of {@link ProxmoxHostPool}. */
export interface ProxmoxHostPoolArgs extends Omit<VmPoolArgs, "tags"> {
    /**
     * Number of machines, 1 to 100. Plain (not an Output): it decides how many VMs exist and is
     * validated before anything is created.
     */
    readonly size: number;
    /**
     * Proxmox node names the VMs are spread over, round-robin: VM `i` runs on `nodes[i % n]` (its
     * `zone` label). At least one, no duplicates. Plain.
     */
    readonly nodes: string[];
    /**
     * Name of the pool: prefix of the VM names (`<pool>-0`, `<pool>-1`, ...), label `pool` and a
     * Proxmox tag of every VM. DNS-safe, at most 40 characters, one pool per name in a program.
     * @default the resource name.
     */
    readonly poolName?: string;
    /**
     * VM id of a cloud-init-ready template to full-clone every VM from (a cloud image with
     * cloud-init, boot disk on {@link diskInterface}).
     * @default none: the cloud image
     * {@link imageUrl} is downloaded to each node used and every VM boots from a copy of it.
     */
    readonly templateVmId?: number;
    /**
     * Node the template lives on (clones to other nodes are moved there).
     * @default the first of {@link nodes}. Only with `templateVmId`.
     */
    readonly templateNode?: string;
    /**
     * Cloud image (qcow2) downloaded once per node into {@link imageDatastore} (as
     * `flotilla-<pool>-<node>.img`, never re-downloaded by later `up`s). Not with `templateVmId`.
     * @default Debian 12 genericcloud amd64, `latest`.
     */
    readonly imageUrl?: string;
    /**
     * sha256 or sha512 (hex) of the image at {@link imageUrl}, checked after the download.
     * @default none.
     */
    readonly imageChecksum?: string;
    /**
     * Datastore the image is downloaded to (content type "ISO image" enabled).
     * @default `local`.
     */
    readonly imageDatastore?: string;
    /**
     * Datastore of the VMs' disks and cloud-init drives.
     * @default `local-lvm`.
     */
    readonly diskDatastore?: string;
    /**
     * Datastore the per-VM user data snippet is written to: "Snippets" content enabled, reachable by
     * the provider over SSH (`proxmoxve:ssh`).
     * @default `local`.
     */
    readonly snippetsDatastore?: string;
    /**
     * Interface of the boot disk (`scsi0`, `virtio0`, `sata0`, ...); a template's boot disk must be there.
     * @default `scsi0`.
     */
    readonly diskInterface?: string;
    /**
     * vCPU cores per VM, 1 to 128.
     * @default 2.
     */
    readonly cores?: number;
    /**
     * Emulated CPU type (`x86-64-v2-AES`, `host`, ...).
     * @default `x86-64-v2-AES`.
     */
    readonly cpuType?: string;
    /**
     * Memory per VM in MiB, 512 to 1048576.
     * @default 2048.
     */
    readonly memoryMiB?: number;
    /** @deprecated Use {@link memoryMiB} (the same setting, in MiB; giving both is refused). */
    readonly memoryMb?: number;
    /**
     * Boot disk size per VM in GiB, 4 to 65536 (at least the image's or template's).
     * @default 20.
     */
    readonly diskGiB?: number;
    /** @deprecated Use {@link diskGiB} (the same setting, in GiB; giving both is refused). */
    readonly diskSizeGb?: number;
    /**
     * Linux bridge (or SDN VNet) of the VMs' network device.
     * @default `vmbr0`.
     */
    readonly bridge?: string;
    /**
     * VLAN tag of the network device, 1 to 4094.
     * @default none (untagged).
     */
    readonly vlan?: number;
    /**
     * IPv4 block of the VMs' network, e.g. `192.168.10.0/24`: with {@link gateway} and
     * {@link firstAddress}, VM `i` gets the static address `firstAddress + i` through cloud-init.
     * @default none: the three left out, every VM gets its address by DHCP and reports it through
     * the QEMU guest agent.
     */
    readonly subnet?: string;
    /**
     * Gateway of {@link subnet} (outside the VMs' addresses). Required with `subnet`.
     * @default none: required with `subnet`, refused without.
     */
    readonly gateway?: string;
    /**
     * Address of VM 0 in {@link subnet}; the VMs take consecutive addresses from it. Required with `subnet`.
     * @default none: required with `subnet`, refused without.
     */
    readonly firstAddress?: string;
    /**
     * DNS servers (IPv4) written by cloud-init.
     * @default none: the Proxmox host's own settings.
     */
    readonly dnsServers?: string[];
    /**
     * VM id of VM 0; the VMs take consecutive ids (a replaced VM is deleted before its successor is
     * created, keeping its id). 100 to 999999999.
     * @default none: Proxmox assigns the next free ids.
     */
    readonly firstVmId?: number;
    /**
     * Login user cloud-init creates, with the pool's key and password-less sudo; no password, no root login.
     * @default `admin`.
     */
    readonly sshUser?: string;
    /**
     * The client key pair to authorize.
     * @default one generated for the pool (`<name>-ssh-key`).
     */
    readonly sshKey?: SuppliedSshKey;
    /**
     * Labels added to every host, beside `provider: proxmox`, `pool` and `zone` (the node).
     * @default none.
     */
    readonly labels?: Record<string, string>;
    /**
     * Tags on every VM, beside `flotilla` and the pool name. Proxmox tags have no values: each entry
     * becomes the tag `<key>-<value>` (`<key>` alone for an empty value), which must be a Proxmox
     * tag (lower-case letters, digits, `_`, `-`, `+`, `.`, at most 64). A list of Proxmox tags
     * (`["web"]`, the same as `{ web: "" }`) is still read but deprecated.
     * @default none.
     */
    readonly tags?: Record<string, string> | string[];
    /**
     * Name of the private network the VMs' addresses belong to, as other pools name theirs
     * (cluster members on another network reach these at their public address).
     * @default `proxmox:<bridge>` or `proxmox:<bridge>.<vlan>`.
     */
    readonly network?: string;
    /**
     * os-release `ID` of the image or template.
     * @default `debian`.
     */
    readonly os?: string;
    /**
     * os-release `VERSION_ID` of the image or template.
     * @default `12`.
     */
    readonly osVersion?: string;
    /**
     * Install and start the QEMU guest agent through cloud-init (needs the distribution's package
     * mirror); false when the image or template already starts it. The VM's create waits until
     * the agent reports an address.
     * @default true.
     */
    readonly installGuestAgent?: boolean;
    /**
     * Seconds a VM may take from start until its guest agent reports an IPv4 address, 60 to 7200.
     * @default 900.
     */
    readonly bootTimeoutSeconds?: number;
    /**
     * More cloud-init user data for every VM, e.g. `dockerEngineUserData(...)`: each part a
     * `#cloud-config` document (merged with the pool's own, lists appended) or a `#!` script. Part
     * of the VM's snippet: changing it replaces the VMs.
     * @default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
}
