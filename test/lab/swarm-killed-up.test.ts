/**
 * An `up` killed midway, then run again (program test/lab/programs/swarm, pool on
 * 10.213.166.0/28: 3 lab machines with Docker, 1 manager + 2 workers).
 *
 * The kill: SIGKILL of the `pulumi` CLI the Automation API spawned and of its whole process tree
 * (language host, program, dynamic providers and the scripts they run), frozen first so nothing
 * cleans up: a crash, an OOM kill, a CI runner's timeout. Twice:
 *  (a) during machine creation: as soon as a machine container of the pool runs (it is then booting,
 *      its create script waiting for cloud-init and sshd);
 *  (b) during the swarm joins: as soon as a worker runs `docker swarm join` (seen in this host's
 *      /proc: the machines' processes share its kernel), the engine tree is frozen, so it cannot
 *      record that join any more; the join goes on in the machine (its SSH session stays open),
 *      and once the worker's Docker reports the swarm state active the frozen tree is killed. So
 *      the kill always lands in the window that matters: the node joined, the engine has not
 *      recorded it. (Waiting for the worker's state without freezing lost that race in CI: the
 *      join script ends right after the join and the engine recorded both joins first.)
 * What a killed run leaves, and what this test proves about it (Pulumi CLI v3.259, file backend):
 *  - the backend's lock file stays: the next `up` refuses ("the stack is currently locked by 1
 *    lock(s)"). The one operator command: `pulumi cancel` (Automation API: `stack.cancel()`), after
 *    checking that the pid and host in the refusal are indeed gone. The test runs exactly that.
 *  - pending operations ("interrupted while creating") stay in the state: `up` warns about them and
 *    goes on, creating those resources again; the library's create scripts are idempotent, so the
 *    half-created machine is adopted (same container) and an already-joined node is not re-joined:
 *    the up converges without any operator step. The engine still keeps those pending CREATEs in
 *    every later state (on purpose: "these must require user intervention") and every up warns
 *    again, until the one operator command `pulumi refresh --clear-pending-creates --yes`
 *    (Automation API: `stack.refresh({ clearPendingCreates: true })`), which the test runs after
 *    the converging up. No `stack export|import` is needed.
 * Then: exactly 3 machines (containers counted by the pool's label), 6 volumes, 1 network, 3 swarm
 * nodes, after the refresh no pending operations, a further `up` changes nothing and warns no
 * more, `destroy` leaves nothing.
 * Durations and kill points are printed, not asserted.
 */
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { clearLock, engineProcess, freezeTree, killFrozen, killTree, processesRunning, pendingOperations } from "./kill";
import { Login, sshRun } from "./ssh";

