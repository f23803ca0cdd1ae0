/**
 * The provider behind `RemoteScript`: bash over SSH (ssh2), with create/update/read/delete phases
 * and a machine-identity guard. Loaded by module path in Pulumi's dynamic-provider process (see
 * ../dynamic.ts); handles every state earlier versions wrote (a state with the whole script and
 * no hash is one of them).
 */
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { Client } from "ssh2";
import { ABSENT_EXIT_CODE, canonicalJson, dropDefaults, lastLine, progressLines, scriptFailure, shellQuote } from "../script-output";
import { sha256 } from "../scripts";
import { normalizeScript, scriptText } from "./local-script";
import { expandPrivateKey } from "../ssh-keys";
import {
    Exec,
    HostKeyMismatchError,
    MachineUnreachableError,
    NONE_RECORDED,
    RecordedKeys,
    Target,
    sshConnect,
    sshExec,
} from "../ssh-session";

export { HostKeyMismatchError, MachineUnreachableError, checkHostKey, hostKeyAlgorithms, hostKeyFingerprint, hostKeyLine, isUnreachable } from "../ssh-session";
export type { HostKeyVerdict, RecordedKeys } from "../ssh-session";

/** The state of a RemoteScript (its inputs as stored). */
export interface RemoteState extends Target {
    alternates: Target[];
    /** The script's text when given inline; "" for a bundled script. */
    script: string;
    /** A bundled script's name (`runtime/runtime.sh`); "" for an inline script. */
    scriptRef: string;
    /** sha256 of the script's text. */
    scriptHash: string;
    environment: Record<string, string>;
    secretEnvironment: Record<string, string>;
    target: string;
    triggers: string[];
    timeoutSeconds: number;
    connectTimeoutSeconds: number;
    /**
     * Seconds the delete phase keeps trying to reach a machine before taking it for gone (see
     * {@link MachineUnreachableError}): then the script's effects went with it and the resource is
     * forgotten, with a warning.
     */
    deleteConnectTimeoutSeconds: number;
    /**
     * Whether every diff (each preview and up) runs the `read` phase, read-only and bounded (see
     * {@link probeDrift}): when it reports what the script made gone, the resource is updated and
     * the `update` phase runs, without a refresh.
     */
    detectDrift: boolean;
}

export interface RemoteOutputs extends RemoteState {
    /** /etc/machine-id of the machine the script ran on: a re-created machine has another one. */
    machineId: string;
    result: string;
    /**
     * The host key the machine presented when first seen (`ssh-ed25519 AAAA...`, no comment),
     * recorded only when no key is pinned (`connection.hostKey` empty): trust on first use, then
     * enforced on every later phase. Absent when a key is pinned (the pin is in the state already).
     */
    seenHostKey?: string;
    /**
     * The bastion's host key when first seen, recorded only when the bastion's key is not pinned
     * (`bastion.hostKey` empty): trust on first use for the jump host too, then enforced.
     */
    seenBastionHostKey?: string;
}

type Phase = "create" | "update" | "read" | "delete";

function normalizeTarget(inputs: Record<string, unknown>): Target {
    const c = (inputs.connection ?? {}) as Record<string, unknown>;
    const b = inputs.bastion as Record<string, unknown> | null | undefined;
    return {
        connection: {
            host: String(c.host),
            port: Number(c.port ?? 22),
            user: String(c.user),
            hostKey: String(c.hostKey ?? ""),
        },
        privateKey: String(inputs.privateKey),
        bastion: b
            ? {
                  host: String(b.host),
                  port: Number(b.port ?? 22),
                  user: String(b.user),
                  hostKey: String(b.hostKey ?? ""),
                  privateKey: String(b.privateKey),
              }
            : null,
    };
}

/**
 * Triggers as the state keeps them: `["h:<16 hex of sha256>"]` of all the values, since only a
 * change matters (the values, e.g. 64-digit container ids, need not be stored). A state written
 * before kept the values themselves: they normalize to the same hash.
 */
export function normalizeTriggers(values: string[]): string[] {
    if (values.length === 0) return [];
    if (values.length === 1 && /^h:[0-9a-f]{16}$/.test(values[0])) return values;
    return [`h:${sha256(values.join("\0")).slice(0, 16)}`];
}

/** Default of `deleteConnectTimeoutSeconds`: how long a delete waits for a machine that may be gone. */
export const DEFAULT_DELETE_CONNECT_TIMEOUT_SECONDS = 30;

