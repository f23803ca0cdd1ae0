/**
 * An `up` of a kubeadm cluster killed during the worker's join, then run again (program
 * test/lab/programs/kubernetes, pool on 10.213.179.0/28: 3 lab machines, the registry (0), 1
 * control plane (1) and 1 worker (2)).
 *
 * The kill (see swarm-killed-up.test.ts for the Swarm one and what a killed run leaves): as soon as the
 * worker runs `kubeadm join` (seen in this host's /proc, the machines share its kernel, and told from
 * other pools' processes by its cgroup, which names the worker's container), the engine's whole
 * process tree is frozen (SIGSTOP), so it cannot record that join any more; the join goes on in the
 * machine, and once the worker's Node is registered (the control plane's kubectl sees it, and the
 * worker's kubelet.conf exists) the frozen tree is SIGKILLed. So the kill lands where it matters:
 * the node joined, the engine has not recorded it.
 * Then: the next `up` refuses (the lock), `pulumi cancel`; the converging `up` warns about the pending
 * creates and goes on: the join script adopts the node that is already joined (not reset, not joined
 * again: its Node object keeps its UID, kubeadm's log holds one join); exactly 3 machines (the same
 * containers), 2 Nodes Ready; `refresh --clear-pending-creates`, no pending operations; a further
 * `up` changes nothing and warns no more; `destroy` leaves nothing.
 * Durations and the kill point are printed, not asserted.
 */
import * as childProcess from "child_process";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, ROOT, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { clearLock, engineProcess, freezeTree, inContainer, killFrozen, processesRunning, pendingOperations } from "./kill";

jest.setTimeout(40 * 60 * 1000);

const cache = childProcess.execFileSync("bash", [`${ROOT}/scripts/kubernetes-build.sh`], { encoding: "utf8" }).trim().split("\n").pop() as string;
const demo = childProcess.execFileSync("bash", [`${ROOT}/scripts/demo-image.sh`, "k8s-lab"], { encoding: "utf8" }).trim().split("\n").pop() as string;

const pool = `${TEST_POOL_PREFIX}kk${process.pid}`;
const stackName = `kk-${process.pid}`;
const controlPlane = `${pool}-1`;
const worker = `${pool}-2`;
let stack: Stack;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Names and ids of the pool's machine containers (by label), with their state. */
function machines(): string[] {
    return docker("ps", "-a", "--filter", `label=flotilla.pool=${pool}`, "--format", "{{.Names}} {{.ID}} {{.State}}").sort();
}