jest.setTimeout(30 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}ku${process.pid}`;
const stackName = `ku-${process.pid}`;
let stack: Stack;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Names and ids of the pool's machine containers (by label), with their state. */
function machines(): string[] {
    return docker("ps", "-a", "--filter", `label=flotilla.pool=${pool}`, "--format", "{{.Names}} {{.ID}} {{.State}}").sort();
}

/** A worker's swarm state as its own Docker reports it ("" when it cannot tell yet). */
function swarmState(machine: string): string {
    try {
        return docker("exec", machine, "timeout", "5", "docker", "info", "--format", "{{.Swarm.LocalNodeState}}")[0] ?? "";
    } catch {
        return "";
    }
}

interface Killed {
    /** Seconds from the start of the up to the kill. */
    after: string;
    /** What was killed (command names). */
    processes: string[];
    /** What the killed run printed. */
    output: string;
    /** How the up's promise ended. */
    error: string;
}

/**
 * Runs `up` and SIGKILLs its engine tree as soon as `when` (polled every `pollMs`) says so. `onEvent`
 * sees the engine's events meanwhile. With `whileFrozen`, the tree is first frozen (SIGSTOP), then
 * `whileFrozen` is awaited, then the tree is killed.
 */
async function upKilled(
    when: () => boolean,
    onEvent: (e: EngineEvent) => void = () => undefined,
    options: { pollMs?: number; whileFrozen?: () => Promise<void> } = {},
): Promise<Killed> {
    const started = Date.now();
    let output = "";
    let settled = false;
    const running = stack
        .up({ onOutput: (o) => (output += o), onEvent })
        .then(
            () => "the up finished before the kill point",
            (err: Error) => err.message,
        )
        .finally(() => (settled = true));
    let processes: string[] = [];
    let after = "";
    while (!settled) {
        if (when()) {
            const pid = engineProcess("up", stackName);
            if (pid === undefined) throw new Error("no pulumi up process found to kill");
            after = seconds(started);
            if (options.whileFrozen) {
                const frozen = freezeTree(pid);
                await options.whileFrozen();
                processes = killFrozen(frozen);
            } else {
                processes = killTree(pid);
            }
            break;
        }
        await sleep(options.pollMs ?? 200);
    }
    const error = await running;
    return { after, processes, output, error };
}

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("swarm", stackName, {
        "test:poolName": pool,
        "test:subnet": "10.213.166.0/28",
        "test:machines": "3",
        "test:managers": "1",
        "test:workers": "2",
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("an up killed midway, run again", () => {
    let atFirstKill: string[] = [];

    test("(a) killed while the machines are being created: a lock and pending creates are left", async () => {
        const running = () =>
            docker("ps", "--filter", `label=flotilla.pool=${pool}`, "--filter", "status=running", "--format", "{{.Names}}").length > 0;
        const killed = await upKilled(running);
        atFirstKill = machines();
        console.log(
            `kill (a) after ${killed.after}s of up, machines then: ${JSON.stringify(atFirstKill)}; ` +
                `killed ${killed.processes.length} processes: ${JSON.stringify(killed.processes)}`,
        );
        expect(killed.after).not.toBe("");
        expect(killed.error).not.toBe("the up finished before the kill point");
        expect(killed.processes.some((p) => /pulumi up/.test(p))).toBe(true);
        expect(atFirstKill.some((m) => m.endsWith(" running"))).toBe(true);
        const pending = await pendingOperations(stack);
        console.log(`pending operations after kill (a): ${JSON.stringify(pending)}`);
        expect(pending.length).toBeGreaterThan(0);
        expect(pending.every((p) => p.startsWith("creating "))).toBe(true);
        const refused = await clearLock(stack);
        console.log(`the up after kill (a) refused: ${refused.split("\n").find((l) => /locked/.test(l))}`);
    });

    test("(b) run again, killed during the swarm joins", async () => {
        let joinStarted = 0;
        const onEvent = (e: EngineEvent) => {
            const urn = e.resourcePreEvent?.metadata.urn ?? "";
            if (joinStarted === 0 && /swarm-join-/.test(urn) && e.resourcePreEvent?.metadata.op === "create") joinStarted = Date.now();
        };
        const workers = [`${pool}-1`, `${pool}-2`];
        const address = (m: string) => docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", m)[0];
        let addresses: string[] = [];
        let joining = "";
        // Polled every 50 ms: a scan of /proc, no process started.
        const joinRunning = () => {
            if (joinStarted === 0) return false;
            if (addresses.length === 0) addresses = workers.map(address);
            const i = addresses.findIndex((a) => processesRunning(["docker", "swarm", "join"], ["--advertise-addr", a]).length > 0);
            if (i >= 0) joining = workers[i];
            // A bound against a hang: after 120 s the kill lands wherever the up is, and the checks below tell.
            return i >= 0 || Date.now() - joinStarted > 120_000;
        };
        // Frozen: the engine records nothing more; the join goes on inside the machine.
        const joined = async () => {
            const until = Date.now() + 60_000;
            while (joining !== "" && swarmState(joining) !== "active" && Date.now() < until) await sleep(250);
        };
        const killed = await upKilled(joinRunning, onEvent, { pollMs: 50, whileFrozen: joined });
        console.log(`kill (b): the engine was frozen while ${joining || "no worker"} ran docker swarm join`);
        expect(joining).not.toBe("");
        expect(swarmState(joining)).toBe("active");
        const states = [`${pool}-1`, `${pool}-2`].map((m) => `${m} ${swarmState(m)}`);
        console.log(
            `kill (b) after ${killed.after}s of the second up (${((Date.now() - joinStarted) / 1000).toFixed(1)}s after the first join began ` +
                `until now), worker swarm states after the kill: ${JSON.stringify(states)}; killed ${killed.processes.length} processes`,
        );
        expect(joinStarted).toBeGreaterThan(0);
        expect(killed.after).not.toBe("");
        // The second up warned about the first one's pending creates and went on.
        expect(killed.output).toContain("pending operations from previous deployment");
        // The machine that was booting at kill (a) was adopted, not made again (same container).
        const now = machines();
        for (const m of atFirstKill.filter((l) => l.endsWith(" running"))) {
            const [name, id] = m.split(" ");
            expect(now).toContain(`${name} ${id} running`);
        }
        const pending = await pendingOperations(stack);
        console.log(`pending operations after kill (b): ${JSON.stringify(pending)}`);
        expect(pending.some((p) => /swarm-join-/.test(p))).toBe(true);
        await clearLock(stack);
    });

    test("run again: converges, exactly 3 machines, 3 nodes, nothing orphaned, no pending operations", async () => {
        const started = Date.now();
        const up = await stack.up();
        console.log(`the converging up: ${seconds(started)}s, changes ${JSON.stringify(up.summary.resourceChanges)}`);
        expect(up.summary.result).toBe("succeeded");
        expect(up.stdout + up.stderr).toContain("pending operations from previous deployment");
        expect(machines().map((m) => m.replace(/ \S+ /, " "))).toEqual([`${pool}-0 running`, `${pool}-1 running`, `${pool}-2 running`]);
        expect(poolLeftovers(pool).sort()).toEqual(
            [
                `container ${pool}-0`,
                `container ${pool}-1`,
                `container ${pool}-2`,
                `network ${pool}-net`,
                ...[0, 1, 2].flatMap((i) => [`volume ${pool}-${i}-containerd`, `volume ${pool}-${i}-docker`]),
            ].sort(),
        );
        // The engine keeps pending CREATEs on purpose until an operator resolves them (v3.259
        // carries them into every new state, even after the same resource was created): each up
        // warns again. The one command, now that the up made those resources for real:
        // `pulumi refresh --clear-pending-creates --yes`.
        const stale = await pendingOperations(stack);
        console.log(`pending operations after the converging up: ${JSON.stringify(stale)}`);
        expect(stale.length).toBeGreaterThan(0);
        const refreshStarted = Date.now();
        const refresh = await stack.refresh({ clearPendingCreates: true });
        console.log(`refresh --clear-pending-creates: ${seconds(refreshStarted)}s, ${JSON.stringify(refresh.summary.resourceChanges)}`);
        expect(refresh.summary.result).toBe("succeeded");
        expect(await pendingOperations(stack)).toEqual([]);
        const out = up.outputs;
        const login: Login = {
            host: (out.addresses.value as string[])[0],
            user: out.user.value as string,
            privateKey: out.privateKey.value as string,
            hostKey: (out.hostKeys.value as string[])[0],
        };
        const nodes = await sshRun(login, "sudo docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'");
        expect(nodes.stdout.trim().split("\n").map((l) => l.trim()).sort()).toEqual([`${pool}-0 Ready Leader`, `${pool}-1 Ready`, `${pool}-2 Ready`]);
        // One resource per URN in the state.
        const urns = ((await stack.exportStack()).deployment as { resources: Array<{ urn: string }> }).resources.map((r) => r.urn);
        expect(new Set(urns).size).toBe(urns.length);
    });

    test("a further up changes nothing and warns no more; destroy leaves nothing", async () => {
        const up = await stack.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
        expect(up.stdout + up.stderr).not.toContain("pending operations");
        const destroy = await stack.destroy();
        expect(destroy.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
