/**
 * Benchmark of the runtime layer on the local lab: DockerEngine (distribution packages) installed on
 * 1, 3 and 6 fresh lab machines in parallel.
 *
 * For each size: an up that makes the machines (not measured), then the up that installs Docker on
 * all of them (T(n), wall time, and each host's own script time from its log), then a no-op up
 * (nothing changes, no script runs), and one idempotent re-run of the script on an installed host
 * (what a replaced resource or a refresh-then-up costs when nothing needs doing). Prints a table and
 * T(6)/T(1).
 *
 * Run: source scripts/lib.sh && pulumi_env && node_modules/.bin/ts-node --transpile-only bench/runtime.ts
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { removeStack, testProgramStack } from "../test/lab/harness";
import { RUNTIME_POOL_PREFIX, removeStaleRuntimePools } from "../test/lab/runtime-lab";
import { dockerEnvironment, resolveDockerSettings } from "../lib/runtime/docker-engine";
import { shellQuote } from "../lib/shared/script-output";
import { Validator } from "../lib/core/validate";

/** Machines, subnet, and the letter of the pool's name (`<prefix><letter><pid>`). */
const SIZES: [number, string, string][] = [
    [1, "10.213.114.0/29", "x"],
    [3, "10.213.115.0/29", "y"],
    [6, "10.213.116.0/28", "z"],
];

interface Row {
    machines: number;
    wall: number;
    perHost: number[];
    noop: number;
    rerun: number;
}

const now = () => Date.now() / 1000;

/** Each machine's own install time, from the "done in Ns" line of its runtime log. */
function scriptSeconds(machine: string): number {
    const log = childProcess.execFileSync("docker", ["exec", machine, "cat", "/var/log/flotilla/runtime-docker.log"], {
        encoding: "utf8",
    });
    const m = /done in (\d+)s/.exec(log);
    if (!m) throw new Error(`no "done in" line in ${machine}'s runtime log`);
    return Number(m[1]);
}

/** One run of the script on an installed machine with the very environment the component gives it. */
function idempotentRerun(machine: string): number {
    const env = dockerEnvironment({ ...resolveDockerSettings(new Validator("bench", "bench"), { waitTimeoutSeconds: 300 }, "distro"), insecureRegistries: [] });
    const program = [
        ...Object.entries({ FLOTILLA_PHASE: "update", ...env }).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
        fs.readFileSync(path.join(__dirname, "../lib/runtime/scripts/runtime.sh"), "utf8"),
    ].join("\n");
    const started = now();
    const out = childProcess.execFileSync("docker", ["exec", "-i", machine, "bash", "-s"], {
        input: program,
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
    });
    const took = now() - started;
    if (!out.includes('"runtime":"docker"')) throw new Error(`re-run on ${machine} printed no result: ${out}`);
    return took;
}

async function measure(machines: number, subnet: string, letter: string): Promise<Row> {
    const pool = `${RUNTIME_POOL_PREFIX}${letter}${process.pid}`;
    const name = `rtb-${process.pid}-${machines}`;
    const stack = await testProgramStack("runtime", name, {
        "test:poolName": pool,
        "test:subnet": subnet,
        "test:machines": String(machines),
    });
    try {
        await stack.up();
        await stack.setConfig("test:runtime", { value: "docker" });
        let started = now();
        const install = await stack.up();
        const wall = now() - started;
        if (install.summary.resourceChanges?.create !== machines + 1) {
            throw new Error(`expected ${machines + 1} creates, got ${JSON.stringify(install.summary.resourceChanges)}`);
        }
        const names = install.outputs.names.value as string[];
        const perHost = names.map(scriptSeconds);
        started = now();
        const noop = await stack.up({ diff: true });
        const noopSeconds = now() - started;
        const changes = noop.summary.resourceChanges ?? {};
        if (Object.keys(changes).some((k) => k !== "same")) {
            throw new Error(`the no-op up changed something: ${JSON.stringify(changes)}\n${noop.stdout}`);
        }
        const rerun = idempotentRerun(names[0]);
        return { machines, wall, perHost, noop: noopSeconds, rerun };
    } finally {
        await stack.destroy().catch((e: Error) => console.error(`destroy of ${name} failed: ${e.message}`));
        await removeStack(stack);
    }
}

async function main() {
    removeStaleRuntimePools();
    const rows: Row[] = [];
    for (const [machines, subnet, letter] of SIZES) {
        console.log(`measuring ${machines} machine(s)...`);
        rows.push(await measure(machines, subnet, letter));
    }
    const f = (n: number) => n.toFixed(1).padStart(6);
    console.log("");
    console.log("DockerEngine (docker.io from Debian's mirror) on fresh lab machines, installed in parallel");
    console.log("machines | T(n) up, wall s | per-host script s (min / avg / max) | no-op up s | script re-run s");
    for (const r of rows) {
        const avg = r.perHost.reduce((a, b) => a + b, 0) / r.perHost.length;
        console.log(
            `${String(r.machines).padStart(8)} | ${f(r.wall)}          | ${f(Math.min(...r.perHost))} / ${f(avg)} / ${f(Math.max(...r.perHost))}  ` +
                `          | ${f(r.noop)}     | ${f(r.rerun)}`,
        );
    }
    const t1 = rows.find((r) => r.machines === 1)?.wall ?? NaN;
    const t6 = rows.find((r) => r.machines === 6)?.wall ?? NaN;
    console.log(`T(6)/T(1) = ${(t6 / t1).toFixed(2)}`);
}

main().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
});
