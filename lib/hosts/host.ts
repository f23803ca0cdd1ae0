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
     * Undefined when the source cannot know it in advance; callers then accept the first key seen.
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

/**
 * The contract between `hosts/` and every other layer: one machine, reachable, booted, with no
 * assumption about what runs on it. Every source of machines produces `Host`s.
 */
export interface Host {
    /** Unique name of the machine within its pool, DNS-safe; also its hostname. */
    readonly name: string;
    /**
     * Identity of this incarnation of the machine (instance id, container id): it changes when the
     * machine is replaced, so whatever was installed on it is installed again.
     */
    readonly instanceId: pulumi.Output<string>;
    /** Address clients outside the cluster use (for lab machines: the same as the private one). */
    readonly publicAddress: pulumi.Output<string>;
    /** Address other cluster members use. */
    readonly privateAddress: pulumi.Output<string>;
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