/** Values a RemoteScript's state leaves out (normalizeRemote fills them in). */
export const REMOTE_DEFAULTS: Record<string, unknown> = {
    alternates: [],
    bastion: null,
    script: "",
    scriptRef: "",
    environment: {},
    secretEnvironment: {},
    triggers: [],
    timeoutSeconds: 900,
    connectTimeoutSeconds: 180,
    deleteConnectTimeoutSeconds: DEFAULT_DELETE_CONNECT_TIMEOUT_SECONDS,
    detectDrift: false,
};

/**
 * What the state keeps: the inputs without their defaults, the run's outcome and, when no key is
 * pinned, the host key first seen.
 */
function storedRemote(state: RemoteState, machineId: string, result: string, seen: Partial<RecordedKeys> = {}): RemoteOutputs {
    const machine = !state.connection.hostKey && seen.machine ? { seenHostKey: seen.machine } : {};
    const bastion = state.bastion && !state.bastion.hostKey && seen.bastion ? { seenBastionHostKey: seen.bastion } : {};
    return { ...dropDefaults(state as unknown as Record<string, unknown>, REMOTE_DEFAULTS), machineId, result, ...machine, ...bastion } as unknown as RemoteOutputs;
}

/** The inputs as the provider uses them (any state an earlier version wrote). */
export function normalizeRemote(inputs: Record<string, unknown>): RemoteState {
    return {
        ...normalizeTarget(inputs),
        // An alternate without a key of its own uses the main connection's.
        alternates: ((inputs.alternates as Record<string, unknown>[]) ?? []).map((a) =>
            normalizeTarget({ ...a, privateKey: a.privateKey ?? inputs.privateKey }),
        ),
        ...normalizeScript(inputs),
        environment: (inputs.environment as Record<string, string>) ?? {},
        secretEnvironment: (inputs.secretEnvironment as Record<string, string>) ?? {},
        target: String(inputs.target),
        triggers: normalizeTriggers(((inputs.triggers as string[]) ?? []).map(String)),
        timeoutSeconds: Number(inputs.timeoutSeconds ?? 900),
        connectTimeoutSeconds: Number(inputs.connectTimeoutSeconds ?? 180),
        deleteConnectTimeoutSeconds: Number(inputs.deleteConnectTimeoutSeconds ?? DEFAULT_DELETE_CONNECT_TIMEOUT_SECONDS),
        detectDrift: inputs.detectDrift === true,
    };
}

/** The text sent on stdin: the environment as exports, then the script. */
function remoteProgram(state: RemoteState, phase: Phase): string {
    const env = { ...state.environment, ...state.secretEnvironment, FLOTILLA_PHASE: phase };
    const exports = Object.entries(env).map(([k, v]) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
            throw new Error(`${state.target}: environment variable name ${JSON.stringify(k)} is not valid in bash`);
        }
        return `export ${k}=${shellQuote(String(v))}`;
    });
    return `${exports.join("\n")}\n${scriptText(state, phase === "create" || phase === "update")}\n`;
}

/**
 * The remote command: stores the program (environment + script) in a private temporary file, runs
 * it as root with stdin from /dev/null, removes it. Secrets travel on stdin only, never in a
 * command line that `ps` would show.
 */
const RUNNER =
    'umask 077; f=$(mktemp) || exit 125; cat >"$f" || exit 125; ' +
    'if [ "$(id -u)" = 0 ]; then bash "$f" </dev/null; ' +
    'elif ! sudo -n true 2>/dev/null; then echo "flotilla: $(id -un) cannot run sudo -n (password-less sudo is needed)" >&2; rm -f "$f"; exit 126; ' +
    'else sudo -n bash "$f" </dev/null; fi; ' +
    'rc=$?; rm -f "$f"; exit $rc';

/**
 * How long to keep trying to connect: the whole window when applying (the machine may still be
 * booting), a short one on refresh, where an unreachable machine means it is gone, and the delete
 * window on delete (a machine deleted outside Pulumi never comes back).
 */
export function connectWindowSeconds(state: RemoteState, phase: Phase): number {
    if (phase === "read") return Math.min(state.connectTimeoutSeconds, 20);
    if (phase === "delete") return state.deleteConnectTimeoutSeconds;
    return state.connectTimeoutSeconds;
}

