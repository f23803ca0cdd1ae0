/**
 * examples/hybrid under mocks: two sources, one swarm. The site's servers manage, the EC2 machines
 * work; every member advertises its public address (the networks are apart), the EC2 security
 * group opens the Swarm ports to the servers' public addresses only, and the pinned service goes
 * to the EC2 machines by their `provider` label.
 */
import { valueOf } from "../mocks";
import { ec2Outputs, evaluateExample, graph } from "../example-program";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

const SERVERS = [
    { name: "s1", address: "10.0.0.11", user: "ops", publicAddress: "198.51.100.11" },
    { name: "s2", address: "10.0.0.12", user: "ops", publicAddress: "198.51.100.12" },
    { name: "s3", address: "10.0.0.13", user: "ops", publicAddress: "198.51.100.13" },
];

test("3 site managers + 2 EC2 workers: one swarm over public addresses, Swarm ports open to the site only", async () => {
    const ec2 = ec2Outputs();
    const { registered, program } = await evaluateExample(
        "hybrid",
        {
            servers: JSON.stringify(SERVERS),
            sshPrivateKey: generateEd25519("ops@site").privateKey,
            adminCidr: "203.0.113.7/32",
            "aws:region": "eu-west-1",
        },
        { secret: ["sshPrivateKey"], outputs: ec2 },
    );
    const g = graph(registered);
    const R = "pulumi-nodejs:dynamic/flotilla:RemoteScript";
    const members = [...SERVERS.map((s) => s.name), "cloud-0", "cloud-1"];
    // Both sources, Docker on all five, one swarm (init on s1, a join per member), the stack.
    expect(g).toEqual(expect.arrayContaining([
        "flotilla:hosts:ExistingHosts site",
        "flotilla:hosts:AwsHostPool cloud",
        "flotilla:cluster:SwarmCluster swarm",
        "flotilla:workload:SwarmApp web",
        `${R} swarm-init`,
        `${R} web-deploy`,
        ...SERVERS.map((s) => `${R} site-probe-${s.name}`),
        ...members.map((m) => `${R} docker-install-${m}`),
        ...members.map((m) => `${R} swarm-join-${m}`),
        `${R} swarm-teardown`,
    ]));
    expect(g.filter((l) => l.startsWith("aws:ec2/instance:Instance"))).toEqual(["aws:ec2/instance:Instance cloud-machine-0", "aws:ec2/instance:Instance cloud-machine-1"]);
    // Public addresses across the two networks.
    expect(await valueOf(program.advertisedAddresses as never)).toEqual({
        s1: "198.51.100.11",
        s2: "198.51.100.12",
        s3: "198.51.100.13",
        "cloud-0": "203.0.113.11",
        "cloud-1": "203.0.113.12",
    });
    // The Swarm ports from the site's public addresses (and the group itself), nothing else.
    const peerRules = registered.filter((r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" && r.name.includes("-peer-"));
    expect(peerRules.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.cidrIpv4])).toEqual(
        [["tcp", 2377], ["tcp", 7946], ["udp", 7946], ["udp", 4789]].flatMap(([p, port]) => SERVERS.map((s) => [p, port, `${s.publicAddress}/32`])),
    );
    // Roles: s2, s3 join as managers; the EC2 machines as workers.
    const role = (m: string) => (registered.find((r) => r.name === `swarm-join-${m}`)!.inputs.environment as Record<string, string>).ROLE;
    expect(members.map(role)).toEqual(["manager", "manager", "manager", "worker", "worker"]);
    expect(await valueOf(program.urls as never)).toEqual(["198.51.100.11", "198.51.100.12", "198.51.100.13", "203.0.113.11", "203.0.113.12"].map((a) => `http://${a}/`));
});
