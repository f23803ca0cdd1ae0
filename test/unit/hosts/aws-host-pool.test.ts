/**
 * AwsHostPool under mocks: the exact resources of each network shape, the security properties of
 * what it registers (SSH, cluster and app rules; IMDSv2; encrypted gp3; key-only SSH; host keys in
 * the user data), tags everywhere, zone spread, and bad input refused before anything registers.
 */
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, keyPairOutputs, messageOf, recordResources, refusedIn, valueOf } from "../mocks";
import { resetClaims } from "../../../lib/core/claims";
import { isHost } from "../../../lib/core/host";
import { Validator } from "../../../lib/core/validate";
import { deriveEd25519, ed25519Seed } from "../../../lib/shared/ssh-keys";
import { AwsHostPool, AwsHostPoolArgs } from "../../../lib/hosts/aws";
import { ec2UserData, instanceArchitecture } from "../../../lib/hosts/aws/aws-checks";
import { dockerEngineUserData } from "../../../lib/runtime/docker-engine";

let machineIndex = 0;
const registered = recordResources(
    (type, name, inputs) => {
        if (type === "aws:ec2/instance:Instance") {
            const n = ++machineIndex;
            return {
                privateIp: `10.60.0.${10 + n}`,
                ...(inputs.associatePublicIpAddress ? { publicIp: `203.0.113.${10 + n}` } : {}),
                availabilityZone: "eu-west-1b",
            };
        }
        if (type === "aws:ec2/keyPair:KeyPair") return { keyName: `${name}-name` };
        return keyPairOutputs(type, name);
    },
    (token, inputs) => {
        if (token !== "aws:ec2/getAmi:getAmi") return undefined;
        const arch = (inputs.filters as { name: string; values: string[] }[]).find((f) => f.name === "architecture")!.values[0];
        return { id: `ami-${arch}` };
    },
);

const settle = () => new Promise((r) => setTimeout(r, 30));

beforeEach(async () => {
    await settle();
    registered.splice(0);
    resetClaims();
    machineIndex = 0;
});

const KNOWN =
    "size, poolName, region, zones, vpcId, subnetIds, vpcCidr, subnetMode, publicIp, image, amiId, instanceType, diskGiB, rootVolumeGiB, spot, tags, labels, sshUser, sshKey, adminCidrs, allowWorldSsh, clusterPorts, clusterPeerCidrs, appPorts, appCidrs, bastion, bastionSubnetId, userData";
const ADMIN = ["198.51.100.0/24"];
const base = (more: Partial<AwsHostPoolArgs> = {}): AwsHostPoolArgs => ({ size: 2, region: "eu-west-1", adminCidrs: ADMIN, ...more });

/** Builds a pool and waits until every child is registered. */
async function build(args: AwsHostPoolArgs, name = "p") {
    const pool = new AwsHostPool(name, args);
    await valueOf(pool.privateAddresses);
    await Promise.all(pool.userData.map((d) => valueOf(d)));
    await Promise.all([...pool.hosts, ...(pool.bastion ? [pool.bastion] : [])].flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    await settle();
    return pool;
}

const names = () => registered.map((r) => `${r.type} ${r.name}`).sort();
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};
const ofType = (type: string) => registered.filter((r) => r.type === type);
/** A secret input as the engine receives it: the wrapper, then its value. */
const unsecret = (value: unknown): unknown => {
    const w = value as Record<string, unknown>;
    expect(w[SECRET_SIG]).toBe(SECRET_MARK);
    return w.value;
};
const decoded = (name: string) => zlib.gunzipSync(Buffer.from(unsecret(byName(name).inputs.userDataBase64) as string, "base64")).toString("utf8");

