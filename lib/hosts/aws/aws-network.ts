/**
 * The network of an {@link AwsHostPool}: the given VPC and subnets, or the pool's own VPC (public
 * subnets with an internet gateway, or private subnets behind one NAT gateway with a public subnet
 * for it and the bastion). Children of the pool, named `<name>-<role>` as they always were.
 */
import { Eip } from "@pulumi/aws/ec2/eip";
import { InternetGateway } from "@pulumi/aws/ec2/internetGateway";
import { NatGateway } from "@pulumi/aws/ec2/natGateway";
import { RouteTable } from "@pulumi/aws/ec2/routeTable";
import { RouteTableAssociation } from "@pulumi/aws/ec2/routeTableAssociation";
import { Subnet } from "@pulumi/aws/ec2/subnet";
import { Vpc } from "@pulumi/aws/ec2/vpc";
import * as pulumi from "@pulumi/pulumi";
import { Ipv4Subnet, formatIpv4 } from "../../core/ipv4";

/** What the pool decided about its network (after validation). */
export interface AwsNetworkPlan {
    /** The pool's own VPC block; undefined with given subnets. */
    readonly vpcBlock?: Ipv4Subnet;
    /** Subnets of the pool's own VPC. */
    readonly subnetMode: "public" | "private";
    /** Zones of the pool's own VPC (empty: one subnet in a zone AWS chooses). */
    readonly zones: string[];
    /** Given VPC, subnets and bastion subnet. */
    readonly vpcId?: pulumi.Input<string>;
    readonly subnetIds: pulumi.Input<string>[];
    readonly bastionSubnetId?: pulumi.Input<string>;
}

/** The network the machines go in. */
export interface AwsNetwork {
    readonly vpcId: pulumi.Input<string>;
    /** The machines' subnets (machine `i` in `i mod n`). */
    readonly machineSubnets: pulumi.Input<string>[];
    /** The bastion's (public) subnet. */
    readonly bastionSubnet: pulumi.Input<string> | undefined;
    /** What the instances wait for: the subnets' route table associations. */
    readonly networkReady: pulumi.Resource[];
}

/** Creates (or takes) the pool's network as children of `component`. */
export function awsNetwork(
    name: string,
    component: pulumi.ComponentResource,
    where: { region?: string },
    tags: (role: string) => pulumi.Input<Record<string, string>>,
    plan: AwsNetworkPlan,
): AwsNetwork {
    const parent = { parent: component };
    const { vpcBlock, zones, subnetMode } = plan;
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
            const eip = new Eip(`${name}-nat-eip`, { domain: "vpc", tags: tags("nat-eip"), ...where }, { parent: component, dependsOn: [igw] });
            const nat = new NatGateway(
                `${name}-nat`,
                { allocationId: eip.id, subnetId: pub.id, connectivityType: "public", tags: tags("nat"), ...where },
                { parent: component, dependsOn: [igw] },
            );
            const privateRoutes = new RouteTable(
                `${name}-private-rt`,
                { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tags("private-rt"), ...where },
                parent,
            );
            machineSubnets = zoneList.map((z, k) => subnet(`private-${k}`, k, z, privateRoutes).id);
        }
    } else {
        vpcId = plan.vpcId as pulumi.Input<string>;
        machineSubnets = plan.subnetIds;
        bastionSubnet = plan.bastionSubnetId;
    }
    return { vpcId, machineSubnets, bastionSubnet, networkReady };
}
