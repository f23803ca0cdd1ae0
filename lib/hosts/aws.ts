/**
 * `AwsHostPool`: EC2 machines producing flotilla `Host`s. Behind its own subpath export
 * (`flotilla/aws`) so that programs without `@pulumi/aws` (an optional peer dependency) never load
 * it: neither `lib/index.ts` nor `lib/hosts/index.ts` imports this file.
 */
// One module per resource, not `@pulumi/aws`'s index: type-checking a program that uses the pool
// then loads the declarations of these resources, not of every AWS service (measured: 565 MB of
// tsc memory for the index, 337 MB for these, 207 MB for @pulumi/pulumi alone).
import { Eip } from "@pulumi/aws/ec2/eip";
import { Instance } from "@pulumi/aws/ec2/instance";
import { InternetGateway } from "@pulumi/aws/ec2/internetGateway";
import { KeyPair } from "@pulumi/aws/ec2/keyPair";
import { NatGateway } from "@pulumi/aws/ec2/natGateway";
import { RouteTable } from "@pulumi/aws/ec2/routeTable";
import { RouteTableAssociation } from "@pulumi/aws/ec2/routeTableAssociation";
import { SecurityGroup } from "@pulumi/aws/ec2/securityGroup";
import { Subnet } from "@pulumi/aws/ec2/subnet";
import { Vpc } from "@pulumi/aws/ec2/vpc";
import { getAmiOutput } from "@pulumi/aws/ec2/getAmi";
import { SecurityGroupEgressRule } from "@pulumi/aws/vpc/securityGroupEgressRule";
import { SecurityGroupIngressRule } from "@pulumi/aws/vpc/securityGroupIngressRule";
import * as pulumi from "@pulumi/pulumi";
import { claimName } from "../core/claims";
import { ClusterPort } from "../core/cluster";
import { Host, HostArchitecture, HostLabels, HostPlatform, SshConnection } from "../core/host";
import { defaultSshConfigFiles, knownHostsText, sshConfigText } from "../core/known-hosts";
import { Ipv4Subnet, formatIpv4, isPrivate, parseCidr } from "../core/ipv4";
import { Described, Validator, hasOwn, isPlainObject } from "../core/validate";
import { checkAppPorts, checkCidrs, checkSuppliedKey, checkClusterKinds, clusterPorts, machineUserData, poolKeys } from "./cloud-common";
import { checkUserData, gzipBase64, hostnameUserData } from "./user-data";

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
} as const;
/** An image a pool looks up by name. */
export type AwsImage = keyof typeof AWS_IMAGES;

