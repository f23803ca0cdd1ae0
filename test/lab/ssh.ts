import { Client } from "ssh2";

/** Where and how to log in. */
export interface Login {
    host: string;
    port?: number;
    user: string;
    privateKey: string;
    /** Expected host key line (`ssh-ed25519 AAAA...`): any other key is refused. */
    hostKey: string;
}

/** Result of one remote command. */
export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs one command over SSH with strict host key checking; rejects if the connection fails. */
export function sshRun(login: Login, command: string, timeoutMs = 60_000, stdin?: Buffer): Promise<RunResult> {
    const expected = Buffer.from(login.hostKey.split(" ")[1] ?? "", "base64");
    return new Promise((resolve, reject) => {
        const conn = new Client();
        const timer = setTimeout(() => {
            conn.end();
            reject(new Error(`ssh ${login.user}@${login.host}: no result after ${timeoutMs} ms`));
        }, timeoutMs);
        conn.on("ready", () => {
            conn.exec(command, (err, stream) => {
                if (err) {
                    clearTimeout(timer);
                    conn.end();
                    reject(err);
                    return;
                }
                let stdout = "";
                let stderr = "";
                stream.on("data", (d: Buffer) => (stdout += d.toString()));
                stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
                stream.on("close", (code: number | null) => {
                    clearTimeout(timer);
                    conn.end();
                    resolve({ code, stdout, stderr });
                });
                stream.end(stdin ?? undefined);
            });
        });
        conn.on("error", (err) => {
            clearTimeout(timer);
            reject(err);
        });
        conn.connect({
            host: login.host,
            port: login.port ?? 22,
            username: login.user,
            privateKey: login.privateKey,
            hostVerifier: (key: Buffer) => key.equals(expected),
            readyTimeout: 20_000,
        });
    });
}
