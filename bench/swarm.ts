/**
 * Benchmark of the whole root program (issue 4): lab machines → Docker → Swarm → the demo image from
 * the private registry, for 3, 6 and 9 cluster machines (3 managers, N-3 workers, plus the registry's
 * machine), against the floor: the same steps done by a plain parallel shell script
 * (bench/swarm-floor.sh: no Pulumi, no SSH, no checks).
 *
 * For each size: T_up(N), from calling `stack.up()` to the first HTTP 200 on port 8080 of any node
 * (polled every 200 ms while the up runs), and the up's total duration; then a no-op up (it must
 * change nothing); then destroy (nothing may be left of the pool); then the floor for the same N.
 * Prints a table, T(6)/T(3), T(9)/T(3), and flotilla/floor per size, with the load average (other
 * lab runs on the machine make the figures noisy).
 *
 * Run: source scripts/lib.sh && pulumi_env && node_modules/.bin/ts-node --transpile-only bench/swarm.ts
 * Env: BENCH_SIZES=3,6 limits the sizes (default 3,6,9); BENCH_FLOOR=0 skips the floor.
 */
import * as childProcess from "child_process";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { poolLeftovers, removeStack, removeStaleTestPools, rootStack, TEST_POOL_PREFIX } from "../test/lab/harness";
import { hostAddress, parseCidr } from "../lib/core/ipv4";

/** Cluster machines → subnet and the letter of the pool's name (`<prefix>bench<letter><pid>`). */
const SUBNETS: Record<number, [string, string]> = {
    3: ["10.213.150.0/27", "a"],
    6: ["10.213.151.0/27", "b"],
    9: ["10.213.152.0/27", "c"],
};
/** How long to keep polling for the first 200 after the up returned (it waits for convergence). */
const POLL_AFTER_UP_MS = 60_000;

interface Row {
    nodes: number;
    firstOk: number;
    upTotal: number;
    noop: number;
    destroy: number;
    floor: number;
    load: string;
    loadAfter: string;
}

const now = () => Date.now() / 1000;
const loadavg = () => os.loadavg().map((l) => l.toFixed(1)).join(" ");

/** HTTP status of GET url (0 on any error), bounded. */
function status(url: string): Promise<number> {
    return new Promise((resolve) => {
        const req = http.get(url, { timeout: 1000, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(0));
    });
}

/**
 * Polls every address every 200 ms (probes in parallel, each bounded to 1 s) until one answers 200,
 * or `stop()` says to give up. Resolves to the time of the first 200 (seconds since the epoch), or NaN.
 */
async function firstOk(addresses: string[], stop: () => boolean): Promise<number> {
    let hit = NaN;
    const inFlight = new Set<Promise<void>>();
    while (Number.isNaN(hit) && !stop()) {
        for (const a of addresses) {
            const p: Promise<void> = status(`http://${a}:8080/`).then((s) => {
                if (s === 200 && Number.isNaN(hit)) hit = now();
                inFlight.delete(p);
            });
            inFlight.add(p);
        }
        await new Promise((r) => setTimeout(r, 200));
    }
    await Promise.all(inFlight);
    return hit;
}

/** Runs bench/swarm-floor.sh N; its progress goes to our stderr, its result is the last stdout line. */
function floor(nodes: number): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = childProcess.spawn("bash", [path.join(__dirname, "swarm-floor.sh"), String(nodes)], {
            stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const m = /FLOOR_SECONDS=([\d.]+)/.exec(out);
            if (code !== 0 || !m) reject(new Error(`swarm-floor.sh ${nodes} failed (exit ${code}): ${out}`));
            else resolve(Number(m[1]));
        });
    });
}

