/**
 * Machines that vanish outside Pulumi (program test/lab/programs/swarm, pool on 10.213.152.0/28):
 * a swarm of 1 manager + 2 workers with a global service (a task on every node), then
 * (1) one worker's machine is deleted outside Pulumi (container and volumes) and an `up` with one
 *     machine and one worker less converges without a refresh: the Down node is removed from the
 *     swarm without draining, the scripts on the gone machine are forgotten with a warning;
 * (2) the other worker's machine is merely stopped, and `destroy` of the whole stack converges and
 *     leaves nothing on the Docker engine.
 * Durations are printed, not asserted.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";
import { testImageTarball, TEST_IMAGE } from "./runtime-lab";
import { Login, sshRun } from "./ssh";

jest.setTimeout(25 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}vm${process.pid}`;
let stack: Stack;
let logins: Login[];

async function onManager(command: string): Promise<string> {
    const r = await sshRun(logins[0], `sudo ${command}`);
    if (r.code !== 0) throw new Error(`${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

/** Hostname and status of every node, as the manager lists them, sorted. */
async function nodeList(): Promise<string[]> {
    return (await onManager("docker node ls --format '{{.Hostname}} {{.Status}}'")).trim().split("\n").sort();
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("swarm", `vm-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": "10.213.152.0/28",
        "test:machines": "3",
        "test:managers": "1",
        "test:workers": "2",
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("machines that vanish outside Pulumi", () => {
    test("up: 1 manager + 2 workers, a global service with a task on every node", async () => {
        const started = Date.now();
        const out = (await stack.up()).outputs;
        console.log(`up of 3 machines with Docker and a swarm: ${seconds(started)}s`);
        const hostKeys = out.hostKeys.value as string[];
        logins = (out.addresses.value as string[]).map((host, i) => ({
            host,
            user: out.user.value as string,
            privateKey: out.privateKey.value as string,
            hostKey: hostKeys[i],
        }));
        const image = testImageTarball();
        await Promise.all(logins.map((l) => sshRun(l, "sudo docker load -q", 120_000, image)));
        await onManager(`docker service create -d --name sleeper --mode global ${TEST_IMAGE} sleep 3600`);
        await until("a running sleeper task on each of the 3 nodes", 120, async () => {
            const tasks = await onManager("docker service ps sleeper --filter desired-state=running --format '{{.CurrentState}}'");
            return tasks.trim().split("\n").filter((t) => t.startsWith("Running")).length === 3;
        });
        expect(await nodeList()).toEqual([`${pool}-0 Ready`, `${pool}-1 Ready`, `${pool}-2 Ready`]);
    });

    test("a worker's machine deleted outside Pulumi: an up without it converges without refresh", async () => {
        docker("rm", "-f", `${pool}-2`);
        docker("volume", "rm", `${pool}-2-docker`, `${pool}-2-containerd`);
        await stack.setConfig("test:machines", { value: "2" });
        await stack.setConfig("test:workers", { value: "1" });
        const started = Date.now();
        const up = await stack.up();
        console.log(`up removing the vanished worker ${pool}-2 (no refresh): ${seconds(started)}s`);
        expect(up.summary.result).toBe("succeeded");
        // Its node (on the manager), its join, its Docker install and the machine itself.
        expect(up.summary.resourceChanges).toMatchObject({ delete: 4 });
        // The scripts on the gone machine were forgotten, with a warning naming it.
        const output = up.stdout + up.stderr;
        expect(output).toMatch(new RegExp(`swarm join of ${pool}-2 as a worker: cannot connect: .*taken for gone`));
        // The Down node is out of the swarm; the sleeper's tasks run on the other two.
        expect(await nodeList()).toEqual([`${pool}-0 Ready`, `${pool}-1 Ready`]);
        expect(poolLeftovers(pool).filter((l) => l.includes(`${pool}-2`))).toEqual([]);
    });

    test("a worker's machine stopped: destroy of the whole stack converges and leaves nothing", async () => {
        docker("stop", `${pool}-1`);
        const started = Date.now();
        const destroy = await stack.destroy();
        console.log(`destroy with the worker ${pool}-1 stopped: ${seconds(started)}s`);
        expect(destroy.summary.result).toBe("succeeded");
        expect(destroy.stdout + destroy.stderr).toMatch(new RegExp(`swarm join of ${pool}-1 as a worker: cannot connect: .*taken for gone`));
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
