import * as pulumi from "@pulumi/pulumi";
import { Host, HostLabels, localArchitecture } from "../../core/host";
import { IHostPool } from "../../core/host-pool";
import { multipartUserData } from "../../shared/cloud-init";
import { checkUserData, derivedHostKey, gzipBase64, hostUserData } from "../common/user-data";
import { SuppliedSshKey, checkSuppliedKey } from "../common/cloud-common";
import { MachinePoolArgs } from "../common/host-pool-args";
import { poolOutputs } from "../common/pool-outputs";
import { gatewayAddress, hostAddress, isPrivate, parseCidr, usableHostCount } from "../../core/ipv4";
import { LocalScript } from "../../shared/local-script";
import { bundledScript } from "../../shared/scripts";
import { SshKeyPair } from "../../shared/ssh-key-pair";
import { Validator, hasOwn } from "../../core/validate";
import { claimBlock, claimName } from "../../core/claims";
import { IMAGE_EXPECTED, parseImageReference } from "../../core/image-ref";

/** Type token of {@link LabHostPool}. */
export const LAB_HOST_POOL_TYPE = "flotilla:hosts:LabHostPool";

/** Default address block of a lab pool's bridge network. */
export const DEFAULT_LAB_SUBNET = "10.213.0.0/24";
/** Default image: the Debian 12 machine image `lib/hosts/scripts/lab-image.sh` builds (on first use, or `npx flotilla-lab-image`). */
export const DEFAULT_LAB_IMAGE = "flotilla-lab:debian12";
/** Default SSH login user (as on Debian's cloud images for AWS). */
export const DEFAULT_LAB_SSH_USER = "admin";
/** Largest pool: one bridge network, and a laptop's worth of systemd containers. */
export const MAX_LAB_POOL_SIZE = 64;

/** Arguments of {@link LabHostPool}. */
export interface LabHostPoolArgs extends MachinePoolArgs {
    /**
     * Number of machines, 1 to 64. Plain (not an Output): it decides how many machines exist and is
     * validated before anything is created.
     */
    readonly size: number;
    /**
     * Name of the pool: prefix of machine names (`<pool>-0`, `<pool>-1`, ...), of the network
     * (`<pool>-net`) and of the volumes, all on the local Docker engine. DNS-safe, at most 40
     * characters, unique on the engine.
     * @default the resource name.
     */
    readonly poolName?: string;
    /**
     * Private IPv4 block (RFC 1918) of the pool's bridge network, e.g. `10.213.0.0/24`. The first
     * host address is the gateway; machine `i` gets the `(i + 2)`-th address. Must not overlap
     * another Docker network.
     * @default `10.213.0.0/24`.
     */
    readonly subnet?: string;
    /**
     * Machine image on the local Docker engine.
     * @default `flotilla-lab:debian12`, which the pool
     * builds on first use when it is missing (debootstrap of Debian 12: needs root or
     * password-less sudo, about a minute, cached in `$FLOTILLA_CACHE_DIR`); `npx
     * flotilla-lab-image` builds it ahead. Any other image must already exist.
     */
    readonly image?: string;
    /**
     * Login user cloud-init creates, with the pool's key authorized and password-less sudo
     * (root login is disabled, as on cloud images).
     * @default `admin`.
     */
    readonly sshUser?: string;
    /**
     * The login key pair to authorize (`privateKey` kept secret; both halves checked, as every
     * pool's).
     * @default one the pool generates (`<name>-ssh-key`).
     */
    readonly sshKey?: SuppliedSshKey;
    /**
     * Labels added to every host, beside `provider: lab` and `pool`.
     * @default none.
     */
    readonly labels?: Record<string, string>;
    /**
     * Seconds a machine may take from start to "booted, cloud-init done, SSH answering" before the
     * create fails with its logs.
     * @default 300.
     */
    readonly bootTimeoutSeconds?: number;
    /**
     * More cloud-init user data for every machine, exactly what a cloud VM would be given: each
     * part a `#cloud-config` document (merged with the pool's own, lists appended) or a `#!` script
     * (run once at first boot). The create waits until cloud-init has run them all and fails with
     * their output if one fails. Changing it replaces the machines.
     * @default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * The machines will run a kubelet (a kubeadm `KubernetesCluster`): they get the kernel log
     * device (`--device /dev/kmsg`, which the kubelet's OOM watcher reads; read-only use, the
     * host's kernel settings are never changed). Changing it replaces the machines.
     * @default false.
     */
    readonly kubernetes?: boolean;
}

