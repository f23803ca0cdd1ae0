import * as childProcess from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";

/** Repository root: the root program lives here. */
export const ROOT = path.resolve(__dirname, "../..");

/**
 * The engine scripts/engine.sh provides (npm test runs scripts/setup.sh first). A missing engine is a
 * setup bug: fail loudly, never skip.
 */
export function engineBin(): string {
    const cache = process.env.FLOTILLA_CACHE_DIR ?? path.join(os.homedir(), ".cache", "flotilla");
    const file = path.join(cache, "engine", "current");
    if (!fs.existsSync(file)) {
        throw new Error(`no Pulumi engine recorded in ${file}: run scripts/setup.sh (npm test does)`);
    }
    return fs.readFileSync(file, "utf8").trim();
}

/** Where a test stack keeps its state (a private file backend). */
const backends = new Map<string, string>();
/** The temporary folder of each test stack (backend and PULUMI_HOME), removed with the stack. */
const homes = new Map<string, string>();

/** A stack of the root program on a private file backend, with the environment of a real run. */
export function rootStack(stackName: string, config: Record<string, string>): Promise<Stack> {
    return programStack(ROOT, stackName, config);
}

/** A stack of one of the lab test programs (test/lab/programs/<name>). */
export function testProgramStack(
    program: string,
    stackName: string,
    config: Record<string, string>,
    secretConfig: Record<string, string> = {},
): Promise<Stack> {
    return programStack(path.join(__dirname, "programs", program), stackName, config, secretConfig);
}

/** A stack of the program in `workDir` on a private file backend, with the environment of a real run. */
export async function programStack(
    workDir: string,
    stackName: string,
    config: Record<string, string>,
    secretConfig: Record<string, string> = {},
): Promise<Stack> {
    const bin = engineBin();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), `flotilla-${stackName}-`));
    fs.mkdirSync(path.join(home, "backend"));
    const envVars: Record<string, string> = {
        PATH: [path.join(ROOT, "node_modules", ".bin"), bin, process.env.PATH ?? ""].join(path.delimiter),
        PULUMI_BACKEND_URL: `file://${path.join(home, "backend")}`,
        PULUMI_HOME: path.join(home, "pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE: "flotilla-lab-test",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(bin), skipVersionCheck: false });
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { envVars, pulumiCommand });
    backends.set(stackName, path.join(home, "backend"));
    homes.set(stackName, home);
    for (const [key, value] of Object.entries(config)) {
        await stack.setConfig(key, { value });
    }
    for (const [key, value] of Object.entries(secretConfig)) {
        await stack.setConfig(key, { value, secret: true });
    }
    return stack;
}

/**
 * The stack's state exactly as stored by the backend (secrets encrypted). The Automation API's
 * exportStack decrypts secrets, so it cannot show what is at rest.
 */
export function storedState(stack: Stack): string {
    const backend = backends.get(stack.name);
    if (!backend) throw new Error(`no backend recorded for stack ${stack.name}`);
    const found: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory() && entry.name !== "history" && entry.name !== "backups") walk(p);
            else if (entry.name === `${stack.name}.json`) found.push(p);
        }
    };
    walk(backend);
    if (found.length !== 1) throw new Error(`expected one state file for ${stack.name}, found ${found.length}`);
    return fs.readFileSync(found[0], "utf8");
}

/** The folder of the stack's private file backend (state, history, locks under `.pulumi/`). */
export function backendDir(stack: Stack): string {
    const backend = backends.get(stack.name);
    if (!backend) throw new Error(`no backend recorded for stack ${stack.name}`);
    return backend;
}

/** The lock files the file backend holds for any stack (`.pulumi/locks/...`), relative to the backend. */
export function lockFiles(stack: Stack): string[] {
    const locks = path.join(backendDir(stack), ".pulumi", "locks");
    if (!fs.existsSync(locks)) return [];
    return (fs.readdirSync(locks, { recursive: true }) as string[])
        .filter((f) => f.endsWith(".json") && fs.statSync(path.join(locks, f)).isFile())
        .map((f) => path.join(".pulumi", "locks", f));
}

