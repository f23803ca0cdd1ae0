/**
 * flotilla as a user gets it: `npm pack`, installed into a separate Pulumi program outside the
 * repository, and a real `up` in the lab (3 machines: a registry, a Swarm manager and a worker, the
 * demo image served on both nodes). Proves the dynamic providers load from the installed package,
 * the lab image is the package's own, the state stays lean (bytes per machine printed and bounded),
 * a second up changes nothing, and destroy leaves nothing, temporary folders included.
 */
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { httpGet, poolLeftovers, programStack, removeStaleTestPools, storedState, tearDown, TEST_POOL_PREFIX } from "./harness";
import { PackedProgram, installedCopies, newestPulumiSdk, packedProgram } from "./packed";
import { fieldBytes, resourceBytes, role, sumBy } from "../../bench/lib/state-bytes";

jest.setTimeout(20 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}pkg${process.pid}`;
const MACHINES = 3;
/**
 * Bytes of state one machine's own resources may cost (its machine, runtime install, Swarm join
 * and node): a tenth of the ≈ 246 KB per machine before lean state (bench/state-size.ts prints
 * the figures, the marginal cost per machine included).
 */
const MAX_BYTES_PER_MACHINE = 24_600;
/** Bytes the pool, registry, Swarm and app may cost besides (at most the same tenth of before: 4 machines' worth). */
const MAX_SHARED_BYTES = 4 * 24_600;
let program: PackedProgram;
let stack: Stack;

const get = httpGet;

beforeAll(async () => {
    removeStaleTestPools();
    // A new user's program gets the newest SDK; flotilla asks for a range, so the tree keeps one copy.
    program = packedProgram(newestPulumiSdk());
    console.log(`packed flotilla installed into a new program (@pulumi/pulumi ${program.pulumiVersion}) in ${program.installSeconds.toFixed(1)}s`);
    stack = await programStack(program.dir, `pkg-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": "10.213.118.0/28",
        "test:machines": String(MACHINES),
    });
});

afterAll(() => tearDown(stack, { pool, after: () => program?.remove() }));

describe("the packed package in a user's program", () => {
    test("one @pulumi/pulumi in the program's tree: the program's own, the newest on the registry", () => {
        const copies = installedCopies(program.dir, "@pulumi/pulumi");
        expect(copies).toHaveLength(1);
        const installed = JSON.parse(fs.readFileSync(path.join(copies[0], "package.json"), "utf8")) as { version: string };
        expect(installed.version).toBe(program.pulumiVersion);
        // The package ships its licence and changelog, and no source map points at a file it lacks.
        const pkg = path.join(program.dir, "node_modules", "flotilla");
        expect(["LICENSE", "CHANGELOG.md", "README.md"].filter((f) => !fs.existsSync(path.join(pkg, f)))).toEqual([]);
        const maps = fs.readdirSync(path.join(pkg, "dist", "lib"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js.map"));
        expect(maps.length).toBeGreaterThan(10);
        const dangling = maps.filter((f) => {
            const map = JSON.parse(fs.readFileSync(path.join(pkg, "dist", "lib", f), "utf8")) as { sources: string[]; sourcesContent?: string[] };
            return map.sources.some((s, i) => !map.sourcesContent?.[i] && !fs.existsSync(path.resolve(path.dirname(path.join(pkg, "dist", "lib", f)), s)));
        });
        expect(dangling).toEqual([]);
    });

    test("up: the demo image answers HTTP 200 on both nodes", async () => {
        const started = Date.now();
        const up = await stack.up();
        const urls = up.outputs.urls.value as string[];
        expect(urls).toHaveLength(MACHINES - 1);
        for (const url of urls) {
            expect(await get(url)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        }
        console.log(`packed program: up to HTTP 200 on ${urls.length} nodes in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(up.outputs.services.value).toEqual({ web: { running: MACHINES - 1, desired: MACHINES - 1 } });
    });

    test("the state is lean: no provider code or script bodies, bounded bytes per machine, no secret in clear", async () => {
        const state = storedState(stack);
        const resources = resourceBytes(state);
        const dynamic = resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"));
        expect(dynamic.length).toBeGreaterThan(0);
        // Every provider is a one-line loader of a module the installed package exports.
        for (const r of dynamic) expect(r.providerBytes).toBeLessThan(400);
        const stored = JSON.parse(state).checkpoint.latest.resources as { type: string; inputs?: { __provider?: string } }[];
        const loaders = new Set(stored.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic")).map((r) => r.inputs?.__provider));
        expect([...loaders].sort()).toEqual(
            ["local-script", "remote-script", "ssh-key-pair"].map((p) => `exports.handler=()=>require("flotilla/p/${p}").provider`),
        );
        expect(state).not.toContain("set -euo pipefail");
        expect(state).not.toContain("PRIVATE KEY");
        // A machine's own resources: named after it (`lab-machine-<i>`, `<x>-<pool>-<i>`).
        const machineOf = (r: { name: string }) =>
            /-machine-(\d+)$/.exec(r.name)?.[1] ?? new RegExp(`-${pool}-(\\d+)$`).exec(r.name)?.[1];
        const own = (r: { name: string }) => machineOf(r) !== undefined;
        const bytesOf = (i: string) => resources.filter((r) => machineOf(r) === i).reduce((n, r) => n + r.bytes, 0);
        // The costliest machine (a Swarm node: machine, install, join or init, node).
        const perMachine = Math.max(...Array.from({ length: MACHINES }, (_, i) => bytesOf(String(i))));
        const shared = resources.filter((r) => !own(r)).reduce((n, r) => n + r.bytes, 0);
        console.log(
            `state: ${state.length} bytes for ${MACHINES} machines (${resources.length} resources): ` +
                `${perMachine} bytes for the costliest machine's own resources, ${shared} bytes shared (pool, registry, swarm, app)`,
        );
        console.log(
            "state by kind of resource:",
            JSON.stringify(sumBy(resources, (r) => `${r.type.split(":").pop()} ${role(r.name)}`)),
            "\nstate by field:",
            JSON.stringify(fieldBytes(resources)),
        );
        expect(perMachine).toBeLessThan(MAX_BYTES_PER_MACHINE);
        expect(shared).toBeLessThan(MAX_SHARED_BYTES);
    });

    test("a second up changes nothing", async () => {
        const up = await stack.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("destroy leaves nothing behind", async () => {
        const result = await stack.destroy();
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