/**
 * A pool of lab machines on the local Docker engine: each one a Debian 12 systemd container with
 * sshd and cloud-init, a fixed address on the pool's private bridge network and its own volumes for
 * `/var/lib/docker` and `/var/lib/containerd`. Like a fresh cloud VM it has no container runtime;
 * it is configured through cloud-init's NoCloud datasource exactly as a cloud VM is through its
 * user data. Deleting the pool removes the machines, their volumes and the network.
 */
export class LabHostPool extends pulumi.ComponentResource implements IHostPool {
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
    /** Private addresses of the machines, in index order. */
    public readonly privateAddresses: pulumi.Output<string[]>;
    /** The machines' addresses again, in index order: a lab machine's only address is also its public one. */
    public readonly publicAddresses: pulumi.Output<string[]>;
    /** The machines' SSH host keys, in index order (derived from the pool's seed, set at first boot). */
    public readonly hostKeys: pulumi.Output<string[]>;
    /** The labels every machine carries: `provider: lab`, `pool` and yours. */
    public readonly labels: Readonly<Record<string, string>>;
    /** Private key authorized for {@link sshUser} on every machine. Secret. */
    public readonly sshPrivateKey: pulumi.Output<string>;
    /** Public key authorized for {@link sshUser} on every machine. */
    public readonly sshPublicKey: pulumi.Output<string>;
    /** SSH login user. */
    public readonly sshUser: string;
    /** Name of the pool. */
    public readonly poolName: string;
    /** Docker network of the pool. */
    public readonly networkName: string;
    /** Address block of the pool's network. */
    public readonly subnet: string;
    /** Machine image. */
    public readonly image: string;
    /** Number of machines. */
    public readonly size: number;

