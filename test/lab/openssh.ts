/**
 * The OpenSSH client (`ssh`) as a strict outsider: its own config file, a known_hosts file with only
 * the keys the caller expects, `StrictHostKeyChecking yes`, key login only (BatchMode: no prompt
 * ever). Used where a test must show what a stock SSH client accepts, not what our own code does.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** One machine as the client knows it: where, who, and the only host key it accepts there. */
export interface OpenSshTarget {
    host: string;
    user: string;
    /** The host key line (`ssh-ed25519 AAAA...`, a comment is dropped) known_hosts lists for `host`. */
    hostKey: string;
}

/** What one `ssh` run gave. */
export interface OpenSshResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

export interface OpenSshOptions {
    /** A jump host (`ProxyJump`), checked as strictly as the target (its key must be in `knownHosts`). */
    jump?: OpenSshTarget;
    /** Seconds to wait for the TCP connection. Default 10. */
    connectTimeoutSeconds?: number;
    /** More `-o` options (e.g. `PreferredAuthentications=password`). */
    options?: string[];
    /** Seconds the whole run may take. Default 120. */
    timeoutSeconds?: number;
}

/**
 * Runs `command` on `target` with OpenSSH. `knownHosts` are the only host keys the client
 * accepts (default: the target's and the jump host's own); `privateKey` is the login key for both
 * hops. The temporary folder (key, config, known_hosts) is removed before returning.
 */
export function opensshRun(
    target: OpenSshTarget,
    privateKey: string,
    command: string,
    opts: OpenSshOptions = {},
    knownHosts: OpenSshTarget[] = [target, ...(opts.jump ? [opts.jump] : [])],
): OpenSshResult {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-openssh-"));
    try {
        const keyFile = path.join(dir, "id");
        fs.writeFileSync(keyFile, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
        const knownFile = path.join(dir, "known_hosts");
        fs.writeFileSync(knownFile, knownHosts.map((k) => `${k.host} ${k.hostKey.trim().split(/\s+/).slice(0, 2).join(" ")}\n`).join(""));
        // One config file for both hops: ssh hands `-F` on to the ProxyJump connection (options
        // given with -o on the command line would apply to the target only).
        const config = path.join(dir, "config");
        fs.writeFileSync(
            config,
            [
                "Host *",
                `  UserKnownHostsFile ${knownFile}`,
                "  GlobalKnownHostsFile /dev/null",
                "  StrictHostKeyChecking yes",
                "  CheckHostIP no",
                "  BatchMode yes",
                "  IdentitiesOnly yes",
                "  IdentityAgent none",
                `  IdentityFile ${keyFile}`,
                `  ConnectTimeout ${opts.connectTimeoutSeconds ?? 10}`,
                "  LogLevel ERROR",
                "",
            ].join("\n"),
        );
        const args = [
            "-F",
            config,
            ...(opts.jump ? ["-J", `${opts.jump.user}@${opts.jump.host}`] : []),
            ...(opts.options ?? []).flatMap((o) => ["-o", o]),
            `${target.user}@${target.host}`,
            command,
        ];
        const r = childProcess.spawnSync("ssh", args, { encoding: "utf8", timeout: (opts.timeoutSeconds ?? 120) * 1000, stdio: ["ignore", "pipe", "pipe"] });
        return { status: r.status, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error ? r.error.message : ""}` };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
