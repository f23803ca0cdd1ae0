/**
 * Virtual machines on a Proxmox VE cluster (the data center's hypervisor) as `Host`s. Behind its
 * own subpath export, `flotilla/proxmox`: `@muhlba91/pulumi-proxmoxve` is an optional peer
 * dependency, and the root of the library never imports this folder.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import { Host, HostLabels } from "../../core/host";
import { IHostPool } from "../../core/host-pool";
import { parseIpv4 } from "../../core/ipv4";
import { Validator, hasOwn } from "../../core/validate";
import { claimName } from "../../core/claims";
import { checkUserData, hostnameUserData } from "../common/user-data";
import { checkSuppliedKey, machineUserData, poolKeys } from "../common/cloud-common";
import { renamed } from "../common/renamed";
import { poolOutputs } from "../common/pool-outputs";
import {
    BRIDGE,
    MAX_VM_ID,
    PROXMOX_HOST_POOL_KEYS,
    agentAddress,
    checkAddressing,
    checkChecksum,
    checkDatastore,
    checkNodeName,
    checkProxmoxTags,
    guestAgentUserData,
} from "./proxmox-checks";
import {
    DEFAULT_PROXMOX_BRIDGE,
    DEFAULT_PROXMOX_CPU_TYPE,
    DEFAULT_PROXMOX_IMAGE_URL,
    DEFAULT_PROXMOX_SSH_USER,
    MAX_PROXMOX_POOL_SIZE,
    PROXMOX_HOST_POOL_TYPE,
    ProxmoxHostPoolArgs,
} from "./proxmox-host-pool-args";

/**
 * A pool of Proxmox VE virtual machines, spread round-robin over the given nodes: each VM
 * full-cloned from a template or booted from a downloaded cloud image (Debian 12 by default),
 * with its CPU, memory, disk, a bridge (and VLAN), a static address from a block or DHCP, and
 * cloud-init user data written as a snippet: the same first-boot document as the lab's and the
 * clouds' (login user with the pool's key, the Pulumi-generated SSH host key, no passwords), plus
 * the QEMU guest agent and the extra parts. Each VM's create waits until its guest agent reports
 * an address; later layers' scripts wait for cloud-init to finish.
 */
export class ProxmoxHostPool extends pulumi.ComponentResource implements IHostPool {
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
    /** Always empty: the VMs have only their (private) addresses on the bridge. */
    public readonly publicAddresses: pulumi.Output<string[]>;
    /** The machines' SSH host keys, in index order (derived from the pool's seed, set at first boot). */
    public readonly hostKeys: pulumi.Output<string[]>;
    /** The labels every machine carries: `provider: proxmox`, `pool` and yours (each machine also has its node as `zone`). */
    public readonly labels: Readonly<Record<string, string>>;
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
        const memory = renamed<number>(v, args, "memoryMiB", "memoryMb");
        const memoryMiB = v.integer(memory.property, memory.value ?? 2048, 512, 1048576);
        const disk = renamed<number>(v, args, "diskGiB", "diskSizeGb");
        const diskGiB = v.integer(disk.property, disk.value ?? 20, 4, 65536);

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
        const tags = checkProxmoxTags(v, args.tags, poolName);
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
        this.labels = { ...userLabels, provider: "proxmox", pool: poolName };
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
                    memory: { dedicated: memoryMiB },
                    operatingSystem: { type: "l26" },
                    scsiHardware: "virtio-scsi-single",
                    // Cloud images log to a serial console.
                    serialDevices: [{ device: "socket" }],
                    disks: [
                        {
                            interface: diskInterface,
                            datastoreId: diskDatastore,
                            size: diskGiB,
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
        ({ privateAddresses: this.privateAddresses, publicAddresses: this.publicAddresses, hostKeys: this.hostKeys, knownHosts: this.knownHosts, sshConfig: this.sshConfig } =
            poolOutputs(hosts, poolName));
        this.vmIds = pulumi.all(vms.map((vm) => vm.vmId));
        this.sshPrivateKey = keys.privateKey;
        this.sshPublicKey = keys.publicKey;

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