async function measure(nodes: number, runFloor: boolean): Promise<Row> {
    const [subnet, letter] = SUBNETS[nodes];
    const block = parseCidr(subnet);
    if (typeof block === "string") throw new Error(block);
    const addresses = Array.from({ length: nodes }, (_, i) => hostAddress(block, i));
    const pool = `${TEST_POOL_PREFIX}bench${letter}${process.pid}`;
    const name = `bench-swarm-${process.pid}-${nodes}`;
    const managers = Math.min(3, nodes);
    const stack = await rootStack(name, {
        "flotilla:poolName": pool,
        "flotilla:subnet": subnet,
        "flotilla:managers": String(managers),
        "flotilla:workers": String(nodes - managers),
    });
    const load = loadavg();
    let destroySeconds = NaN;
    let row: Omit<Row, "floor" | "destroy" | "loadAfter">;
    try {
        let upDone = 0;
        const started = now();
        const poll = firstOk(addresses, () => (upDone > 0 && Date.now() / 1000 - upDone > POLL_AFTER_UP_MS / 1000) || now() - started > 3600);
        const up = await stack.up().finally(() => (upDone = now()));
        const upTotal = upDone - started;
        const ok = await poll;
        if (Number.isNaN(ok)) throw new Error(`no HTTP 200 from ${addresses.join(", ")} within ${POLL_AFTER_UP_MS / 1000}s of the up`);
        const running = up.outputs.services.value as Record<string, { running: number; desired: number }>;
        if (running.web?.running !== nodes) throw new Error(`expected ${nodes} running tasks, got ${JSON.stringify(running)}`);
        let t = now();
        const noop = await stack.up();
        const noopSeconds = now() - t;
        const changes = noop.summary.resourceChanges ?? {};
        if (Object.keys(changes).some((k) => k !== "same")) {
            throw new Error(`the no-op up changed something: ${JSON.stringify(changes)}`);
        }
        row = { nodes, firstOk: ok - started, upTotal, noop: noopSeconds, load };
        t = now();
        await stack.destroy();
        destroySeconds = now() - t;
    } finally {
        if (Number.isNaN(destroySeconds)) {
            await stack.destroy().catch((e: Error) => console.error(`destroy of ${name} failed: ${e.message}`));
        }
        await removeStack(stack);
    }
    const left = poolLeftovers(pool);
    if (left.length > 0) throw new Error(`destroy left ${left.join(", ")}`);
    console.log(`flotilla, ${nodes} nodes: ${JSON.stringify({ ...row, destroy: destroySeconds })}`);
    let floorSeconds = NaN;
    if (runFloor) {
        // A failed floor costs its column, not the sizes still to measure.
        floorSeconds = await floor(nodes).catch((e: Error) => (console.error(e.message), NaN));
    }
    return { ...row, destroy: destroySeconds, floor: floorSeconds, loadAfter: loadavg() };
}

async function main() {
    const sizes = (process.env.BENCH_SIZES ?? "3,6,9").split(",").map((s) => Number(s.trim()));
    for (const n of sizes) {
        if (!(n in SUBNETS)) throw new Error(`BENCH_SIZES: ${n} is not one of ${Object.keys(SUBNETS).join(", ")}`);
    }
    const runFloor = process.env.BENCH_FLOOR !== "0";
    removeStaleTestPools();
    const rows: Row[] = [];
    for (const n of sizes) {
        console.log(`measuring ${n} cluster machines (+1 registry), load ${loadavg()}...`);
        const row = await measure(n, runFloor);
        console.log(JSON.stringify(row));
        rows.push(row);
    }
    const f = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(1)).padStart(7);
    console.log("");
    console.log(`root program on ${os.cpus().length} CPUs: up → first HTTP 200 on :8080 (T_up), vs. the plain shell floor`);
    console.log("nodes | T_up s | up total s | no-op up s | destroy s | floor s | T_up/floor | load avg (1 5 15) at start / end");
    for (const r of rows) {
        console.log(
            `${String(r.nodes).padStart(5)} | ${f(r.firstOk)}| ${f(r.upTotal)}    | ${f(r.noop)}    | ${f(r.destroy)}   | ` +
                `${f(r.floor)} | ${f(r.firstOk / r.floor)}    | ${r.load} / ${r.loadAfter}`,
        );
    }
    const t3 = rows.find((r) => r.nodes === 3);
    for (const r of rows.filter((x) => x.nodes !== 3)) {
        console.log(
            `T(${r.nodes})/T(3) = ${t3 ? (r.firstOk / t3.firstOk).toFixed(2) : "-"}` +
                (t3 && !Number.isNaN(r.floor) ? `   floor(${r.nodes})/floor(3) = ${(r.floor / t3.floor).toFixed(2)}` : ""),
        );
    }
    console.log(`load average at the end: ${loadavg()}`);
}

main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
});
