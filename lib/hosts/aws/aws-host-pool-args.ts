/**
 * The Args of {@link AwsHostPool} and the constants they refer to: what a user of `flotilla/aws`
 * reads, apart from the construct itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterPort } from "../../core/cluster";
import { HostArchitecture } from "../../core/host";
import type { SuppliedSshKey } from "../common/cloud-common";
import type { ClusterKind } from "../common/cluster-ports";
import { PoolAccessArgs, VmPoolArgs } from "../common/host-pool-args";

/** Type token of {@link AwsHostPool}. */
export const AWS_HOST_POOL_TYPE = "flotilla:hosts:AwsHostPool";
/** Largest pool. */
export const MAX_AWS_POOL_SIZE = 100;
/** Default instance type. */
export const DEFAULT_AWS_INSTANCE_TYPE = "t3.small";
/** Default address block of the VPC a pool makes when it is given none. */
export const DEFAULT_AWS_VPC_CIDR = "10.60.0.0/16";
/** Default size of each machine's root volume, GiB. */
export const DEFAULT_AWS_ROOT_VOLUME_GIB = 20;
/** EC2's limit on user data, in bytes, before base64 (the pool sends it gzip'd). */
export const EC2_USER_DATA_LIMIT = 16384;

/** An image a pool looks up by name: Debian 12 or Ubuntu 24.04, the distribution's own AMIs. */
export type AwsImage = "debian-12" | "ubuntu-24.04";

/** The images a pool looks up by name: the distribution's own account and name pattern. */
export const AWS_IMAGES = {
    "debian-12": {
        owner: "136693071363",
        name: (arch: HostArchitecture) => `debian-12-${arch}-*`,
        platform: { os: "debian", osVersion: "12" },
        sshUser: "admin",
    },
    "ubuntu-24.04": {
        owner: "099720109477",
        name: (arch: HostArchitecture) => `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch}-server-*`,
        platform: { os: "ubuntu", osVersion: "24.04" },
        sshUser: "ubuntu",
    },
} as const satisfies Record<AwsImage, unknown>;

