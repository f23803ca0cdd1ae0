/**
 * Virtual machines on a Proxmox VE cluster (the data center's hypervisor) as `Host`s. Behind its
 * own subpath export, `flotilla/proxmox`: `@muhlba91/pulumi-proxmoxve` is an optional peer
 * dependency, and the root of the library never imports this file.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import { Host, HostLabels } from "../core/host";
import { defaultSshConfigFiles, knownHostsText, sshConfigText } from "../core/known-hosts";
import { formatIpv4, parseCidr, parseIpv4 } from "../core/ipv4";
import { Validator, hasOwn } from "../core/validate";
import { claimName } from "../core/claims";
import { checkUserData, hostnameUserData } from "./user-data";
import { SuppliedSshKey, checkSuppliedKey, machineUserData, poolKeys } from "./cloud-common";

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
export interface ProxmoxHostPoolArgs {
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
     * Default: the resource name.
     */
    readonly poolName?: string;
    /**
     * VM id of a cloud-init-ready template to full-clone every VM from (a cloud image with
     * cloud-init, boot disk on {@link diskInterface}). Default none: the cloud image
     * {@link imageUrl} is downloaded to each node used and every VM boots from a copy of it.
     */
    readonly templateVmId?: number;
    /** Node the template lives on (clones to other nodes are moved there). Default: the first of {@link nodes}. Only with `templateVmId`. */
    readonly templateNode?: string;
    /**
     * Cloud image (qcow2) downloaded once per node into {@link imageDatastore} (as
     * `flotilla-<pool>-<node>.img`, never re-downloaded by later `up`s). Not with `templateVmId`. Default:
     * Debian 12 genericcloud amd64, `latest`.
     */
    readonly imageUrl?: string;
    /** sha256 or sha512 (hex) of the image at {@link imageUrl}, checked after the download. Default none. */
    readonly imageChecksum?: string;
    /** Datastore the image is downloaded to (content type "ISO image" enabled). Default `local`. */
    readonly imageDatastore?: string;
    /** Datastore of the VMs' disks and cloud-init drives. Default `local-lvm`. */
    readonly diskDatastore?: string;
    /**
     * Datastore the per-VM user data snippet is written to: "Snippets" content enabled, reachable by
     * the provider over SSH (`proxmoxve:ssh`). Default `local`.
     */
    readonly snippetsDatastore?: string;
    /** Interface of the boot disk (`scsi0`, `virtio0`, `sata0`, ...); a template's boot disk must be there. Default `scsi0`. */
    readonly diskInterface?: string;
    /** vCPU cores per VM, 1 to 128. Default 2. */
    readonly cores?: number;
    /** Emulated CPU type (`x86-64-v2-AES`, `host`, ...). Default `x86-64-v2-AES`. */
    readonly cpuType?: string;
    /** Memory per VM in MiB, 512 to 1048576. Default 2048. */
    readonly memoryMb?: number;
    /** Boot disk size per VM in GiB, 4 to 65536 (at least the image's or template's). Default 20. */
    readonly diskSizeGb?: number;
    /** Linux bridge (or SDN VNet) of the VMs' network device. Default `vmbr0`. */
    readonly bridge?: string;
    /** VLAN tag of the network device, 1 to 4094. Default none (untagged). */
    readonly vlan?: number;
    /**
     * IPv4 block of the VMs' network, e.g. `192.168.10.0/24`: with {@link gateway} and
     * {@link firstAddress}, VM `i` gets the static address `firstAddress + i` through cloud-init.
     * Default none: the three left out, every VM gets its address by DHCP and reports it through
     * the QEMU guest agent.
     */
    readonly subnet?: string;
    /** Gateway of {@link subnet} (outside the VMs' addresses). Required with `subnet`. */
    readonly gateway?: string;
    /** Address of VM 0 in {@link subnet}; the VMs take consecutive addresses from it. Required with `subnet`. */
    readonly firstAddress?: string;
    /** DNS servers (IPv4) written by cloud-init. Default none: the Proxmox host's own settings. */
    readonly dnsServers?: string[];
    /**
     * VM id of VM 0; the VMs take consecutive ids (a replaced VM is deleted before its successor is
     * created, keeping its id). 100 to 999999999. Default none: Proxmox assigns the next free ids.
     */
    readonly firstVmId?: number;
    /** Login user cloud-init creates, with the pool's key and password-less sudo; no password, no root login. Default `admin`. */
    readonly sshUser?: string;
    /** The client key pair to authorize. Default: one generated for the pool (`<name>-ssh-key`). */
    readonly sshKey?: SuppliedSshKey;
    /** Labels added to every host, beside `provider: proxmox`, `pool` and `zone` (the node). Default none. */
    readonly labels?: Record<string, string>;
    /** Proxmox tags added to every VM, beside `flotilla` and the pool name. Default none. */
    readonly tags?: string[];
    /**
     * Name of the private network the VMs' addresses belong to, as other pools name theirs
     * (cluster members on another network reach these at their public address). Default
     * `proxmox:<bridge>` or `proxmox:<bridge>.<vlan>`.
     */
    readonly network?: string;
    /** os-release `ID` of the image or template. Default `debian`. */
    readonly os?: string;
    /** os-release `VERSION_ID` of the image or template. Default `12`. */
    readonly osVersion?: string;
    /**
     * Install and start the QEMU guest agent through cloud-init (needs the distribution's package
     * mirror); false when the image or template already starts it. The VM's create waits until
     * the agent reports an address. Default true.
     */
    readonly installGuestAgent?: boolean;
    /** Seconds a VM may take from start until its guest agent reports an IPv4 address, 60 to 7200. Default 900. */
    readonly bootTimeoutSeconds?: number;
    /**
     * More cloud-init user data for every VM, e.g. `dockerEngineUserData(...)`: each part a
     * `#cloud-config` document (merged with the pool's own, lists appended) or a `#!` script. Part
     * of the VM's snippet: changing it replaces the VMs. Default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A pool of Proxmox VE virtual machines, spread round-robin over the given nodes: each VM
 * full-cloned from a template or booted from a downloaded cloud image (Debian 12 by default),
 * with its CPU, memory, disk, a bridge (and VLAN), a static address from a block or DHCP, and
 * cloud-init user data written as a snippet: the same first-boot document as the lab's and the
 * clouds' (login user with the pool's key, the Pulumi-generated SSH host key, no passwords), plus
 * the QEMU guest agent and the extra parts. Each VM's create waits until its guest agent reports
 * an address; later layers' scripts wait for cloud-init to finish.
 */