const T = {
    pool: "flotilla:hosts:AwsHostPool",
    keys: "pulumi-nodejs:dynamic/flotilla:SshKeyPair",
    key: "aws:ec2/keyPair:KeyPair",
    vpc: "aws:ec2/vpc:Vpc",
    igw: "aws:ec2/internetGateway:InternetGateway",
    rt: "aws:ec2/routeTable:RouteTable",
    rta: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    subnet: "aws:ec2/subnet:Subnet",
    eip: "aws:ec2/eip:Eip",
    nat: "aws:ec2/natGateway:NatGateway",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    in: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    out: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    vm: "aws:ec2/instance:Instance",
};
const CLUSTER_RULES = [
    "cluster-tcp-2377",
    "cluster-tcp-7946",
    "cluster-udp-7946",
    "cluster-udp-4789",
    "cluster-tcp-6443",
    "cluster-tcp-2379-2380",
    "cluster-tcp-10250",
    "cluster-tcp-10259",
    "cluster-tcp-10257",
    "cluster-tcp-10256",
    "cluster-udp-8472",
];
const common = (name: string, machines: number) => [
    `${T.pool} ${name}`,
    `${T.keys} ${name}-ssh-key`,
    `${T.keys} ${name}-host-key-seed`,
    `${T.key} ${name}-key`,
    `${T.sg} ${name}-sg`,
    ...CLUSTER_RULES.map((r) => `${T.in} ${name}-${r}`),
    `${T.out} ${name}-egress`,
    ...Array.from({ length: machines }, (_, i) => `${T.vm} ${name}-machine-${i}`),
];