/** Arguments of {@link AwsHostPool}. Everything plain unless typed `pulumi.Input`. */
export interface AwsHostPoolArgs {
    /** Number of machines, 1 to 100. Plain: it decides which resources exist. */
    readonly size: number;
    /**
     * Name of the pool: prefix of machine names (`<pool>-0`, `<pool>-1`, ...), their hostnames and
     * the `Name` tags; value of the `flotilla:pool` tag on every resource. DNS-safe, at most 40
     * characters, unique in the program. Default: the resource name.
     */
    readonly poolName?: string;
    /**
     * Region, e.g. `eu-west-1`. Given: every resource and the image lookup carry it (AWS provider
     * 7's per-resource `region`, so the caller's provider, credentials and default tags still
     * apply). Default: the provider's region from config `aws:region` (or `AWS_REGION` /
     * `AWS_DEFAULT_REGION`); it must be known to validate `zones` and label the hosts.
     */
    readonly region?: string;
    /**
     * Availability zones of the pool's own VPC, e.g. `["eu-west-1a", "eu-west-1b"]`: one subnet
     * per zone, machine `i` in zone `i mod n`. Each must be `<region><letter>`. Not with
     * `subnetIds` (the subnets decide). Default: one subnet in a zone AWS chooses.
     */
    readonly zones?: string[];
    /** An existing VPC to use (with `subnetIds`). Default: the pool makes its own VPC. */
    readonly vpcId?: pulumi.Input<string>;
    /**
     * Existing subnets of `vpcId` for the machines, machine `i` in subnet `i mod n`. Plain list
     * (ids may be Outputs). Without a bastion machines get a public address unless `publicIp` is
     * false, so the subnets must route to an internet gateway. Default: the pool's own subnets.
     */
    readonly subnetIds?: pulumi.Input<string>[];
    /**
     * Address block of the pool's own VPC: private (RFC 1918), /16 to /24, cut in blocks four bits
     * longer (a /16 in /20s) for the subnets. Default `10.60.0.0/16`.
     */
    readonly vpcCidr?: string;
    /**
     * Subnets of the pool's own VPC: `public` (machines get public addresses; an internet gateway)
     * or `private` (machines have only private addresses and reach the internet through one NAT
     * gateway in the first zone; needs a bastion, as nothing else reaches a new VPC). Default
     * `private` with a bastion, else `public`.
     */
    readonly subnetMode?: "public" | "private";
    /**
     * Whether machines in given `subnetIds` get a public address (and are reached at it). false:
     * they are reached at their private address (the machine running Pulumi must reach the VPC,
     * e.g. over a VPN). Must not be true with a bastion. Default: true without a bastion.
     */
    readonly publicIp?: boolean;
    /**
     * Operating system, looked up as the newest image of the distribution's own AWS account for
     * the instance type's architecture; with `amiId`, the system that image runs. Default `debian-12`.
     */
    readonly image?: AwsImage;
    /** An AMI to boot instead of looking `image` up (it must run `image`'s system, with cloud-init). */
    readonly amiId?: pulumi.Input<string>;
    /**
     * EC2 instance type. Its architecture follows from it: Graviton families (`t4g`, `m7g`, `c7gn`:
     * a `g` after the generation digit) are arm64, others amd64. Default `t3.small`.
     */
    readonly instanceType?: string;
    /** Root volume size in GiB, 8 to 16384; always gp3 and encrypted. Default 20. */
    readonly rootVolumeGiB?: number;
    /**
     * Spot instances (one-time, terminated on interruption: the machine and what ran on it are
     * replaced by the next `up`). Default false (on demand).
     */
    readonly spot?: boolean;
    /**
     * Tags on every resource that takes tags, besides `flotilla:pool` and `Name` (which the pool
     * sets). Keys 1 to 128 characters not starting with `aws:`, values at most 256. Default none.
     */
    readonly tags?: Record<string, string>;
    /** Labels added to every host, beside `provider`, `pool`, `region` and `zone`. Default none. */
    readonly labels?: Record<string, string>;
    /** Login user (created by cloud-init with the pool's key). Default `admin` (Debian), `ubuntu` (Ubuntu). */
    readonly sshUser?: string;
    /** A client key pair to authorize instead of generating one (`privateKey` is kept secret). Default: generated. */
    readonly sshKey?: { readonly privateKey: pulumi.Input<string>; readonly publicKey: pulumi.Input<string> };
    /**
     * Where administrators (and the machine running Pulumi) connect from: SSH (22) is open from
     * these blocks only (to the bastion when there is one), and the Kubernetes API (6443) when
     * `clusterPorts` includes `kubernetes`. Required, at least one; `0.0.0.0/0` or `::/0` only with
     * `allowWorldSsh: true`.
     */
    readonly adminCidrs: string[];
    /** Accept a world-open block in `adminCidrs`. Default false. */
    readonly allowWorldSsh?: boolean;
    /**
     * Orchestrators whose ports are opened between the pool's machines (and only between them: a
     * rule referencing the pool's own security group). Default `["swarm", "kubernetes"]`.
     */
    readonly clusterPorts?: ("swarm" | "kubernetes")[];
    /**
     * Blocks outside the pool whose machines are members of the same cluster (another pool's or an
     * on-premises site's public addresses, e.g. `["198.51.100.7/32"]`): the cluster ports are open
     * from them too, as a hybrid cluster needs. Never world-open. Default none.
     */
    readonly clusterPeerCidrs?: string[];
    /** TCP ports the apps publish, opened from `appCidrs` (required with them). Default none. */
    readonly appPorts?: number[];
    /** Blocks `appPorts` are open from, e.g. `["0.0.0.0/0"]` for a public web app. Default none. */
    readonly appCidrs?: string[];
    /**
     * A bastion: one small instance in a public subnet, SSH from `adminCidrs` only; the machines then
     * have no public address, accept SSH only from the bastion's security group and are reached
     * through it (`connection.bastion`). `true` or `{ instanceType }` (default `t3.micro`, or
     * `t4g.micro` for arm64 machines). Default none.
     */
    readonly bastion?: boolean | { readonly instanceType?: string };
    /** The public subnet of the bastion when `subnetIds` are given (required then). */
    readonly bastionSubnetId?: pulumi.Input<string>;
    /**
     * More cloud-init user data for every machine, e.g. `[dockerEngineUserData()]`: each part a
     * `#cloud-config` document or a `#!` script, after the pool's own part. The whole document
     * travels gzip'd and must fit EC2's 16384 bytes. Changing it replaces the machines. Default none.
     */
    readonly userData?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * A pool of EC2 machines: in the pool's own VPC (public subnets, or private subnets behind a NAT
 * gateway and a bastion) or in given subnets; one security group (SSH from `adminCidrs`, cluster
 * ports only between members, app ports from `appCidrs`, all egress); a Debian 12 or Ubuntu 24.04
 * image; IMDSv2 only with a hop limit of 1 (containers cannot reach the instance credentials);
 * encrypted gp3 root volumes; key-only SSH with host keys Pulumi knows before the first connection.
 *
 * Security group rules are separate `aws.vpc.SecurityGroupIngressRule` / `SecurityGroupEgressRule` resources
 * (one per port and block), so changing one rule replaces that rule alone, never the group, and
 * rules can reference the group itself.
 *
 * `Host.ready` is the instance: created means EC2 reports it running, not that cloud-init is done.
 * The runtime layer (`DockerEngine`, `Containerd`) retries its SSH connection until sshd answers
 * with the pinned host key, then waits (bounded) for `cloud-init status --wait` before installing.
 *
 * The user data holds each machine's SSH host private key: it is a secret in Pulumi's state, but
 * EC2 keeps it readable to principals allowed `ec2:DescribeInstanceAttribute` and to processes on
 * the machine through IMDS (hop limit 1 keeps containers out).
 */
