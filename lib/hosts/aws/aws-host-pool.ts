/**
 * `AwsHostPool`: EC2 machines producing flotilla `Host`s. Behind its own subpath export
 * (`flotilla/aws`) so that programs without `@pulumi/aws` (an optional peer dependency) never load
 * it: neither `lib/index.ts` nor `lib/hosts/index.ts` imports this folder.
 */
// One module per resource, not `@pulumi/aws`'s index: type-checking a program that uses the pool
// then loads the declarations of these resources, not of every AWS service (measured: 565 MB of
// tsc memory for the index, 337 MB for these, 207 MB for @pulumi/pulumi alone).
import { Instance } from "@pulumi/aws/ec2/instance";
import { KeyPair } from "@pulumi/aws/ec2/keyPair";
import { SecurityGroup } from "@pulumi/aws/ec2/securityGroup";
import { getAmiOutput } from "@pulumi/aws/ec2/getAmi";
import * as pulumi from "@pulumi/pulumi";
import { claimName } from "../../core/claims";
import { Host, HostArchitecture, HostLabels, HostPlatform, SshConnection } from "../../core/host";
import { IHostPool } from "../../core/host-pool";
import { Ipv4Subnet, isPrivate, parseCidr } from "../../core/ipv4";
import { Validator, hasOwn, isPlainObject } from "../../core/validate";
import { checkAppPorts, checkCidrs, checkSuppliedKey, machineUserData, poolKeys } from "../common/cloud-common";
import { checkClusterPorts } from "../common/cluster-ports";
import { renamed } from "../common/renamed";
import { poolOutputs } from "../common/pool-outputs";
import { checkUserData, hostnameUserData } from "../common/user-data";
import { AWS_HOST_POOL_KEYS, AWS_PLAIN_KEYS, checkInstanceType, checkTags, configuredRegion, ec2UserData, instanceArchitecture, REGION } from "./aws-checks";
import {
    AWS_HOST_POOL_TYPE,
    AWS_IMAGES,
    AwsHostPoolArgs,
    AwsImage,
    DEFAULT_AWS_INSTANCE_TYPE,
    DEFAULT_AWS_ROOT_VOLUME_GIB,
    DEFAULT_AWS_VPC_CIDR,
    MAX_AWS_POOL_SIZE,
} from "./aws-host-pool-args";
import { awsNetwork } from "./aws-network";
import { awsSecurityGroups } from "./aws-security-groups";

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
export class AwsHostPool extends pulumi.ComponentResource implements IHostPool {
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
    /** The machines' SSH host keys, in index order (derived from the pool's seed, set at first boot). */
    public readonly hostKeys: pulumi.Output<string[]>;
    /** The labels every machine carries: `provider: aws`, `pool`, `region` and yours (each machine also has its `zone`). */
    public readonly labels: Readonly<Record<string, string>>;
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
        for (const key of AWS_PLAIN_KEYS) {
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
        const disk = renamed<number>(v, args, "diskGiB", "rootVolumeGiB");
        const diskGiB = v.integer(disk.property, disk.value ?? DEFAULT_AWS_ROOT_VOLUME_GIB, 8, 16384);
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
        const ports = checkClusterPorts(v, "clusterPorts", args.clusterPorts);
        const peerCidrs = checkCidrs(v, "clusterPeerCidrs", args.clusterPeerCidrs, { neverWorld: "cluster ports are never open to the world" });
        const appPorts = checkAppPorts(v, "appPorts", args.appPorts, ports);
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
        this.labels = { ...userLabels, provider: "aws", pool: poolName, region };

        const parent = { parent: this };
        const where = explicitRegion ? { region } : {};
        // Every resource waits until the Output parts of userData passed their check (through its tags).
        const tags = (role: string) => extraParts.apply(() => ({ ...userTags, "flotilla:pool": poolName, Name: `${poolName}-${role}` }));

        const keys = poolKeys(name, poolName, owner, this, sshKey);
        const keyPair = new KeyPair(`${name}-key`, { publicKey: keys.publicKey, tags: tags("key"), ...where }, parent);

        // Network, then security groups: one rule resource per port and block.
        const { vpcId, machineSubnets, bastionSubnet, networkReady } = awsNetwork(name, this, where, tags, {
            vpcBlock,
            subnetMode,
            zones,
            vpcId: args.vpcId,
            subnetIds,
            bastionSubnetId: args.bastionSubnetId,
        });
        const { sg, bastionSg, rules } = awsSecurityGroups(name, this, where, tags, {
            poolName,
            vpcId,
            withBastion,
            adminCidrs,
            ports,
            peerCidrs,
            appPorts,
            appCidrs,
        });

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
                    rootBlockDevice: { volumeSize: diskGiB, volumeType: "gp3", encrypted: true, deleteOnTermination: true, tags: tags(`${role}-root`) },
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
        ({ privateAddresses: this.privateAddresses, publicAddresses: this.publicAddresses, hostKeys: this.hostKeys, knownHosts: this.knownHosts, sshConfig: this.sshConfig } =
            poolOutputs(hosts, poolName));
        this.sshPrivateKey = keys.privateKey;
        this.sshPublicKey = keys.publicKey;
        this.securityGroupId = sg.id;
        this.vpcId = pulumi.output(vpcId);
        this.subnetIds = pulumi.all(machineSubnets);

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
