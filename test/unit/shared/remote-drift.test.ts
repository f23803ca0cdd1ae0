/**
 * RemoteScript's `detectDrift`, against in-process SSH servers (ssh2's Server) and closed ports: when
 * no input changed, `diff` runs the `read` phase (read-only, bounded) and reports a change only when it
 * exits 3 (what the script made is gone, e.g. a Swarm manager locked again) or another machine answers
 * at that address; `update` then runs the `update` phase. A probe that cannot tell (nothing answers,
 * the read fails or times out) leaves the resource as it is with a warning naming it; a host-key
 * mismatch is an error. Without detectDrift, or when an input changed, no probe runs.
 */
import * as net from "net";
import { Connection, Server, ServerChannel } from "ssh2";
import { DRIFT_RUN_SECONDS, provider as remoteProvider } from "../../../lib/shared/providers/remote-script";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

const provider = remoteProvider as Required<typeof remoteProvider>;
const hostKey = generateEd25519("root@manager");
const client = generateEd25519("admin@test");
const pinned = hostKey.publicKey.split(" ").slice(0, 2).join(" ");
const SECRET = "SWMKEY-1-secret-key";

/** How the machine answers the script: its exit code and output, or no answer at all (hang). */
let answer: { code: number; output?: string } | "hang";
let machineId: string;
/** Every command run, and the program (stdin) of every script run. */
const commands: string[] = [];
const programs: string[] = [];
const hanging: ServerChannel[] = [];

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
                let program = "";
                stream.on("data", (d: Buffer) => (program += d.toString()));
                stream.on("end", () => {
                    programs.push(program);
                    if (answer === "hang") {
                        hanging.push(stream);
                        return;
                    }
                    if (answer.output) stream.stderr.write(answer.output);
                    stream.exit(answer.code);
                    stream.end();
                });
            }),
        ),
    );
});

let port: number;
let warnings: string[];

beforeAll(async () => {
    port = await new Promise((resolve) => machine.listen(0, "127.0.0.1", () => resolve((machine.address() as net.AddressInfo).port)));
});

afterAll(async () => {
    await new Promise((r) => machine.close(r));
});

beforeEach(() => {
    answer = { code: 0 };
    machineId = "m-1";
    commands.length = 0;
    programs.length = 0;
    warnings = [];
    jest.spyOn(console, "error").mockImplementation((m: unknown) => void warnings.push(String(m)));
});

afterEach(() => {
    for (const s of hanging.splice(0)) s.close();
    jest.restoreAllMocks();
});

/** Inputs of an unlock-like script at `at` (the in-process machine unless told). */
function inputs(extra: Record<string, unknown> = {}, at = port): Record<string, unknown> {
    return {
        connection: { host: "127.0.0.1", port: at, user: "admin", hostKey: pinned },
        privateKey: client.privateKey,
        script: 'case "$FLOTILLA_PHASE" in read) [ "$(state)" != locked ] || exit 3 ;; *) unlock ;; esac',
        environment: { NODE_NAME: "manager-1" },
        secretEnvironment: { UNLOCK_KEY: SECRET },
        target: "swarm unlock of manager-1",
        timeoutSeconds: 180,
        connectTimeoutSeconds: 2,
        detectDrift: true,
        ...extra,
    };
}
/** The state the provider stored after running it on machine m-1. */
const stored = (extra: Record<string, unknown> = {}, at = port) => ({ ...inputs(extra, at), machineId: "m-1", result: "" });

type Outcome = "replace" | "update" | "none";
async function diffed(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<Outcome> {
    const d = await provider.diff("id", olds as never, news);
    if ((d.replaces ?? []).length > 0) return "replace";
    return d.changes ? "update" : "none";
}

/** The phase a program ran (its FLOTILLA_PHASE export). */
const phaseOf = (program: string) => /^export FLOTILLA_PHASE='(\w+)'$/m.exec(program)?.[1];

async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const p = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    return p;
}

