/**
 * The delete phase of RemoteScript's provider when the machine may be gone (deleted or stopped
 * outside Pulumi), against closed ports and in-process SSH servers (ssh2's Server): nothing
 * answering within the short delete window (refused, or a bastion that cannot connect) is taken
 * for gone and forgotten with a warning naming the machine; so is a machine that answers with
 * another machine-id. Something that answers but is not the machine, a host-key mismatch, a refused
 * login or an unreachable bastion are never "gone": the delete fails. Create keeps its window.
 */
import * as net from "net";
import { Connection, Server } from "ssh2";
import {
    connectWindowSeconds,
    DEFAULT_DELETE_CONNECT_TIMEOUT_SECONDS,
    normalizeRemote,
    provider as remoteProvider,
    REMOTE_DEFAULTS,
} from "../../../lib/shared/providers/remote-script";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

const provider = remoteProvider as Required<typeof remoteProvider>;
const hostKey = generateEd25519("root@machine");
const client = generateEd25519("admin@test");

/** A local port with nothing listening (bound, then closed again). */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    return port;
}

function listen(server: net.Server | Server): Promise<number> {
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

/** The machine: user admin only; answers `cat /etc/machine-id` with `machineId`; records every command. */
let machineId = "m-1";
const commands: string[] = [];
const machine = new Server({ hostKeys: [hostKey.privateKey] }, (conn: Connection) => {
    conn.on("error", () => undefined);
    conn.on("authentication", (ctx) => (ctx.username === "admin" && ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
    conn.on("ready", () =>
        conn.on("session", (accept) =>
            accept().on("exec", (acceptExec, _reject, info) => {
                commands.push(info.command);
                const stream = acceptExec();
                if (info.command === "cat /etc/machine-id") {
                    stream.write(`${machineId}\n`);
                    stream.exit(0);
                    stream.end();
                    return;
                }
                stream.on("data", () => undefined);
                stream.on("end", () => {
                    stream.exit(0);
                    stream.end();
                });
            }),
        ),
    );
});

/** A jump host that refuses every forward (as OpenSSH does when it cannot connect: CONNECT_FAILED). */
const bastionKey = generateEd25519("root@bastion");
const bastion = new Server({ hostKeys: [bastionKey.privateKey] }, (conn: Connection) => {
    conn.on("error", () => undefined);
    conn.on("authentication", (ctx) => ctx.accept());
    conn.on("ready", () => conn.on("tcpip", (_accept, reject) => reject()));
});

/** Accepts and says something that is not an SSH banner, then hangs up. */
const sockets: net.Socket[] = [];
const notSsh = net.createServer((s) => {
    sockets.push(s);
    s.end("HTTP/1.1 400 Bad Request\r\n\r\n");
});

let machinePort: number;
let bastionPort: number;
let notSshPort: number;
let warnings: string[];

beforeAll(async () => {
    [machinePort, bastionPort, notSshPort] = await Promise.all([listen(machine), listen(bastion), listen(notSsh)]);
});

afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([machine, bastion, notSsh].map((s) => new Promise((r) => s.close(r))));
});

beforeEach(() => {
    machineId = "m-1";
    commands.length = 0;
    warnings = [];
    jest.spyOn(console, "error").mockImplementation((m: unknown) => void warnings.push(String(m)));
});

afterEach(() => jest.restoreAllMocks());

/** A stored state (what delete receives) of a script that ran on machine m-1 at `port`. */
function state(port: number, extra: Record<string, unknown> = {}) {
    return {
        connection: { host: "127.0.0.1", port, user: "admin", hostKey: hostKey.publicKey.split(" ").slice(0, 2).join(" ") },
        privateKey: client.privateKey,
        script: "echo undo",
        target: "thing on db1",
        timeoutSeconds: 10,
        connectTimeoutSeconds: 10,
        deleteConnectTimeoutSeconds: 2,
        machineId: "m-1",
        result: "",
        ...extra,
    };
}

const deleted = (props: Record<string, unknown>) =>
    provider.delete("id", props as never).then(
        () => "forgotten or done",
        (e: Error) => e.message,
    );

describe("delete when the machine may be gone", () => {
    test("refused within the delete window: forgotten, with a warning naming the machine and the window", async () => {
        const port = await closedPort();
        const started = Date.now();
        expect(await deleted(state(port))).toBe("forgotten or done");
        expect(Date.now() - started).toBeLessThan(8000);
        expect(warnings).toEqual([
            `warning: flotilla: thing on db1: cannot connect: ssh admin@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}; ` +
                "taken for gone after 2s without an answer (deleteConnectTimeoutSeconds 2): forgotten without running its delete phase, what it made went with the machine",
        ]);
    });

    test("the next script of a machine found gone moments ago gets a short window (5 s), not the whole one", async () => {
        const port = await closedPort();
        expect(await deleted(state(port, { deleteConnectTimeoutSeconds: 7, target: "first script" }))).toBe("forgotten or done");
        expect(await deleted(state(port, { deleteConnectTimeoutSeconds: 7, target: "second script" }))).toBe("forgotten or done");
        expect(warnings.map((w) => /^warning: flotilla: (\w+ script): .*; taken for gone after (\d+s) without an answer \(([^)]*)\)/.exec(w)?.slice(1))).toEqual([
            ["first script", "7s", "deleteConnectTimeoutSeconds 7"],
            ["second script", "5s", "deleteConnectTimeoutSeconds 7, found gone moments ago"],
        ]);
    }, 30_000);

    test("create at the same closed port still fails (a booting machine is waited for, never forgotten)", async () => {
        const port = await closedPort();
        const inputs: Record<string, unknown> = state(port, { connectTimeoutSeconds: 2 });
        delete inputs.machineId;
        delete inputs.result;
        await expect(provider.create(inputs)).rejects.toThrow(`thing on db1: cannot connect: ssh admin@127.0.0.1:${port}: connect ECONNREFUSED`);
    });

    test("the machine answers with its machine-id: the delete phase runs, no warning", async () => {
        expect(await deleted(state(machinePort))).toBe("forgotten or done");
        expect(commands).toHaveLength(2);
        expect(commands[0]).toBe("cat /etc/machine-id");
        expect(warnings).toEqual([]);
    });

    test("another machine-id at that address (re-imaged): forgotten with a warning, the script never runs there", async () => {
        machineId = "m-2";
        expect(await deleted(state(machinePort))).toBe("forgotten or done");
        expect(commands).toEqual(["cat /etc/machine-id"]);
        expect(warnings).toEqual([
            "warning: flotilla: thing on db1: forgotten without running its delete phase: 127.0.0.1 is another machine now " +
                "(machine-id m-2, not m-1); what the script did went with the one it ran on",
        ]);
    });

    test("another host key: refused, never gone", async () => {
        const other = generateEd25519("root@impostor").publicKey;
        expect(await deleted(state(machinePort, { connection: { host: "127.0.0.1", port: machinePort, user: "admin", hostKey: other } }))).toMatch(
            /^thing on db1: refused: 127\.0\.0\.1:\d+ presents the host key SHA256:/,
        );
        expect(commands).toEqual([]);
        expect(warnings).toEqual([]);
    });

    test("a refused login: an error, never gone", async () => {
        expect(await deleted(state(machinePort, { connection: { host: "127.0.0.1", port: machinePort, user: "ops", hostKey: "" } }))).toMatch(
            /^thing on db1: cannot connect: ssh ops@127\.0\.0\.1:\d+: All configured authentication methods failed/,
        );
        expect(warnings).toEqual([]);
    });

    test("something that answers but is not SSH: an error, never gone", async () => {
        expect(await deleted(state(notSshPort))).toMatch(new RegExp(`^thing on db1: cannot connect: ssh admin@127\\.0\\.0\\.1:${notSshPort}: `));
        expect(warnings).toEqual([]);
    });

    test("alternates: gone only when none of them answers", async () => {
        const [a, b] = [await closedPort(), await closedPort()];
        const alternate = (port: number) => ({ connection: { host: "127.0.0.1", port, user: "admin", hostKey: "" } });
        expect(await deleted(state(a, { alternates: [alternate(b)] }))).toBe("forgotten or done");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/^warning: flotilla: thing on db1: none of its 2 machines answers: thing on db1: cannot connect: .*ECONNREFUSED.*; thing on db1: cannot connect: .*ECONNREFUSED.*; taken for gone after 2s/);
        warnings.length = 0;
        // One of them answers, though not as SSH: not gone.
        expect(await deleted(state(a, { alternates: [alternate(notSshPort)] }))).toMatch(/^thing on db1: cannot connect: /);
        expect(warnings).toEqual([]);
    }, 20_000);

    test("a bastion that answers but cannot connect to the machine: gone; an unreachable bastion: an error", async () => {
        const via = (port: number) => ({ bastion: { host: "127.0.0.1", port, user: "admin", hostKey: "", privateKey: client.privateKey } });
        expect(await deleted(state(machinePort, via(bastionPort)))).toBe("forgotten or done");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(`thing on db1: cannot connect: the bastion 127.0.0.1:${bastionPort} cannot reach 127.0.0.1:${machinePort}`);
        expect(commands).toEqual([]);
        warnings.length = 0;
        const closed = await closedPort();
        expect(await deleted(state(machinePort, via(closed)))).toBe(
            `thing on db1: cannot connect: ssh admin@127.0.0.1:${closed} (the bastion): connect ECONNREFUSED 127.0.0.1:${closed}`,
        );
        expect(warnings).toEqual([]);
    });
});

describe("connect windows", () => {
    test("create and update the whole connect window, refresh 20 s at most, delete its own (default 30 s, not stored)", () => {
        const s = normalizeRemote({ connection: { host: "h", user: "u" }, privateKey: "k", target: "t", script: "true" });
        expect(DEFAULT_DELETE_CONNECT_TIMEOUT_SECONDS).toBe(30);
        expect((["create", "update", "read", "delete"] as const).map((p) => connectWindowSeconds(s, p))).toEqual([180, 180, 20, 30]);
        expect(connectWindowSeconds({ ...s, deleteConnectTimeoutSeconds: 5 }, "delete")).toBe(5);
        expect(REMOTE_DEFAULTS.deleteConnectTimeoutSeconds).toBe(30);
    });
});
