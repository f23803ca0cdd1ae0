/**
 * SSH sessions as RemoteScript's provider opens them (ssh2): the connection (through a bastion when
 * there is one, retried while refused, within a deadline), the host-key check (pinned, else the
 * key first seen, else trust on first use), the verdict that nothing answers at an address, and
 * one command run with its input on stdin, bounded, its stderr streamed.
 */
import * as crypto from "crypto";
import { Client } from "ssh2";
import { LineSplitter, keepTail } from "./script-output";
import { expandPrivateKey } from "./ssh-keys";

/** One SSH endpoint, as stored in the state (the key only in the secret fields). */
export interface Endpoint {
    host: string;
    port: number;
    user: string;
    hostKey: string;
    privateKey: string;
}

/** Where to run: the machine's address and keys. */
export interface Target {
    connection: { host: string; port: number; user: string; hostKey: string };
    privateKey: string;
    bastion: Endpoint | null;
}

/** Host keys a state recorded when first seen: the machine's and its bastion's ("" for none). */
export interface RecordedKeys {
    machine: string;
    bastion: string;
}
export const NONE_RECORDED: RecordedKeys = { machine: "", bastion: "" };

/** Outcome of one remote command. */
export interface Exec {
    code: number | null;
    signal: string | undefined;
    stdout: string;
    combined: string;
    timedOut: boolean;
}

/** The key line (`<type> <base64>`) of a host key blob as SSH presents it. */
export function hostKeyLine(blob: Buffer): string {
    const n = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
    const type = n > 0 && 4 + n <= blob.length ? blob.subarray(4, 4 + n).toString("latin1") : "unknown";
    return `${type} ${blob.toString("base64")}`;
}