/** Removes the stack (and its settings file in the program's folder) and its temporary folder. */
export async function removeStack(stack: Stack): Promise<void> {
    await stack.workspace.removeStack(stack.name, { force: true });
    const home = homes.get(stack.name);
    if (home) fs.rmSync(home, { recursive: true, force: true });
    homes.delete(stack.name);
    backends.delete(stack.name);
}

/** What {@link tearDown} does besides destroying the stack and removing its pool. */
export interface TearDownOptions {
    /** The lab pool the file's stack made: its stopped machines are started before the destroy, whatever is left of it removed after. */
    pool?: string;
    /** Runs first (e.g. undo a network cut, so the destroy can reach the machines). Its failure is reported, not thrown. */
    before?: () => void | Promise<void>;
    /** Runs last (e.g. remove images or temporary folders the file made). */
    after?: () => void | Promise<void>;
}

/**
 * The end of every lab test file (its `afterAll`): whatever the tests left, in order — the pool's
 * stopped machines started (a fault test may have stopped one: the destroy must reach it),
 * `before`, the stack's lock released (a killed `up` leaves one), the stack destroyed (a failure is
 * printed with its tail, not thrown: what is left is removed below), the stack and its temporary
 * folder removed, the pool's containers, volumes and networks removed, then `after`.
 */
export async function tearDown(stack: Stack | undefined, options: TearDownOptions = {}): Promise<void> {
    const report = (what: string) => (e: Error) => console.log(`tear-down: ${what} failed: ${e.message.slice(-2000)}`);
    try {
        if (stack && options.pool) {
            const stopped = docker("ps", "-a", "--filter", `label=flotilla.pool=${options.pool}`, "--filter", "status=exited", "--format", "{{.Names}}");
            if (stopped.length > 0) docker("start", ...stopped);
        }
        await Promise.resolve()
            .then(options.before)
            .catch(report("before"));
        if (stack) {
            await stack.cancel().catch(() => undefined);
            await stack.destroy().catch(report("destroy"));
            await removeStack(stack);
        }
    } finally {
        if (options.pool) removePool(options.pool);
        await options.after?.();
    }
}

/** Runs a docker CLI command on the lab's engine and returns its trimmed stdout lines. */
export function docker(...args: string[]): string[] {
    const out = childProcess.execFileSync("docker", args, { encoding: "utf8" });
    return out.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
}

/** Pool names of the lab tests start with this; nothing else uses it. */
export const TEST_POOL_PREFIX = "flt-t-";

/**
 * Removes what an interrupted earlier test run left on the Docker engine, so a leftover network
 * cannot block this run's subnet. Test pool names are {@link TEST_POOL_PREFIX}, letters, then the
 * pid of the test process: only pools whose process is gone are removed (tests of other runs may be
 * going on beside this one).
 */
export function removeStaleTestPools(): void {
    const alive = (pool: string) => {
        const pid = Number(/(\d+)$/.exec(pool)?.[1]);
        if (!Number.isInteger(pid) || pid <= 0) return false;
        try {
            process.kill(pid, 0);
            return true;
        } catch (err) {
            return (err as NodeJS.ErrnoException).code === "EPERM";
        }
    };
    removePoolsWhere((pool) => pool.startsWith(TEST_POOL_PREFIX) && !alive(pool));
}

/** Removes whatever a failed test left of a lab pool: its containers, then volumes and networks. */
export function removePool(pool: string): void {
    removePoolsWhere((p) => p === pool);
}

/** Removes the containers, then the volumes and networks, labelled with a pool that `pick` picks. */
function removePoolsWhere(pick: (pool: string) => boolean): void {
    const of = (kind: string[], format: string) =>
        docker(...kind, "--filter", "label=flotilla.pool", "--format", `${format} {{.Label "flotilla.pool"}}`)
            .map((l) => l.split(" "))
            .filter(([, pool]) => pick(pool))
            .map(([name]) => name);
    const containers = of(["ps", "-a"], "{{.Names}}");
    if (containers.length > 0) docker("rm", "-f", ...containers);
    const volumes = of(["volume", "ls"], "{{.Name}}");
    if (volumes.length > 0) docker("volume", "rm", ...volumes);
    const networks = of(["network", "ls"], "{{.Name}}");
    if (networks.length > 0) docker("network", "rm", ...networks);
}

