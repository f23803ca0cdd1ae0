/**
 * What the lab's security checks share (test/lab/security.test.ts for a Swarm, the security test
 * of test/lab/kubernetes-app.test.ts for a kubeadm cluster): scans for secrets in clear, the
 * backend's files, `pulumi stack export`, and TCP probes from inside and from outside a pool's
 * network.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { docker, engineBin } from "./harness";

/** Patterns of secrets whatever their value: a private key, a Swarm join token, a kubeconfig's client key. */
export const SECRET_PATTERNS: Record<string, RegExp> = {
    "a PEM/OpenSSH private key": /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    "a swarm join token": /SWMTKN-1-[0-9a-z]{20}/,
    "a kubeconfig client key": /client-key-data:\s*"?[A-Za-z0-9+/=]{20}/,
};

/**
 * The same patterns for `grep -E` on a machine, written so that they do not match their own text
 * (the command line of a scan may itself be logged in the journal).
 */
const GREP_PATTERNS = "BEGIN [A-Z ]*PRIVATE KEY|SWMTKN-1-[0-9a-z]{20}|client-key-data:[[:space:]]*[A-Za-z0-9+/=]{20}";

/** The secrets `text` holds in clear: the names of the known values (`secrets`: name → value) and of the patterns found. */
export function leaks(text: string, secrets: Record<string, string>): string[] {
    const found = Object.entries(secrets)
        .filter(([, value]) => text.includes(value))
        .map(([name]) => name);
    for (const [name, re] of Object.entries(SECRET_PATTERNS)) if (re.test(text)) found.push(name);
    return found;
}

/** `pulumi stack export` of a test stack, run as an operator would (`--show-secrets` or not). */
export function stackExport(stack: Stack, showSecrets: boolean): string {
    const ws = stack.workspace as LocalWorkspace;
    return childProcess.execFileSync(
        path.join(engineBin(), "pulumi"),
        ["stack", "export", "--stack", stack.name, ...(showSecrets ? ["--show-secrets"] : [])],
        { cwd: ws.workDir, env: { ...process.env, ...ws.envVars }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
}

/** Every file under `dir`, concatenated. */
export function allFiles(dir: string): { count: number; text: string } {
    let count = 0;
    let text = "";
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, entry.name);
            if (entry.isDirectory()) walk(p);
            else if (entry.isFile()) {
                count++;
                text += fs.readFileSync(p, "utf8") + "\n";
            }
        }
    };
    walk(dir);
    return { count, text };
}

/**
 * A root shell command for a machine that counts, in what `files` (a shell command list) prints:
 * the lines holding one of the known values (given on the command's stdin, one per line: a sudo
 * command line is logged in the journal, stdin is not), the lines matching a secret pattern, and
 * all lines. It prints "<secret lines> <pattern lines> <lines>".
 */
export function logScanCommand(files: string): string {
    return (
        "bash -c 'f=$(mktemp); cat >\"$f\"; " +
        `{ ${files}; } >"$f.log" 2>/dev/null; ` +
        `echo "$(grep -c -F -f "$f" "$f.log") $(grep -c -E "${GREP_PATTERNS}" "$f.log") $(wc -l <"$f.log")"; rm -f "$f" "$f.log"'`
    );
}

/** The stdin of `logScanCommand`: the known values, one per line. */
export const scanInput = (secrets: Record<string, string>) => Buffer.from(Object.values(secrets).join("\n") + "\n");

/** Opens a TCP connection to host:port from the machine running Pulumi: "<host>:<port> open" or "… closed". */
export function probeHere(host: string, port: number): Promise<string> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port, timeout: 3000 });
        const done = (state: string) => {
            socket.destroy();
            resolve(`${host}:${port} ${state}`);
        };
        socket.on("connect", () => done("open"));
        socket.on("timeout", () => done("closed"));
        socket.on("error", () => done("closed"));
    });
}

/** The probes of `targets` ("<host>:<port>") from here, sorted. */
export async function probeAllHere(targets: string[]): Promise<string[]> {
    return (await Promise.all(targets.map((t) => probeHere(t.split(":")[0], Number(t.split(":")[1]))))).sort();
}

/**
 * The same probes from a container on Docker's default bridge network, outside the pool's network
 * (labelled with the pool, so a leftover is removed with it), sorted.
 */
export function probeOutside(pool: string, targets: string[]): string[] {
    const probe =
        'for t in "$@"; do (if timeout 3 bash -c "exec 3<>/dev/tcp/${t%:*}/${t#*:}" 2>/dev/null; ' +
        'then echo "$t open"; else echo "$t closed"; fi) & done; wait';
    return docker(
        "run", "--rm", "--network", "bridge", "--label", `flotilla.pool=${pool}`, "--name", `${pool}-outside`,
        "--entrypoint", "bash", "flotilla-lab:debian12", "-c", probe, "probe", ...targets,
    ).sort();
}

/** The "<host>:<port>" of the probes that found the port open. */
export const openOnes = (probes: string[]) => probes.filter((l) => l.endsWith(" open")).map((l) => l.replace(/ open$/, ""));