/** A command in a machine (docker exec, bounded); its stdout, or undefined when it fails. */
function inMachine(machine: string, ...command: string[]): string | undefined {
    try {
        return childProcess.execFileSync("docker", ["exec", machine, "timeout", "20", ...command], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    } catch {
        return undefined;
    }
}

/** kubectl on the control plane with its admin kubeconfig. */
const kubectl = (...args: string[]) => inMachine(controlPlane, "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "--request-timeout=15s", ...args);

/** The worker's Node UID as the API server has it ("" when it is not registered, or the API does not answer). */
const workerUid = () => kubectl("get", "node", worker, "-o", "jsonpath={.metadata.uid}")?.trim() ?? "";

/** Every Node with its Ready condition. */
const readyNodes = () =>
    (kubectl("get", "nodes", "-o", 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}') ?? "")
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .sort();

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("kubernetes", stackName, {
        "test:poolName": pool,
        "test:subnet": "10.213.179.0/28",
        "test:controlPlane": "1",
        "test:workers": "1",
        "test:cache": cache,
        "test:demoImage": demo,
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("a kubeadm up killed during the worker's join, run again", () => {
    let uidAtKill = "";
    let atKill: string[] = [];

    test("killed once the worker's Node is registered, the engine frozen since its kubeadm join began", async () => {
        const started = Date.now();
        let joinStarted = 0;
        const onEvent = (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            if (joinStarted === 0 && m?.op === "create" && m.urn.endsWith(`::k8s-join-${worker}`)) joinStarted = Date.now();
        };
        let output = "";
        let settled = false;
        const running = stack
            .up({ onOutput: (o) => (output += o), onEvent })
            .then(
                () => "the up finished before the kill point",
                (err: Error) => err.message,
            )
            .finally(() => (settled = true));
        let workerId = "";
        let frozenAt = "";
        let killed: string[] = [];
        let joining = false;
        let stillJoining = false;
        // Polled every 50 ms once the worker's join began: a scan of /proc, no process started.
        while (!settled) {
            if (joinStarted > 0) {
                if (!workerId) workerId = docker("inspect", "--format", "{{.Id}}", worker)[0];
                joining = processesRunning(["kubeadm", "join"]).some((pid) => inContainer(pid, workerId));
                // A bound against a hang: after 15 min the kill lands wherever the up is, and the checks below tell.
                if (joining || Date.now() - joinStarted > 900_000) {
                    const pid = engineProcess("up", stackName);
                    if (pid === undefined) throw new Error("no pulumi up process found to freeze");
                    frozenAt = seconds(started);
                    const frozen = freezeTree(pid);
                    // Frozen: the engine records nothing more; the join goes on inside the machine.
                    const until = Date.now() + 240_000;
                    while (Date.now() < until && !(workerUid() !== "" && inMachine(worker, "test", "-s", "/etc/kubernetes/kubelet.conf") !== undefined)) {
                        await sleep(500);
                    }
                    uidAtKill = workerUid();
                    stillJoining = processesRunning(["kubeadm", "join"]).some((p) => inContainer(p, workerId));
                    killed = killFrozen(frozen);
                    break;
                }
            }
            await sleep(joinStarted > 0 ? 50 : 500);
        }
        const error = await running;
        atKill = machines();
        console.log(
            `frozen after ${frozenAt}s of up (${joinStarted ? seconds(joinStarted) : "?"}s after the join began until now), ` +
                `while ${worker} ran kubeadm join: ${joining}; killed ${killed.length} processes once its Node was registered (uid ${uidAtKill || "none"}; ` +
                `kubeadm join still running then: ${stillJoining}); ` +
                `machines then: ${JSON.stringify(atKill)}`,
        );
        expect(joinStarted).toBeGreaterThan(0);
        expect(joining).toBe(true);
        expect(error).not.toBe("the up finished before the kill point");
        expect(killed.some((p) => /pulumi up/.test(p))).toBe(true);
        expect(uidAtKill).toMatch(/^[0-9a-f-]{36}$/);
        const pending = await pendingOperations(stack);
        console.log(`pending operations after the kill: ${JSON.stringify(pending)}`);
        expect(pending).toContain(`creating k8s-join-${worker}`);
        expect(pending.every((p) => p.startsWith("creating "))).toBe(true);
        const refused = await clearLock(stack);
        console.log(`the up after the kill refused: ${refused.split("\n").find((l) => /locked/.test(l))}`);
    });

    test("run again: converges on the joined node (same Node UID, one join), exactly 3 machines, 2 Nodes Ready", async () => {
        const started = Date.now();
        const up = await stack.up();
        console.log(`the converging up: ${seconds(started)}s, changes ${JSON.stringify(up.summary.resourceChanges)}`);
        expect(up.summary.result).toBe("succeeded");
        expect(up.stdout + up.stderr).toContain("pending operations from previous deployment");
        // The same 3 containers as at the kill: adopted, not made again.
        expect(machines()).toEqual(atKill.map((m) => m.replace(/ \S+$/, " running")));
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
        expect(readyNodes()).toEqual([`${controlPlane} True`, `${worker} True`]);
        // Not re-registered: the Node object from before the converging up, and kubeadm joined once.
        expect(workerUid()).toBe(uidAtKill);
        const count = (pattern: string) => inMachine(worker, "grep", "-c", pattern, "/var/log/flotilla-kubeadm.log")?.trim() ?? "0";
        console.log(`kubeadm's log on ${worker}: ${count("This node has joined the cluster")} "joined" line(s)`);
        expect([count("Running pre-flight checks"), count("\\[reset\\]")]).toEqual(["1", "0"]);
        // The join's configuration (it holds the bootstrap token) is not left behind.
        expect(inMachine(worker, "test", "-e", "/etc/flotilla/kubeadm/join.yaml")).toBeUndefined();
        // The engine keeps pending CREATEs until an operator resolves them (see swarm-killed-up.test.ts):
        // `pulumi refresh --clear-pending-creates --yes`.
        const stale = await pendingOperations(stack);
        console.log(`pending operations after the converging up: ${JSON.stringify(stale)}`);
        expect(stale.length).toBeGreaterThan(0);
        const refreshStarted = Date.now();
        const refresh = await stack.refresh({ clearPendingCreates: true });
        console.log(`refresh --clear-pending-creates: ${seconds(refreshStarted)}s, ${JSON.stringify(refresh.summary.resourceChanges)}`);
        expect(refresh.summary.result).toBe("succeeded");
        expect(await pendingOperations(stack)).toEqual([]);
        // One resource per URN in the state.
        const urns = ((await stack.exportStack()).deployment as { resources: Array<{ urn: string }> }).resources.map((r) => r.urn);
        expect(new Set(urns).size).toBe(urns.length);
    });

    test("a further up changes nothing and warns no more; destroy leaves nothing", async () => {
        let started = Date.now();
        const up = await stack.up();
        console.log(`the further up: ${seconds(started)}s`);
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
        expect(up.stdout + up.stderr).not.toContain("pending operations");
        expect(workerUid()).toBe(uidAtKill);
        started = Date.now();
        const destroy = await stack.destroy();
        console.log(`destroy: ${seconds(started)}s`);
        expect(destroy.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
