/**
 * The state-upgrade fixture: test/lab/programs/upgrade (a user's program written against an older
 * flotilla) and the state it recorded with that flotilla (test/lab/states/upgrade.json, secrets
 * encrypted with the lab tests' passphrase). `recordUpgradeState` makes that state again: it runs the
 * program for real (every construct up, both apps answering), exports the stack, and destroys it.
 * Run it only with the flotilla whose state should be recorded checked out and built:
 *
 *   npm run build && npx ts-node --transpile-only test/lab/state-upgrade.ts record
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { ROOT, httpGet, removePool, removeStack, removeStaleTestPools, testProgramStack, until } from "./harness";

export const STATE_FILE = path.join(__dirname, "states", "upgrade.json");
export const META_FILE = path.join(__dirname, "states", "upgrade.meta.json");
export const STACK = "upgrade";
export const SUBNET = "10.213.190.0/28";
export const NODE_PORT = 30190;
export const SWARM_PORT = 8190;

/** What the recording used: the config (the cache dir is filled in by whoever previews it) and where it came from. */
export interface UpgradeMeta {
    commit: string;
    recorded: string;
    poolName: string;
    config: Record<string, string>;
    resources: number;
}

/** scripts/kubernetes-build.sh's cache directory (built if missing; a failing build fails the caller). */
export function kubernetesCache(): string {
    const out = childProcess.execFileSync("bash", [path.join(ROOT, "scripts", "kubernetes-build.sh")], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "inherit"],
    });
    return out.trim().split("\n").pop() as string;
}

/** Runs the engine's CLI on `stack` (its own backend, home and passphrase) in the program's folder. */
export function stackCli(stack: Stack, args: string[]): string {
    const env = { ...process.env, ...stack.workspace.envVars };
    return childProcess.execFileSync("pulumi", [...args, "--stack", stack.name, "--non-interactive"], {
        cwd: stack.workspace.workDir,
        env,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
}

async function recordUpgradeState(): Promise<void> {
    removeStaleTestPools();
    const poolName = `flt-t-upg${process.pid}`;
    const config = { "test:poolName": poolName, "test:subnet": SUBNET, "test:image": "flotilla-demo:v1", "test:nodePort": String(NODE_PORT), "test:swarmPort": String(SWARM_PORT) };
    const stack = await testProgramStack("upgrade", STACK, { ...config, "test:cache": kubernetesCache() });
    try {
        const up = await stack.up({ onOutput: (o) => process.stdout.write(o) });
        if (up.summary.result !== "succeeded") throw new Error(`up: ${up.summary.result}`);
        for (const url of [`http://10.213.190.4:${NODE_PORT}/`, `http://10.213.190.5:${SWARM_PORT}/`, `http://10.213.190.6:${SWARM_PORT}/`]) {
            await until(`HTTP 200 from ${url}`, 180, async () => (await httpGet(url).catch(() => [0, ""]))[0] === 200);
        }
        const file = path.join(stack.workspace.workDir, ".upgrade-export.json");
        stackCli(stack, ["stack", "export", "--file", file]);
        const deployment = JSON.parse(fs.readFileSync(file, "utf8"));
        fs.rmSync(file);
        fs.writeFileSync(STATE_FILE, JSON.stringify(deployment, null, 1) + "\n");
        const commit = childProcess.execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
        const meta: UpgradeMeta = { commit, recorded: new Date().toISOString(), poolName, config, resources: deployment.deployment.resources.length };
        fs.writeFileSync(META_FILE, JSON.stringify(meta, null, 2) + "\n");
        console.log(`recorded ${meta.resources} resources of commit ${commit} in ${STATE_FILE}`);
        await stack.destroy({ onOutput: (o) => process.stdout.write(o) });
    } finally {
        await removeStack(stack);
        removePool(poolName);
    }
}

if (require.main === module && process.argv[2] === "record") {
    recordUpgradeState().catch((err) => {
        console.error(err);
        process.exit(1);
    });
}
