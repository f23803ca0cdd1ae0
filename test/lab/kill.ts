/**
 * Killing a running engine the hard way (SIGKILL, no chance to clean up), as a crash, an OOM kill
 * or a CI runner's timeout does: the `pulumi` CLI the Automation API spawned and everything under
 * it (language host, program, providers, the scripts they run — detached ones included, they are
 * still descendants).
 */
import * as fs from "fs";

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

/**
 * SIGKILLs the engine process `root` and its whole tree: first every process is stopped (SIGSTOP)
 * so none can fork or clean up meanwhile, the tree is listed again, then all are killed. Returns the
 * command names of what was killed.
 */
export function killTree(root: number): string[] {
    const signal = (pids: number[], sig: NodeJS.Signals) => {
        for (const pid of pids) {
            try {
                process.kill(pid, sig);
            } catch {
                // already gone
            }
        }
    };
    let tree = processTree(root);
    for (let round = 0; round < 3; round++) {
        signal(tree, "SIGSTOP");
        tree = processTree(root);
    }
    signal(tree, "SIGSTOP");
    const names = tree.map((pid) => commandLine(pid).slice(0, 2).join(" "));
    signal(tree, "SIGKILL");
    return names;
}
