/**
 * The provider behind `LocalScript`: bash on the machine running Pulumi. Loaded by module path in
 * Pulumi's dynamic-provider process (see ../dynamic.ts); handles every state earlier versions
 * wrote (a state with the whole script and no hash is one of them).
 */
import * as childProcess from "child_process";
import * as crypto from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import { ABSENT_EXIT_CODE, canonicalJson, keepTail, lastLine, progressLines, scriptFailure } from "../script-output";
import { LIB_DIR, bundledScriptText, sha256 } from "../scripts";

/** The state of a LocalScript (its inputs as stored, and its result). */
export interface LocalScriptState {
    /** The script's text when given inline; "" for a bundled script. */
    script: string;
    /** A bundled script's name (`hosts/lab-machine.sh`); "" for an inline script. */
    scriptRef: string;
    /** sha256 of the script's text. */
    scriptHash: string;
    environment: Record<string, string>;
    secretEnvironment: Record<string, string>;
    /**
     * sha256 of the create-only secret environment (inputs carry the values, for the create phase
     * only; the outputs keep just this, so a change still replaces the resource).
     */
    createOnlyHash: string;
    target: string;
    timeoutSeconds: number;
    result: string;
}

type Inputs = Omit<LocalScriptState, "result"> & { createOnlySecretEnvironment: Record<string, string> };

/** What runScript resolves with when the read phase reports the resource gone. */
const ABSENT_MARK = "\u0000absent";

/**
 * The script fields of a script resource's state, LocalScript's and RemoteScript's alike: the
 * inline text or the bundled script's name, and the hash (a state written before hashes existed
 * kept the whole text: its hash is computed).
 */
export function normalizeScript(inputs: Record<string, unknown>): { script: string; scriptRef: string; scriptHash: string } {
    const script = String(inputs.script ?? "");
    const scriptRef = String(inputs.scriptRef ?? "");
    return { script, scriptRef, scriptHash: String(inputs.scriptHash ?? (scriptRef ? "" : sha256(script))) };
}

/** The inputs as the provider uses them (any state an earlier version wrote). */
export function normalizeLocal(inputs: Record<string, unknown>): Inputs {
    return {
        ...normalizeScript(inputs),
        environment: (inputs.environment as Record<string, string>) ?? {},
        secretEnvironment: (inputs.secretEnvironment as Record<string, string>) ?? {},
        createOnlySecretEnvironment: (inputs.createOnlySecretEnvironment as Record<string, string>) ?? {},
        createOnlyHash: String(
            inputs.createOnlyHash ??
                (inputs.createOnlySecretEnvironment === undefined ? "" : createOnlyHash(inputs.createOnlySecretEnvironment as Record<string, string>)),
        ),
        target: String(inputs.target),
        timeoutSeconds: Number(inputs.timeoutSeconds ?? 600),
    };
}

/** The hash kept of a create-only environment ("" when there is none). */
function createOnlyHash(env: Record<string, string>): string {
    return Object.keys(env).length === 0 ? "" : sha256(canonicalJson(env));
}

/** What the state keeps of a run: everything but the create-only values. */
function stored(state: Inputs, result: string): LocalScriptState {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { createOnlySecretEnvironment, ...kept } = state;
    return { ...kept, result };
}

/**
 * The text to run: the inline script, or the bundled one. On create and update the bundled text
 * must be the one the program saw (same hash); on read and delete the installed library's
 * current text is run (scripts stay able to undo what earlier versions did).
 */
export function scriptText(state: { script: string; scriptRef: string; scriptHash: string; target: string }, strict: boolean): string {
    if (!state.scriptRef) return state.script;
    const text = bundledScriptText(state.scriptRef);
    if (strict && state.scriptHash && sha256(text) !== state.scriptHash) {
        throw new Error(
            `${state.target}: the bundled script ${state.scriptRef} changed on disk since the program read it ` +
                "(was flotilla upgraded during this update?): run the update again",
        );
    }
    return text;
}