/** Arguments of {@link AwsHostPool}. Everything plain unless typed `pulumi.Input`. */
export interface AwsHostPoolArgs extends VmPoolArgs, PoolAccessArgs {
    /** Number of machines, 1 to 100. Plain: it decides which resources exist. */
    readonly size: number;
    /**
     * Name of the pool: prefix of machine names (`<pool>-0`, `<pool>-1`, ...), their hostnames and
     * the `Name` tags; value of the `flotilla:pool` tag on every resource. DNS-safe, at most 40
     * characters, unique in the program.
     * @default the resource name.
     */
    readonly poolName?: string;
    /**
     * Region, e.g. `eu-west-1`. Given: every resource and the image lookup carry it (AWS provider
     * 7's per-resource `region`, so the caller's provider, credentials and default tags still
     * apply).
     * @default the provider's region from config `aws:region` (or `AWS_REGION` /
     * `AWS_DEFAULT_REGION`); it must be known to validate `zones` and label the hosts.
     */
    readonly region?: string;
    /**
     * Availability zones of the pool's own VPC, e.g. `["eu-west-1a", "eu-west-1b"]`: one subnet
     * per zone, machine `i` in zone `i mod n`. Each must be `<region><letter>`. Not with
     * `subnetIds` (the subnets decide).
     * @default one subnet in a zone AWS chooses.
     */
    readonly zones?: string[];
    /**
     * An existing VPC to use (with `subnetIds`).
     * @default the pool makes its own VPC.
     */
    readonly vpcId?: pulumi.Input<string>;
    /**
     * Existing subnets of `vpcId` for the machines, machine `i` in subnet `i mod n`. Plain list
     * (ids may be Outputs). Without a bastion machines get a public address unless `publicIp` is
     * false, so the subnets must route to an internet gateway.
     * @default the pool's own subnets.
     */
    readonly subnetIds?: pulumi.Input<string>[];
    /**
     * Address block of the pool's own VPC: private (RFC 1918), /16 to /24, cut in blocks four bits
     * longer (a /16 in /20s) for the subnets.
     * @default `10.60.0.0/16`.
     */
    readonly vpcCidr?: string;
    /**
     * Subnets of the pool's own VPC: `public` (machines get public addresses; an internet gateway)
     * or `private` (machines have only private addresses and reach the internet through one NAT
     * gateway in the first zone; needs a bastion, as nothing else reaches a new VPC).
     * @default `private` with a bastion, else `public`.
     */
    readonly subnetMode?: "public" | "private";
    /**
     * Whether machines in given `subnetIds` get a public address (and are reached at it). false:
     * they are reached at their private address (the machine running Pulumi must reach the VPC,
     * e.g. over a VPN). Must not be true with a bastion.
     * @default true without a bastion.
     */
    readonly publicIp?: boolean;
    /**
     * Operating system, looked up as the newest image of the distribution's own AWS account for
     * the instance type's architecture; with `amiId`, the system that image runs.
     * @default `debian-12`.
     */
    readonly image?: AwsImage;
    /**
     * An AMI to boot instead of looking `image` up (it must run `image`'s system, with cloud-init).
     * @default none: the newest AMI of `image` for the instance type's architecture.
     */
    readonly amiId?: pulumi.Input<string>;
    /**
     * EC2 instance type. Its architecture follows from it: Graviton families (`t4g`, `m7g`, `c7gn`:
     * a `g` after the generation digit) are arm64, others amd64.
     * @default `t3.small`.
     */
    readonly instanceType?: string;
    /**
     * Root volume size in GiB, 8 to 16384; always gp3 and encrypted.
     * @default 20.
     */
    readonly diskGiB?: number;
    /** @deprecated Use {@link diskGiB} (the same setting; giving both is refused). */
    readonly rootVolumeGiB?: number;
    /**
     * Spot instances (one-time, terminated on interruption: the machine and what ran on it are
     * replaced by the next `up`).
     * @default false (on demand).
     */
    readonly spot?: boolean;
    /**
     * Tags on every resource that takes tags, besides `flotilla:pool` and `Name` (which the pool
     * sets). Keys 1 to 128 characters not starting with `aws:`, values at most 256.
     * @default none.
     */
    readonly tags?: Record<string, string>;
    /**
     * Labels added to every host, beside `provider`, `pool`, `region` and `zone`.
     * @default none.
     */
    readonly labels?: Record<string, string>;
    /**
     * Login user (created by cloud-init with the pool's key).
     * @default `admin` (Debian), `ubuntu` (Ubuntu).
     */
    readonly sshUser?: string;
    /**
     * A client key pair to authorize instead of generating one (`privateKey` is kept secret).
     * @default generated.
     */
    readonly sshKey?: SuppliedSshKey;
    /**
     * Where administrators (and the machine running Pulumi) connect from: SSH (22) is open from
     * these blocks only (to the bastion when there is one), and the Kubernetes API (6443) when
     * `clusterPorts` include it. Required, at least one; `0.0.0.0/0` or `::/0` only with
     * `allowWorldSsh: true`.
     */
    readonly adminCidrs: string[];
    /**
     * Accept a world-open block in `adminCidrs`.
     * @default false.
     */
    readonly allowWorldSsh?: boolean;
    /**
     * The ports the cluster's members reach on each other (a cluster's `ports`, `SWARM_PORTS`,
     * `KUBERNETES_PORTS`, or several concatenated), opened between the pool's machines only (a rule
     * referencing the pool's own security group) and from `clusterPeerCidrs`; the Kubernetes API
     * (6443/tcp) also from `adminCidrs` when it is among them. The names `"swarm"` and `"kubernetes"`
     * are deprecated shorthands for those two lists.
     * @default Swarm's and Kubernetes' ports.
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
     * TCP ports the apps publish, opened from `appCidrs` (required with them).
     * @default none.
     */
    readonly appPorts?: number[];
    /**
     * Blocks `appPorts` are open from, e.g. `["0.0.0.0/0"]` for a public web app.
     * @default none.
     */
    readonly appCidrs?: string[];
    /**
     * A bastion: one small instance in a public subnet, SSH from `adminCidrs` only; the machines then
     * have no public address, accept SSH only from the bastion's security group and are reached
     * through it (`connection.bastion`). `true` or `{ instanceType }` (default `t3.micro`, or
     * `t4g.micro` for arm64 machines).
     * @default none.
     */
    readonly bastion?:
        | boolean
        | {
              /** The bastion's instance type. Default `t3.micro`, or `t4g.micro` for arm64 machines. */
              readonly instanceType?: string;
          };
    /**
     * The public subnet of the bastion when `subnetIds` are given (required then).
     * @default none: the bastion goes into the pool's own public subnet (required with `subnetIds` and a bastion).
     */
    readonly bastionSubnetId?: pulumi.Input<string>;
    /**
     * More cloud-init user data for every machine, e.g. `[dockerEngineUserData()]`: each part a
     * `#cloud-config` document or a `#!` script, after the pool's own part. The whole document
     * travels gzip'd and must fit EC2's 16384 bytes. Changing it replaces the machines.
     * @default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
}
