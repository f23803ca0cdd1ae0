/**
 * examples/aws-swarm evaluated as Pulumi would run it, under mocks: its imports of `flotilla` and
 * `flotilla/aws` are this checkout's sources, its config what its README tells a user to set. The
 * test asserts the resource graph: the pool's network, rules and machines, the runtime, the swarm
 * and the app.
 */
import * as pulumi from "@pulumi/pulumi";
import { Registered } from "../mocks";
import { ec2Outputs, evaluateExample } from "../example-program";

let registered: Registered[] = [];

/** Evaluates the example program with `config` (project aws-swarm, stack dev) and waits until its graph is registered. */
async function run(config: Record<string, string>): Promise<Record<string, unknown>> {
    registered = [];
    const ec2 = ec2Outputs(10);
    const evaluated = await evaluateExample("aws-swarm", config, {
        project: "aws-swarm",
        stack: "dev",
        // EC2's addresses, and what the stack deploy reports on a real create.
        outputs: (type, name, inputs) => (name.endsWith("-deploy") ? { result: JSON.stringify({ web: { running: 3, desired: 3 } }) } : ec2(type, name, inputs)),
    }).catch((err: unknown) => {
        registered = (err as { registered: Registered[] }).registered;
        throw err;
    });
    registered = evaluated.registered;
    await new Promise((r) => setTimeout(r, 300));
    return evaluated.program;
}

const count = (type: string) => registered.filter((r) => r.type === type).length;
const byName = (name: string) => registered.find((r) => r.name === name)!;

describe("examples/aws-swarm", () => {
    afterEach(() => pulumi.runtime.setAllConfig({}));

    test("three machines in a public VPC, Docker on each, one swarm of three managers, the web app; port 80 open to appCidr only", async () => {
        const exports = await run({ "aws:region": "eu-west-1", "aws-swarm:adminCidr": "198.51.100.7/32", "aws-swarm:appCidr": "0.0.0.0/0" });
        const types = registered.map((r) => r.type);
        expect(Object.fromEntries([...new Set(types)].sort().map((t) => [t, count(t)]))).toEqual({
            "aws:ec2/instance:Instance": 3,
            "aws:ec2/internetGateway:InternetGateway": 1,
            "aws:ec2/keyPair:KeyPair": 1,
            "aws:ec2/routeTable:RouteTable": 1,
            "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
            "aws:ec2/securityGroup:SecurityGroup": 1,
            "aws:ec2/subnet:Subnet": 1,
            "aws:ec2/vpc:Vpc": 1,
            // SSH from adminCidr, 4 swarm ports from the group itself, port 80 from appCidr.
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 6,
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
            "flotilla:hosts:AwsHostPool": 1,
            "flotilla:runtime:DockerEngine": 1,
            "flotilla:cluster:SwarmCluster": 1,
            "flotilla:workload:SwarmApp": 1,
            "pulumi-nodejs:dynamic/flotilla:SshKeyPair": 2,
            "pulumi-nodejs:dynamic/flotilla:RemoteScript": 12,
        });
        // One install per machine, the swarm (init, a join per manager, node labels, the teardown), the deploy.
        expect(registered.filter((r) => r.type === "pulumi-nodejs:dynamic/flotilla:RemoteScript").map((r) => r.name).sort()).toEqual(
            [
                "docker-install-swarm-0",
                "docker-install-swarm-1",
                "docker-install-swarm-2",
                "swarm-init",
                "swarm-join-swarm-0",
                "swarm-join-swarm-1",
                "swarm-join-swarm-2",
                "swarm-node-swarm-0",
                "swarm-node-swarm-1",
                "swarm-node-swarm-2",
                "swarm-teardown",
                "web-deploy",
            ].sort(),
        );
        expect(byName("swarm-ssh-0").inputs).toMatchObject({ cidrIpv4: "198.51.100.7/32", fromPort: 22, toPort: 22 });
        expect(byName("swarm-app-80-0").inputs).toMatchObject({ cidrIpv4: "0.0.0.0/0", fromPort: 80, toPort: 80, ipProtocol: "tcp" });
        expect(
            registered
                .filter((r) => r.name.startsWith("swarm-cluster-"))
                .map((r) => [r.name, r.inputs.referencedSecurityGroupId])
                .sort(),
        ).toEqual(["swarm-cluster-tcp-2377", "swarm-cluster-tcp-7946", "swarm-cluster-udp-4789", "swarm-cluster-udp-7946"].map((n) => [n, "swarm-sg-id"]));
        expect(byName("swarm-machine-0").inputs).toMatchObject({ ami: "ami-0debian12", instanceType: "t3.small" });
        expect(byName("swarm-machine-0").inputs.tags).toEqual({ project: "flotilla-aws-swarm", stack: "dev", "flotilla:pool": "swarm", Name: "swarm-0" });
        const urls = await new Promise((r) => (exports.urls as pulumi.Output<string[]>).apply(r));
        expect(urls).toEqual(["http://203.0.113.10/", "http://203.0.113.11/", "http://203.0.113.12/"]);
    });

    test("without adminCidr the program stops at the config", async () => {
        await expect(run({ "aws:region": "eu-west-1" })).rejects.toThrow("Missing required configuration variable 'aws-swarm:adminCidr'");
        expect(registered).toEqual([]);
    });
});