describe("AwsHostPool: resources of each shape", () => {
    test("own VPC, public, one zone: VPC, internet gateway, one public subnet and its route table, SSH and Kubernetes API from adminCidrs", async () => {
        await build(base({ zones: ["eu-west-1a"] }));
        expect(names()).toEqual(
            [
                ...common("p", 2),
                `${T.vpc} p-vpc`,
                `${T.igw} p-igw`,
                `${T.rt} p-public-rt`,
                `${T.subnet} p-public-0`,
                `${T.rta} p-public-0`,
                `${T.in} p-ssh-0`,
                `${T.in} p-kube-api-0`,
            ].sort(),
        );
        expect(byName("p-vpc").inputs).toMatchObject({ cidrBlock: "10.60.0.0/16", enableDnsHostnames: true, enableDnsSupport: true, region: "eu-west-1" });
        expect(byName("p-public-0").inputs).toMatchObject({ cidrBlock: "10.60.0.0/20", availabilityZone: "eu-west-1a", vpcId: "p-vpc-id", mapPublicIpOnLaunch: false });
        expect(byName("p-public-rt").inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", gatewayId: "p-igw-id" }]);
    });

    test("own VPC, public, three zones: a subnet per zone, machines spread round-robin", async () => {
        const pool = await build(base({ size: 5, zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }));
        expect(names()).toEqual(
            [
                ...common("p", 5),
                `${T.vpc} p-vpc`,
                `${T.igw} p-igw`,
                `${T.rt} p-public-rt`,
                ...[0, 1, 2].flatMap((k) => [`${T.subnet} p-public-${k}`, `${T.rta} p-public-${k}`]),
                `${T.in} p-ssh-0`,
                `${T.in} p-kube-api-0`,
            ].sort(),
        );
        expect([0, 1, 2].map((k) => byName(`p-public-${k}`).inputs.cidrBlock)).toEqual(["10.60.0.0/20", "10.60.16.0/20", "10.60.32.0/20"]);
        expect([0, 1, 2, 3, 4].map((i) => byName(`p-machine-${i}`).inputs.subnetId)).toEqual([0, 1, 2, 0, 1].map((k) => `p-public-${k}-id`));
        expect(pool.hosts.map((h) => h.labels.zone)).toEqual(["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1a", "eu-west-1b"]);
        expect(await valueOf(pool.subnetIds)).toEqual([0, 1, 2].map((k) => `p-public-${k}-id`));
    });

    test("own VPC, private, with a bastion: private subnets per zone, one public subnet with the NAT gateway and the bastion", async () => {
        const pool = await build(base({ zones: ["eu-west-1a", "eu-west-1b"], bastion: true }));
        expect(names()).toEqual(
            [
                ...common("p", 2),
                `${T.vpc} p-vpc`,
                `${T.igw} p-igw`,
                `${T.rt} p-public-rt`,
                `${T.rt} p-private-rt`,
                `${T.subnet} p-public-0`,
                `${T.rta} p-public-0`,
                `${T.subnet} p-private-0`,
                `${T.rta} p-private-0`,
                `${T.subnet} p-private-1`,
                `${T.rta} p-private-1`,
                `${T.eip} p-nat-eip`,
                `${T.nat} p-nat`,
                `${T.sg} p-bastion-sg`,
                `${T.in} p-bastion-ssh-0`,
                `${T.out} p-bastion-egress`,
                `${T.in} p-ssh-bastion`,
                `${T.vm} p-bastion`,
            ].sort(),
        );
        expect(byName("p-nat").inputs).toMatchObject({ allocationId: "p-nat-eip-id", subnetId: "p-public-0-id", connectivityType: "public" });
        expect(byName("p-nat-eip").inputs.domain).toBe("vpc");
        expect(byName("p-private-rt").inputs.routes).toEqual([{ cidrBlock: "0.0.0.0/0", natGatewayId: "p-nat-id" }]);
        expect(byName("p-public-0").inputs.cidrBlock).toBe("10.60.32.0/20");
        // Machines: private subnets, no public address, SSH only from the bastion's group.
        expect([0, 1].map((i) => byName(`p-machine-${i}`).inputs.subnetId)).toEqual(["p-private-0-id", "p-private-1-id"]);
        expect([0, 1].map((i) => byName(`p-machine-${i}`).inputs.associatePublicIpAddress)).toEqual([false, false]);
        expect(byName("p-ssh-bastion").inputs).toMatchObject({ securityGroupId: "p-sg-id", referencedSecurityGroupId: "p-bastion-sg-id", fromPort: 22, toPort: 22, ipProtocol: "tcp" });
        expect(byName("p-bastion-ssh-0").inputs).toMatchObject({ securityGroupId: "p-bastion-sg-id", cidrIpv4: "198.51.100.0/24", fromPort: 22, toPort: 22 });
        const bastion = byName("p-bastion").inputs;
        expect(bastion).toMatchObject({ subnetId: "p-public-0-id", associatePublicIpAddress: true, instanceType: "t3.micro", vpcSecurityGroupIds: ["p-bastion-sg-id"] });
        // Hosts reach the machines at their private address through the bastion.
        const c = pool.hosts[1].connection;
        expect(pool.hosts[1].publicAddress).toBeUndefined();
        expect(await valueOf(c.host)).toBe(await valueOf(pool.hosts[1].privateAddress));
        expect(await valueOf(c.bastion!.host)).toBe(await valueOf(pool.bastion!.publicAddress));
        expect(await valueOf(c.bastion!.hostKey)).toBe(await valueOf(pool.bastion!.connection.hostKey));
        expect(await valueOf(pool.publicAddresses)).toEqual([]);
        // The bastion's user data has the pool's part only (no runtime).
        expect(decoded("p-bastion")).toContain(await valueOf(pool.bastion!.connection.hostKey));
    });

    test("given VPC and subnets: no network of its own, machines spread over the subnets", async () => {
        const pool = await build(base({ size: 3, vpcId: "vpc-0abc", subnetIds: ["subnet-01", "subnet-02"] }));
        expect(names()).toEqual([...common("p", 3), `${T.in} p-ssh-0`, `${T.in} p-kube-api-0`].sort());
        expect(byName("p-sg").inputs.vpcId).toBe("vpc-0abc");
        expect([0, 1, 2].map((i) => byName(`p-machine-${i}`).inputs.subnetId)).toEqual(["subnet-01", "subnet-02", "subnet-01"]);
        expect(await valueOf(pool.vpcId)).toBe("vpc-0abc");
        expect(await valueOf(pool.hosts[0].network)).toBe("aws:vpc-0abc");
        // The zone comes from the instance (the subnets decide).
        expect(await valueOf(pool.hosts[2].labels.zone)).toBe("eu-west-1b");
    });

    test("given subnets without public addresses: machines reached at their private address", async () => {
        const pool = await build(base({ size: 1, vpcId: "vpc-0abc", subnetIds: ["subnet-01"], publicIp: false }));
        expect(byName("p-machine-0").inputs.associatePublicIpAddress).toBe(false);
        expect(pool.hosts[0].publicAddress).toBeUndefined();
        expect(await valueOf(pool.hosts[0].connection.host)).toBe("10.60.0.11");
    });

    test("given subnets with a bastion in the given public subnet", async () => {
        await build(base({ size: 1, vpcId: "vpc-0abc", subnetIds: ["subnet-01"], bastion: { instanceType: "t3.nano" }, bastionSubnetId: "subnet-0f" }));
        expect(byName("p-bastion").inputs).toMatchObject({ subnetId: "subnet-0f", instanceType: "t3.nano" });
        expect(byName("p-machine-0").inputs.associatePublicIpAddress).toBe(false);
    });
});

describe("AwsHostPool: region", () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    beforeEach(() => {
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
    });
    afterEach(() => {
        pulumi.runtime.setAllConfig({});
        for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    });

    test("without region: the provider's region from config labels the hosts and checks the zones; resources carry no region of their own", async () => {
        pulumi.runtime.setAllConfig({ "aws:region": "us-east-2" });
        const pool = await build({ size: 1, adminCidrs: ADMIN, zones: ["us-east-2c"] });
        expect([pool.region, pool.hosts[0].labels.region, pool.hosts[0].labels.zone]).toEqual(["us-east-2", "us-east-2", "us-east-2c"]);
        expect(registered.filter((r) => r.type.startsWith("aws:") && r.inputs.region !== undefined).map((r) => r.name)).toEqual([]);
    });

    test("given region: on every AWS resource", async () => {
        await build(base({ size: 1 }));
        const aws = registered.filter((r) => r.type.startsWith("aws:"));
        expect(aws.length).toBe(22);
        expect(aws.filter((r) => r.inputs.region !== "eu-west-1").map((r) => r.name)).toEqual([]);
    });

    test("no region anywhere: refused, saying where it may come from", () => {
        expect(messageOf(() => new AwsHostPool("p", { size: 1, adminCidrs: ADMIN }))).toBe(
            'flotilla:hosts:AwsHostPool "p": invalid region: received undefined; expected an AWS region such as "eu-west-1" (none given and no config aws:region, AWS_REGION or AWS_DEFAULT_REGION).',
        );
        expect(registered).toEqual([]);
    });
});

