/**
 * Swarm operations that must not leave a stack stuck (program test/lab/programs/swarm-ops, pool on
 * 10.213.178.0/28), one stack through these steps:
 * (1) 3 managers (machines 0-2) + 1 worker (3), autolock on, a global service; a second up changes nothing;
 * (2) autolock: a manager's machine restarted is locked; a preview shows the one update and changes
 *     nothing; a plain `up` (no refresh) unlocks it (every node Ready, the global service running there
 *     again) by updating only its unlock resource; the next plain up changes nothing. Restarted again,
 *     `up --refresh` unlocks it too; the next one changes nothing;
 * (3) join token rotation with a worker (4) added in the same up: new tokens, all Ready;
 * (4) the first manager (machine 0, the one that ran `swarm init`) removed and the worker 4 made a
 *     manager in its place: same cluster id, 3 managers, the service still runs everywhere, machine 0
 *     left the swarm, and the worker token from before the rotation is refused to it;
 * (5) a worker's machine stopped: `destroy` of the whole swarm finishes, the teardown mark written and
 *     no node drained or removed (the swarm's events on a manager), nothing left.
 * Durations are printed, not asserted.
 */
import * as childProcess from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";
import { testImageTarball, TEST_IMAGE } from "./runtime-lab";
import { Login, sshRun } from "./ssh";

