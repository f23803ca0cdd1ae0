/**
 * The inbound rules of an {@link AzureHostPool}'s network security group, in priority order: SSH from
 * `adminCidrs` (to the machines, or to the bastion only), SSH from the bastion, the cluster ports
 * between the pool's machines (and from `clusterPeerCidrs`), `appPorts` from `appCidrs`, and an
 * explicit deny of everything else (Azure's defaults allow the whole virtual network).
 */
import * as pulumi from "@pulumi/pulumi";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import { ClusterPort } from "../../core/cluster";

/** One address list as Azure wants it: a single prefix, or several. */
function sources(cidrs: string[]): { sourceAddressPrefix: string } | { sourceAddressPrefixes: string[] } {
    return cidrs.length === 1 ? { sourceAddressPrefix: cidrs[0] } : { sourceAddressPrefixes: cidrs };
}

/**
 * Source lists one rule each: IPv4 blocks (and Azure's `*`/`Internet`) apart from IPv6 blocks, as
 * a security rule takes addresses of one IP version. Names get `-v6` for the IPv6 one.
 */
function byVersion(cidrs: string[]): { suffix: string; offset: number; cidrs: string[] }[] {
    const v6 = cidrs.filter((c) => c.includes(":"));
    const v4 = cidrs.filter((c) => !c.includes(":"));
    return [
        ...(v4.length ? [{ suffix: "", offset: 0, cidrs: v4 }] : []),
        ...(v6.length ? [{ suffix: "-v6", offset: 1, cidrs: v6 }] : []),
    ];
}

/** The pool's inbound rules (see {@link AzureHostPool}). */
export function securityRules(p: {
    adminCidrs: string[];
    ports: readonly ClusterPort[];
    peerCidrs: string[];
    appPorts: number[];
    appCidrs: string[];
    asg: pulumi.Output<string>;
    bastionAsg?: pulumi.Output<string>;
}): azureInputs.network.SecurityRuleArgs[] {
    const inbound = { direction: "Inbound", sourcePortRange: "*" };
    const pool = [{ id: p.asg }];
    const rules: azureInputs.network.SecurityRuleArgs[] = byVersion(p.adminCidrs).map((s) => ({
        ...inbound,
        name: `ssh-from-admins${s.suffix}`,
        description: p.bastionAsg ? "SSH to the bastion from adminCidrs" : "SSH from adminCidrs",
        priority: 100 + s.offset,
        access: "Allow",
        protocol: "Tcp",
        ...sources(s.cidrs),
        destinationApplicationSecurityGroups: p.bastionAsg ? [{ id: p.bastionAsg }] : pool,
        destinationPortRange: "22",
    }));
    if (p.bastionAsg) {
        rules.push({
            ...inbound,
            name: "ssh-from-bastion",
            description: "SSH to the machines from the bastion only",
            priority: 110,
            access: "Allow",
            protocol: "Tcp",
            sourceApplicationSecurityGroups: [{ id: p.bastionAsg }],
            destinationApplicationSecurityGroups: pool,
            destinationPortRange: "22",
        });
    }
    (["tcp", "udp"] as const).forEach((protocol, i) => {
        const ranges = p.ports.filter((c) => c.protocol === protocol).map((c) => (c.toPort ? `${c.port}-${c.toPort}` : String(c.port)));
        if (ranges.length === 0) return;
        rules.push({
            ...inbound,
            name: `cluster-${protocol}`,
            description: `cluster ports (${protocol}) between the pool's machines only`,
            priority: 200 + 10 * i,
            access: "Allow",
            protocol: protocol === "tcp" ? "Tcp" : "Udp",
            sourceApplicationSecurityGroups: pool,
            destinationApplicationSecurityGroups: pool,
            destinationPortRanges: ranges,
        });
        for (const s of byVersion(p.peerCidrs)) {
            rules.push({
                ...inbound,
                name: `cluster-${protocol}-peers${s.suffix}`,
                description: `cluster ports (${protocol}) from the cluster's members outside the pool (clusterPeerCidrs)`,
                priority: 220 + 10 * i + s.offset,
                access: "Allow",
                protocol: protocol === "tcp" ? "Tcp" : "Udp",
                ...sources(s.cidrs),
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: ranges,
            });
        }
    });
    if (p.appPorts.length > 0) {
        for (const s of byVersion(p.appCidrs)) {
            rules.push({
                ...inbound,
                name: `app-ports${s.suffix}`,
                description: "the workloads' published ports from appCidrs",
                priority: 300 + s.offset,
                access: "Allow",
                protocol: "Tcp",
                ...sources(s.cidrs),
                destinationApplicationSecurityGroups: pool,
                destinationPortRanges: p.appPorts.map(String),
            });
        }
    }
    // Azure's defaults allow the whole virtual network and the load balancer before denying: deny here.
    rules.push({
        ...inbound,
        name: "deny-all-inbound",
        description: "everything else, from anywhere (the virtual network included)",
        priority: 4096,
        access: "Deny",
        protocol: "*",
        sourceAddressPrefix: "*",
        destinationAddressPrefix: "*",
        destinationPortRange: "*",
    });
    return rules;
}