/**
 * Endpoints (`host:port`, through the bastion when there is one) a delete found unreachable, and
 * when: in one `destroy` or `up` every script of a vanished machine is deleted in turn, and only the
 * first needs the whole delete window to decide it is gone.
 */
const goneEndpoints = new Map<string, number>();
/** How long a "gone" verdict shortens the next deletes' window. */
const GONE_MEMORY_MS = 15 * 60 * 1000;
/** The window of a delete on a machine found gone within {@link GONE_MEMORY_MS}. */
const GONE_AGAIN_WINDOW_SECONDS = 5;

function endpointKey(t: Target): string {
    const via = t.bastion ? `${t.bastion.host}:${t.bastion.port}>` : "";
    return `${via}${t.connection.host}:${t.connection.port}`;
}

function goneRecently(key: string): boolean {
    const at = goneEndpoints.get(key);
    return at !== undefined && Date.now() - at < GONE_MEMORY_MS;
}

/**
 * Connects, reads the machine's identity and, unless `expectedMachineId` is given and differs, runs
 * the script for `phase`. Returns the machine id and the run (undefined when skipped).
 */
async function runRemote(
    state: RemoteState,
    phase: Phase,
    expectedMachineId?: string,
    recorded: RecordedKeys = NONE_RECORDED,
): Promise<{ machineId: string; run?: Exec; seen: Partial<RecordedKeys> }> {
    const started = Date.now();
    let client: Client | undefined;
    const seen: Partial<RecordedKeys> = {};
    const candidates = [state, ...state.alternates.map((t) => ({ ...state, ...t }))];
    const unreachable: string[] = [];
    for (let i = 0; i < candidates.length && !client; i++) {
        const last = i === candidates.length - 1;
        const full = last ? connectWindowSeconds(state, phase) : Math.min(connectWindowSeconds(state, phase), 20);
        // A machine this process already found gone (another script's delete, moments ago) gets
        // one short look: the scripts of one machine are deleted one after the other.
        const key = endpointKey(candidates[i]);
        const window = phase === "delete" && goneRecently(key) ? Math.min(full, GONE_AGAIN_WINDOW_SECONDS) : full;
        try {
            // The recorded keys are the first machine's: alternates are checked against their own pins.
            const connected = await sshConnect(candidates[i], Date.now() + window * 1000, i === 0 ? recorded : NONE_RECORDED);
            client = connected.client;
            goneEndpoints.delete(key);
            if (i === 0) {
                seen.machine = connected.seen;
                seen.bastion = connected.seenBastion;
            }
        } catch (err) {
            if (err instanceof MachineUnreachableError) {
                unreachable.push(err.message);
                if (phase === "delete") goneEndpoints.set(key, Date.now());
            }
            if (err instanceof HostKeyMismatchError) throw err;
            if (last) {
                if (!(err instanceof MachineUnreachableError)) throw err;
                // Gone only when every machine that could run it is (with alternates: all of them).
                if (unreachable.length < candidates.length) throw new Error(err.message);
                const gone =
                    candidates.length === 1
                        ? err
                        : new MachineUnreachableError(`${state.target}: none of its ${candidates.length} machines answers: ${unreachable.join("; ")}`);
                gone.windowSeconds = window;
                throw gone;
            }
        }
    }
    if (!client) throw new Error(`${state.target}: no machine to run on`);
    if (state.alternates.length > 0) {
        expectedMachineId = undefined;
    }
    try {
        const id = await sshExec(client, "cat /etc/machine-id", "", 30_000);
        const machineId = id.stdout.trim();
        if (id.code !== 0 || !machineId) {
            throw scriptFailure(state.target, phase, "could not read /etc/machine-id", id.combined, {});
        }
        if (expectedMachineId !== undefined && machineId !== expectedMachineId) {
            return { machineId, seen };
        }
        const secrets = { ...state.secretEnvironment, privateKey: expandPrivateKey(state.privateKey) };
        // Its log lines reach the engine's output as they come, secrets masked.
        const progress = progressLines(state.target, phase, secrets);
        const run = await sshExec(client, RUNNER, remoteProgram(state, phase), state.timeoutSeconds * 1000, progress);
        if (run.code === 0 || (phase === "read" && run.code === ABSENT_EXIT_CODE)) {
            return { machineId, run, seen };
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const why = run.timedOut
            ? `timed out after ${state.timeoutSeconds}s`
            : `failed with exit code ${run.code ?? `signal ${run.signal}`} after ${seconds}s`;
        throw scriptFailure(state.target, phase, why, run.combined, secrets);
    } finally {
        client.end();
    }
}

/**
 * A warning in the engine's output: the provider process's stderr is shown by the engine (a
 * dynamic provider has no other channel to the diagnostics).
 */
function warn(message: string): void {
    console.error(`warning: flotilla: ${message}`);
}

/** Seconds a drift probe's script may run (at most; its connect window is the read one, 20 s at most). */
export const DRIFT_RUN_SECONDS = 60;

/**
 * The drift probe of a script with `detectDrift`, run by `diff` when no input changed (in every
 * preview and up): the `read` phase on the machine the state names, read-only, with the read's
 * connect window (20 s at most) and {@link DRIFT_RUN_SECONDS} to run. True when it reports what the
 * script made gone (exit 3) or finds another machine at that address: then the resource updates
 * and its `update` phase runs. A probe that cannot tell (the machine cannot be reached, the read
 * fails or times out) says false, with a warning naming the machine and why, so one machine down
 * never fails an up that does not need it. A host key other than the one expected is an error.
 */
export async function probeDrift(stored: Partial<RemoteOutputs>): Promise<boolean> {
    const base = normalizeRemote(stored as unknown as Record<string, unknown>);
    const state = { ...base, timeoutSeconds: Math.min(base.timeoutSeconds, DRIFT_RUN_SECONDS) };
    let probed: Awaited<ReturnType<typeof runRemote>>;
    try {
        probed = await runRemote(state, "read", stored.machineId, recordedKeys(stored));
    } catch (err) {
        if (err instanceof HostKeyMismatchError) throw err;
        // The first line (what failed) and the last line of the output (why), secrets masked.
        const lines = (err as Error).message.trimEnd().split("\n");
        const first = lines[0].startsWith(`${state.target}: `) ? lines[0].slice(state.target.length + 2) : lines[0];
        const why = lines.length > 1 ? `${first} ${lines[lines.length - 1].trim()}` : first;
        warn(`${state.target}: not checked for drift, left as it is: ${why} (the next preview or up checks again)`);
        return false;
    }
    if (!probed.run || probed.run.code === ABSENT_EXIT_CODE) {
        const what = probed.run ? "its read phase reports what it made gone" : `${state.connection.host} is another machine now (machine-id ${probed.machineId})`;
        console.error(`flotilla: ${state.target}: drifted (${what}): an up updates it, running its update phase again`);
        return true;
    }
    return false;
}

/** The host keys a state recorded when first seen ("" for none, or a state written before keys were recorded). */
function recordedKeys(outs: Partial<RemoteOutputs>): RecordedKeys {
    return {
        machine: typeof outs.seenHostKey === "string" ? outs.seenHostKey : "",
        bastion: typeof outs.seenBastionHostKey === "string" ? outs.seenBastionHostKey : "",
    };
}

/** The provider. */
export const provider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult<RemoteOutputs>> {
        const state = normalizeRemote(inputs);
        const { machineId, run, seen } = await runRemote(state, "create");
        return { id: crypto.randomUUID(), outs: storedRemote(state, machineId, lastLine(run?.stdout ?? ""), seen) };
    },
    async diff(_id: string, olds: RemoteOutputs, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
        const next = normalizeRemote(news);
        const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
        const prev = { ...normalizeRemote(olds as unknown as Record<string, unknown>) };
        const replaces: string[] = [];
        // A script about a cluster (alternates before and after: any of its machines runs it) moves
        // to another machine by an update; a script about one machine is replaced.
        const cluster = prev.alternates.length > 0 && next.alternates.length > 0;
        if (
            !cluster &&
            (prev.connection.host !== next.connection.host ||
            prev.connection.port !== next.connection.port ||
            prev.connection.user !== next.connection.user)
        ) {
            replaces.push("connection");
        }
        if (!same(prev.triggers, next.triggers)) replaces.push("triggers");
        const updates = (
            [
                "scriptHash",
                "scriptRef",
                "script",
                "environment",
                "secretEnvironment",
                "target",
                "timeoutSeconds",
                "connectTimeoutSeconds",
                "deleteConnectTimeoutSeconds",
                "detectDrift",
                "privateKey",
                "bastion",
                "alternates",
            ] as const
        ).filter((k) => !same(prev[k], next[k]));
        if (prev.connection.hostKey !== next.connection.hostKey || (cluster && endpointKey(prev) !== endpointKey(next))) updates.push("connection" as never);
        if (replaces.length > 0 || updates.length > 0) return { changes: true, replaces };
        // Nothing changed in the program: with detectDrift, whether the machine still holds what the
        // script made (preview included: the read phase changes nothing).
        return { changes: next.detectDrift ? await probeDrift(olds) : false, replaces };
    },
    async update(_id: string, olds: RemoteOutputs, news: Record<string, unknown>) {
        const state = normalizeRemote(news);
        const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
        const prev = normalizeRemote(olds as unknown as Record<string, unknown>);
        // A changed pin is checked at once (the script runs again: scripts are idempotent).
        const rerun =
            prev.scriptHash !== state.scriptHash ||
            !same(olds.environment, state.environment) ||
            !same(olds.secretEnvironment, state.secretEnvironment) ||
            prev.connection.hostKey !== state.connection.hostKey ||
            // With detectDrift an update may be the probe's (nothing else changed): it always runs.
            state.detectDrift;
        // A pin taken away falls back to the key pinned before (kept as the one seen), never to
        // whatever the machine presents now.
        // The same for the bastion, as long as it is the same jump host (another one has its own key).
        const sameBastion = !!prev.bastion && !!state.bastion && prev.bastion.host === state.bastion.host && prev.bastion.port === state.bastion.port;
        // A cluster script moved to another machine (see diff) keeps no key of the one before.
        const moved = endpointKey(prev) !== endpointKey(state);
        const recorded: RecordedKeys = {
            machine: moved ? "" : recordedKeys(olds).machine || prev.connection.hostKey,
            bastion: sameBastion ? recordedKeys(olds).bastion || prev.bastion!.hostKey : "",
        };
        if (!rerun) {
            return { outs: storedRemote(state, olds.machineId, olds.result, recorded) };
        }
        const { machineId, run, seen } = await runRemote(state, "update", undefined, recorded);
        return {
            outs: storedRemote(state, machineId, lastLine(run?.stdout ?? ""), {
                machine: recorded.machine || seen.machine,
                bastion: recorded.bastion || seen.bastion,
            }),
        };
    },
    async read(id: string, props: RemoteOutputs): Promise<pulumi.dynamic.ReadResult> {
        const state = normalizeRemote(props as unknown as Record<string, unknown>);
        let run: Exec | undefined;
        try {
            ({ run } = await runRemote(state, "read", props.machineId, recordedKeys(props)));
        } catch (err) {
            // Unreachable: the machine it ran on is gone. Another host key at that address is
            // refused (never taken for "gone": the next up would trust the new key).
            if (!(err instanceof HostKeyMismatchError) && /cannot connect/.test((err as Error).message)) {
                return { id: "", props: {} };
            }
            throw err;
        }
        // Another machine at that address (the one it ran on was replaced), or the script says gone.
        if (!run || run.code === ABSENT_EXIT_CODE) {
            return { id: "", props: {} };
        }
        return { id, props };
    },
    async delete(_id: string, props: RemoteOutputs): Promise<void> {
        const state = normalizeRemote(props as unknown as Record<string, unknown>);
        try {
            const { machineId, run } = await runRemote(state, "delete", props.machineId, recordedKeys(props));
            // On another machine than the one it ran on (re-imaged or replaced since), there is nothing to undo.
            if (!run) {
                warn(`${state.target}: forgotten without running its delete phase: ${state.connection.host} is another machine now (machine-id ${machineId}, not ${props.machineId}); what the script did went with the one it ran on`);
            }
        } catch (err) {
            // Nothing answered within the delete window, with evidence that nothing is there (a
            // machine deleted or stopped outside Pulumi): what the script made went with it. A
            // host-key mismatch or a failed login is never taken for "gone".
            if (err instanceof MachineUnreachableError) {
                const again = err.windowSeconds < state.deleteConnectTimeoutSeconds ? ", found gone moments ago" : "";
                warn(
                    `${err.message}; taken for gone after ${err.windowSeconds}s without an answer (deleteConnectTimeoutSeconds ${state.deleteConnectTimeoutSeconds}${again}): ` +
                        "forgotten without running its delete phase, what it made went with the machine",
                );
                return;
            }
            throw err;
        }
    },
};