/**
 * Runs `bash -s` with the script on stdin. Resolves with stdout, or rejects with an error naming the
 * target, the phase and the exit status, and the last lines of its output with secrets masked.
 * The script also gets FLOTILLA_LIB_DIR: the installed library's folder (for the scripts it calls).
 */
function runScript(state: Inputs, phase: "create" | "read" | "delete"): Promise<string> {
    const started = Date.now();
    const text = scriptText(state, phase === "create");
    return new Promise((resolve, reject) => {
        const child = childProcess.spawn("bash", ["-s"], {
            env: {
                ...process.env,
                ...state.environment,
                ...state.secretEnvironment,
                ...(phase === "create" ? state.createOnlySecretEnvironment : {}),
                FLOTILLA_PHASE: phase,
                FLOTILLA_LIB_DIR: LIB_DIR,
            },
            stdio: ["pipe", "pipe", "pipe"],
            detached: true,
        });
        let stdout = "";
        let combined = "";
        // Its log lines (stderr) reach the engine's output as they come, secrets masked.
        const lines = progressLines(state.target, phase, { ...state.secretEnvironment, ...(phase === "create" ? state.createOnlySecretEnvironment : {}) });
        child.stdout.on("data", (d: Buffer) => {
            stdout = keepTail(stdout + d.toString());
            combined = keepTail(combined + d.toString());
        });
        child.stderr.on("data", (d: Buffer) => {
            combined = keepTail(combined + d.toString());
            lines?.push(d.toString());
        });
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            try {
                process.kill(-(child.pid as number), "SIGKILL");
            } catch {
                child.kill("SIGKILL");
            }
        }, state.timeoutSeconds * 1000);
        child.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`${state.target}: ${phase} could not start bash: ${err.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            lines?.flush();
            if (code === 0 && !timedOut) {
                resolve(stdout);
                return;
            }
            if (phase === "read" && code === ABSENT_EXIT_CODE && !timedOut) {
                resolve(ABSENT_MARK);
                return;
            }
            const seconds = ((Date.now() - started) / 1000).toFixed(1);
            const why = timedOut
                ? `timed out after ${state.timeoutSeconds}s`
                : `failed with exit code ${code ?? `signal ${signal}`} after ${seconds}s`;
            reject(scriptFailure(state.target, phase, why, combined, { ...state.secretEnvironment, ...state.createOnlySecretEnvironment }));
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(text);
    });
}

/** The provider. */
export const provider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult<LocalScriptState>> {
        const state = normalizeLocal(inputs);
        const stdout = await runScript(state, "create");
        return { id: crypto.randomUUID(), outs: stored(state, lastLine(stdout)) };
    },
    async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
        const prev = normalizeLocal(olds);
        const next = normalizeLocal(news);
        const same = (a: unknown, b: unknown) => canonicalJson(a ?? {}) === canonicalJson(b ?? {});
        const replaces: string[] = [];
        if (prev.scriptHash !== next.scriptHash) replaces.push("script");
        if (prev.createOnlyHash !== next.createOnlyHash) replaces.push("createOnlySecretEnvironment");
        for (const k of ["environment", "secretEnvironment"] as const) {
            if (!same(prev[k], next[k])) replaces.push(k);
        }
        const updates =
            prev.target !== next.target ||
            prev.timeoutSeconds !== next.timeoutSeconds ||
            prev.scriptRef !== next.scriptRef ||
            prev.script !== next.script;
        return { changes: replaces.length > 0 || updates, replaces, deleteBeforeReplace: true };
    },
    async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
        // Only labels of the same script changed (anything else replaces): nothing to run.
        return { outs: stored(normalizeLocal(news), String(olds.result ?? "")) };
    },
    async read(id: string, props: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult> {
        const stdout = await runScript(normalizeLocal(props), "read");
        // An empty id tells the engine the resource no longer exists; the next up creates it again.
        return stdout === ABSENT_MARK ? { id: "", props: {} } : { id, props };
    },
    async delete(_id: string, props: Record<string, unknown>): Promise<void> {
        await runScript(normalizeLocal(props), "delete");
    },
};