/** A host key's fingerprint as OpenSSH prints it: `SHA256:` and the unpadded base64 of its blob's sha256. */
export function hostKeyFingerprint(line: string): string {
    const blob = Buffer.from(line.trim().split(/\s+/)[1] ?? "", "base64");
    return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The outcome of checking the host key a machine presents. */
export type HostKeyVerdict =
    | { accept: true; seen: string; record: boolean }
    | { accept: false; seen: string; reason: string };

/**
 * Checks the host key `presented` (its blob) at `where` (`host:port`): against `pinned` when
 * given (the source of the machine knows its key), else against `recorded` (the key first seen,
 * kept in the state), else accepted and to be recorded (trust on first use). A mismatch is never
 * accepted, and its reason names the place and both fingerprints.
 */
export function checkHostKey(where: string, presented: Buffer, pinned: string, recorded: string): HostKeyVerdict {
    const seen = hostKeyLine(presented);
    const expected = pinned || recorded;
    if (!expected) return { accept: true, seen, record: true };
    const parts = expected.trim().split(/\s+/);
    if (parts[0] === seen.split(" ")[0] && Buffer.from(parts[1] ?? "", "base64").equals(presented)) {
        return { accept: true, seen, record: !pinned };
    }
    const which = pinned
        ? `the pinned host key ${hostKeyFingerprint(expected)}`
        : `the host key it presented when first seen, ${hostKeyFingerprint(expected)} (recorded in the state)`;
    const fix = pinned
        ? "if the machine was re-imaged, pin its new key"
        : "if the machine was re-imaged, pin its new key (hostKey); the recorded one is never replaced silently";
    return {
        accept: false,
        seen,
        reason:
            `${where} presents the host key ${hostKeyFingerprint(seen)} (${seen.split(" ")[0]}), not ${which}: ` +
            `refusing to connect (another machine at that address, or someone in between; ${fix})`,
    };
}

/** Host key algorithms to offer for a key of `type` (so the server presents that key, not another of its keys). */
export function hostKeyAlgorithms(type: string): string[] | undefined {
    if (!type) return undefined;
    return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}

/** An open connection and the host key the machine presented. */
export interface Connected {
    client: Client;
    seen: string;
    /** The host key the bastion presented ("" without a bastion). */
    seenBastion: string;
}

/** Thrown when a machine presents another host key than the one expected: never retried, never "gone". */
export class HostKeyMismatchError extends Error {}

/**
 * Thrown when the machine could not be reached within the connect window and every attempt ended
 * in evidence that nothing is there: the connection refused, no route to the address (or the
 * network), a TCP or SSH-handshake timeout, or a bastion that answers saying it cannot connect to
 * the machine. Never for an authentication failure, a host-key mismatch, a peer that is not SSH
 * or an unreachable bastion (something answers, or nothing is known of the machine itself).
 */
export class MachineUnreachableError extends Error {
    /** Seconds it was given to answer (the last machine's window). */
    windowSeconds = 0;
}

/** Socket errors that say nothing answers at an address. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ETIMEDOUT", "ENETDOWN"]);

/** Whether an ssh2 connection error is evidence that nothing answers at the address. */
export function isUnreachable(err: { code?: unknown; level?: unknown }): boolean {
    return (typeof err.code === "string" && UNREACHABLE_CODES.has(err.code)) || err.level === "client-timeout";
}

/** ssh2's reason code of a channel the server could not connect (RFC 4254 SSH_OPEN_CONNECT_FAILED). */
const OPEN_CONNECT_FAILED = 2;

/**
 * Opens an SSH connection (through the bastion when there is one), retrying while refused. The
 * machine's host key (and the bastion's) is checked against its pin, else the key `recorded` when
 * first seen ({@link checkHostKey}).
 */
export async function sshConnect(state: Target & { target: string }, deadlineMs: number, recorded: RecordedKeys = NONE_RECORDED): Promise<Connected> {
    // The jump host is named as such in every error, so a refusal there is not taken for the machine's.
    const once = (
        endpoint: { host: string; port: number; user: string; hostKey: string; privateKey: string },
        recorded: string,
        sock?: NodeJS.ReadableStream,
        bastion = false,
    ) =>
        new Promise<Connected>((resolve, reject) => {
            const client = new Client();
            const where = `${bastion ? "the bastion " : ""}${endpoint.host}:${endpoint.port}`;
            let verdict: HostKeyVerdict | undefined;
            client.on("ready", () => resolve({ client, seen: verdict?.seen ?? "", seenBastion: "" }));
            client.on("error", (err: Error) => {
                client.end();
                if (verdict && !verdict.accept) {
                    reject(new HostKeyMismatchError(verdict.reason));
                    return;
                }
                reject(
                    Object.assign(new Error(`ssh ${endpoint.user}@${endpoint.host}:${endpoint.port}${bastion ? " (the bastion)" : ""}: ${err.message}`), {
                        fatal: /authentication/i.test(err.message),
                        // An unreachable bastion says nothing about the machine behind it.
                        unreachable: !bastion && isUnreachable(err as { code?: unknown; level?: unknown }),
                    }),
                );
            });
            const expected = endpoint.hostKey || recorded;
            client.connect({
                host: endpoint.host,
                port: endpoint.port,
                username: endpoint.user,
                privateKey: expandPrivateKey(endpoint.privateKey),
                sock: sock as never,
                hostVerifier: (key: Buffer) => {
                    verdict = checkHostKey(where, key, endpoint.hostKey, recorded);
                    return verdict.accept;
                },
                ...(expected ? { algorithms: { serverHostKey: hostKeyAlgorithms(expected.split(" ")[0]) as never } } : {}),
                readyTimeout: 20_000,
                keepaliveInterval: 15_000,
            });
        });
    const target = {
        host: state.connection.host,
        port: state.connection.port,
        user: state.connection.user,
        hostKey: state.connection.hostKey,
        privateKey: state.privateKey,
    };
    let delay = 1000;
    for (;;) {
        try {
            if (!state.bastion) {
                return await once(target, recorded.machine);
            }
            const bastion = state.bastion;
            const jumped = await once(bastion, recorded.bastion, undefined, true);
            const jump = jumped.client;
            const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
                jump.forwardOut("127.0.0.1", 0, target.host, target.port, (err, s) =>
                    err
                        ? reject(
                              Object.assign(new Error(`the bastion ${bastion.host}:${bastion.port} cannot reach ${target.host}:${target.port}: ${err.message}`), {
                                  unreachable: (err as { reason?: unknown }).reason === OPEN_CONNECT_FAILED,
                              }),
                          )
                        : resolve(s),
                ),
            ).catch((err: Error) => {
                jump.end();
                throw err;
            });
            const connected = await once(target, recorded.machine, stream).catch((err: Error) => {
                jump.end();
                throw err;
            });
            connected.client.on("close", () => jump.end());
            return { ...connected, seenBastion: jumped.seen };
        } catch (err) {
            if (err instanceof HostKeyMismatchError) {
                throw new HostKeyMismatchError(`${state.target}: refused: ${err.message}`);
            }
            if ((err as { fatal?: boolean }).fatal || Date.now() + delay > deadlineMs) {
                const message = `${state.target}: cannot connect: ${(err as Error).message}`;
                throw (err as { unreachable?: boolean }).unreachable ? new MachineUnreachableError(message) : new Error(message);
            }
            await new Promise((r) => setTimeout(r, delay));
            delay = Math.min(delay * 2, 10_000);
        }
    }
}

/**
 * Runs one command, feeding `input` on stdin; bounded by `timeoutMs`. Its stderr (the scripts' log)
 * goes to `lines` as it comes, when given.
 */
export function sshExec(client: Client, command: string, input: string, timeoutMs: number, lines?: LineSplitter): Promise<Exec> {
    return new Promise((resolve, reject) => {
        client.exec(command, (err, stream) => {
            if (err) {
                reject(err);
                return;
            }
            let stdout = "";
            let combined = "";
            let timedOut = false;
            const timer = setTimeout(() => {
                timedOut = true;
                stream.close();
            }, timeoutMs);
            stream.on("data", (d: Buffer) => {
                stdout = keepTail(stdout + d.toString());
                combined = keepTail(combined + d.toString());
            });
            stream.stderr.on("data", (d: Buffer) => {
                combined = keepTail(combined + d.toString());
                lines?.push(d.toString());
            });
            stream.on("close", (code: number | null, signal?: string) => {
                clearTimeout(timer);
                lines?.flush();
                resolve({ code: timedOut ? null : code, signal, stdout, combined, timedOut });
            });
            stream.end(input);
        });
    });
}
