/**
 * RemoteScript's provider through a bastion, against two in-process SSH servers (ssh2's Server):
 * a jump host that forwards (or refuses to) and a machine behind it. The run goes through the jump
 * host with both host keys pinned; a wrong bastion key and a bastion that cannot reach the machine
 * are errors that name the bastion.
 */
import * as net from "net";
import { Connection, Server } from "ssh2";
import { hostKeyFingerprint } from "../../../lib/shared/providers/remote-script";
import { remoteScriptProvider } from "../../../lib/shared/remote-script";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

const bastionKey = generateEd25519("root@bastion");
const machineKey = generateEd25519("root@machine");
const client = generateEd25519("admin@test");
const provider = remoteScriptProvider as Required<typeof remoteScriptProvider>;

/** Accepts any public key of user admin (this is about the path, not the login). */
function acceptAdmin(conn: Connection): void {
    conn.on("error", () => undefined);
    conn.on("authentication", (ctx) => (ctx.username === "admin" && ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
}

/** A server listening on 127.0.0.1, and its port. */
function listen(server: Server): Promise<number> {
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

/** The machine: answers `cat /etc/machine-id`, and runs "the script" (any other command) by printing what it got. */
const commands: string[] = [];
const machine = new Server({ hostKeys: [machineKey.privateKey] }, (conn) => {
    acceptAdmin(conn);
    conn.on("ready", () =>
        conn.on("session", (accept) =>
            accept().on("exec", (acceptExec, _reject, info) => {
                commands.push(info.command);
                const stream = acceptExec();
                if (info.command === "cat /etc/machine-id") {
                    stream.write("0123456789abcdef\n");
                    stream.exit(0);
                    stream.end();
                    return;
                }
                let input = "";
                stream.on("data", (d: Buffer) => (input += d.toString()));
                stream.on("end", () => {
                    stream.write(`ran ${input.includes("echo via-bastion") ? "the script" : "something else"}\n`);
                    stream.exit(0);
                    stream.end();
                });
            }),
        ),
    );
});

/** The bastion: forwards TCP to the machine when `forward`, refuses otherwise; records where it was asked to go. */
let forward = true;
const asked: string[] = [];
const bastion = new Server({ hostKeys: [bastionKey.privateKey] }, (conn) => {
    acceptAdmin(conn);
    conn.on("ready", () =>
        conn.on("tcpip", (accept, reject, info) => {
            asked.push(`${info.destIP}:${info.destPort}`);
            if (!forward) {
                reject();
                return;
            }
            const channel = accept();
            const socket = net.connect(info.destPort, info.destIP, () => {
                channel.pipe(socket).pipe(channel);
            });
            socket.on("error", () => channel.close());
        }),
    );
});

let machinePort: number;
let bastionPort: number;

beforeAll(async () => {
    machinePort = await listen(machine);
    bastionPort = await listen(bastion);
});

afterAll(async () => {
    await Promise.all([machine, bastion].map((s) => new Promise((r) => s.close(r))));
});

beforeEach(() => {
    forward = true;
    asked.length = 0;
    commands.length = 0;
});

function inputs(bastionHostKey: string, connectTimeoutSeconds = 10) {
    return {
        connection: { host: "127.0.0.1", port: machinePort, user: "admin", hostKey: machineKey.publicKey },
        privateKey: client.privateKey,
        bastion: { host: "127.0.0.1", port: bastionPort, user: "admin", hostKey: bastionHostKey, privateKey: client.privateKey },
        script: "echo via-bastion",
        target: "t",
        timeoutSeconds: 30,
        connectTimeoutSeconds,
    };
}

test("a script runs on the machine through the bastion, both host keys pinned", async () => {
    const created = await provider.create(inputs(bastionKey.publicKey));
    expect(asked).toEqual([`127.0.0.1:${machinePort}`]);
    expect(commands[0]).toBe("cat /etc/machine-id");
    expect(created.outs).toMatchObject({ machineId: "0123456789abcdef", result: "ran the script" });
    // A pinned key is not recorded again.
    expect(created.outs.seenHostKey).toBeUndefined();
});

test("a wrong bastion host key is refused, naming the bastion and both fingerprints; the machine is never asked for", async () => {
    const wrong = generateEd25519("root@impostor").publicKey;
    await expect(provider.create(inputs(wrong))).rejects.toThrow(
        `t: refused: the bastion 127.0.0.1:${bastionPort} presents the host key ${hostKeyFingerprint(bastionKey.publicKey)} (ssh-ed25519), ` +
            `not the pinned host key ${hostKeyFingerprint(wrong)}: refusing to connect (another machine at that address, or someone in between; ` +
            "if the machine was re-imaged, pin its new key)",
    );
    expect(asked).toEqual([]);
    expect(commands).toEqual([]);
});

test("a bastion that cannot reach the machine is an error naming the bastion and the machine's address", async () => {
    forward = false;
    await expect(provider.create(inputs(bastionKey.publicKey, 1))).rejects.toThrow(
        new RegExp(`^t: cannot connect: the bastion 127\\.0\\.0\\.1:${bastionPort} cannot reach 127\\.0\\.0\\.1:${machinePort}: `),
    );
    expect(commands).toEqual([]);
});

describe("a bastion without a pinned key: trust on first use, then enforced", () => {
    const bare = (line: string) => line.split(" ").slice(0, 2).join(" ");
    /** The bastion answering with another key from now on (an impostor, or a re-imaged jump host). */
    const impostor = generateEd25519("root@impostor");
    let impostorServer: Server;
    let impostorPort: number;
    beforeAll(async () => {
        impostorServer = new Server({ hostKeys: [impostor.privateKey] }, (conn) => acceptAdmin(conn));
        impostorPort = await listen(impostorServer);
    });
    afterAll(() => new Promise((r) => impostorServer.close(r)));

    test("the key first seen is recorded (bare) on create and kept by an update that reruns", async () => {
        const created = await provider.create(inputs(""));
        expect(created.outs.seenBastionHostKey).toBe(bare(bastionKey.publicKey));
        // A pinned machine key is not recorded; the bastion's is.
        expect(created.outs.seenHostKey).toBeUndefined();
        const updated = await provider.update!("id", created.outs, { ...inputs(""), script: "echo via-bastion again" });
        expect(updated.outs!.seenBastionHostKey).toBe(bare(bastionKey.publicKey));
    });

    test("another key from that bastion later is refused on update, refresh and delete, naming the recorded one", async () => {
        const created = await provider.create(inputs(""));
        // The same address now answers with another key (the state's bastion port moved to the impostor).
        const moved = { ...created.outs, bastion: { ...(created.outs as any).bastion, port: impostorPort } };
        const expected = `the bastion 127.0.0.1:${impostorPort} presents the host key ${hostKeyFingerprint(impostor.publicKey)} (ssh-ed25519), not the host key it presented when first seen, ${hostKeyFingerprint(bastionKey.publicKey)} (recorded in the state)`;
        await expect(provider.read!("id", moved as never)).rejects.toThrow(expected);
        await expect(provider.delete!("id", moved as never)).rejects.toThrow(expected);
        const news = { ...inputs(""), script: "echo via-bastion 3", bastion: { ...inputs("").bastion, port: impostorPort } };
        await expect(provider.update!("id", moved as never, news)).rejects.toThrow(expected);
    });

    test("an update to another bastion (address changed) does not carry the old record over", async () => {
        const created = await provider.create(inputs(""));
        const news = { ...inputs(""), script: "echo via-bastion 2", bastion: { ...inputs("").bastion, port: impostorPort } };
        // The impostor cannot forward, so the run fails — but not on the host key: the old record is not applied to it.
        const error = await provider.update!("id", created.outs, { ...news, connectTimeoutSeconds: 1 }).then(
            () => new Error("update succeeded"),
            (e: Error) => e,
        );
        expect(error.message).not.toMatch(/recorded in the state/);
        expect(error.message).toMatch(/cannot reach|cannot connect/);
    });
});
