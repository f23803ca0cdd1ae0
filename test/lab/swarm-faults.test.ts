/**
 * Faults on a running 5-node lab swarm (program test/lab/programs/swarm-faults, pool on 10.213.164.0/28):
 * 3 managers + 2 workers with Docker, the web + db app (web global on 8080 in host mode: every node
 * answers; db one replica with its named volume `db-data`, pinned to the worker of zone `a`). Each
 * fault runs under a continuous request loop (a client that moves on to the next node when one
 * refuses or times out, as a load balancer does; a failed request is an HTTP error or no node
 * answering) and with a row written to the db's volume before and read back after:
 * (1) `systemctl restart docker` on the db's worker, then on the leading manager;
 * (2) the leading manager cut off from the other managers by nftables (2377/7946/4789): the other
 *     two keep quorum, the app keeps serving, the rule removed → it rejoins;
 * (3) every lab machine restarted (`docker restart`, same addresses): the swarm and the app come
 *     back without an up.
 * After each fault an `up` with refresh shows what drifted (nothing did: it changes nothing), and
 * the db's task history is reported. Figures are printed, never asserted.
 */
import * as childProcess from "child_process";
import { Stack, UpResult } from "@pulumi/pulumi/automation";
import { docker, httpGet, LoadStats, poolLeftovers, removeStaleTestPools, reportLoad, requestLoop, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";
import { Login, sshRun } from "./ssh";

jest.setTimeout(40 * 60 * 1000);

const ROOT = `${__dirname}/../..`;
const SUBNET = "10.213.164.0/28";
const pool = `${TEST_POOL_PREFIX}faults${process.pid}`;
const names = [0, 1, 2, 3, 4].map((i) => `${pool}-${i}`);
/** The db's node: the worker of zone `a` (the program pins it there). */
const DB_NODE = 4;
const MANAGERS = [0, 1, 2];
const started = Date.now();
let stack: Stack;
let logins: Login[];
let addresses: string[];
/** Rows written to the db's volume so far, in order: every read must give all of them back. */
const rows: string[] = [];

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

async function onNode(i: number, command: string, timeoutMs = 60_000): Promise<string> {
    const r = await sshRun(logins[i], `sudo ${command}`, timeoutMs);
    if (r.code !== 0) throw new Error(`${command} on ${names[i]}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

/** Runs a swarm command on the first of `managers` that answers it. */
async function onManager(command: string, managers = MANAGERS): Promise<string> {
    const errors: string[] = [];
    for (const i of managers) {
        try {
            return await onNode(i, command, 20_000);
        } catch (e) {
            errors.push((e as Error).message);
        }
    }
    throw new Error(`no manager answered ${command}:\n${errors.join("\n")}`);
}

/** `<hostname> <status> <manager status>` of every node, as manager `i` lists them, sorted. */
async function nodeList(i: number): Promise<string[]> {
    return (await onNode(i, "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'", 20_000))
        .trim()
        .split("\n")
        .map((l) => l.trim())
        .sort();
}

/** Index of the leading manager, as the first manager that answers says. */
async function leader(managers = MANAGERS): Promise<number> {
    const line = (await onManager("docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'", managers))
        .split("\n")
        .find((l) => l.trim().endsWith(" Leader"));
    if (!line) throw new Error("no leader listed");
    return names.indexOf(line.split(" ")[0]);
}

/** `<service> <running>/<desired>` of the app's services, sorted. */
async function replicas(): Promise<string[]> {
    return (await onManager("docker service ls --filter label=com.docker.stack.namespace=shop --format '{{.Name}} {{.Replicas}}'"))
        .trim()
        .split("\n")
        .sort();
}

/** Bounded wait until the swarm lists every node Ready (managers Leader/Reachable) and the app converged. */
async function swarmHealthy(what: string, bound: number): Promise<number> {
    return until(what, bound, async () => {
        const nodes = await nodeList(await leader());
        const ok = nodes.length === 5 && nodes.every((l, i) => (i < 3 ? new RegExp(`^${names[i]} Ready (Leader|Reachable)$`).test(l) : l === `${names[i]} Ready`));
        return ok && JSON.stringify(await replicas()) === JSON.stringify(["shop_db 1/1", "shop_web 5/5"]);
    }, 1000);
}

/** The db's running task: node index and container id (asked on that node). */
async function dbTask(): Promise<{ node: number; container: string }> {
    const node = (await onManager("docker service ps shop_db --filter desired-state=running --format '{{.Node}}'")).trim();
    const i = names.indexOf(node);
    if (i < 0) throw new Error(`db task on an unknown node '${node}'`);
    const container = (await onNode(i, "docker ps -q --filter label=com.docker.swarm.service.name=shop_db")).trim();
    if (!/^[0-9a-f]{12}$/.test(container)) throw new Error(`no single running db container on ${node}: '${container}'`);
    return { node: i, container };
}

/** Every task the db service had so far (running or not): `<node> <desired> <current state>`. */
async function dbHistory(): Promise<string[]> {
    return (await onManager("docker service ps shop_db --format '{{.Node}} {{.DesiredState}} {{.CurrentState}}'")).trim().split("\n");
}

async function writeRow(row: string): Promise<void> {
    const { node, container } = await dbTask();
    await onNode(node, `docker exec -u 0 ${container} /bin/busybox sh -c 'echo ${row} >> /data/rows'`);
    rows.push(row);
}

/** The rows in the db's volume, read in its (possibly new) task; the task must be on the zone-a worker. */
async function readRows(): Promise<string[]> {
    const { node, container } = await dbTask();
    expect(names[node]).toBe(names[DB_NODE]);
    return (await onNode(node, `docker exec ${container} /bin/busybox cat /data/rows`)).trim().split("\n");
}

/** GET http://address:8080/ → [status, body] (3 s); rejects on connection errors. */
function get(address: string): Promise<[number, string]> {
    return httpGet(`http://${address}:8080/`, 3000);
}

/** The continuous client of every fault: lenient (a node refusing is moved past, as a load balancer does). */
function clientLoop(): { stop: () => Promise<LoadStats> } {
    return requestLoop({ urls: addresses.map((a) => `http://${a}:8080/`), expect: /flotilla-demo v1/ });
}

/** An up with refresh (so drift is seen), its figures printed; returns the result. */
async function refreshUp(after: string): Promise<UpResult> {
    const t = Date.now();
    const up = await stack.up({ refresh: true });
    console.log(`${after}: up --refresh in ${seconds(t)}s, changes ${JSON.stringify(up.summary.resourceChanges)}`);
    return up;
}

function demoImage(tag: string): string {
    const out = childProcess.execFileSync("bash", [`${ROOT}/scripts/demo-image.sh`, tag], { encoding: "utf8" });
    return out.trim().split("\n").pop() as string;
}

beforeAll(async () => {
    removeStaleTestPools();
    const image = demoImage("v1");
    stack = await testProgramStack("swarm-faults", `faults-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": SUBNET,
        "test:withApp": "false",
        "test:image": image,
    });
    const t = Date.now();
    const up = await stack.up();
    console.log(`up of 5 machines with Docker and a swarm: ${seconds(t)}s`);
    addresses = up.outputs.addresses.value as string[];
    const hostKeys = up.outputs.hostKeys.value as string[];
    logins = addresses.map((host, i) => ({
        host,
        user: up.outputs.user.value as string,
        privateKey: up.outputs.privateKey.value as string,
        hostKey: hostKeys[i],
    }));
    const archive = childProcess.execFileSync("docker", ["save", image], { maxBuffer: 64 * 1024 * 1024 });
    await Promise.all(logins.map((l) => sshRun(l, "sudo docker load -q", 120_000, archive)));
});

afterAll(() => tearDown(stack, { pool, after: () => console.log(`faults test file: ${seconds(started)}s in all`) }));

describe("faults on a running swarm app", () => {
    test("up: the app converges, every node serves, the db holds a first row", async () => {
        await stack.setConfig("test:withApp", { value: "true" });
        const up = await stack.up();
        expect(up.outputs.services.value).toEqual({ web: { running: 5, desired: 5 }, db: { running: 1, desired: 1 } });
        for (const address of addresses) {
            expect(await get(address)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        }
        await writeRow("row-initial");
        expect(await readRows()).toEqual(rows);
        // A second up runs nothing: the baseline the faults are compared with.
        const again = await refreshUp("baseline");
        expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    for (const [label, pick] of [
        ["the db's worker", async () => DB_NODE],
        ["the leading manager", async () => leader()],
    ] as const) {
        test(`the container runtime restarted on ${label}: the app keeps serving, the row stays, the next up changes nothing`, async () => {
            const victim = await pick();
            const leaderBefore = await leader();
            const tasksBefore = await dbHistory();
            await writeRow(`row-before-docker-restart-${victim}`);
            const load = clientLoop();
            const t = Date.now();
            let stats: LoadStats;
            try {
                await onNode(victim, "systemctl restart docker", 120_000);
                const back = await until(`${names[victim]} serving again`, 180, async () => (await get(addresses[victim]))[0] === 200);
                console.log(`systemctl restart docker on ${names[victim]}: returned after ${seconds(t)}s... serving 200 again ${back.toFixed(1)}s after it returned`);
                const healthy = await swarmHealthy("the swarm healthy and the app converged", 240);
                console.log(`  swarm healthy and app converged ${seconds(t)}s after the restart began (wait ${healthy.toFixed(1)}s)`);
            } finally {
                stats = await load.stop();
            }
            reportLoad(`runtime restarted on ${names[victim]}`, stats);
            console.log(`  leader: ${names[leaderBefore]} before, ${names[await leader()]} after`);
            const tasksAfter = await dbHistory();
            console.log(`  db tasks: ${tasksBefore.length} before, ${tasksAfter.length} after; now: ${tasksAfter.slice(0, 2).join(" | ")}`);
            expect(stats.failures).toEqual([]);
            expect(stats.ok).toBeGreaterThan(20);
            expect(await readRows()).toEqual(rows);
            const up = await refreshUp(`after the runtime restart on ${names[victim]}`);
            expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
        });
    }

    test("the leading manager cut off from the other managers: quorum kept, app serving, rejoins when the rule goes", async () => {
        const cut = await leader();
        const others = MANAGERS.filter((i) => i !== cut);
        const peers = others.map((i) => addresses[i]);
        // nftables from Debian's package (the machines reach its mirror; docker.io's iptables-nft
        // does not bring the nft tool).
        await onNode(
            cut,
            "sh -c 'DEBIAN_FRONTEND=noninteractive timeout 180 apt-get install -y -qq --no-install-recommends nftables >/dev/null 2>&1 || " +
                "{ timeout 180 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 180 apt-get install -y -qq --no-install-recommends nftables; }'",
            400_000,
        );
        const ruleset = [
            "table inet flotilla_cut {",
            `  set peers { type ipv4_addr; elements = { ${peers.join(", ")} }; }`,
            ...["input:saddr", "output:daddr"].flatMap((c) => {
                const [chain, field] = c.split(":");
                return [
                    `  chain ${chain} {`,
                    `    type filter hook ${chain} priority -10; policy accept;`,
                    `    ip ${field} @peers tcp dport { 2377, 7946 } counter drop`,
                    `    ip ${field} @peers tcp sport { 2377, 7946 } counter drop`,
                    `    ip ${field} @peers udp dport { 7946, 4789 } counter drop`,
                    `    ip ${field} @peers udp sport { 7946, 4789 } counter drop`,
                    "  }",
                ];
            }),
            "}",
            "",
        ].join("\n");
        const tasksBefore = await dbHistory();
        await writeRow(`row-before-cut-${cut}`);
        const load = clientLoop();
        let stats: LoadStats;
        const t = Date.now();
        try {
            const r = await sshRun(logins[cut], "sudo nft -f -", 30_000, Buffer.from(ruleset));
            expect(r).toMatchObject({ code: 0, stderr: "" });
            // The other two: a leader among them, the cut one Unreachable, then Down.
            const elected = await until("a leader among the other managers, the cut one unreachable", 120, async () => {
                const nodes = await nodeList(others[0]);
                return (
                    nodes.some((l) => l.startsWith(`${names[cut]} `) && l.endsWith(" Unreachable")) &&
                    nodes.some((l) => others.some((i) => l === `${names[i]} Ready Leader`))
                );
            }, 1000);
            console.log(`manager ${names[cut]} cut off: the others list it Unreachable with a leader among them after ${elected.toFixed(1)}s`);
            const down = await until("the cut manager marked Down", 120, async () =>
                (await nodeList(others[1])).some((l) => l.startsWith(`${names[cut]} Down`)), 1000);
            console.log(`  marked Down after ${(elected + down).toFixed(1)}s; both others answer docker node ls:`);
            for (const i of others) console.log(`  ${names[i]}: ${(await nodeList(i)).join(", ")}`);
            const alone = await sshRun(logins[cut], "sudo docker node ls", 20_000);
            console.log(`  the cut manager itself: exit ${alone.code}: ${alone.stderr.trim().slice(0, 160)}`);
            expect(alone.code).not.toBe(0);
            // The cut manager's own web task keeps serving (its containers run on).
            expect(await get(addresses[cut])).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
            const removed = Date.now();
            await onNode(cut, "nft delete table inet flotilla_cut");
            const rejoined = await until("the cut manager rejoined: its own node list all Ready", 180, async () => {
                const nodes = await nodeList(cut);
                return nodes.length === 5 && nodes.every((l) => / Ready( Leader| Reachable)?$/.test(l));
            }, 1000);
            console.log(`  rule removed -> ${names[cut]} lists every node Ready again after ${rejoined.toFixed(1)}s`);
            const healthy = await swarmHealthy("the swarm healthy and the app converged after the rejoin", 240);
            console.log(`  swarm healthy and app converged ${seconds(removed)}s after the rule was removed (fault began ${seconds(t)}s ago; wait ${healthy.toFixed(1)}s)`);
        } finally {
            stats = await load.stop();
            await sshRun(logins[cut], "sudo sh -c 'nft delete table inet flotilla_cut 2>/dev/null || true'", 20_000).catch(() => undefined);
        }
        reportLoad(`manager ${names[cut]} cut off`, stats);
        const tasksAfter = await dbHistory();
        console.log(`  db tasks: ${tasksBefore.length} before, ${tasksAfter.length} after; now: ${tasksAfter.slice(0, 2).join(" | ")}`);
        expect(stats.failures).toEqual([]);
        expect(stats.ok).toBeGreaterThan(20);
        expect(await readRows()).toEqual(rows);
        const up = await refreshUp(`after the cut manager ${names[cut]} rejoined`);
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("every machine restarted: swarm and app come back without an up, the row stays, an up changes nothing", async () => {
        const tasksBefore = await dbHistory();
        await writeRow("row-before-restart-all");
        // Requests fail here (every machine is down for a while): counted and reported, not asserted.
        const load = clientLoop();
        let stats: LoadStats;
        const t = Date.now();
        try {
            docker("restart", ...names);
            console.log(`docker restart of the 5 machines returned after ${seconds(t)}s`);
            const first: Record<string, string> = {};
            await until("HTTP 200 from every node", 420, async () => {
                await Promise.all(
                    addresses.map(async (address, i) => {
                        if (first[names[i]] !== undefined) return;
                        const [status, body] = await get(address).catch(() => [0, ""] as [number, string]);
                        if (status === 200 && body.includes("flotilla-demo v1")) first[names[i]] = seconds(t);
                    }),
                );
                return Object.keys(first).length === 5;
            }, 1000);
            console.log(`all machines restarted: seconds to first HTTP 200 per node (from the restart command): ${JSON.stringify(first)}`);
            // Same addresses, same host keys (the logins pin them), the swarm whole again.
            const healthy = await swarmHealthy("the swarm healthy and the app converged after the restart", 300);
            console.log(`  swarm healthy and app converged ${seconds(t)}s after the restart began (wait ${healthy.toFixed(1)}s)`);
        } finally {
            stats = await load.stop();
        }
        reportLoad("every machine restarted", stats);
        for (const i of [0, 1, 2, 3, 4]) {
            // What the pool's readiness check waits for: systemd up, cloud-init done, sshd (this login).
            expect((await onNode(i, "systemctl is-system-running")).trim()).toBe("running");
            expect((await onNode(i, "cloud-init status")).trim()).toBe("status: done");
            expect((await onNode(i, "systemctl is-active docker")).trim()).toBe("active");
        }
        const tasksAfter = await dbHistory();
        console.log(`  db tasks: ${tasksBefore.length} before, ${tasksAfter.length} after; now: ${tasksAfter.slice(0, 2).join(" | ")}`);
        expect(await readRows()).toEqual(rows);
        const up = await refreshUp("after every machine restarted");
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("destroy leaves nothing behind", async () => {
        const t = Date.now();
        const result = await stack.destroy();
        console.log(`destroy: ${seconds(t)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
