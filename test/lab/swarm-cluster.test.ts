/**
 * SwarmCluster on 5 lab machines (3 managers + 2 workers), through the engine: the swarm forms,
 * nodes carry their labels, a second up changes nothing, tokens stay secret, and removing a worker
 * drains it before it leaves.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { poolLeftovers, removeStaleTestPools, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { testImageTarball, TEST_IMAGE } from "./runtime-lab";
import { Login, sshRun } from "./ssh";

/** Waits (bounded, 120 s) until `check` is true. */
async function until(check: () => Promise<boolean>): Promise<void> {
    const started = Date.now();
    while (!(await check().catch(() => false))) {
        if (Date.now() - started > 120_000) throw new Error("condition not met within 120s");
        await new Promise((r) => setTimeout(r, 1000));
    }
}

jest.setTimeout(20 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}sw${process.pid}`;
let stack: Stack;
let logins: Login[];
let tokens: string[];

async function onManager(command: string): Promise<string> {
    const r = await sshRun(logins[0], `sudo ${command}`);
    if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("swarm", `sw-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": "10.213.121.0/28",
        "test:machines": "5",
        "test:managers": "3",
        "test:workers": "2",
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("SwarmCluster in the lab", () => {
    let upOutput = "";

    test("up: 5 nodes Ready, 3 managers with exactly one Leader, labels from the hosts and the cluster", async () => {
        const started = Date.now();
        const up = await stack.up();
        console.log(`up of 5 machines with Docker and a swarm: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        upOutput = up.stdout + up.stderr;
        const out = up.outputs;
        const addresses = out.addresses.value as string[];
        const hostKeys = out.hostKeys.value as string[];
        logins = addresses.map((host, i) => ({
            host,
            user: out.user.value as string,
            privateKey: out.privateKey.value as string,
            hostKey: hostKeys[i],
        }));
        tokens = [out.workerJoinToken.value as string, out.managerJoinToken.value as string];
        expect(tokens.every((t) => /^SWMTKN-1-/.test(t))).toBe(true);
        expect(out.workerJoinToken.secret && out.managerJoinToken.secret).toBe(true);

        const nodes = (await onManager("docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'"))
            .trim()
            .split("\n")
            .map((l) => l.trim())
            .sort();
        expect(nodes).toEqual([
            `${pool}-0 Ready Leader`,
            `${pool}-1 Ready Reachable`,
            `${pool}-2 Ready Reachable`,
            `${pool}-3 Ready`,
            `${pool}-4 Ready`,
        ]);
        const labels = await onManager(
            `sh -c 'for n in $(docker node ls -q); do docker node inspect --format "{{.Description.Hostname}} {{json .Spec.Labels}}" $n; done'`,
        );
        for (let i = 0; i < 5; i++) {
            expect(labels).toContain(`${pool}-${i} {"env":"test","pool":"${pool}","provider":"lab"}`);
        }
        expect((out.nodes.value as Array<{ role: string }>).map((n) => n.role)).toEqual([
            "manager",
            "manager",
            "manager",
            "worker",
            "worker",
        ]);
        expect(out.dockerHost.value).toBe(`ssh://admin@${addresses[0]}`);
    });

    test("a second up changes nothing and runs nothing", async () => {
        const up = await stack.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("no join token or private key in the stored state or in the engine's output", async () => {
        const state = storedState(stack);
        expect({
            tokenInState: tokens.some((t) => state.includes(t)),
            keyInState: state.includes("PRIVATE KEY"),
            tokenInOutput: tokens.some((t) => upOutput.includes(t)),
            swmtknAnywhere: /SWMTKN-1-[0-9a-z]{20}/.test(state + upOutput),
        }).toEqual({ tokenInState: false, keyInState: false, tokenInOutput: false, swmtknAnywhere: false });
    });

    test("workers 2 -> 1: the leaving node is drained first (0 running tasks at removal), removed, and has left", async () => {
        // A global service gives every node a running task (the test image, loaded on every node).
        const image = testImageTarball();
        await Promise.all(logins.map((l) => sshRun(l, "sudo docker load -q", 120_000, image)));
        await onManager(`docker service create -d --name sleeper --mode global ${TEST_IMAGE} sleep 3600`);
        const tasks = async () =>
            (await onManager("docker service ps sleeper --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'"))
                .trim()
                .split("\n");
        await until(async () => (await tasks()).filter((t) => / Running /.test(t)).length === 5);
        const leaverId = (await onManager(`docker node inspect --format '{{.ID}}' ${pool}-4`)).trim();
        const since = Math.floor(Date.now() / 1000) - 1;

        await stack.setConfig("test:workers", { value: "1" });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toMatchObject({ delete: 2 });
        const nodes = (await onManager("docker node ls --format '{{.Hostname}} {{.Status}}'")).trim().split("\n").sort();
        expect(nodes).toEqual([`${pool}-0 Ready`, `${pool}-1 Ready`, `${pool}-2 Ready`, `${pool}-3 Ready`]);
        // Order of events (one host clock for all lab machines): the leaver's task container died
        // (drain) before the managers removed the node.
        const until_ = Math.floor(Date.now() / 1000) + 1;
        const removed = (
            await onManager(`docker events --since ${since} --until ${until_} --filter type=node --filter node=${leaverId} --format '{{.TimeNano}} {{.Action}}'`)
        )
            .trim()
            .split("\n")
            .filter((l) => l.endsWith(" remove"))
            .map((l) => BigInt(l.split(" ")[0]));
        const died = (
            await sshRun(logins[4], `sudo docker events --since ${since} --until ${until_} --filter type=container --filter event=die --format '{{.TimeNano}}'`)
        ).stdout
            .trim()
            .split("\n")
            .map((l) => BigInt(l));
        expect(removed).toHaveLength(1);
        expect(died).toHaveLength(1);
        expect(died[0] < removed[0]).toBe(true);
        const leaver = await sshRun(logins[4], "sudo docker info --format '{{.Swarm.LocalNodeState}}'; sudo docker ps -q | wc -l");
        expect(leaver.stdout.trim().split("\n")).toEqual(["inactive", "0"]);
        await onManager("docker service rm sleeper");
    });

    test("destroy leaves nothing behind", async () => {
        const result = await stack.destroy();
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