describe("AwsHostPool: security properties", () => {
    const ingressFromCidrs = () => ofType(T.in).filter((r) => r.inputs.cidrIpv4 !== undefined || r.inputs.cidrIpv6 !== undefined);

    test("no SSH from the whole internet without the opt-in; present with it", async () => {
        await build(base());
        expect(ingressFromCidrs().map((r) => [r.name, r.inputs.cidrIpv4, r.inputs.fromPort])).toEqual([
            ["p-ssh-0", "198.51.100.0/24", 22],
            ["p-kube-api-0", "198.51.100.0/24", 6443],
        ]);
        registered.splice(0);
        resetClaims();
        await build(base({ adminCidrs: ["0.0.0.0/0", "::/0"], allowWorldSsh: true, clusterPorts: ["swarm"] }));
        expect(ingressFromCidrs().map((r) => [r.name, r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6, r.inputs.fromPort, r.inputs.toPort])).toEqual([
            ["p-ssh-0", "0.0.0.0/0", 22, 22],
            ["p-ssh-1", "::/0", 22, 22],
        ]);
    });

    test("cluster ports only from the group itself; app ports only from appCidrs; egress all", async () => {
        await build(base({ clusterPorts: ["swarm"], appPorts: [80, 443], appCidrs: ["0.0.0.0/0"] }));
        const cluster = ofType(T.in).filter((r) => r.name.includes("-cluster-"));
        expect(cluster.map((r) => [r.name, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort])).toEqual([
            ["p-cluster-tcp-2377", "tcp", 2377, 2377],
            ["p-cluster-tcp-7946", "tcp", 7946, 7946],
            ["p-cluster-udp-7946", "udp", 7946, 7946],
            ["p-cluster-udp-4789", "udp", 4789, 4789],
        ]);
        for (const r of cluster) {
            expect(r.inputs).toMatchObject({ securityGroupId: "p-sg-id", referencedSecurityGroupId: "p-sg-id" });
            expect([r.inputs.cidrIpv4, r.inputs.cidrIpv6]).toEqual([undefined, undefined]);
        }
        expect(ingressFromCidrs().map((r) => [r.name, r.inputs.cidrIpv4, r.inputs.fromPort])).toEqual([
            ["p-ssh-0", "198.51.100.0/24", 22],
            ["p-app-80-0", "0.0.0.0/0", 80],
            ["p-app-443-0", "0.0.0.0/0", 443],
        ]);
        expect(byName("p-egress").inputs).toMatchObject({ securityGroupId: "p-sg-id", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" });
    });

    test("clusterPeerCidrs: the cluster ports also from the members outside the pool (a hybrid cluster), never from the world", async () => {
        await build(base({ clusterPorts: ["swarm"], clusterPeerCidrs: ["192.0.2.10/32", "2001:db8::/64"] }));
        const peers = ofType(T.in).filter((r) => r.name.includes("-peer-"));
        expect(peers.map((r) => [r.name, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.cidrIpv4, r.inputs.cidrIpv6])).toEqual([
            ["p-cluster-tcp-2377-peer-0", "tcp", 2377, "192.0.2.10/32", undefined],
            ["p-cluster-tcp-2377-peer-1", "tcp", 2377, undefined, "2001:db8::/64"],
            ["p-cluster-tcp-7946-peer-0", "tcp", 7946, "192.0.2.10/32", undefined],
            ["p-cluster-tcp-7946-peer-1", "tcp", 7946, undefined, "2001:db8::/64"],
            ["p-cluster-udp-7946-peer-0", "udp", 7946, "192.0.2.10/32", undefined],
            ["p-cluster-udp-7946-peer-1", "udp", 7946, undefined, "2001:db8::/64"],
            ["p-cluster-udp-4789-peer-0", "udp", 4789, "192.0.2.10/32", undefined],
            ["p-cluster-udp-4789-peer-1", "udp", 4789, undefined, "2001:db8::/64"],
        ]);
        registered.splice(0);
        resetClaims();
        expect(messageOf(() => new AwsHostPool("p", base({ clusterPeerCidrs: ["0.0.0.0/0"] })))).toBe(
            'flotilla:hosts:AwsHostPool "p": invalid clusterPeerCidrs[0]: received "0.0.0.0/0"; expected a block narrower than the whole internet (cluster ports are never open to the world).',
        );
        await settle();
        expect(registered).toEqual([]);
    });

    test("instances: IMDSv2 required with hop limit 1, encrypted gp3 root, the image looked up by owner and architecture, the pool's key pair", async () => {
        await build(base({ rootVolumeGiB: 40 }));
        const m = byName("p-machine-0").inputs;
        expect(m.metadataOptions).toEqual({ httpTokens: "required", httpPutResponseHopLimit: 1, httpEndpoint: "enabled" });
        expect(m.rootBlockDevice).toMatchObject({ volumeSize: 40, volumeType: "gp3", encrypted: true, deleteOnTermination: true });
        expect(m).toMatchObject({ ami: "ami-x86_64", instanceType: "t3.small", keyName: "p-key-name", userDataReplaceOnChange: true, associatePublicIpAddress: true, vpcSecurityGroupIds: ["p-sg-id"] });
        expect(m.instanceMarketOptions).toBeUndefined();
        expect(byName("p-key").inputs.publicKey).toBe(keyPairOutputs(T.keys, "p-ssh-key")!.publicKey);
    });

    test("arm64 instance types get the arm64 image; Ubuntu its own user; spot when asked", async () => {
        const pool = await build(base({ size: 1, instanceType: "t4g.small", image: "ubuntu-24.04", spot: true }));
        const m = byName("p-machine-0").inputs;
        expect(m.ami).toBe("ami-arm64");
        expect(m.instanceMarketOptions).toEqual({ marketType: "spot", spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" } });
        expect([pool.sshUser, await valueOf(pool.hosts[0].platform)]).toEqual(["ubuntu", { os: "ubuntu", osVersion: "24.04", arch: "arm64" }]);
        expect(decoded("p-machine-0")).toContain('"name": "ubuntu"');
        expect(["t3.small", "t4g.nano", "m7g.large", "c7gn.xlarge", "g4dn.xlarge", "m7i-flex.large", "is4gen.large"].map(instanceArchitecture)).toEqual([
            "amd64",
            "arm64",
            "arm64",
            "arm64",
            "amd64",
            "amd64",
            "arm64",
        ]);
    });

    test("an amiId given is booted as is, no lookup", async () => {
        await build(base({ size: 1, amiId: "ami-0given" }));
        expect(byName("p-machine-0").inputs.ami).toBe("ami-0given");
    });

    test("key-only SSH; the host key in the gzip'd user data is the one the Host announces; pool.userData is that document", async () => {
        const pool = await build(base({ userData: [dockerEngineUserData()] }));
        for (const i of [0, 1]) {
            const text = decoded(`p-machine-${i}`);
            expect(text).toBe(await valueOf(pool.userData[i]));
            expect(await pulumi.isSecret(pool.userData[i])).toBe(true);
            expect(text).toContain('"ssh_pwauth": false');
            expect(text).toContain('"lock_passwd": true');
            expect(text).toContain('"disable_root": true');
            expect(text).toContain(`{"hostname":"p-${i}","preserve_hostname":false,"manage_etc_hosts":true}`);
            // The docker engine part is there, and the whole fits EC2's limit gzip'd.
            expect(text).toContain("docker engine");
            expect(Buffer.from(unsecret(byName(`p-machine-${i}`).inputs.userDataBase64) as string, "base64").length).toBeLessThanOrEqual(16384);
            const seed = ed25519Seed(keyPairOutputs(T.keys, "p-host-key-seed")!.privateKey as string)!;
            const expected = deriveEd25519(seed, `p-${i}`, `root@p-${i}`);
            expect(await valueOf(pool.hosts[i].connection.hostKey)).toBe(expected.publicKey);
            expect(text).toContain(JSON.stringify(expected.privateKey).slice(1, -1));
            expect(text).toContain(expected.publicKey);
        }
        expect(await pulumi.isSecret(pool.sshPrivateKey)).toBe(true);
    });

    test("tags on every taggable resource (and the root volumes)", async () => {
        await build(base({ bastion: true, zones: ["eu-west-1a"], tags: { team: "blue" } }));
        const taggable = registered.filter((r) => r.type.startsWith("aws:") && r.type !== T.rta);
        expect(taggable.length).toBeGreaterThan(20);
        for (const r of taggable) {
            expect([r.name, r.inputs.tags]).toEqual([r.name, expect.objectContaining({ team: "blue", "flotilla:pool": "p", Name: expect.stringMatching(/^p-/) })]);
        }
        expect((byName("p-machine-0").inputs.rootBlockDevice as { tags: unknown }).tags).toEqual({ team: "blue", "flotilla:pool": "p", Name: "p-machine-0-root" });
        expect(byName("p-machine-1").inputs.tags).toEqual({ team: "blue", "flotilla:pool": "p", Name: "p-1" });
    });

    test("hosts follow the Host contract", async () => {
        const pool = await build(base({ poolName: "web", zones: ["eu-west-1a"], labels: { team: "blue" } }));
        expect(pool.hosts.map((h) => h.name)).toEqual(["web-0", "web-1"]);
        const h = pool.hosts[1];
        expect(await valueOf(h.instanceId)).toBe("p-machine-1-id");
        expect([await valueOf(h.privateAddress), await valueOf(h.publicAddress)]).toEqual(["10.60.0.12", "203.0.113.12"]);
        expect([await valueOf(h.connection.host), await valueOf(h.connection.port), await valueOf(h.connection.user)]).toEqual(["203.0.113.12", 22, "admin"]);
        expect(h.connection.bastion).toBeUndefined();
        expect(isHost(h)).toBe(true);
        expect(h.labels).toEqual({ team: "blue", provider: "aws", pool: "web", region: "eu-west-1", zone: "eu-west-1a" });
        expect([h.packageAccess, await valueOf(h.platform), await valueOf(h.network)]).toEqual(["upstream", { os: "debian", osVersion: "12", arch: "amd64" }, "aws:p-vpc-id"]);
        expect(await valueOf(h.ready[0].urn)).toContain("p-machine-1");
        expect(await valueOf(pool.publicAddresses)).toEqual(["203.0.113.11", "203.0.113.12"]);
        expect(await pulumi.isSecret(pulumi.output(h.connection.privateKey))).toBe(true);
    });
});

describe("AwsHostPool: bad input is refused before anything is registered", () => {
    /** The message a construction fails with; nothing registered by it. */
    const refused = refusedIn(registered);
    const P = 'flotilla:hosts:AwsHostPool "p": invalid';
    test.each([
        [{ size: 0 }, `${P} size: received 0; expected an integer from 1 to 100.`],
        [{ size: -1 }, `${P} size: received -1; expected an integer from 1 to 100.`],
        [{ region: "eu_west_1" }, `${P} region: received "eu_west_1"; expected an AWS region such as "eu-west-1".`],
        [{ zones: ["eu-west-2a"] }, `${P} zones[0]: received "eu-west-2a"; expected a zone of region eu-west-1: "eu-west-1" and one letter, e.g. "eu-west-1a".`],
        [
            { adminCidrs: ["198.51.100.7/24"] },
            `${P} adminCidrs[0]: received "198.51.100.7/24"; expected an IPv4 CIDR block such as "203.0.113.0/24" or an IPv6 one (host bits set (did you mean 198.51.100.0/24?)).`,
        ],
        [{ adminCidrs: [] }, `${P} adminCidrs: received []; expected at least one CIDR block, e.g. ["203.0.113.0/24"].`],
        [
            { adminCidrs: ["0.0.0.0/0"] },
            `${P} adminCidrs[0]: received "0.0.0.0/0"; expected a block narrower than the whole internet (world-open needs allowWorldSsh: true).`,
        ],
        [{ instanceType: "" }, `${P} instanceType: received ""; expected an EC2 instance type such as "t3.small" (family.size).`],
        [
            { vpcId: "vpc-0abc", subnetIds: ["subnet-01"], bastion: true },
            `${P} bastionSubnetId: received undefined; expected the id of a public subnet of vpcId for the bastion (with a bastion, the machines get no public address and are reached only through it).`,
        ],
        [
            { subnetMode: "private" },
            `${P} subnetMode: received "private"; expected "public", or "private" with a bastion (nothing else reaches the private subnets of a new VPC).`,
        ],
        [{ vpcId: "vpc-0abc", subnetIds: ["subnet-01"], bastionSubnetId: "subnet-0f" }, `${P} bastionSubnetId: received "subnet-0f"; expected no value without a bastion.`],
        [{ subnetIds: ["subnet-01"] }, `${P} vpcId: received undefined; expected the VPC of subnetIds.`],
        [{ vpcId: "vpc-0abc", subnetIds: ["subnet-01"], zones: ["eu-west-1a"] }, `${P} zones: received ["eu-west-1a"]; expected no value with vpcId/subnetIds (the given subnets decide).`],
        [{ bastion: true, subnetMode: "public" }, `${P} subnetMode: received "public"; expected "private" with a bastion (machines of a public subnet without a public address have no way out to the internet).`],
        [{ size: 40, vpcCidr: "10.60.0.0/24" }, `${P} vpcCidr: received "10.60.0.0/24"; expected a block whose /28 subnets hold 40 machines each (they hold 11).`],
        [{ regoin: "eu-west-1" }, `${P} regoin: received a string of 9 characters; expected no such property (did you mean "region"?); known: ${KNOWN}.`],
        [{ appPorts: [80] }, `${P} appCidrs: received undefined; expected at least one CIDR block the appPorts are open from.`],
        [{ tags: { Name: "x" } }, `${P} tags.Name: received "x"; expected no "Name" tag: the pool sets it.`],
    ])("%p", async (more, message) => {
        expect(await refused(() => new AwsHostPool("p", base(more as Partial<AwsHostPoolArgs>)))).toBe(message);
        expect(registered).toEqual([]);
    });

    test("two pools with the same name", async () => {
        await build(base({ poolName: "web" }), "first");
        expect(await refused(() => new AwsHostPool("p", base({ poolName: "web" })))).toBe(
            `${P} poolName: received "web"; expected a pool name no other pool of this program uses (flotilla:hosts:AwsHostPool "first" does).`,
        );
    });

    test("user data that does not fit EC2's limit even gzip'd names userData, never showing it", () => {
        // Incompressible text: a hash chain in hex.
        let text = "#!/bin/sh\n";
        for (let h = "seed"; text.length < 40000; ) text += (h = crypto.createHash("sha256").update(h).digest("hex"));
        const gz = zlib.gzipSync(Buffer.from(text), { level: 9 }).length;
        expect(gz).toBeGreaterThan(16384);
        expect(() => ec2UserData(new Validator("flotilla:hosts:AwsHostPool", "p"), text)).toThrow(
            `${P} userData: received a document of ${text.length} bytes, ${gz} gzip'd; expected user data that fits EC2's 16384 bytes once gzip'd (the pool's part and every userData part together).`,
        );
        expect(ec2UserData(new Validator("flotilla:hosts:AwsHostPool", "p"), "#!/bin/sh\ntrue\n")).toBe(zlib.gzipSync("#!/bin/sh\ntrue\n", { level: 9 }).toString("base64"));
    });
});

describe("AwsHostPool: an optional dependency", () => {
    test("importing the library's root loads neither hosts/aws/ nor @pulumi/aws; flotilla/aws is its own subpath export", () => {
        const root = path.join(__dirname, "../../..");
        const probe =
            'require("./lib/index.ts"); const loaded = Object.keys(require.cache);' +
            'console.log(JSON.stringify([loaded.filter((k) => k.includes("/@pulumi/aws/")).length, loaded.some((k) => k.includes("/lib/hosts/aws/"))]))';
        const out = childProcess.execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", probe], { cwd: root, encoding: "utf8" });
        expect(JSON.parse(out)).toEqual([0, false]);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const pkg = require("../../../package.json");
        expect(pkg.exports["./aws"]).toEqual({ types: "./dist/lib/hosts/aws/index.d.ts", default: "./dist/lib/hosts/aws/index.js" });
        expect(pkg.peerDependenciesMeta["@pulumi/aws"]).toEqual({ optional: true });
    });
});