export class AwsHostPool extends pulumi.ComponentResource {
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
    /** Public addresses of the machines, in index order (empty when they have none). */
    public readonly publicAddresses: pulumi.Output<string[]>;
    /** Private key authorized for {@link sshUser} on every machine (and the bastion). Secret. */
    public readonly sshPrivateKey: pulumi.Output<string>;
    /** Public key authorized for {@link sshUser}. */
    public readonly sshPublicKey: pulumi.Output<string>;
    /** SSH login user. */
    public readonly sshUser: string;
    /** The machines' security group. */
    public readonly securityGroupId: pulumi.Output<string>;
    /** The VPC. */
    public readonly vpcId: pulumi.Output<string>;
    /** The machines' subnets (machine `i` in `i mod n`). */
    public readonly subnetIds: pulumi.Output<string[]>;
    /** The bastion, when there is one. */
    public readonly bastion?: Host;
    /**
     * The whole first-boot document of each machine, uncompressed, in index order: exactly what
     * the instance is given gzip'd as `userDataBase64`. Secrets (they hold the host keys).
     */
    public readonly userData: pulumi.Output<string>[];
    /** Name of the pool. */
    public readonly poolName: string;
    /** Region of the pool. */
    public readonly region: string;
    /** Number of machines. */
    public readonly size: number;
    /** Instance type of the machines. */
    public readonly instanceType: string;
    /** Architecture of the machines. */
    public readonly architecture: HostArchitecture;

