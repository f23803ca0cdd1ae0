/**
 * SwarmCluster on 5 lab machines (3 managers + 2 workers), through the engine: the swarm forms,
 * nodes carry their labels, a second up changes nothing, tokens stay secret, and removing a worker
 * drains it before it leaves.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { poolLeftovers, removeStack, removeStaleTestPools, storedState, testProgramStack, TEST_POOL_PREFIX } from "./harness";
import { Login, sshRun } from "./ssh";

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

afterAll(async () => {
    if (stack) {
        await stack.destroy().catch(() => undefined);
        await removeStack(stack);
    }
});

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

    test("workers 2 -> 1: the leaving node is drained first, removed from the list, and has left", async () => {
        await onManager("docker service create -d --name everywhere --mode global flotilla-none:absent");
        // The global service gives every node a task (it cannot start: the image does not exist,
        // so its tasks retry); draining must shut the leaving node's task down before removal.
        await onManager("docker service create -d --name sleeper --mode global --restart-condition any busybox-none:absent");
        await stack.setConfig("test:workers", { value: "1" });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toMatchObject({ delete: 2 });
        const nodes = (await onManager("docker node ls --format '{{.Hostname}} {{.Status}}'")).trim().split("\n").sort();
        expect(nodes).toEqual([`${pool}-0 Ready`, `${pool}-1 Ready`, `${pool}-2 Ready`, `${pool}-3 Ready`]);
        const leaver = await sshRun(logins[4], "sudo docker info --format '{{.Swarm.LocalNodeState}}'");
        expect(leaver.stdout.trim()).toBe("inactive");
        await onManager("docker service rm everywhere sleeper");
    });

    test("destroy leaves nothing behind", async () => {
        const result = await stack.destroy();
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
