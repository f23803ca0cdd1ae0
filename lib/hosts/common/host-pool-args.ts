/**
 * One vocabulary for every host pool's Args: the same setting has the same name, type and unit in
 * every pool that has it (`diskGiB`, `memoryMiB`: units in names; `tags` a record; `sshUser` and
 * `sshKey` at the pool). Each pool's Args extend the bases that fit it; a pool may restate a field
 * to give its own bounds and default. Old names still read, as deprecated aliases (`renamed.ts`).
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterPort } from "../../core/cluster";
import type { ClusterKind } from "./cluster-ports";
import type { SuppliedSshKey } from "./cloud-common";

/** What every pool's Args have: `ExistingHosts`, `LabHostPool`, `AwsHostPool`, `AzureHostPool`, `ProxmoxHostPool`. */
export interface HostPoolArgs {
    /**
     * Name of the pool: label `pool` of every host, and the prefix of the names of the machines (and
     * other resources) a pool makes. DNS-safe, at most 40 characters, one pool per name in a program.
     * @default the resource name
     */
    readonly poolName?: string;
    /**
     * Labels added to every host, beside those the pool sets (`provider`, `pool`, and `region`,
     * `zone` where the pool has them). The cluster layer makes them node labels.
     * @default none
     */
    readonly labels?: Record<string, string>;
}

/** What every pool that makes its machines has: `LabHostPool`, `AwsHostPool`, `AzureHostPool`, `ProxmoxHostPool`. */
export interface MachinePoolArgs extends HostPoolArgs {
    /** Number of machines. Plain: it decides which resources exist. */
    readonly size: number;
    /**
     * Login user cloud-init creates with the pool's key and password-less sudo (no password, no
     * root login).
     * @default the pool's (`admin` on Debian images)
     */
    readonly sshUser?: string;
    /**
     * The one way to give a pool its login key: an unencrypted key pair, the private half kept secret,
     * both halves checked for their shape and for being one pair (values may be Outputs).
     * @default one the pool generates (`<name>-ssh-key`), given back as `sshPrivateKey`
     */
    readonly sshKey?: SuppliedSshKey;
    /**
     * More cloud-init user data for every machine, after the pool's own part: each part a
     * `#cloud-config` document or a `#!` script. Changing it replaces the machines.
     * @default none
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
}

/** What the pools of virtual machines have: `AwsHostPool`, `AzureHostPool`, `ProxmoxHostPool`. */
export interface VmPoolArgs extends MachinePoolArgs {
    /** Size of each machine's boot disk, in GiB (GiB = 2^30 bytes). @default the pool's */
    readonly diskGiB?: number;
    /** Tags on the pool's resources, beside those the pool sets. @default none */
    readonly tags?: Record<string, string>;
}

/**
 * The access lists of a pool with a firewall of its own (`AwsHostPool`, `AzureHostPool`): who
 * reaches SSH, which ports the cluster's members reach on each other, which ports apps publish.
 */
export interface PoolAccessArgs {
    /**
     * Where administrators (and the machine running Pulumi, which runs scripts over SSH) connect
     * from: SSH is open from these CIDR blocks only. Required, at least one; the whole internet only
     * with `allowWorldSsh: true`.
     */
    readonly adminCidrs: string[];
    /** Accept a world-open block in `adminCidrs`. @default false */
    readonly allowWorldSsh?: boolean;
    /**
     * The ports the cluster's members reach on each other, opened between the pool's machines only
     * (and from `clusterPeerCidrs`): a cluster's `ports`, `SWARM_PORTS`, `KUBERNETES_PORTS`, or
     * several concatenated. Plain. The names `"swarm"` and `"kubernetes"` are deprecated shorthands
     * for those two lists; any other name is refused.
     * @default Swarm's and Kubernetes' ports
     */
    readonly clusterPorts?: readonly (ClusterPort | ClusterKind)[];
    /**
     * Blocks outside the pool whose machines are members of the same cluster (another pool's or a
     * site's public addresses, e.g. `["198.51.100.7/32"]`): `clusterPorts` are open from them too.
     * Never world-open.
     * @default none
     */
    readonly clusterPeerCidrs?: string[];
    /** TCP ports the apps publish, open from `appCidrs` (never an admin or cluster port). @default none */
    readonly appPorts?: number[];
    /** Where `appPorts` are open from, e.g. `["0.0.0.0/0"]` (required with `appPorts`). @default none */
    readonly appCidrs?: string[];
}