    constructor(name: string, args: AwsHostPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything plain before registering anything.
        const v: Validator = new Validator(AWS_HOST_POOL_TYPE, name);
        v.args(args, AWS_HOST_POOL_KEYS, "AwsHostPoolArgs");
        for (const key of PLAIN_KEYS) {
            v.plain(key, args[key], "it decides which resources exist and is checked before any is created");
        }
        const size = v.integer("size", args.size, 1, MAX_AWS_POOL_SIZE);
        const poolName = args.poolName === undefined ? v.dnsLabel("name", name, 40) : v.dnsLabel("poolName", args.poolName, 40);

        const explicitRegion = args.region !== undefined;
        const region = explicitRegion ? args.region : configuredRegion();
        if (typeof region !== "string" || !REGION.test(region)) {
            v.fail(
                "region",
                region,
                explicitRegion
                    ? 'an AWS region such as "eu-west-1"'
                    : 'an AWS region such as "eu-west-1" (none given and no config aws:region, AWS_REGION or AWS_DEFAULT_REGION)',
            );
        }

        // Network: given subnets, or the pool's own VPC.
        const given = args.subnetIds !== undefined || args.vpcId !== undefined;
        const bastionArg = args.bastion ?? false;
        if (typeof bastionArg !== "boolean" && !isPlainObject(bastionArg)) {
            v.fail("bastion", bastionArg, "true, false or { instanceType }");
        }
        if (isPlainObject(bastionArg)) v.known("bastion", bastionArg, ["instanceType"]);
        const withBastion = bastionArg !== false;
        let subnetIds: pulumi.Input<string>[] = [];
        let zones: string[] = [];
        let vpcBlock: Ipv4Subnet | undefined;
        let subnetMode: "public" | "private" = withBastion ? "private" : "public";
        if (given) {
            for (const key of ["zones", "vpcCidr", "subnetMode"] as const) {
                if (args[key] !== undefined) v.fail(key, args[key], "no value with vpcId/subnetIds (the given subnets decide)");
            }
            if (args.vpcId === undefined) v.fail("vpcId", undefined, "the VPC of subnetIds");
            subnetIds = v.list("subnetIds", args.subnetIds, "a list of subnet ids") as pulumi.Input<string>[];
            if (subnetIds.length === 0) v.fail("subnetIds", args.subnetIds, "at least one subnet id of vpcId");
            subnetIds.forEach((id, i) => {
                if (!pulumi.Output.isInstance(id) && (typeof id !== "string" || !/^subnet-[0-9a-f]+$/.test(id))) {
                    v.fail(`subnetIds[${i}]`, id, 'a subnet id such as "subnet-0123456789abcdef0"');
                }
            });
            if (!withBastion && args.bastionSubnetId !== undefined) v.fail("bastionSubnetId", args.bastionSubnetId, "no value without a bastion");
            if (withBastion && args.bastionSubnetId === undefined) {
                v.fail(
                    "bastionSubnetId",
                    undefined,
                    "the id of a public subnet of vpcId for the bastion (with a bastion, the machines get no public address and are reached only through it)",
                );
            }
        } else {
            if (args.bastionSubnetId !== undefined) v.fail("bastionSubnetId", args.bastionSubnetId, "no value without subnetIds (the bastion goes in the pool's public subnet)");
            if (args.publicIp !== undefined) v.fail("publicIp", args.publicIp, "no value without subnetIds (subnetMode decides)");
            zones = v.list("zones", args.zones, `a list of zones of ${region}`).map((z, i): string => {
                if (typeof z !== "string" || !new RegExp(`^${region}[a-z]$`).test(z)) {
                    v.fail(`zones[${i}]`, z, `a zone of region ${region}: "${region}" and one letter, e.g. "${region}a"`);
                }
                return z;
            });
            if (new Set(zones).size !== zones.length) v.fail("zones", zones, "each zone at most once");
            if (zones.length > 6) v.fail("zones", zones, "at most 6 zones");
            subnetMode = args.subnetMode === undefined ? subnetMode : v.oneOf("subnetMode", args.subnetMode, ["public", "private"] as const);
            if (subnetMode === "private" && !withBastion) {
                v.fail("subnetMode", subnetMode, '"public", or "private" with a bastion (nothing else reaches the private subnets of a new VPC)');
            }
            if (subnetMode === "public" && withBastion) {
                v.fail("subnetMode", subnetMode, '"private" with a bastion (machines of a public subnet without a public address have no way out to the internet)');
            }
            const vpcText = args.vpcCidr ?? DEFAULT_AWS_VPC_CIDR;
            const parsed = parseCidr(vpcText);
            if (typeof parsed === "string") v.fail("vpcCidr", vpcText, `a private IPv4 CIDR block such as "${DEFAULT_AWS_VPC_CIDR}" (${parsed})`);
            if (!isPrivate(parsed) || parsed.prefix < 16 || parsed.prefix > 24) {
                v.fail("vpcCidr", vpcText, "a private (RFC 1918) IPv4 block of prefix /16 to /24");
            }
            vpcBlock = parsed;
            // Subnets are blocks 4 bits longer; AWS keeps 5 addresses of each.
            const perSubnet = 2 ** (32 - (parsed.prefix + 4)) - 5;
            const crowded = Math.ceil(size / Math.max(1, zones.length));
            if (crowded > perSubnet) {
                v.fail("vpcCidr", vpcText, `a block whose /${parsed.prefix + 4} subnets hold ${crowded} machines each (they hold ${perSubnet})`);
            }
        }
        const publicIp = withBastion ? false : v.boolean("publicIp", args.publicIp, true);
        if (withBastion && args.publicIp === true) v.fail("publicIp", true, "false or no value with a bastion (the machines are reached through it)");

        // Machines.
        const image = args.image === undefined ? "debian-12" : v.oneOf("image", args.image, Object.keys(AWS_IMAGES) as AwsImage[]);
        const instanceType = checkInstanceType(v, "instanceType", args.instanceType ?? DEFAULT_AWS_INSTANCE_TYPE);
        const arch = instanceArchitecture(instanceType);
        const rootVolumeGiB = v.integer("rootVolumeGiB", args.rootVolumeGiB ?? DEFAULT_AWS_ROOT_VOLUME_GIB, 8, 16384);
        const spot = v.boolean("spot", args.spot, false);
        let bastionType: string | undefined;
        if (withBastion) {
            const given = isPlainObject(bastionArg) ? bastionArg.instanceType : undefined;
            bastionType = checkInstanceType(v, "bastion.instanceType", given ?? (arch === "arm64" ? "t4g.micro" : "t3.micro"));
            if (args.amiId !== undefined && instanceArchitecture(bastionType) !== arch) {
                v.fail("bastion.instanceType", bastionType, `an ${arch} instance type like the machines' (amiId is one image for both)`);
            }
        }
        const sshUser = args.sshUser ?? AWS_IMAGES[image].sshUser;
        if (typeof sshUser !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(sshUser) || sshUser === "root") {
            v.fail("sshUser", sshUser, "a Linux user name other than root ([a-z_][a-z0-9_-], at most 32)");
        }
        const sshKey = checkSuppliedKey(v, "sshKey", args.sshKey);
        const userTags = checkTags(v, args.tags);
        const userLabels = v.labels("labels", args.labels);
        for (const reserved of ["provider", "pool", "region", "zone"]) {
            if (hasOwn(userLabels, reserved)) v.fail(`labels.${reserved}`, userLabels[reserved], `no "${reserved}" label: the pool sets it`);
        }

        // Access.
        const allowWorldSsh = v.boolean("allowWorldSsh", args.allowWorldSsh, false);
        const adminCidrs = checkCidrs(v, "adminCidrs", args.adminCidrs, { required: true, worldOptIn: { allowed: allowWorldSsh, property: "allowWorldSsh" } });
        const kinds = checkClusterKinds(v, "clusterPorts", args.clusterPorts);
        const peerCidrs = checkCidrs(v, "clusterPeerCidrs", args.clusterPeerCidrs, { neverWorld: "cluster ports are never open to the world" });
        const appPorts = checkAppPorts(v, "appPorts", args.appPorts);
        const appCidrs = checkCidrs(v, "appCidrs", args.appCidrs);
        if (appPorts.length > 0 && appCidrs.length === 0) v.fail("appCidrs", args.appCidrs, "at least one CIDR block the appPorts are open from");
        if (appCidrs.length > 0 && appPorts.length === 0) v.fail("appPorts", args.appPorts, "at least one port to open from appCidrs");
        const extraParts = checkUserData(v, args.userData);

        const owner = `${AWS_HOST_POOL_TYPE} "${name}"`;
        const holder = claimName("aws pool", poolName, owner);
        if (holder !== undefined) {
            v.fail(args.poolName === undefined ? "name" : "poolName", poolName, `a pool name no other pool of this program uses (${holder} does)`);
        }

        super(AWS_HOST_POOL_TYPE, name, {}, opts);

        this.size = size;
        this.poolName = poolName;
        this.region = region;
        this.sshUser = sshUser;
        this.instanceType = instanceType;
        this.architecture = arch;

        const parent = { parent: this };
        const where = explicitRegion ? { region } : {};
        // Every resource waits until the Output parts of userData passed their check (through its tags).
        const tags = (role: string) => extraParts.apply(() => ({ ...userTags, "flotilla:pool": poolName, Name: `${poolName}-${role}` }));

        const keys = poolKeys(name, poolName, owner, this, sshKey);
        const keyPair = new KeyPair(`${name}-key`, { publicKey: keys.publicKey, tags: tags("key"), ...where }, parent);

        // Network.
        let vpcId: pulumi.Input<string>;
        let machineSubnets: pulumi.Input<string>[];
        let bastionSubnet: pulumi.Input<string> | undefined;
        const networkReady: pulumi.Resource[] = [];
        if (vpcBlock) {
            const block = vpcBlock;
            const cut = (k: number) => `${formatIpv4(block.network + k * 2 ** (32 - (block.prefix + 4)))}/${block.prefix + 4}`;
            const vpc = new Vpc(`${name}-vpc`, { cidrBlock: block.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags("vpc"), ...where }, parent);
            vpcId = vpc.id;
            const igw = new InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags("igw"), ...where }, parent);
            const publicRoutes = new RouteTable(
                `${name}-public-rt`,
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: tags("public-rt"), ...where },
                parent,
            );
            const subnet = (role: string, k: number, zone: string | undefined, routes: RouteTable) => {
                const s = new Subnet(
                    `${name}-${role}`,
                    { vpcId: vpc.id, cidrBlock: cut(k), mapPublicIpOnLaunch: false, ...(zone ? { availabilityZone: zone } : {}), tags: tags(role), ...where },
                    parent,
                );
                networkReady.push(new RouteTableAssociation(`${name}-${role}`, { subnetId: s.id, routeTableId: routes.id, ...where }, parent));
                return s;
            };
            const zoneList: (string | undefined)[] = zones.length > 0 ? zones : [undefined];
            if (subnetMode === "public") {
                machineSubnets = zoneList.map((z, k) => subnet(`public-${k}`, k, z, publicRoutes).id);
            } else {
                // One public subnet (NAT gateway, bastion) in the first zone; a private subnet per zone.
                const pub = subnet("public-0", zoneList.length, zoneList[0], publicRoutes);
                bastionSubnet = pub.id;
                const eip = new Eip(`${name}-nat-eip`, { domain: "vpc", tags: tags("nat-eip"), ...where }, { parent: this, dependsOn: [igw] });
                const nat = new NatGateway(
                    `${name}-nat`,
                    { allocationId: eip.id, subnetId: pub.id, connectivityType: "public", tags: tags("nat"), ...where },
                    { parent: this, dependsOn: [igw] },
                );
                const privateRoutes = new RouteTable(
                    `${name}-private-rt`,
                    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tags("private-rt"), ...where },
                    parent,
                );
                machineSubnets = zoneList.map((z, k) => subnet(`private-${k}`, k, z, privateRoutes).id);
            }
        } else {
            vpcId = args.vpcId as pulumi.Input<string>;
            machineSubnets = subnetIds;
            bastionSubnet = args.bastionSubnetId;
        }

        // Security groups: one rule resource per port and block.
        const sg = new SecurityGroup(`${name}-sg`, { vpcId, description: `flotilla pool ${poolName}: machines`, tags: tags("sg"), ...where }, parent);
        const rules: pulumi.Resource[] = [];
        const ingress = (rule: string, group: SecurityGroup, port: { from: number; to: number; protocol: string }, from: { cidr?: string; group?: pulumi.Input<string> }, description: string) => {
            rules.push(
                new SecurityGroupIngressRule(
                    `${name}-${rule}`,
                    {
                        securityGroupId: group.id,
                        ipProtocol: port.protocol,
                        fromPort: port.from,
                        toPort: port.to,
                        ...(from.group !== undefined ? { referencedSecurityGroupId: from.group } : from.cidr!.includes(":") ? { cidrIpv6: from.cidr } : { cidrIpv4: from.cidr }),
                        description,
                        tags: tags(rule),
                        ...where,
                    },
                    parent,
                ),
            );
        };
        const egressAll = (rule: string, group: SecurityGroup) =>
            rules.push(
                new SecurityGroupEgressRule(
                    `${name}-${rule}`,
                    { securityGroupId: group.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all egress", tags: tags(rule), ...where },
                    parent,
                ),
            );
        const ssh = { from: 22, to: 22, protocol: "tcp" };
        let bastionSg: SecurityGroup | undefined;
        if (withBastion) {
            bastionSg = new SecurityGroup(`${name}-bastion-sg`, { vpcId, description: `flotilla pool ${poolName}: bastion`, tags: tags("bastion-sg"), ...where }, parent);
            adminCidrs.forEach((cidr, j) => ingress(`bastion-ssh-${j}`, bastionSg!, ssh, { cidr }, "SSH from adminCidrs"));
            egressAll("bastion-egress", bastionSg);
            ingress("ssh-bastion", sg, ssh, { group: bastionSg.id }, "SSH from the bastion");
        } else {
            adminCidrs.forEach((cidr, j) => ingress(`ssh-${j}`, sg, ssh, { cidr }, "SSH from adminCidrs"));
            if (kinds.includes("kubernetes")) {
                adminCidrs.forEach((cidr, j) => ingress(`kube-api-${j}`, sg, { from: 6443, to: 6443, protocol: "tcp" }, { cidr }, "Kubernetes API from adminCidrs"));
            }
        }
        for (const p of clusterPorts(kinds)) {
            ingress(clusterRuleRole(p), sg, { from: p.port, to: p.toPort ?? p.port, protocol: p.protocol }, { group: sg.id }, `${p.purpose}, between the pool's machines`);
            peerCidrs.forEach((cidr, j) =>
                ingress(`${clusterRuleRole(p)}-peer-${j}`, sg, { from: p.port, to: p.toPort ?? p.port, protocol: p.protocol }, { cidr }, `${p.purpose}, from the cluster's members outside the pool`),
            );
        }
        for (const port of appPorts) {
            appCidrs.forEach((cidr, j) => ingress(`app-${port}-${j}`, sg, { from: port, to: port, protocol: "tcp" }, { cidr }, "published app port from appCidrs"));
        }
        egressAll("egress", sg);

        // Images.
        const amis = new Map<HostArchitecture, pulumi.Input<string>>();
        const amiFor = (a: HostArchitecture): pulumi.Input<string> => {
            if (args.amiId !== undefined) return args.amiId;
            if (!amis.has(a)) {
                const spec = AWS_IMAGES[image];
                const found = getAmiOutput(
                    {
                        owners: [spec.owner],
                        mostRecent: true,
                        filters: [
                            { name: "name", values: [spec.name(a)] },
                            { name: "architecture", values: [a === "arm64" ? "arm64" : "x86_64"] },
                            { name: "virtualization-type", values: ["hvm"] },
                        ],
                        ...where,
                    },
                    { parent: this },
                );
                amis.set(a, found.id);
            }
            return amis.get(a)!;
        };
        const platform = (a: HostArchitecture): HostPlatform => ({ ...AWS_IMAGES[image].platform, arch: a });

        const instance = (role: string, machineName: string, type: string, subnetId: pulumi.Input<string>, securityGroup: SecurityGroup, withPublicIp: boolean, document: pulumi.Output<string>) =>
            new Instance(
                `${name}-${role}`,
                {
                    ami: amiFor(instanceArchitecture(type)),
                    instanceType: type,
                    subnetId,
                    vpcSecurityGroupIds: [securityGroup.id],
                    associatePublicIpAddress: withPublicIp,
                    keyName: keyPair.keyName,
                    rootBlockDevice: { volumeSize: rootVolumeGiB, volumeType: "gp3", encrypted: true, deleteOnTermination: true, tags: tags(`${role}-root`) },
                    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1, httpEndpoint: "enabled" },
                    userDataBase64: pulumi.secret(document.apply((text) => ec2UserData(v, text))),
                    userDataReplaceOnChange: true,
                    ...(spot && role !== "bastion"
                        ? { instanceMarketOptions: { marketType: "spot", spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" } } }
                        : {}),
                    tags: tags(role === "bastion" ? "bastion" : machineName.slice(poolName.length + 1)),
                    ...where,
                },
                { parent: this, dependsOn: [...networkReady, ...rules] },
            );
        const hostLabels = (zone: pulumi.Input<string>): HostLabels => ({ ...userLabels, provider: "aws", pool: poolName, region, zone });

        // The bastion: the pool's own part of the user data only (no runtime on it).
        let bastionConnection: Omit<SshConnection, "bastion"> | undefined;
        if (withBastion) {
            const bastionName = `${poolName}-bastion`;
            const hostKey = keys.hostKey(bastionName);
            const document = machineUserData(sshUser, keys.publicKey, hostKey, [hostnameUserData(bastionName)]);
            const b = instance("bastion", bastionName, bastionType!, bastionSubnet!, bastionSg!, true, document);
            bastionConnection = { host: b.publicIp, port: 22, user: sshUser, privateKey: keys.privateKey, hostKey: hostKey.publicKey };
            this.bastion = {
                name: bastionName,
                instanceId: b.id,
                publicAddress: b.publicIp,
                privateAddress: b.privateIp,
                network: pulumi.interpolate`aws:${vpcId}`,
                platform: platform(instanceArchitecture(bastionType!)),
                packageAccess: "upstream",
                connection: bastionConnection,
                labels: hostLabels(b.availabilityZone),
                ready: [b],
            };
        }

        const hosts: Host[] = [];
        const documents: pulumi.Output<string>[] = [];
        for (let i = 0; i < size; i++) {
            const machineName = `${poolName}-${i}`;
            const hostKey = keys.hostKey(machineName);
            const document = machineUserData(sshUser, keys.publicKey, hostKey, extraParts.apply((extra) => [hostnameUserData(machineName), ...extra]));
            documents.push(document);
            const m = instance(`machine-${i}`, machineName, instanceType, machineSubnets[i % machineSubnets.length], sg, publicIp, document);
            hosts.push({
                name: machineName,
                instanceId: m.id,
                ...(publicIp ? { publicAddress: m.publicIp } : {}),
                privateAddress: m.privateIp,
                network: pulumi.interpolate`aws:${vpcId}`,
                platform: platform(arch),
                packageAccess: "upstream",
                connection: {
                    host: publicIp ? m.publicIp : m.privateIp,
                    port: 22,
                    user: sshUser,
                    privateKey: keys.privateKey,
                    hostKey: hostKey.publicKey,
                    ...(bastionConnection ? { bastion: bastionConnection } : {}),
                },
                labels: hostLabels(zones.length > 0 ? zones[i % zones.length] : m.availabilityZone),
                ready: [m],
            });
        }

        this.hosts = hosts;
        this.userData = documents;
        this.privateAddresses = pulumi.all(hosts.map((h) => h.privateAddress));
        this.publicAddresses = pulumi.all(hosts.flatMap((h) => (h.publicAddress ? [h.publicAddress] : [])));
        this.sshPrivateKey = keys.privateKey;
        this.sshPublicKey = keys.publicKey;
        this.securityGroupId = sg.id;
        this.vpcId = pulumi.output(vpcId);
        this.subnetIds = pulumi.all(machineSubnets);

        this.knownHosts = knownHostsText(this.hosts);
        this.sshConfig = sshConfigText(this.hosts, defaultSshConfigFiles(this.poolName));

        this.registerOutputs({
            privateAddresses: this.privateAddresses,
            publicAddresses: this.publicAddresses,
            sshPrivateKey: this.sshPrivateKey,
            sshPublicKey: this.sshPublicKey,
            sshUser: this.sshUser,
            securityGroupId: this.securityGroupId,
            vpcId: this.vpcId,
            subnetIds: this.subnetIds,
            bastionAddress: this.bastion?.publicAddress,
            poolName: this.poolName,
            region: this.region,
            size: this.size,
        });
    }
}