    constructor(name: string, args: LabHostPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything plain before registering anything.
        const v: Validator = new Validator(LAB_HOST_POOL_TYPE, name);
        v.args(args, LAB_HOST_POOL_KEYS, "LabHostPoolArgs");
        for (const key of ["size", "poolName", "subnet", "image", "sshUser", "labels", "bootTimeoutSeconds", "kubernetes"] as const) {
            v.plain(key, args[key], "it decides which machines exist and is checked before any is created");
        }
        const size = v.integer("size", args.size, 1, MAX_LAB_POOL_SIZE);
        const poolName =
            args.poolName === undefined ? v.dnsLabel("name", name, 40) : v.dnsLabel("poolName", args.poolName, 40);
        const subnetText = args.subnet ?? DEFAULT_LAB_SUBNET;
        const subnet = parseCidr(subnetText);
        if (typeof subnet === "string") {
            v.fail("subnet", subnetText, `a private IPv4 CIDR block such as "10.213.0.0/24" (${subnet})`);
        }
        if (!isPrivate(subnet) || subnet.prefix > 29) {
            v.fail("subnet", subnetText, "a private (RFC 1918) IPv4 block of prefix /8 to /29");
        }
        if (usableHostCount(subnet) < size) {
            v.fail(
                "subnet",
                subnetText,
                `a block with room for ${size} machines besides network, gateway and broadcast ` +
                    `(it has room for ${usableHostCount(subnet)})`,
            );
        }
        const image = args.image ?? DEFAULT_LAB_IMAGE;
        const imageRef = parseImageReference(image);
        if (typeof imageRef === "string") {
            v.fail("image", image, `${IMAGE_EXPECTED} of an image on the local Docker engine (${imageRef})`);
        }
        const sshUser = args.sshUser ?? DEFAULT_LAB_SSH_USER;
        if (typeof sshUser !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(sshUser) || sshUser === "root") {
            v.fail("sshUser", sshUser, "a Linux user name other than root ([a-z_][a-z0-9_-], at most 32)");
        }
        const userLabels = v.labels("labels", args.labels);
        for (const reserved of ["provider", "pool"]) {
            if (hasOwn(userLabels, reserved)) {
                v.fail(`labels.${reserved}`, userLabels[reserved], `no "${reserved}" label: the pool sets it`);
            }
        }
        const suppliedKey = checkSuppliedKey(v, "sshKey", args.sshKey);
        const bootTimeout = v.integer("bootTimeoutSeconds", args.bootTimeoutSeconds ?? 300, 30, 3600);
        const kubernetes = v.boolean("kubernetes", args.kubernetes, false);
        // Extra user data: plain parts are checked now; parts that are Outputs when they resolve,
        // and every child waits for that check, so a bad part creates nothing.
        const extraParts = checkUserData(v, args.userData);
        // One program, one pool per name and per address block (the Docker engine would refuse the
        // second one midway, after the first pool's machines exist).
        const owner = `${LAB_HOST_POOL_TYPE} "${name}"`;
        const nameHolder = claimName("lab pool", poolName, owner);
        if (nameHolder !== undefined) {
            v.fail(args.poolName === undefined ? "name" : "poolName", poolName, `a pool name no other pool of this program uses (${nameHolder} does)`);
        }
        const blockHolder = claimBlock(subnet, owner);
        if (blockHolder !== undefined) {
            v.fail("subnet", subnet.cidr, `a block that overlaps no other pool's (${blockHolder.owner} has ${blockHolder.block.cidr})`);
        }

        super(LAB_HOST_POOL_TYPE, name, {}, opts);

        this.size = size;
        this.poolName = poolName;
        this.subnet = subnet.cidr;
        this.image = image;
        this.sshUser = sshUser;
        this.networkName = `${poolName}-net`;
        this.labels = { ...userLabels, provider: "lab", pool: poolName };

        // Every child waits until the Output parts of userData passed their check.
        const gated = <T>(value: T): pulumi.Output<T> => extraParts.apply(() => value) as pulumi.Output<T>;
        // The login key: the one supplied, else one generated for the pool.
        const clientKey = suppliedKey ?? new SshKeyPair(`${name}-ssh-key`, { comment: gated(`flotilla@${poolName}`) }, { parent: this });
        const privateKey = pulumi.secret(clientKey.privateKey);
        // One secret for the pool from which every machine's SSH host key is derived (a key
        // resource per machine would cost its bytes in the state for each machine).
        const hostKeySeed = new SshKeyPair(`${name}-host-key-seed`, { comment: gated(`host-keys@${poolName}`) }, { parent: this });

        const network = new LocalScript(
            `${name}-network`,
            {
                script: bundledScript("hosts", "lab-network.sh"),
                target: `lab network ${this.networkName} (${subnet.cidr})`,
                environment: {
                    NETWORK_NAME: gated(this.networkName),
                    NETWORK_SUBNET: subnet.cidr,
                    NETWORK_GATEWAY: gatewayAddress(subnet),
                    NETWORK_POOL: poolName,
                },
                timeoutSeconds: 120,
            },
            { parent: this },
        );
        // The machine image: the default one is built on first use (lib/hosts/scripts/lab-image.sh).
        const imageReady = new LocalScript(
            `${name}-image`,
            {
                script: bundledScript("hosts", "lab-image-ensure.sh"),
                target: `lab image ${image}`,
                environment: { MACHINE_IMAGE: gated(image), LAB_IMAGE_DEFAULT: image === DEFAULT_LAB_IMAGE ? "1" : "0" },
                timeoutSeconds: 1800,
            },
            { parent: this },
        );

        const machineScript = bundledScript("hosts", "lab-machine.sh");
        const hosts: Host[] = [];
        for (let i = 0; i < size; i++) {
            const machineName = `${poolName}-${i}`;
            const address = hostAddress(subnet, i);
            // The machine's SSH host key, derived from the pool's host-key seed and its name.
            const hostKey = derivedHostKey(hostKeySeed.privateKey, machineName, `${LAB_HOST_POOL_TYPE} "${name}"`);
            const hostPublicKey = hostKey.publicKey;
            const userData = pulumi
                .all([clientKey.publicKey, hostKey.privateKey, hostPublicKey, extraParts])
                .apply(([authorized, hostPrivate, hostPublic, extra]) =>
                    gzipBase64(
                        multipartUserData([
                            hostUserData({ user: sshUser, authorizedKey: authorized, hostPrivate, hostPublic }),
                            ...extra,
                        ]),
                    ),
                );
            const machine = new LocalScript(
                `${name}-machine-${i}`,
                {
                    script: machineScript,
                    target: `lab machine ${machineName} (${address})`,
                    environment: {
                        MACHINE_NAME: machineName,
                        MACHINE_POOL: poolName,
                        MACHINE_NETWORK: this.networkName,
                        MACHINE_ADDRESS: address,
                        MACHINE_IMAGE: image,
                        MACHINE_BOOT_TIMEOUT: String(bootTimeout),
                        MACHINE_META_DATA: labMetaData(machineName),
                        // Only when asked: the machines of other pools keep their environment.
                        ...(kubernetes ? { MACHINE_KUBERNETES: "1" } : {}),
                    },
                    // Only the first boot needs it: the outputs keep its hash (half the bytes).
                    createOnlySecretEnvironment: { MACHINE_USER_DATA_GZ: pulumi.secret(userData) },
                    timeoutSeconds: bootTimeout + 120,
                },
                { parent: this, dependsOn: [network, imageReady] },
            );
            const labels: HostLabels = { ...userLabels, provider: "lab", pool: poolName };
            hosts.push({
                name: machineName,
                instanceId: machine.result,
                publicAddress: machine.result.apply(() => address),
                privateAddress: machine.result.apply(() => address),
                connection: {
                    host: address,
                    port: 22,
                    user: sshUser,
                    privateKey,
                    hostKey: hostPublicKey,
                },
                network: `lab:${this.networkName}`,
                platform: { os: "debian", osVersion: "12", arch: localArchitecture() },
                packageAccess: "distribution",
                labels,
                ready: [machine],
            });
        }

        this.hosts = hosts;
        ({ privateAddresses: this.privateAddresses, publicAddresses: this.publicAddresses, hostKeys: this.hostKeys, knownHosts: this.knownHosts, sshConfig: this.sshConfig } =
            poolOutputs(hosts, poolName));
        this.sshPrivateKey = privateKey;
        this.sshPublicKey = pulumi.output(clientKey.publicKey);

        this.registerOutputs({
            privateAddresses: this.privateAddresses,
            sshPrivateKey: this.sshPrivateKey,
            sshPublicKey: this.sshPublicKey,
            sshUser: this.sshUser,
            poolName: this.poolName,
            networkName: this.networkName,
            subnet: this.subnet,
            image: this.image,
            size: this.size,
        });
    }
}

/** Properties of {@link LabHostPoolArgs}. */
const LAB_HOST_POOL_KEYS = ["size", "poolName", "subnet", "image", "sshUser", "sshKey", "labels", "bootTimeoutSeconds", "userData", "kubernetes"];

/** NoCloud meta data of a lab machine. */
export function labMetaData(machineName: string): string {
    return `instance-id: ${machineName}\nlocal-hostname: ${machineName}\n`;
}