describe("detectDrift: the read phase on every diff when nothing changed", () => {
    test("in place (read exits 0): no change; the read ran, the secret on stdin only", async () => {
        expect(await diffed(stored(), inputs())).toBe("none");
        expect(programs.map(phaseOf)).toEqual(["read"]);
        expect(programs[0]).toContain(`export UNLOCK_KEY='${SECRET}'`);
        expect(commands).toHaveLength(2);
        expect(commands.some((c) => c.includes(SECRET))).toBe(false);
        expect(warnings).toEqual([]);
    });

    test("gone (read exits 3, a manager locked again): an update, which runs the update phase on the machine", async () => {
        answer = { code: 3 };
        expect(await diffed(stored(), inputs())).toBe("update");
        expect(warnings).toEqual(["flotilla: swarm unlock of manager-1: drifted (its read phase reports what it made gone): an up updates it, running its update phase again"]);
        answer = { code: 0, output: "unlocked\n" };
        const updated = await provider.update("id", stored() as never, inputs());
        expect(programs.map(phaseOf)).toEqual(["read", "update"]);
        expect(updated.outs).toMatchObject({ machineId: "m-1", detectDrift: true });
        // The next diff finds it in place: nothing changes.
        expect(await diffed(updated.outs as Record<string, unknown>, inputs())).toBe("none");
        expect(programs.map(phaseOf)).toEqual(["read", "update", "read"]);
    });

    test("another machine at that address (re-imaged): an update; the read never runs there", async () => {
        machineId = "m-2";
        expect(await diffed(stored(), inputs())).toBe("update");
        expect(programs).toEqual([]);
        expect(warnings).toEqual([
            "flotilla: swarm unlock of manager-1: drifted (127.0.0.1 is another machine now (machine-id m-2)): an up updates it, running its update phase again",
        ]);
    });

    test("nothing answers: no change, a warning naming the machine, within the connect window", async () => {
        const closed = await closedPort();
        const started = Date.now();
        expect(await diffed(stored({}, closed), inputs({}, closed))).toBe("none");
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(warnings).toEqual([
            `warning: flotilla: swarm unlock of manager-1: not checked for drift, left as it is: cannot connect: ssh admin@127.0.0.1:${closed}: ` +
                `connect ECONNREFUSED 127.0.0.1:${closed} (the next preview or up checks again)`,
        ]);
    });

    test("the read phase fails (the engine does not answer): no change, a warning with its last line, secrets masked", async () => {
        answer = { code: 1, output: `12:00:00 swarm manager-1: ERROR: the Docker engine of manager-1 answering: not within 30s (${SECRET})\n` };
        expect(await diffed(stored(), inputs())).toBe("none");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(
            /^warning: flotilla: swarm unlock of manager-1: not checked for drift, left as it is: read failed with exit code 1 after [0-9.]+s\. Last lines of its output: 12:00:00 swarm manager-1: ERROR: the Docker engine of manager-1 answering: not within 30s \(\[secret\]\) \(the next preview or up checks again\)$/,
        );
        expect(warnings[0]).not.toContain(SECRET);
    });

    test("a read that does not finish: abandoned after the resource's timeout (at most 60 s), no change, a warning", async () => {
        expect(DRIFT_RUN_SECONDS).toBe(60);
        answer = "hang";
        expect(await diffed(stored({ timeoutSeconds: 1 }), inputs({ timeoutSeconds: 1 }))).toBe("none");
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/^warning: flotilla: swarm unlock of manager-1: not checked for drift, left as it is: read timed out after 1s\. /);
    });

    test("another host key at that address: an error (never talked to, never taken for in place)", async () => {
        const other = generateEd25519("root@impostor").publicKey;
        const at = { connection: { host: "127.0.0.1", port, user: "admin", hostKey: other } };
        await expect(provider.diff("id", stored(at) as never, inputs(at))).rejects.toThrow(/^swarm unlock of manager-1: refused: 127\.0\.0\.1:\d+ presents the host key SHA256:/);
        expect(programs).toEqual([]);
    });

    test("an input changed: an update without a probe (the update phase runs anyway)", async () => {
        expect(await diffed(stored(), inputs({ environment: { NODE_NAME: "manager-one" } }))).toBe("update");
        expect(await diffed(stored(), inputs({ target: "another label" }))).toBe("update");
        expect(await diffed(stored(), inputs({ triggers: ["i-2"] }))).toBe("replace");
        expect(commands).toEqual([]);
        // With detectDrift, even an update that changes no script input runs the script again.
        await provider.update("id", stored() as never, inputs({ target: "another label" }));
        expect(programs.map(phaseOf)).toEqual(["update"]);
    });

    test("without detectDrift: no probe, no change (the read phase runs on refresh only); turning it on is an update", async () => {
        answer = { code: 3 };
        const plain = { detectDrift: undefined };
        expect(await diffed(stored(plain), inputs(plain))).toBe("none");
        expect(commands).toEqual([]);
        expect(await diffed(stored(plain), inputs())).toBe("update");
        expect(commands).toEqual([]);
        // Off, an update that changes no script input does not run it.
        await provider.update("id", stored(plain) as never, inputs({ ...plain, target: "another label" }));
        expect(commands).toEqual([]);
    });
});