/** Properties of {@link AwsHostPoolArgs}. */
const AWS_HOST_POOL_KEYS = [
    "size",
    "poolName",
    "region",
    "zones",
    "vpcId",
    "subnetIds",
    "vpcCidr",
    "subnetMode",
    "publicIp",
    "image",
    "amiId",
    "instanceType",
    "rootVolumeGiB",
    "spot",
    "tags",
    "labels",
    "sshUser",
    "sshKey",
    "adminCidrs",
    "allowWorldSsh",
    "clusterPorts",
    "clusterPeerCidrs",
    "appPorts",
    "appCidrs",
    "bastion",
    "bastionSubnetId",
    "userData",
];

/** Properties that must be plain values. */
const PLAIN_KEYS = [
    "size",
    "poolName",
    "region",
    "zones",
    "vpcCidr",
    "subnetMode",
    "publicIp",
    "image",
    "instanceType",
    "rootVolumeGiB",
    "spot",
    "tags",
    "labels",
    "sshUser",
    "adminCidrs",
    "allowWorldSsh",
    "clusterPorts",
    "clusterPeerCidrs",
    "appPorts",
    "appCidrs",
    "bastion",
] as const;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The region the default AWS provider uses, when the program does not say. */
function configuredRegion(): string | undefined {
    return new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/** Checks an EC2 instance type (`t3.small`, `m7i-flex.large`). */
function checkInstanceType(v: Validator, property: string, value: unknown): string {
    if (typeof value !== "string" || !/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(value)) {
        v.fail(property, value, 'an EC2 instance type such as "t3.small" (family.size)');
    }
    return value;
}

/** The architecture of an instance type: Graviton families have a `g` after the generation digit (`t4g`, `c7gn`, `is4gen`). */
export function instanceArchitecture(instanceType: string): HostArchitecture {
    const family = instanceType.split(".")[0];
    const m = /^[a-z]+\d+([a-z-]*)$/.exec(family);
    return m && m[1].includes("g") ? "arm64" : "amd64";
}

/** Checks user tags: no `aws:` prefix, no `Name` / `flotilla:pool` (the pool sets them). */
function checkTags(v: Validator, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (!isPlainObject(value)) v.fail("tags", value, "an object mapping tag keys to string values");
    for (const [k, val] of Object.entries(value)) {
        if (k.length === 0 || k.length > 128 || k.toLowerCase().startsWith("aws:")) v.fail(`tags.${k}`, k, "a tag key of 1 to 128 characters not starting with aws:");
        if (k === "Name" || k === "flotilla:pool") v.fail(`tags.${k}`, val, `no "${k}" tag: the pool sets it`);
        if (typeof val !== "string" || val.length > 256) v.fail(`tags.${k}`, val, "a string of at most 256 characters");
    }
    return value as Record<string, string>;
}

/** The name of a cluster port's rule: protocol and port (range), e.g. `cluster-tcp-2379-2380`. */
function clusterRuleRole(p: ClusterPort): string {
    return `cluster-${p.protocol}-${p.port}${p.toPort !== undefined ? `-${p.toPort}` : ""}`;
}


/**
 * A machine's user data as EC2 takes it: gzip'd, base64. Fails naming `userData` when even gzip'd
 * it exceeds EC2's 16384 bytes (never showing the document: it holds the host key).
 */
export function ec2UserData(v: Validator, document: string): string {
    const encoded = gzipBase64(document);
    const bytes = Buffer.from(encoded, "base64").length;
    if (bytes > EC2_USER_DATA_LIMIT) {
        v.fail(
            "userData",
            new Described(`a document of ${Buffer.byteLength(document, "utf8")} bytes, ${bytes} gzip'd`),
            `user data that fits EC2's ${EC2_USER_DATA_LIMIT} bytes once gzip'd (the pool's part and every userData part together)`,
        );
    }
    return encoded;
}
