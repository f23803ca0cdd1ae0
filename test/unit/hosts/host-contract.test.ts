import * as pulumi from "@pulumi/pulumi";
import { advertisedAddress, ResolvedMember } from "../../../lib/core/host";
import { SwarmCluster } from "../../../lib/cluster/swarm";
import { recordResources, testRuntimeHost, valueOf } from "../mocks";

const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) {
        return { result: JSON.stringify({ ipvs: false, clusterId: "c1", nodeId: "n0", workerToken: "WT", managerToken: "MT" }) };
    }
    const join = /-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeId: `node-${join[1]}` }) } : undefined;
});
beforeEach(() => registered.splice(0));

const member = (name: string, network: string | undefined, publicAddress?: string): ResolvedMember => ({
    name,
    privateAddress: `private-${name}`,
    publicAddress,
    network,
});

describe("advertisedAddress: private on a shared network, public across networks", () => {
    test.each([
        ["every member on one network", [member("a", "aws:vpc-1"), member("b", "aws:vpc-1")], "private-a"],
        ["a flat network (no network named)", [member("a", undefined), member("b", undefined)], "private-a"],
        ["one member on another network, a public address", [member("a", "aws:vpc-1", "1.2.3.4"), member("b", "azure:vnet-1")], "1.2.3.4"],
        ["a member alone", [member("a", "lab:x")], "private-a"],
    ])("%s", (_what, members, expected) => {
        expect(advertisedAddress(members[0], members)).toBe(expected);
    });

    test("a member on another network without a public address: why there is none", () => {
        const members = [member("a", "aws:vpc-1"), member("b", "azure:vnet-1"), member("c", "azure:vnet-1")];
        expect(advertisedAddress(members[0], members)).toEqual({
            reason: "a is on network aws:vpc-1 while other members are on azure:vnet-1, and it has no public address for them to reach it at",
        });
    });
});

describe("SwarmCluster across two networks", () => {
    test("members advertise their public addresses to each other, and join through the managers' public addresses", async () => {
        const host = (name: string, network: string, pub: string) => ({
            ...testRuntimeHost(name, `10.0.0.${name.length + 1}`),
            network,
            publicAddress: pulumi.output(pub),
        });
        const swarm = new SwarmCluster("sw", {
            managers: [host("m0", "aws:vpc-1", "198.51.100.10")],
            workers: [host("w10", "azure:vnet-1", "203.0.113.20")],
        });
        expect(await valueOf(swarm.advertisedAddresses)).toEqual({ m0: "198.51.100.10", w10: "203.0.113.20" });
        expect(await valueOf(swarm.capabilities)).toEqual({ serviceVirtualIp: false, routingMesh: false, loadBalancer: false });
        await valueOf(swarm.nodes);
        const join = registered.find((r) => r.name === "sw-join-w10")?.inputs as { environment: Record<string, string> };
        expect(join.environment).toMatchObject({ MANAGER_ADDRS: "198.51.100.10:2377", ADVERTISE_ADDR: "203.0.113.20" });
    });
});
