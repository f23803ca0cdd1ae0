/**
 * The contract between `hosts/` and every other layer, and what the runtime layer hands on.
 * Types and checks only: nothing here creates a resource.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * How to reach a host over SSH. Everything the runtime, cluster and workload layers need to run a
 * script on the machine; they never care where the machine came from.
 */
export interface SshConnection {
    /** Address to connect to (public address, or private address when a bastion is used). */
    readonly host: pulumi.Input<string>;
    /** SSH port. */
    readonly port: pulumi.Input<number>;
    /** Login user. Scripts escalate with `sudo -n` when it is not root. */
    readonly user: pulumi.Input<string>;
    /** OpenSSH private key of `user`. Always a secret. */
    readonly privateKey: pulumi.Input<string>;
    /**
     * The host's public SSH host key (`ssh-ed25519 AAAA...`), for strict host key checking.
     * Undefined when the source cannot know it in advance; `RemoteScript` then records the first key
     * seen and refuses any other on every later phase (trust on first use).
     */
    readonly hostKey?: pulumi.Input<string>;
    /** A jump host to go through, reached with its own credentials. */
    readonly bastion?: Omit<SshConnection, "bastion">;
}

/**
 * Labels every host carries; the cluster layer turns them into node labels.
 * `provider` and `pool` are always set; `region` and `zone` when the source has them.
 */
export interface HostLabels {
    /** Where the machine comes from: `lab`, `aws`, `azure`, `proxmox`, `existing`. */
    readonly provider: string;
    /** The pool (component) the machine belongs to. */
    readonly pool: string;
    /** Region, e.g. `eu-west-1`. */
    readonly region?: pulumi.Input<string>;
    /** Zone or failure domain, e.g. `eu-west-1a`. */
    readonly zone?: pulumi.Input<string>;
    /** User labels. */
    readonly [key: string]: pulumi.Input<string> | undefined;
}

/** Processor architectures flotilla supports, as Debian and Go name them. */
export const HOST_ARCHITECTURES = ["amd64", "arm64"] as const satisfies readonly HostArchitecture[];
/** A processor architecture. */
export type HostArchitecture = "amd64" | "arm64";

/** The operating system and architecture of a machine: known from its image, or probed. */
export interface HostPlatform {
    /** os-release `ID`, e.g. `debian`, `ubuntu`. */
    readonly os: string;
    /** os-release `VERSION_ID`, e.g. `12`, `24.04`. */
    readonly osVersion: string;
    /** Architecture. */
    readonly arch: HostArchitecture;
}

/**
 * Which package repositories a machine reaches, so later layers choose their default source:
 * - `upstream`: vendors' repositories on the internet (download.docker.com, pkgs.k8s.io);
 * - `distribution`: only its distribution's mirror (the lab; air-gapped sites with a mirror).
 */
export type PackageAccess = "upstream" | "distribution";

/**
 * One machine, reachable, booted, with no assumption about what runs on it. Every source of
 * machines produces `Host`s.
 */
export interface Host {
    /** Unique name of the machine within its pool, DNS-safe; also its hostname. */
    readonly name: string;
    /**
     * Identity of this incarnation of the machine (instance id, container id): it changes when the
     * machine is replaced, so whatever was installed on it is installed again.
     */
    readonly instanceId: pulumi.Output<string>;
    /**
     * Address clients outside the machine's private network use; undefined for a machine with
     * only a private address (reached through a bastion).
     */
    readonly publicAddress?: pulumi.Output<string>;
    /** Address machines on the same private network use. */
    readonly privateAddress: pulumi.Output<string>;
    /**
     * The private network `privateAddress` belongs to (e.g. `lab:<network>`, `aws:<vpc>`): members
     * of a cluster on the same network reach each other at their private addresses; a member on
     * another network is reached at its public address. Undefined: a flat network, the private
     * address is reachable from every member.
     */
    readonly network?: pulumi.Input<string>;
    /** Operating system and architecture. */
    readonly platform: pulumi.Input<HostPlatform>;
    /** Which package repositories the machine reaches. */
    readonly packageAccess: PackageAccess;
    /** SSH access. */
    readonly connection: SshConnection;
    /** Labels: provider, pool, region, zone and user labels. */
    readonly labels: HostLabels;
    /**
     * Resources to depend on before touching the machine: when they are created, the machine has
     * booted, cloud-init has finished and SSH answers.
     */
    readonly ready: pulumi.Resource[];
}

/** Container runtimes the runtime layer installs. */
export type RuntimeKind = "docker" | "containerd";
/** cgroup drivers a runtime (and a kubelet) use. */
export type CgroupDriver = "systemd" | "cgroupfs";

/** What the runtime layer installed on a host, for the cluster layer. */
export interface RuntimeInfo {
    /** The runtime installed. */
    readonly kind: RuntimeKind;
    /**
     * The CRI endpoint a kubelet uses (`unix:///run/containerd/containerd.sock`); undefined when
     * the runtime serves no CRI (Docker Engine: Kubernetes needs containerd).
     */
    readonly criSocket?: string;
    /** The cgroup driver the runtime uses, as it reports it. */
    readonly cgroupDriver: pulumi.Input<CgroupDriver>;
    /** Docker's `live-restore` (false for containerd). */
    readonly liveRestore: boolean;
    /** Installed for Docker Swarm (Docker with live-restore off). */
    readonly swarmReady: boolean;
}

/** A host with a container runtime installed: `ready` means "runtime installed and running". */
export interface RuntimeHost extends Host {
    /** What the runtime layer installed on it. */
    readonly runtime: RuntimeInfo;
}

/** True for an object shaped like a {@link Host} (what a construct checks before using one). */
export function isHost(value: unknown): value is Host {
    const h = value as Partial<Host> | null;
    return (
        typeof h === "object" &&
        h !== null &&
        typeof h.name === "string" &&
        typeof h.connection === "object" &&
        h.connection !== null &&
        h.privateAddress !== undefined &&
        h.instanceId !== undefined &&
        Array.isArray(h.ready)
    );
}

/** True for a {@link RuntimeHost}. */
export function isRuntimeHost(value: unknown): value is RuntimeHost {
    return isHost(value) && typeof (value as RuntimeHost).runtime === "object" && (value as RuntimeHost).runtime !== null;
}

/** The Debian architecture of the machine running this program (for local machines, e.g. the lab). */
export function localArchitecture(): HostArchitecture {
    return process.arch === "arm64" ? "arm64" : "amd64";
}

/** A member of a cluster as the address choice sees it: every value resolved. */
export interface ResolvedMember {
    readonly name: string;
    readonly privateAddress: string;
    readonly publicAddress?: string;
    readonly network?: string;
}

/**
 * The address other members reach `member` at: its private address when every member shares its
 * private network (or the network is flat), else its public address. Returns the address, or why
 * there is none (a member on another network without a public address).
 */
export function advertisedAddress(member: ResolvedMember, members: readonly ResolvedMember[]): string | { reason: string } {
    const shared = members.every((m) => m.network === undefined || member.network === undefined || m.network === member.network);
    if (shared) return member.privateAddress;
    if (member.publicAddress) return member.publicAddress;
    const others = [...new Set(members.filter((m) => m.network !== member.network).map((m) => m.network))];
    return {
        reason:
            `${member.name} is on network ${member.network} while other members are on ${others.join(", ")}, ` +
            "and it has no public address for them to reach it at",
    };
}