jest.setTimeout(40 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}so${process.pid}`;
let stack: Stack;
let logins: Login[];
let clusterId: string;
let tokens: string[];
let oldWorkerToken: string;
const m = (i: number) => `${pool}-${i}`;

async function on(i: number, command: string): Promise<string> {
    const r = await sshRun(logins[i], `sudo ${command}`);
    if (r.code !== 0) throw new Error(`${m(i)}: ${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

/** Hostname, status and manager status of every node as manager `i` lists them, sorted. */
async function nodeList(i: number): Promise<string[]> {
    return (await on(i, "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'"))
        .trim()
        .split("\n")
        .map((l) => l.trim().replace(/ (Leader|Reachable)$/, " Manager"))
        .sort();
}

/** Running tasks of the global sleeper service, as manager `i` sees them. */
async function sleepers(i: number): Promise<number> {
    const tasks = await on(i, "docker service ps sleeper --filter desired-state=running --format '{{.CurrentState}}'");
    return tasks.trim().split("\n").filter((t) => t.startsWith("Running")).length;
}

/** States of the sleeper tasks meant to run on machine `i`, as manager `by` sees them. */
async function sleeperOn(i: number, by: number): Promise<string[]> {
    const tasks = await on(by, `docker service ps sleeper --filter node=${m(i)} --filter desired-state=running --format '{{.CurrentState}}'`);
    return tasks.trim().split("\n").filter((t) => t !== "");
}

const swarmState = async (i: number) => (await on(i, "docker info --format '{{.Swarm.LocalNodeState}}'")).trim();
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const onlySame = (changes: Record<string, number> | undefined) => Object.keys(changes ?? {}).filter((k) => k !== "same");

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("swarm-ops", `so-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": "10.213.178.0/28",
        "test:machines": "5",
        "test:managers": "0,1,2",
        "test:workers": "3",
        "test:autolock": "true",
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("Swarm operations", () => {
    test("up: 3 managers + 1 worker under autolock, a global service; a second up changes nothing", async () => {
        let started = Date.now();
        const up = await stack.up();
        console.log(`up of 5 machines with Docker, a swarm of 3 managers + 1 worker: ${seconds(started)}s`);
        const out = up.outputs;
        const hostKeys = out.hostKeys.value as string[];
        logins = (out.addresses.value as string[]).map((host, i) => ({
            host,
            user: out.user.value as string,
            privateKey: out.privateKey.value as string,
            hostKey: hostKeys[i],
        }));
        clusterId = out.clusterId.value as string;
        tokens = [out.workerJoinToken.value as string, out.managerJoinToken.value as string];
        expect(out.unlockKey.secret).toBe(true);
        expect(out.unlockKey.value).toMatch(/^SWMKEY-1-/);
        expect(up.stdout + up.stderr).not.toContain(out.unlockKey.value as string);
        expect(await nodeList(1)).toEqual([`${m(0)} Ready Manager`, `${m(1)} Ready Manager`, `${m(2)} Ready Manager`, `${m(3)} Ready`]);
        expect((await on(0, "docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}'")).trim()).toBe("true");
        const image = testImageTarball();
        await Promise.all(logins.map((l) => sshRun(l, "sudo docker load -q", 120_000, image)));
        await on(0, `docker service create -d --name sleeper --mode global ${TEST_IMAGE} sleep 3600`);
        await until("a running sleeper task on each of the 4 nodes", 180, async () => (await sleepers(0)) === 4);

        started = Date.now();
        const again = await stack.up();
        console.log(`second up: ${seconds(started)}s`);
        expect(onlySame(again.summary.resourceChanges)).toEqual([]);
    });

    test("autolock: a manager's machine restarted is locked; a preview changes nothing; a plain up unlocks it; the next up changes nothing", async () => {
        docker("restart", m(1));
        await until(`${m(1)} back and locked`, 240, async () => (await swarmState(1)) === "locked", 2000);
        let started = Date.now();
        const preview = await stack.preview();
        console.log(`preview with ${m(1)} locked: ${seconds(started)}s`);
        expect(preview.changeSummary).toEqual({ same: expect.any(Number), update: 1 });
        expect(preview.stdout + preview.stderr).toContain(`swarm unlock of ${m(1)}: drifted (its read phase reports what it made gone)`);
        expect(await swarmState(1)).toBe("locked");
        started = Date.now();
        const up = await stack.up();
        console.log(`plain up unlocking ${m(1)}: ${seconds(started)}s`);
        expect(up.summary.result).toBe("succeeded");
        expect(onlySame(up.summary.resourceChanges)).toEqual(["update"]);
        expect(up.summary.resourceChanges?.update).toBe(1);
        expect(up.stdout).toMatch(new RegExp(`swarm-unlock-${m(1)}\\s+updated`));
        expect(await swarmState(1)).toBe("active");
        expect(up.stdout + up.stderr).not.toMatch(/SWMKEY-1-/);
        await until("every node Ready again", 120, async () => (await nodeList(0)).every((n) => / Ready/.test(n)), 2000);
        expect(await nodeList(0)).toEqual([`${m(0)} Ready Manager`, `${m(1)} Ready Manager`, `${m(2)} Ready Manager`, `${m(3)} Ready`]);
        await until(`the sleeper running on ${m(1)} again`, 180, async () => (await sleeperOn(1, 0)).some((t) => t.startsWith("Running")), 2000);
        started = Date.now();
        const again = await stack.up();
        console.log(`next plain up: ${seconds(started)}s`);
        expect(onlySame(again.summary.resourceChanges)).toEqual([]);
    });

    test("autolock: restarted again, up --refresh unlocks it too; the next up --refresh changes nothing", async () => {
        docker("restart", m(1));
        await until(`${m(1)} back and locked`, 240, async () => (await swarmState(1)) === "locked", 2000);
        let started = Date.now();
        const up = await stack.up({ refresh: true });
        console.log(`up --refresh unlocking ${m(1)}: ${seconds(started)}s`);
        expect(up.summary.result).toBe("succeeded");
        expect(await swarmState(1)).toBe("active");
        expect(up.stdout + up.stderr).not.toMatch(/SWMKEY-1-/);
        await until("every node Ready again", 120, async () => (await nodeList(0)).every((n) => / Ready/.test(n)), 2000);
        started = Date.now();
        const again = await stack.up({ refresh: true });
        console.log(`second up --refresh: ${seconds(started)}s`);
        expect(onlySame(again.summary.resourceChanges)).toEqual([]);
    });

    test("token rotation with a worker added in the same up: new tokens, every node Ready", async () => {
        await stack.setConfig("test:rotation", { value: "1" });
        await stack.setConfig("test:workers", { value: "3,4" });
        const started = Date.now();
        const up = await stack.up();
        console.log(`up rotating the join tokens and adding ${m(4)}: ${seconds(started)}s`);
        const out = up.outputs;
        const rotated = [out.workerJoinToken.value as string, out.managerJoinToken.value as string];
        expect(rotated.every((t) => /^SWMTKN-1-/.test(t))).toBe(true);
        expect([rotated[0] === tokens[0], rotated[1] === tokens[1]]).toEqual([false, false]);
        expect((await on(2, "docker swarm join-token -q worker")).trim()).toBe(rotated[0]);
        expect(out.clusterId.value).toBe(clusterId);
        expect(await nodeList(0)).toEqual([
            `${m(0)} Ready Manager`,
            `${m(1)} Ready Manager`,
            `${m(2)} Ready Manager`,
            `${m(3)} Ready`,
            `${m(4)} Ready`,
        ]);
        oldWorkerToken = tokens[0];
        tokens = rotated;
        await until("a running sleeper task on each of the 5 nodes", 180, async () => (await sleepers(0)) === 5);
    });

    test("the first manager removed, a worker made a manager in its place: same cluster id, 3 managers, the service still runs, the first left", async () => {
        await stack.setConfig("test:managers", { value: "1,2,4" });
        await stack.setConfig("test:workers", { value: "3" });
        let started = Date.now();
        const up = await stack.up();
        console.log(`up removing the first manager ${m(0)} and promoting ${m(4)}: ${seconds(started)}s`);
        expect(up.summary.result).toBe("succeeded");
        expect(up.outputs.clusterId.value).toBe(clusterId);
        expect(await nodeList(1)).toEqual([`${m(1)} Ready Manager`, `${m(2)} Ready Manager`, `${m(3)} Ready`, `${m(4)} Ready Manager`]);
        expect((await on(4, "docker info --format '{{.Swarm.Cluster.ID}}'")).trim()).toBe(clusterId);
        expect(await swarmState(0)).toBe("inactive");
        await until("a running sleeper task on each of the 4 nodes", 180, async () => (await sleepers(1)) === 4);
        // Machine 0, out of the swarm now, is refused with the worker token from before the rotation.
        const refused = await sshRun(logins[0], `sudo timeout 60 docker swarm join --token '${oldWorkerToken}' ${logins[1].host}:2377; echo "exit $?"`, 90_000);
        expect(refused.stdout + refused.stderr).toMatch(/valid join token|invalid|rejected/i);
        expect(await swarmState(0)).not.toBe("active");
        await sshRun(logins[0], "sudo docker swarm leave --force", 60_000);
        started = Date.now();
        const again = await stack.up();
        console.log(`second up: ${seconds(started)}s`);
        expect(onlySame(again.summary.resourceChanges)).toEqual([]);
    });

    test("a worker's machine stopped: destroy of the whole swarm skips the drains and leaves nothing", async () => {
        expect(await sleepers(1)).toBe(4);
        docker("stop", m(3));
        // The swarm's node and config events as manager 1 sees them, until it leaves (or its
        // machine goes): the teardown mark is written, and no node is drained or removed.
        const watcher = childProcess.spawn(
            "docker",
            ["exec", m(1), "docker", "events", "--filter", "type=node", "--filter", "type=config", "--format", "{{.Type}} {{.Action}} {{json .Actor.Attributes}}"],
            { stdio: ["ignore", "pipe", "ignore"] },
        );
        let events = "";
        watcher.stdout.on("data", (d: Buffer) => (events += d.toString()));
        const watched = new Promise<void>((resolve) => watcher.on("close", () => resolve()));
        await new Promise((r) => setTimeout(r, 2000));
        const started = Date.now();
        const destroy = await stack.destroy();
        console.log(`destroy of 5 machines and the swarm with the worker ${m(3)} stopped: ${seconds(started)}s`);
        await Promise.race([watched, new Promise((r) => setTimeout(r, 30_000))]);
        watcher.kill();
        expect(destroy.summary.result).toBe("succeeded");
        const output = destroy.stdout + destroy.stderr;
        expect(output).toMatch(new RegExp(`swarm join of ${m(3)} as a worker: cannot connect: .*taken for gone`));
        const lines = events.trim().split("\n");
        expect(lines.filter((l) => l.startsWith("config create") && l.includes('"name":"flotilla-teardown"'))).toHaveLength(1);
        expect(lines.filter((l) => l.startsWith("node remove") || /"availability.new":"drain"/.test(l))).toEqual([]);
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
