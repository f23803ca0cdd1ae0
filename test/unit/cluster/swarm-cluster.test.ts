import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, testRuntimeHost, valueOf } from "../mocks";
import { bundledScript, bundledScriptText } from "../../../lib/shared/scripts";
import { SwarmCluster } from "../../../lib/cluster/swarm";
import { hashTriggers, remoteScriptProvider } from "../../../lib/shared/remote-script";
import { SWARM_PORTS } from "../../../lib/core/cluster";
import { RuntimeHost } from "../../../lib/core/host";

/** What the Swarm scripts print as their result, in the mocks. */
const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) {
        return { result: JSON.stringify({ clusterId: "c1", workerToken: "WT", managerToken: "MT", unlockKey: "SWMKEY-1-UK" }) };
    }
    const join = /-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeId: `node-${join[1]}` }) } : undefined;
});
beforeEach(() => registered.splice(0));
const remote = remoteScriptProvider as Required<typeof remoteScriptProvider>;


const host = (name: string, address: string): RuntimeHost =>
    testRuntimeHost(name, address, { provider: "lab", hostKey: `ssh-ed25519 K-${name}`, labels: { zone: "z1" } });
const hosts = (n: number, prefix = "m") => Array.from({ length: n }, (_, i) => host(`${prefix}${i}`, `10.0.0.${i + 2}`));

