/**
 * The security groups of an {@link AwsHostPool}: one for the machines (and one for the bastion),
 * with one rule resource per port and block (changing one rule replaces that rule alone, and a rule
 * can reference the group itself). Children of the pool, named `<name>-<role>` as they always were.
 */
import { SecurityGroup } from "@pulumi/aws/ec2/securityGroup";
import { SecurityGroupEgressRule } from "@pulumi/aws/vpc/securityGroupEgressRule";
import { SecurityGroupIngressRule } from "@pulumi/aws/vpc/securityGroupIngressRule";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPort } from "../../core/cluster";
import { includesPort } from "../common/cluster-ports";
import { clusterRuleRole } from "./aws-checks";

/** Who reaches what (after validation). */
export interface AwsAccess {
    readonly poolName: string;
    readonly vpcId: pulumi.Input<string>;
    readonly withBastion: boolean;
    readonly adminCidrs: string[];
    /** The ports opened between the machines (and from `peerCidrs`). */
    readonly ports: readonly ClusterPort[];
    readonly peerCidrs: string[];
    readonly appPorts: number[];
    readonly appCidrs: string[];
}

/** The groups and every rule (what the instances wait for). */
export interface AwsSecurityGroups {
    readonly sg: SecurityGroup;
    readonly bastionSg: SecurityGroup | undefined;
    readonly rules: pulumi.Resource[];
}

/**
 * Creates the groups and rules as children of `component`: SSH from `adminCidrs` (to the bastion when
 * there is one, the machines then only from its group), the Kubernetes API from `adminCidrs` when the
 * cluster ports include 6443/tcp (without a bastion), the cluster ports from the group itself and
 * from `peerCidrs`, the app ports from `appCidrs`, all egress.
 */
export function awsSecurityGroups(
    name: string,
    component: pulumi.ComponentResource,
    where: { region?: string },
    tags: (role: string) => pulumi.Input<Record<string, string>>,
    access: AwsAccess,
): AwsSecurityGroups {
    const parent = { parent: component };
    const { poolName, vpcId, withBastion, adminCidrs, ports, peerCidrs, appPorts, appCidrs } = access;
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
        if (includesPort(ports, 6443, "tcp")) {
            adminCidrs.forEach((cidr, j) => ingress(`kube-api-${j}`, sg, { from: 6443, to: 6443, protocol: "tcp" }, { cidr }, "Kubernetes API from adminCidrs"));
        }
    }
    for (const p of ports) {
        ingress(clusterRuleRole(p), sg, { from: p.port, to: p.toPort ?? p.port, protocol: p.protocol }, { group: sg.id }, `${p.purpose}, between the pool's machines`);
        peerCidrs.forEach((cidr, j) =>
            ingress(`${clusterRuleRole(p)}-peer-${j}`, sg, { from: p.port, to: p.toPort ?? p.port, protocol: p.protocol }, { cidr }, `${p.purpose}, from the cluster's members outside the pool`),
        );
    }
    for (const port of appPorts) {
        appCidrs.forEach((cidr, j) => ingress(`app-${port}-${j}`, sg, { from: port, to: port, protocol: "tcp" }, { cidr }, "published app port from appCidrs"));
    }
    egressAll("egress", sg);
    return { sg, bastionSg, rules };
}