/** Everything the Docker engine holds for a lab pool: containers, volumes, networks. */
export function poolLeftovers(pool: string): string[] {
    return [
        ...docker("ps", "-a", "--filter", `label=flotilla.pool=${pool}`, "--format", "container {{.Names}}"),
        ...docker("volume", "ls", "--filter", `label=flotilla.pool=${pool}`, "--format", "volume {{.Name}}"),
        ...docker("network", "ls", "--filter", `label=flotilla.pool=${pool}`, "--format", "network {{.Name}}"),
    ];
}

/** GET `url` → [status, body], bounded (5 s by default); rejects on connection errors. */
export function httpGet(url: string, timeoutMs = 5000): Promise<[number, string]> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve([res.statusCode ?? 0, body]));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

/** What a `requestLoop` saw. */
export interface LoadStats {
    /** Requests made (a request may try several nodes). */
    total: number;
    /** Requests answered HTTP 200 with a body matching `expect`. */
    ok: number;
    /** Failed requests, each with the node and what went wrong. */
    failures: string[];
    /** Per node: connections it refused or let time out, which the client moved past (lenient mode). */
    skipped: Record<string, number>;
    /** Longest time without an answered request, in seconds. */
    longestGap: number;
}

export interface RequestLoopOptions {
    /** The nodes' URLs, tried in turn. */
    urls: string[];
    /** What a served body must match. */
    expect: RegExp;
    /**
     * Strict: a refused or timed-out connection is a failure too (the client still tries the next
     * node within the same request). Lenient (default): it is counted in `skipped` and the client
     * moves on, as a load balancer in front of the nodes does; a request no node answers fails.
     */
    strict?: boolean;
    /** Per-request timeout (default 3000 ms). */
    timeoutMs?: number;
}

/**
 * A continuous client, one request every 50 ms, round robin over the nodes: an HTTP error, a
 * body that does not match, or a request no node answers is a failure. `stop()` ends it and gives
 * its figures.
 */
export function requestLoop(options: RequestLoopOptions): { stop: () => Promise<LoadStats> } {
    const { urls, expect, strict = false, timeoutMs = 3000 } = options;
    let done = false;
    const stats: LoadStats = { total: 0, ok: 0, failures: [], skipped: {}, longestGap: 0 };
    let lastServed = Date.now();
    const loop = (async () => {
        let i = 0;
        while (!done) {
            stats.total++;
            let served = false;
            for (let tries = 0; tries < urls.length && !served; tries++) {
                const url = urls[i++ % urls.length];
                try {
                    const [status, body] = await httpGet(url, timeoutMs);
                    served = true;
                    stats.longestGap = Math.max(stats.longestGap, (Date.now() - lastServed) / 1000);
                    lastServed = Date.now();
                    if (status === 200 && expect.test(body)) stats.ok++;
                    else stats.failures.push(`${url}: HTTP ${status} ${body.slice(0, 80)}`);
                } catch (e) {
                    if (strict) stats.failures.push(`${url}: ${(e as Error).message}`);
                    else stats.skipped[url] = (stats.skipped[url] ?? 0) + 1;
                }
            }
            if (!served) stats.failures.push(`${new Date().toISOString()} no node answered`);
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    return {
        stop: async () => {
            done = true;
            await loop;
            stats.longestGap = Math.max(stats.longestGap, (Date.now() - lastServed) / 1000);
            return stats;
        },
    };
}

/** Prints a request loop's figures. */
export function reportLoad(what: string, s: LoadStats): void {
    console.log(
        `${what}: ${s.failures.length} failed of ${s.total} requests (${s.ok} served; longest time without an answer ${s.longestGap.toFixed(1)}s; ` +
            `node-level refusals/timeouts the client moved past: ${JSON.stringify(s.skipped)})` +
            (s.failures.length > 0 ? `\n  failures: ${s.failures.slice(0, 10).join("; ")}` : ""),
    );
}

/** Waits (bounded) until `check` resolves true, polling every `pollMs`; returns the seconds it took. */
export async function until(what: string, seconds: number, check: () => Promise<boolean>, pollMs = 500): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
        if (await check().catch(() => false)) return (Date.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error(`${what}: not within ${seconds}s`);
}
