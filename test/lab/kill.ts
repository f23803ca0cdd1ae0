/**
 * Killing a running engine the hard way (SIGKILL, no chance to clean up), as a crash, an OOM kill
 * or a CI runner's timeout does: the `pulumi` CLI the Automation API spawned and everything under
 * it (language host, program, providers, the scripts they run — detached ones included, they are
 * still descendants).
 */
import * as fs from "fs";
import { Stack } from "@pulumi/pulumi/automation";
import { lockFiles } from "./harness";

/** pid → parent pid of every process visible in /proc. */
function parents(): Map<number, number> {
    const map = new Map<number, number>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            map.set(Number(entry), ppid);
        } catch {
            // gone meanwhile
        }
    }
    return map;
}

/** The command line of a process ([] when it is gone). */
export function commandLine(pid: number): string[] {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a.length > 0);
    } catch {
        return [];
    }
}

/** `root` and all its descendants. */
export function processTree(root: number): number[] {
    const map = parents();
    const tree = [root];
    for (let i = 0; i < tree.length; i++) {
        for (const [pid, ppid] of map) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
    }
    return tree.filter((pid) => map.has(pid));
}

/**
 * The `pulumi <command> ... --stack <stack>` process this test process spawned (the Automation
 * API runs the CLI directly, without a shell), or undefined.
 */
export function engineProcess(command: string, stack: string): number | undefined {
    for (const [pid, ppid] of parents()) {
        if (ppid !== process.pid) continue;
        const argv = commandLine(pid);
        if (argv.length > 1 && /(^|\/)pulumi$/.test(argv[0]) && argv[1] === command && argv.includes(stack)) return pid;
    }
    return undefined;
}

/** Sends `sig` to every pid (those already gone are skipped). */
function signal(pids: number[], sig: NodeJS.Signals): void {
    for (const pid of pids) {
        try {
            process.kill(pid, sig);
        } catch {
            // already gone
        }
    }
}

/**
 * Freezes (SIGSTOP) the engine process `root` and its whole tree, listing the tree again after each
 * round so that nothing forked meanwhile escapes. A frozen engine records nothing more in the
 * backend; the scripts it started on machines (over SSH) go on there. Returns the frozen pids.
 */
export function freezeTree(root: number): number[] {
    let tree = processTree(root);
    for (let round = 0; round < 3; round++) {
        signal(tree, "SIGSTOP");
        tree = processTree(root);
    }
    signal(tree, "SIGSTOP");
    return tree;
}

/** SIGKILLs frozen processes; returns their command names. */
export function killFrozen(pids: number[]): string[] {
    const names = pids.map((pid) => commandLine(pid).slice(0, 2).join(" "));
    signal(pids, "SIGKILL");
    return names;
}

/**
 * SIGKILLs the engine process `root` and its whole tree: first every process is stopped (SIGSTOP)
 * so none can fork or clean up meanwhile, then all are killed. Returns the command names of what
 * was killed.
 */
export function killTree(root: number): string[] {
    return killFrozen(freezeTree(root));
}

/**
 * Pids of the processes on this host (lab machines' included: their containers share its kernel)
 * whose command line starts with `prefix` and contains every string of `containing`.
 */
export function processesRunning(prefix: string[], containing: string[] = []): number[] {
    const found: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const argv = commandLine(Number(entry));
        if (argv.length < prefix.length || !prefix.every((a, i) => argv[i] === a)) continue;
        if (containing.every((c) => argv.includes(c))) found.push(Number(entry));
    }
    return found;
}

/**
 * Whether process `pid` runs inside the Docker container `containerId` (its full id): its cgroup path
 * names the container (so a lab test tells its machines' processes from other pools' ones).
 */
export function inContainer(pid: number, containerId: string): boolean {
    try {
        return fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(`/docker/${containerId}`);
    } catch {
        return false;
    }
}

/**
 * After a killed run: the next `up` is refused for the lock it left, then the one operator command
 * (`pulumi cancel`), then no lock. Returns the refusal.
 */
export async function clearLock(stack: Stack): Promise<string> {
    expect(lockFiles(stack)).toHaveLength(1);
    const refused = await stack.up().then(
        () => "the up ran",
        (err: Error) => err.message,
    );
    expect(refused).toMatch(/the stack is currently locked by 1 lock\(s\)/);
    await stack.cancel();
    expect(lockFiles(stack)).toEqual([]);
    return refused;
}

/** The pending operations the stored state holds, as "<type> <resource name>". */
export async function pendingOperations(stack: Stack): Promise<string[]> {
    const deployment = (await stack.exportStack()).deployment as {
        pending_operations?: Array<{ type: string; resource: { urn: string } }>;
    };
    return (deployment.pending_operations ?? []).map((op) => `${op.type} ${op.resource.urn.split("::").pop()}`).sort();
}
