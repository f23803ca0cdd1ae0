/**
 * A machine nobody answers for: the remote-script provider gives up within its connect window with
 * an error naming the machine and the SSH error (never a hang); wrong credentials are refused at once.
 */
import * as net from "net";
import { provider } from "../../../lib/shared/providers/remote-script";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

const KEY = generateEd25519("t").privateKey;

/** A local port with nothing listening (bound, then closed again). */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    return port;
}

const inputs = (port: number, connectTimeoutSeconds: number) => ({
    connection: { host: "127.0.0.1", port, user: "ops", hostKey: "" },
    privateKey: KEY,
    script: "#!/bin/bash\ntrue\n",
    target: "existing machine db1 (ops@127.0.0.1)",
    connectTimeoutSeconds,
    timeoutSeconds: 10,
});

test("connection refused: retried within the window, then an error naming the machine and the SSH error", async () => {
    const port = await closedPort();
    const error = await provider.create!(inputs(port, 3)).then(
        () => new Error("create succeeded"),
        (e: Error) => e,
    );
    expect(error.message).toBe(`existing machine db1 (ops@127.0.0.1): cannot connect: ssh ops@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
});

test("a server that is not SSH: an error naming the machine, not a hang", async () => {
    // Accepts and says something that is not an SSH banner, then hangs up.
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
        sockets.push(s);
        s.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
        const error = await provider.create!(inputs(port, 2)).then(
            () => new Error("create succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toMatch(new RegExp(`^existing machine db1 \\(ops@127\\.0\\.0\\.1\\): cannot connect: ssh ops@127\\.0\\.0\\.1:${port}: `));
    } finally {
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
    }
});

test("wrong credentials: refused at once (no retrying for the window), naming the machine and the SSH error", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Server } = require("ssh2") as typeof import("ssh2");
    const hostKey = generateEd25519("root@db1");
    const server = new Server({ hostKeys: [hostKey.privateKey] }, (conn) => {
        conn.on("error", () => undefined);
        conn.on("authentication", (ctx) => ctx.reject(["publickey"]));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
        // A window of 600 s: only a refusal that is not retried ends this test.
        const error = await provider.create!(inputs(port, 600)).then(
            () => new Error("create succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toBe(`existing machine db1 (ops@127.0.0.1): cannot connect: ssh ops@127.0.0.1:${port}: All configured authentication methods failed`);
    } finally {
        await new Promise((r) => server.close(r));
    }
});