export class ProxmoxHostPool extends pulumi.ComponentResource {
    /** The machines, in index order. */
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
    /** Private addresses of the machines (static, or as the guest agent reports them), in index order. */
    public readonly privateAddresses: pulumi.Output<string[]>;
    /** Proxmox VM ids, in index order. */
    public readonly vmIds: pulumi.Output<number[]>;
    /** Private key authorized for {@link sshUser} on every machine. Secret. */
    public readonly sshPrivateKey: pulumi.Output<string>;
    /** Public key authorized for {@link sshUser} on every machine. */
    public readonly sshPublicKey: pulumi.Output<string>;
    /** SSH login user. */
    public readonly sshUser: string;
    /**
     * The whole cloud-init user data document of each VM, in index order, exactly as written to
     * its snippet (uncompressed). Secret: it holds the VM's SSH host private key.
     */
    public readonly userData: pulumi.Output<string>[];
    /** Name of the pool. */
    public readonly poolName: string;
    /** Proxmox node of each machine, in index order. */
    public readonly nodes: string[];
    /** Number of machines. */
    public readonly size: number;
    /** Static addresses in index order; undefined with DHCP. */
    public readonly staticAddresses: string[] | undefined;

    constructor(name: string, args: ProxmoxHostPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything plain before registering anything.
        const v: Validator = new Validator(PROXMOX_HOST_POOL_TYPE, name);
        v.args(args, PROXMOX_HOST_POOL_KEYS, "ProxmoxHostPoolArgs");
        for (const key of PROXMOX_HOST_POOL_KEYS) {
            if (key !== "userData" && key !== "sshKey") {
                v.plain(key, args[key], "it decides which VMs exist and is checked before any is created");
            }
        }
        const size = v.integer("size", args.size, 1, MAX_PROXMOX_POOL_SIZE);
        const poolName = args.poolName === undefined ? v.dnsLabel("name", name, 40) : v.dnsLabel("poolName", args.poolName, 40);

        if (args.nodes === undefined || (Array.isArray(args.nodes) && args.nodes.length === 0)) {
            v.fail("nodes", args.nodes, 'a list of at least one Proxmox node name, e.g. ["pve1"]');
        }
        const nodeList = v.list("nodes", args.nodes, 'a list of at least one Proxmox node name, e.g. ["pve1"]');
        const nodeNames = nodeList.map((n, i) => checkNodeName(v, `nodes[${i}]`, n));
        nodeNames.forEach((n, i) => {
            const first = nodeNames.indexOf(n);
            if (first !== i) v.fail(`nodes[${i}]`, n, `a node not listed before (nodes[${first}] is ${JSON.stringify(n)})`);
        });

        // Where the disk comes from: a template, or a downloaded cloud image.
        const templateVmId = args.templateVmId === undefined ? undefined : v.integer("templateVmId", args.templateVmId, 100, MAX_VM_ID);
        if (templateVmId === undefined && args.templateNode !== undefined) {
            v.fail("templateNode", args.templateNode, "no templateNode without templateVmId (the template's VM id)");
        }
        if (templateVmId !== undefined && args.imageUrl !== undefined) {
            v.fail("imageUrl", args.imageUrl, "no imageUrl with templateVmId (a VM is cloned from the template or booted from the image, not both)");
        }
        if (templateVmId !== undefined && args.imageChecksum !== undefined) {
            v.fail("imageChecksum", args.imageChecksum, "no imageChecksum with templateVmId (nothing is downloaded)");
        }
        const templateNode =
            templateVmId === undefined ? undefined : args.templateNode === undefined ? nodeNames[0] : checkNodeName(v, "templateNode", args.templateNode);
        const imageUrl = args.imageUrl ?? DEFAULT_PROXMOX_IMAGE_URL;
        if (typeof imageUrl !== "string" || !/^https?:\/\/[^\s/]+\/\S*$/.test(imageUrl)) {
            v.fail("imageUrl", imageUrl, 'an http(s) URL of a qcow2 cloud image, e.g. "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"');
        }
        const checksum = args.imageChecksum === undefined ? undefined : checkChecksum(v, args.imageChecksum);

        const imageDatastore = checkDatastore(v, "imageDatastore", args.imageDatastore ?? "local");
        const diskDatastore = checkDatastore(v, "diskDatastore", args.diskDatastore ?? "local-lvm");
        const snippetsDatastore = checkDatastore(v, "snippetsDatastore", args.snippetsDatastore ?? "local");
        const diskInterface = args.diskInterface ?? "scsi0";
        if (typeof diskInterface !== "string" || !/^(scsi([12]?[0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5])$/.test(diskInterface)) {
            v.fail("diskInterface", diskInterface, "a disk interface scsi0..scsi30, virtio0..virtio15 or sata0..sata5");
        }

        const cores = v.integer("cores", args.cores ?? 2, 1, 128);
        const cpuType = v.token("cpuType", args.cpuType ?? DEFAULT_PROXMOX_CPU_TYPE, 'a Proxmox CPU type such as "x86-64-v2-AES" or "host"');
        const memoryMb = v.integer("memoryMb", args.memoryMb ?? 2048, 512, 1048576);
        const diskSizeGb = v.integer("diskSizeGb", args.diskSizeGb ?? 20, 4, 65536);

        const bridge = args.bridge ?? DEFAULT_PROXMOX_BRIDGE;
        if (typeof bridge !== "string" || !BRIDGE.test(bridge)) {
            v.fail("bridge", bridge, "a Linux bridge name such as \"vmbr0\": a letter, then letters, digits, '_', '.' or '-', at most 15 characters");
        }
        const vlan = args.vlan === undefined ? undefined : v.integer("vlan", args.vlan, 1, 4094);
        const network =
            args.network === undefined
                ? `proxmox:${bridge}${vlan === undefined ? "" : `.${vlan}`}`
                : v.token("network", args.network, 'a network name without spaces, such as "site:berlin"');

        const addressing = checkAddressing(v, size, args);
        const dnsServers = v.list("dnsServers", args.dnsServers, 'a list of IPv4 addresses, e.g. ["192.168.10.1"]').map((s, i) => {
            if (typeof s !== "string" || parseIpv4(s) === undefined) v.fail(`dnsServers[${i}]`, s, 'an IPv4 address such as "192.168.10.1"');
            return s;
        });

        const firstVmId = args.firstVmId === undefined ? undefined : v.integer("firstVmId", args.firstVmId, 100, MAX_VM_ID - size + 1);

        const sshUser = args.sshUser ?? DEFAULT_PROXMOX_SSH_USER;
        if (typeof sshUser !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(sshUser) || sshUser === "root") {
            v.fail("sshUser", sshUser, "a Linux user name other than root ([a-z_][a-z0-9_-], at most 32)");
        }
        const suppliedKey = checkSuppliedKey(v, "sshKey", args.sshKey);
        const userLabels = v.labels("labels", args.labels);
        for (const reserved of ["provider", "pool", "zone"]) {
            if (hasOwn(userLabels, reserved)) {
                v.fail(`labels.${reserved}`, userLabels[reserved], `no "${reserved}" label: the pool sets it`);
            }
        }
        const userTags = v.list("tags", args.tags, 'a list of Proxmox tags, e.g. ["web"]').map((t, i) => {
            if (typeof t !== "string" || !TAG.test(t)) {
                v.fail(`tags[${i}]`, t, "a Proxmox tag: lower-case letters, digits, '_', '-', '+' and '.', starting with a letter, digit or '_', at most 64");
            }
            return t;
        });
        // Proxmox keeps tags sorted: give them sorted, or every refresh shows a difference.
        const tags = [...new Set(["flotilla", poolName, ...userTags])].sort();
        const os = v.token("os", args.os ?? "debian", 'an os-release ID such as "debian" or "ubuntu"');
        const osVersion = v.token("osVersion", args.osVersion ?? "12", 'an os-release VERSION_ID such as "12" or "24.04"');
        const installGuestAgent = v.boolean("installGuestAgent", args.installGuestAgent, true);
        const bootTimeout = v.integer("bootTimeoutSeconds", args.bootTimeoutSeconds ?? 900, 60, 7200);
        // Extra user data: plain parts are checked now, Outputs when they resolve (the images,
        // snippets and VMs wait for that check, so a bad part creates no VM).
        const extraParts = checkUserData(v, args.userData);

        // One program, one pool per name, and no address used by two pools.
        const owner = `${PROXMOX_HOST_POOL_TYPE} "${name}"`;
        const nameHolder = claimName("proxmox pool", poolName, owner);
        if (nameHolder !== undefined) {
            v.fail(args.poolName === undefined ? "name" : "poolName", poolName, `a pool name no other pool of this program uses (${nameHolder} does)`);
        }
        for (const address of addressing?.addresses ?? []) {
            const holder = claimName("proxmox address", address, owner);
            if (holder !== undefined) {
                v.fail("firstAddress", addressing?.first, `addresses no other pool of this program uses (${holder} has ${address})`);
            }
        }

        super(PROXMOX_HOST_POOL_TYPE, name, {}, opts);

        const machineNodes = Array.from({ length: size }, (_, i) => nodeNames[i % nodeNames.length]);
        this.size = size;
        this.poolName = poolName;
        this.sshUser = sshUser;
        this.nodes = machineNodes;
        this.staticAddresses = addressing?.addresses;

        const gated = <T>(value: T): pulumi.Output<T> => extraParts.apply(() => value) as pulumi.Output<T>;
        const keys = poolKeys(name, poolName, owner, this, suppliedKey);

        // The cloud image, once per node that runs a VM (a node's `local` storage is its own).
        const images = new Map<string, proxmox.download.File>();
        if (templateVmId === undefined) {
            for (const node of [...new Set(machineNodes)]) {
                images.set(
                    node,
                    new proxmox.download.File(
                        `${name}-image-${node}`,
                        {
                            nodeName: gated(node),
                            datastoreId: imageDatastore,
                            // "iso" (with an .img name) works on every Proxmox VE 8; "import" needs 8.4 and the content type enabled.
                            contentType: "iso",
                            // Named after the node too: on a datastore shared by the nodes, each download is its own file.
                            fileName: `flotilla-${poolName}-${node}.img`,
                            url: imageUrl,
                            ...(checksum ? { checksum: checksum.value, checksumAlgorithm: checksum.algorithm } : {}),
                            // Downloaded once: a newer `latest` upstream never replaces the running VMs' base.
                            overwrite: false,
                            uploadTimeout: 1800,
                        },
                        { parent: this },
                    ),
                );
            }
        }

        const agentPart = installGuestAgent ? [guestAgentUserData()] : [];
        const hosts: Host[] = [];
        const userData: pulumi.Output<string>[] = [];
        const vms: proxmox.VmLegacy[] = [];
        for (let i = 0; i < size; i++) {
            const machineName = `${poolName}-${i}`;
            const node = machineNodes[i];
            const hostKey = keys.hostKey(machineName);
            const document = machineUserData(
                sshUser,
                keys.publicKey,
                hostKey,
                extraParts.apply((extra) => [hostnameUserData(machineName), ...agentPart, ...extra]),
            );
            userData.push(document);
            // The snippet's name carries a digest of its content: new user data is a new file, so
            // the VM (which boots it only once) is replaced, and the old file is removed after.
            const digest = pulumi.unsecret(document.apply((d) => createHash("sha256").update(d).digest("hex").slice(0, 12)));
            const snippet = new proxmox.FileLegacy(
                `${name}-user-data-${i}`,
                {
                    nodeName: node,
                    datastoreId: snippetsDatastore,
                    contentType: "snippets",
                    sourceRaw: { data: document, fileName: pulumi.interpolate`flotilla-${machineName}-${digest}.yaml` },
                    // Never replace a file another stack wrote.
                    overwrite: false,
                },
                { parent: this, additionalSecretOutputs: ["sourceRaw"] },
            );
            const image = images.get(node);
            const address = addressing?.addresses[i];
            const vm = new proxmox.VmLegacy(
                `${name}-vm-${i}`,
                {
                    name: machineName,
                    nodeName: node,
                    ...(firstVmId !== undefined ? { vmId: firstVmId + i } : {}),
                    description: `flotilla: machine ${i} of pool ${poolName}`,
                    tags,
                    ...(templateVmId !== undefined
                        ? { clone: { vmId: templateVmId, nodeName: templateNode, full: true, datastoreId: diskDatastore, retries: 3 } }
                        : {}),
                    agent: {
                        enabled: true,
                        trim: true,
                        timeout: `${bootTimeout}s`,
                        waitForIp: { ipv4: true },
                    },
                    cpu: { cores, type: cpuType },
                    memory: { dedicated: memoryMb },
                    operatingSystem: { type: "l26" },
                    scsiHardware: "virtio-scsi-single",
                    // Cloud images log to a serial console.
                    serialDevices: [{ device: "socket" }],
                    disks: [
                        {
                            interface: diskInterface,
                            datastoreId: diskDatastore,
                            size: diskSizeGb,
                            discard: "on",
                            ...(image ? { fileId: image.id } : {}),
                            ...(diskInterface.startsWith("scsi") ? { iothread: true, ssd: true } : {}),
                        },
                    ],
                    networkDevices: [{ bridge, model: "virtio", ...(vlan !== undefined ? { vlanId: vlan } : {}) }],
                    initialization: {
                        datastoreId: diskDatastore,
                        ipConfigs: [
                            {
                                ipv4: address
                                    ? { address: `${address}/${addressing?.prefix}`, gateway: addressing?.gateway }
                                    : { address: "dhcp" },
                            },
                        ],
                        ...(dnsServers.length > 0 ? { dns: { servers: dnsServers } } : {}),
                        userDataFileId: snippet.id,
                    },
                    started: true,
                    onBoot: true,
                    // The VMs are cattle: stop them on destroy (a shutdown would wait on the guest).
                    stopOnDestroy: true,
                    timeoutStartVm: bootTimeout,
                },
                {
                    parent: this,
                    // cloud-init runs once: new user data or addresses make a new VM, as on every pool
                    // (only these two: a provider-computed field of `initialization` must never replace it).
                    replaceOnChanges: ["initialization.userDataFileId", "initialization.ipConfigs"],
                    // A fixed VM id can be taken again only once the old VM is gone.
                    ...(firstVmId !== undefined ? { deleteBeforeReplace: true } : {}),
                },
            );
            vms.push(vm);
            const mac = vm.networkDevices.apply((devices) => devices?.[0]?.macAddress);
            const privateAddress: pulumi.Output<string> =
                address !== undefined
                    ? vm.vmId.apply(() => address)
                    : pulumi
                          .all([vm.networkInterfaceNames, vm.macAddresses, vm.ipv4Addresses, mac, vm.vmId])
                          .apply(([names, macs, addresses, nicMac, vmId]) => {
                              const found = agentAddress(names ?? [], macs ?? [], addresses ?? [], nicMac);
                              if (found === undefined) {
                                  throw new Error(
                                      `${owner}: ${machineName} (VM ${vmId} on ${node}) reported no IPv4 address through the QEMU guest agent ` +
                                          `(interfaces: ${JSON.stringify(names ?? [])}; addresses: ${JSON.stringify(addresses ?? [])})`,
                                  );
                              }
                              return found;
                          });
            const labels: HostLabels = { ...userLabels, provider: "proxmox", pool: poolName, zone: node };
            hosts.push({
                name: machineName,
                // The VM id and its MAC address: a replaced VM differs in its MAC even when it keeps its id.
                instanceId: pulumi.all([vm.vmId, mac]).apply(([id, m]) => (m ? `${id}/${m.toLowerCase()}` : String(id))),
                privateAddress,
                network,
                connection: {
                    host: privateAddress,
                    port: 22,
                    user: sshUser,
                    privateKey: keys.privateKey,
                    hostKey: hostKey.publicKey,
                },
                platform: { os, osVersion, arch: "amd64" },
                packageAccess: "upstream",
                labels,
                ready: [vm],
            });
        }

        this.hosts = hosts;
        this.userData = userData;
        this.privateAddresses = pulumi.all(hosts.map((h) => h.privateAddress));
        this.vmIds = pulumi.all(vms.map((vm) => vm.vmId));
        this.sshPrivateKey = keys.privateKey;
        this.sshPublicKey = keys.publicKey;

        this.knownHosts = knownHostsText(this.hosts);
        this.sshConfig = sshConfigText(this.hosts, defaultSshConfigFiles(this.poolName));

        this.registerOutputs({
            privateAddresses: this.privateAddresses,
            vmIds: this.vmIds,
            sshPrivateKey: this.sshPrivateKey,
            sshPublicKey: this.sshPublicKey,
            sshUser: this.sshUser,
            poolName: this.poolName,
            nodes: this.nodes,
            size: this.size,
        });
    }
}

/** Properties of {@link ProxmoxHostPoolArgs}. */
const PROXMOX_HOST_POOL_KEYS = [
    "size", "nodes", "poolName", "templateVmId", "templateNode", "imageUrl", "imageChecksum", "imageDatastore",
    "diskDatastore", "snippetsDatastore", "diskInterface", "cores", "cpuType", "memoryMb", "diskSizeGb", "bridge",
    "vlan", "subnet", "gateway", "firstAddress", "dnsServers", "firstVmId", "sshUser", "sshKey", "labels", "tags",
    "network", "os", "osVersion", "installGuestAgent", "bootTimeoutSeconds", "userData",
] as const;

const MAX_VM_ID = 999999999;
const NODE = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
const DATASTORE = /^[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]$/;
const BRIDGE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const TAG = /^[a-z0-9_][a-z0-9_+.-]{0,63}$/;

function checkNodeName(v: Validator, property: string, value: unknown): string {
    if (typeof value !== "string" || !NODE.test(value)) {
        v.fail(property, value, "a Proxmox node name (its host name: letters, digits and '-', at most 63 characters)");
    }
    return value;
}

function checkDatastore(v: Validator, property: string, value: unknown): string {
    if (typeof value !== "string" || value.length > 100 || !DATASTORE.test(value)) {
        v.fail(property, value, 'a Proxmox storage id such as "local" or "local-lvm"');
    }
    return value;
}

function checkChecksum(v: Validator, value: unknown): { value: string; algorithm: "sha256" | "sha512" } {
    if (typeof value === "string" && /^[0-9a-f]{64}$/i.test(value)) return { value: value.toLowerCase(), algorithm: "sha256" };
    if (typeof value === "string" && /^[0-9a-f]{128}$/i.test(value)) return { value: value.toLowerCase(), algorithm: "sha512" };
    return v.fail("imageChecksum", value, "a sha256 (64 hex digits) or sha512 (128 hex digits) checksum");
}

/** Static addressing after validation. */
interface Addressing {
    readonly prefix: number;
    readonly gateway: string;
    readonly first: string;
    readonly addresses: string[];
}

/**
 * `subnet`, `gateway`, `firstAddress`: all three (static addresses `firstAddress + i`) or none
 * (DHCP). Returns the addresses, or undefined for DHCP.
 */
function checkAddressing(v: Validator, size: number, args: ProxmoxHostPoolArgs): Addressing | undefined {
    const { subnet: subnetText, gateway, firstAddress } = args;
    if (subnetText === undefined && gateway === undefined && firstAddress === undefined) return undefined;
    const all = "static addresses need subnet, gateway and firstAddress; leave all three out for DHCP";
    if (subnetText === undefined) {
        v.fail("subnet", subnetText, `the IPv4 block of the VMs' network, e.g. "192.168.10.0/24" (${all})`);
    }
    const subnet = parseCidr(subnetText);
    if (typeof subnet === "string") {
        v.fail("subnet", subnetText, `an IPv4 CIDR block such as "192.168.10.0/24" (${subnet})`);
    }
    if (subnet.prefix < 8 || subnet.prefix > 30) {
        v.fail("subnet", subnetText, "an IPv4 block of prefix /8 to /30");
    }
    const broadcast = subnet.network + subnet.size - 1;
    const inside = (property: string, text: unknown, what: string): number => {
        if (text === undefined) v.fail(property, text, `${what} in ${subnet.cidr} (${all})`);
        const n = typeof text === "string" ? parseIpv4(text) : undefined;
        if (n === undefined) v.fail(property, text, `${what} in ${subnet.cidr}: an IPv4 address such as "${formatIpv4(subnet.network + 1)}"`);
        if (n <= subnet.network || n >= broadcast) {
            v.fail(
                property,
                text,
                `${what} in ${subnet.cidr}: from ${formatIpv4(subnet.network + 1)} to ${formatIpv4(broadcast - 1)} (not its network or broadcast address)`,
            );
        }
        return n;
    };
    const gw = inside("gateway", gateway, "the gateway");
    const first = inside("firstAddress", firstAddress, "the address of the first VM");
    const room = broadcast - first;
    if (room < size) {
        v.fail(
            "size",
            size,
            `at most ${room} machines: the addresses from firstAddress ${firstAddress} to ${formatIpv4(broadcast - 1)} (before the broadcast address of ${subnet.cidr})`,
        );
    }
    const last = first + size - 1;
    if (gw >= first && gw <= last) {
        v.fail(
            "firstAddress",
            firstAddress,
            `a first address whose ${size} consecutive addresses (${firstAddress} to ${formatIpv4(last)}) leave out the gateway ${gateway}`,
        );
    }
    return {
        prefix: subnet.prefix,
        gateway: gateway as string,
        first: firstAddress as string,
        addresses: Array.from({ length: size }, (_, i) => formatIpv4(first + i)),
    };
}


/**
 * Installs and starts the QEMU guest agent (cloud images seldom have it; the VM's create waits for
 * it to report an address). Started only where its virtio port exists, so the same document also
 * boots on a machine without one (e.g. a lab machine).
 */
export function guestAgentUserData(): string {
    const config = {
        package_update: true,
        packages: ["qemu-guest-agent"],
        runcmd: ["if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then systemctl start qemu-guest-agent; fi"],
    };
    return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The address the guest agent reports for the VM's network device: the first IPv4 address of the
 * interface with the device's MAC address, else of the first interface that is not loopback or a
 * container bridge; never a loopback or link-local address. Undefined when there is none.
 */
export function agentAddress(names: string[], macs: string[], addresses: string[][], nicMac?: string): string | undefined {
    const usable = (list: string[] | undefined) => (list ?? []).find((a) => parseIpv4(a) !== undefined && !a.startsWith("127.") && !a.startsWith("169.254."));
    if (nicMac) {
        const i = macs.findIndex((m) => m.toLowerCase() === nicMac.toLowerCase());
        const found = i >= 0 ? usable(addresses[i]) : undefined;
        if (found) return found;
    }
    for (let i = 0; i < addresses.length; i++) {
        const name = names[i] ?? "";
        if (name === "lo" || /^(docker|br-|veth|cni|flannel|cali|vxlan|kube|tunl|virbr)/.test(name)) continue;
        const found = usable(addresses[i]);
        if (found) return found;
    }
    return undefined;
}
