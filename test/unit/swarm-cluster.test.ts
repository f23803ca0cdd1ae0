import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, testRuntimeHost, valueOf } from "./mocks";
import { bundledScript, bundledScriptText } from "../../lib/shared/scripts";
import { SwarmCluster } from "../../lib/cluster/swarm";
import { SWARM_PORTS } from "../../lib/core/cluster";
import { RuntimeHost } from "../../lib/core/host";

/** What the Swarm scripts print as their result, in the mocks. */
const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) {
        return { result: JSON.stringify({ clusterId: "c1", nodeId: "node-m0", workerToken: "WT", managerToken: "MT" }) };
    }
    const join = /-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeId: `node-${join[1]}` }) } : undefined;
});
beforeEach(() => registered.splice(0));


const host = (name: string, address: string): RuntimeHost =>
    testRuntimeHost(name, address, { provider: "lab", hostKey: `ssh-ed25519 K-${name}`, labels: { zone: "z1" } });
const hosts = (n: number, prefix = "m") => Array.from({ length: n }, (_, i) => host(`${prefix}${i}`, `10.0.0.${i + 2}`));

async function settle(cluster: SwarmCluster) {
    await valueOf(cluster.nodes);
    await Promise.all([...cluster.managers, ...cluster.workers].flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
}
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name} in ${registered.map((x) => x.name).join(", ")}`);
    return r.inputs as Record<string, any>;
};

describe("SwarmCluster", () => {
    test("children: init on the first manager, a join per other member, a node resource per member", async () => {
        await settle(new SwarmCluster("sw", { managers: hosts(3), workers: hosts(2, "w") }));
        expect(registered.map((r) => r.name).sort()).toEqual(
            [
                "sw",
                "sw-init",
                "sw-join-m1",
                "sw-join-m2",
                "sw-join-w0",
                "sw-join-w1",
                "sw-node-m0",
                "sw-node-m1",
                "sw-node-m2",
                "sw-node-w0",
                "sw-node-w1",
            ].sort(),
        );
        expect(registered.find((r) => r.name === "sw")?.type).toBe("flotilla:cluster:SwarmCluster");
    });

    test("init advertises the private address; joins get role, leader address and a secret token", async () => {
        await settle(new SwarmCluster("sw", { managers: hosts(3), workers: hosts(1, "w") }));
        expect(byName("sw-init").environment).toEqual({ ADVERTISE_ADDR: "10.0.0.2" });
        expect(byName("sw-init").connection.host).toBe("10.0.0.2");
        const join = byName("sw-join-w0");
        expect(join.environment).toEqual({ ROLE: "worker", JOIN_ADDR: "10.0.0.2:2377", ADVERTISE_ADDR: "10.0.0.2" });
        expect(join.connection.host).toBe("10.0.0.2");
        expect(join.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(byName("sw-join-m1").environment.ROLE).toBe("manager");
        // The script is named and hashed (its text with the includes), not copied into the state.
        expect([join.script ?? "", join.scriptRef, join.scriptHash]).toEqual(["", "cluster/swarm-join.sh", bundledScript("cluster", "swarm-join.sh").hash]);
        expect(bundledScriptText(join.scriptRef)).toContain("docker swarm join --token \"$JOIN_TOKEN\"");
        expect(bundledScriptText(join.scriptRef)).toContain("wait_docker()"); // the common functions are included
    });

    test("node resources run on the first manager with the other managers as alternates, never on the node itself", async () => {
        await settle(
            new SwarmCluster("sw", {
                managers: hosts(3),
                workers: hosts(1, "w"),
                labels: { env: "t" },
                managerLabels: { role: "manager" },
                workerLabels: { role: "worker" },
            }),
        );
        const m1 = byName("sw-node-m1");
        expect(m1.connection.host).toBe("10.0.0.2");
        expect(m1.alternates[SECRET_SIG]).toBe(SECRET_MARK);
        expect(m1.alternates.value.map((a: any) => a.connection.host)).toEqual(["10.0.0.4"]);
        expect(byName("sw-node-w0").alternates.value.map((a: any) => a.connection.host)).toEqual(["10.0.0.3", "10.0.0.4"]);
        expect(byName("sw-node-w0").environment).toMatchObject({
            NODE_NAME: "w0",
            ROLE: "worker",
            LABELS: "provider=lab\npool=p\nzone=z1\nenv=t\nrole=worker",
            BOOTSTRAP: "false",
            DRAIN_TIMEOUT: "300",
        });
        expect(byName("sw-node-m0").environment).toMatchObject({
            NODE_ID: "node-m0",
            BOOTSTRAP: "true",
            LABELS: "provider=lab\npool=p\nzone=z1\nenv=t\nrole=manager",
        });
        expect(byName("sw-node-w0").environment.NODE_ID).toBe("node-w0");
    });

    test("outputs: tokens secret, docker host URL, ports", async () => {
        const c = new SwarmCluster("sw", { managers: hosts(1) });
        await settle(c);
        expect(await pulumi.isSecret(c.workerJoinToken)).toBe(true);
        expect(await pulumi.isSecret(c.managerJoinToken)).toBe(true);
        expect(await valueOf(c.dockerHost)).toBe("ssh://admin@10.0.0.2");
        expect(await valueOf(c.managerAddresses)).toEqual(["10.0.0.2"]);
        expect(c.ports).toEqual(SWARM_PORTS);
        expect(await valueOf(c.workerJoinToken)).toBe("WT");
        expect(await valueOf(c.nodes)).toEqual([{ name: "m0", role: "manager", address: "10.0.0.2", nodeId: "node-m0" }]);
        expect(SWARM_PORTS.map((p) => `${p.port}/${p.protocol}`)).toEqual(["2377/tcp", "7946/tcp", "7946/udp", "4789/udp"]);
    });

    const T = 'flotilla:cluster:SwarmCluster "sw": invalid';
    const QUORUM =
        "expected 1, 3, 5 or 7 hosts: managers keep the swarm working while a majority of them (a quorum) is up, so 3 tolerate 1 failure, 5 tolerate 2, 7 tolerate 3, and an even number tolerates no more than the odd number below it.";
    test.each([
        [() => ({ managers: hosts(2) }), `${T} managers: received "2 hosts"; ${QUORUM}`],
        [
            () => ({ managers: hosts(0) }),
            `${T} managers: received "0 hosts"; expected a list of hosts with Docker installed for Swarm (a DockerEngine's \`hosts\`, with joinsSwarm: true).`,
        ],
        [() => ({ managers: hosts(9) }), `${T} managers: received "9 hosts"; ${QUORUM}`],
        [
            () => ({ managers: hosts(1), workers: hosts(1) }),
            `${T} workers[0].name: received "m0"; expected each host at most once across managers and workers.`,
        ],
        [
            () => ({ managers: hosts(1), drainTimeoutSeconds: 0 }),
            `${T} drainTimeoutSeconds: received 0; expected an integer from 10 to 3600.`,
        ],
    ])("bad input %#: error naming the property, nothing created", async (args, message) => {
        expect(() => new SwarmCluster("sw", args())).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});