async function settle(cluster: SwarmCluster) {
    await valueOf(cluster.nodes);
    await Promise.all([...cluster.managers, ...cluster.workers].flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    // The teardown registers after every node resource (bounded wait).
    for (let i = 0; i < 200 && !registered.some((r) => r.name.endsWith("-teardown")); i++) await new Promise((r) => setTimeout(r, 10));
}
const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name} in ${registered.map((x) => x.name).join(", ")}`);
    return r.inputs as Record<string, any>;
};

describe("SwarmCluster", () => {
    test("children: the swarm (init), a join per member (the first manager too), a node resource per member, the teardown", async () => {
        await settle(new SwarmCluster("sw", { managers: hosts(3), workers: hosts(2, "w") }));
        expect(registered.map((r) => r.name).sort()).toEqual(
            [
                "sw",
                "sw-init",
                "sw-join-m0",
                "sw-join-m1",
                "sw-join-m2",
                "sw-join-w0",
                "sw-join-w1",
                "sw-node-m0",
                "sw-node-m1",
                "sw-node-m2",
                "sw-node-w0",
                "sw-node-w1",
                "sw-teardown",
            ].sort(),
        );
        expect(registered.find((r) => r.name === "sw")?.type).toBe("flotilla:cluster:SwarmCluster");
    });

    test("init runs on any manager (the first first); joins get role, every manager's address and a secret token", async () => {
        await settle(new SwarmCluster("sw", { managers: hosts(3), workers: hosts(1, "w") }));
        expect(byName("sw-init").environment).toEqual({ ADVERTISE_ADDR: "10.0.0.2", AUTOLOCK: "false" });
        expect(byName("sw-init").connection.host).toBe("10.0.0.2");
        expect(byName("sw-init").alternates.value.map((a: any) => a.connection.host)).toEqual(["10.0.0.3", "10.0.0.4"]);
        // With 3 managers the swarm outlives any one machine: no trigger on the first's identity.
        expect(byName("sw-init").triggers).toEqual(hashTriggers([]));
        const join = byName("sw-join-w0");
        expect(join.environment).toEqual({ ROLE: "worker", MANAGER_ADDRS: "10.0.0.2:2377 10.0.0.3:2377 10.0.0.4:2377", ADVERTISE_ADDR: "10.0.0.2" });
        expect(join.connection.host).toBe("10.0.0.2");
        expect(join.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(byName("sw-join-m1").environment.ROLE).toBe("manager");
        expect(byName("sw-join-m0").environment).toMatchObject({ ROLE: "manager", ADVERTISE_ADDR: "10.0.0.2" });
        // The script is named and hashed (its text with the includes), not copied into the state.
        expect([join.script ?? "", join.scriptRef, join.scriptHash]).toEqual(["", "cluster/swarm-join.sh", bundledScript("cluster", "swarm-join.sh").hash]);
        expect(bundledScriptText(join.scriptRef)).toContain("docker swarm join --token \"$JOIN_TOKEN\"");
        expect(bundledScriptText(join.scriptRef)).toContain("wait_docker()"); // the common functions are included
    });

    test("a single manager: init is triggered by its machine (re-created, it is a new swarm)", async () => {
        const m = hosts(1);
        await settle(new SwarmCluster("sw", { managers: m }));
        expect(byName("sw-init").triggers).toEqual(hashTriggers([await valueOf(m[0].instanceId)]));
        // Its node resource runs on itself (no other manager).
        expect(byName("sw-node-m0").connection.host).toBe("10.0.0.2");
        expect(byName("sw-node-m0").alternates).toBeUndefined();
    });

    test("node resources run on the other managers (the first manager's too), never on the node itself; no bootstrap flag", async () => {
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
        const m0 = byName("sw-node-m0");
        expect([m0.connection.host, ...m0.alternates.value.map((a: any) => a.connection.host)]).toEqual(["10.0.0.3", "10.0.0.4"]);
        expect(byName("sw-node-w0").alternates.value.map((a: any) => a.connection.host)).toEqual(["10.0.0.3", "10.0.0.4"]);
        expect(byName("sw-node-w0").environment).toEqual({
            NODE_ID: "node-w0",
            NODE_NAME: "w0",
            ROLE: "worker",
            LABELS: "provider=lab\npool=p\nzone=z1\nenv=t\nrole=worker",
            DRAIN_TIMEOUT: "300",
        });
        expect(m0.environment).toMatchObject({ NODE_ID: "node-m0", LABELS: "provider=lab\npool=p\nzone=z1\nenv=t\nrole=manager" });
    });

    test("removing the first manager moves the swarm's scripts to the next one by an update (the provider's diff), never a replace", async () => {
        const all = hosts(4);
        await settle(new SwarmCluster("sw", { managers: all.slice(0, 3) }));
        const before = { init: byName("sw-init"), teardown: byName("sw-teardown"), node2: byName("sw-node-m2") };
        registered.splice(0);
        await settle(new SwarmCluster("sw", { managers: all.slice(1, 4) }));
        const after = { init: byName("sw-init"), teardown: byName("sw-teardown"), node2: byName("sw-node-m2") };
        const plain = (r: Record<string, any>) => ({
            ...r,
            alternates: r.alternates.value,
            secretEnvironment: r.secretEnvironment?.value,
            privateKey: "K",
        });
        for (const k of ["init", "teardown", "node2"] as const) {
            const d = await remote.diff("id", { ...plain(before[k]), machineId: "x", result: "{}" } as never, plain(after[k]));
            expect([k, d.replaces]).toEqual([k, []]);
        }
        expect(after.init.connection.host).toBe("10.0.0.3");
        expect(after.teardown.environment ?? {}).toEqual(before.teardown.environment ?? {});
    });

    test("the teardown resource depends on every node resource (so it is deleted first) and has no inputs that follow the membership", async () => {
        await settle(new SwarmCluster("sw", { managers: hosts(3), workers: hosts(1, "w") }));
        // Under mocks a resource registers once what it depends on has: without its dependency on
        // the nodes (its inputs are only the managers' connections) it would register before them.
        const at = (name: string) => registered.findIndex((r) => r.name === name);
        const teardown = registered[at("sw-teardown")];
        for (const node of registered.filter((r) => /-node-/.test(r.name))) {
            expect([node.name, at(node.name) < at("sw-teardown")]).toEqual([node.name, true]);
        }
        expect(teardown.inputs.environment).toBeUndefined();
        expect(teardown.inputs.triggers).toBeUndefined();
        const text = bundledScriptText("cluster/swarm-teardown.sh");
        expect(text).toContain('docker config create "$TEARDOWN_MARK"');
        // The node script skips drain and removal when the mark is there.
        expect(bundledScriptText("cluster/swarm-node.sh")).toMatch(/if tearing_down; then\n.*neither drained nor removed.*\n\s+exit 0/);
    });

    test("autolock: init gets AUTOLOCK=true, the unlock key is a secret output, each manager has an unlock check with the key secret", async () => {
        const c = new SwarmCluster("sw", { managers: hosts(3), workers: hosts(1, "w"), autolock: true });
        await settle(c);
        expect(byName("sw-init").environment.AUTOLOCK).toBe("true");
        expect(await pulumi.isSecret(c.unlockKey!)).toBe(true);
        expect(await valueOf(c.unlockKey!)).toBe("SWMKEY-1-UK");
        expect(registered.filter((r) => /-unlock-/.test(r.name)).map((r) => r.name).sort()).toEqual(["sw-unlock-m0", "sw-unlock-m1", "sw-unlock-m2"]);
        const unlock = byName("sw-unlock-m1");
        expect(unlock.connection.host).toBe("10.0.0.3");
        expect(unlock.environment).toEqual({ NODE_NAME: "m1" });
        expect(unlock.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(unlock.secretEnvironment.value).toEqual({ UNLOCK_KEY: "SWMKEY-1-UK" });
        // Looked at on every preview and up (a plain up unlocks a manager locked again); the join, node and
        // init scripts are not.
        expect(unlock.detectDrift).toBe(true);
        expect(registered.filter((r) => (r.inputs as Record<string, unknown>).detectDrift !== undefined).map((r) => r.name).sort()).toEqual([
            "sw-unlock-m0",
            "sw-unlock-m1",
            "sw-unlock-m2",
        ]);
        // The key goes to docker on stdin, never in argv.
        const text = bundledScriptText("cluster/swarm-unlock.sh");
        expect(text).toContain('printf \'%s\\n\' "$UNLOCK_KEY" | docker swarm unlock');
        expect(text).not.toMatch(/docker swarm unlock[^\n]*UNLOCK_KEY/);
        // Its read phase (the probe) only looks: locked → 3 (gone: the up updates it), no unlock there.
        const read = /\n {4}read\)\n([\s\S]*?)\n {8};;/.exec(text)?.[1] ?? "";
        expect(read).toContain('[ "$(swarm_state)" != locked ] || exit 3');
        expect(read).not.toMatch(/swarm unlock|UNLOCK_KEY/);
        // Every node resource waits for every unlock (any manager may run it; registered after, see the teardown test).
        const at = (name: string) => registered.findIndex((r) => r.name === name);
        for (const n of ["sw-node-m0", "sw-node-m1", "sw-node-w0"]) {
            expect([n, at("sw-unlock-m2") < at(n), at("sw-unlock-m0") < at(n)]).toEqual([n, true, true]);
        }
        // A node check run on a locked manager cannot tell, so it keeps the node (a refresh must not drop it).
        expect(bundledScriptText("cluster/swarm-node.sh")).toContain('[ "$(swarm_state)" = active ] || exit 0');
    });

    test("without autolock: no unlock check, no unlock key", async () => {
        const c = new SwarmCluster("sw", { managers: hosts(1) });
        await settle(c);
        expect(c.unlockKey).toBeUndefined();
        expect(registered.some((r) => /-unlock-/.test(r.name))).toBe(false);
    });

    test.each<[string | number | pulumi.Output<string | number>, string]>([
        [3, "3"],
        ["2026-12-01", "2026-12-01"],
        [pulumi.output(7), "7"],
    ])("joinTokenRotation %p: init gets ROTATION", async (value, expected) => {
        await settle(new SwarmCluster("sw", { managers: hosts(1), joinTokenRotation: value }));
        expect(byName("sw-init").environment).toEqual({ ADVERTISE_ADDR: "10.0.0.2", AUTOLOCK: "false", ROTATION: expected });
        const text = bundledScriptText("cluster/swarm-init.sh");
        expect(text).toContain("docker swarm join-token --rotate -q worker");
        expect(text).toContain("docker swarm join-token --rotate -q manager");
    });

    test("outputs: tokens secret, docker host URL, ports", async () => {
        const c = new SwarmCluster("sw", { managers: hosts(1) });
        await settle(c);
        expect(await pulumi.isSecret(c.workerJoinToken)).toBe(true);
        expect(await pulumi.isSecret(c.managerJoinToken)).toBe(true);
        expect(await valueOf(c.dockerHost)).toBe("ssh://admin@10.0.0.2");
        // The node's host key (the test hosts' key is "ssh-ed25519 K-<name>"), for strict checking of that URL.
        expect(await valueOf(c.knownHosts)).toBe("10.0.0.2 ssh-ed25519 K-m0\n");
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
        [() => ({ managers: hosts(1), autolock: "yes" }), `${T} autolock: received "yes"; expected true or false.`],
        [
            () => ({ managers: hosts(1), autolock: pulumi.output(true) }),
            `${T} autolock: received an Output; expected a plain value, not an Output (it decides which resources exist).`,
        ],
        [
            () => ({ managers: hosts(1), joinTokenRotation: "a b" }),
            `${T} joinTokenRotation: received "a b"; expected a non-negative integer or a string without white space (at most 64 characters).`,
        ],
        [
            () => ({ managers: hosts(1), joinTokenRotation: -1 }),
            `${T} joinTokenRotation: received -1; expected a non-negative integer or a string without white space (at most 64 characters).`,
        ],
        [
            () => ({ managers: hosts(1), joinTokenRotaton: 1 }),
            `${T} joinTokenRotaton: received 1; expected no such property (did you mean "joinTokenRotation"?)`,
        ],
    ])("bad input %#: error naming the property, nothing created", async (args, message) => {
        expect(() => new SwarmCluster("sw", args() as never)).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});
