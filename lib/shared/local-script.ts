import * as pulumi from "@pulumi/pulumi";
import { ABSENT_EXIT_CODE, canonicalJson, keepTail, lastLine, scriptFailure } from "./script-output";

/** Arguments of {@link LocalScript}. */
export interface LocalScriptArgs {
    /**
     * Bash script run for every phase, named by `FLOTILLA_PHASE`: `create`, `read` (on refresh:
     * exit 0 when what it made is there and sound, exit 3 when it is gone, so the next up makes it
     * again) and `delete`. It receives the environment below, must be idempotent, and may print a
     * result on its last stdout line in the create phase (see {@link LocalScript.result}).
     * Any change of the script, environment or triggers replaces the resource (delete, then create).
     */
    readonly script: pulumi.Input<string>;
    /** Plain environment variables for the script. */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Environment variables that must stay secret: stored encrypted, and their values are masked in
     * any error message the resource produces.
     */
    readonly secretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** What the script acts on, for error messages (e.g. `lab machine lab-0 (10.213.0.2)`). */
    readonly target: pulumi.Input<string>;
    /** Seconds a phase may take before it is killed and reported as failed. Default 600. */
    readonly timeoutSeconds?: pulumi.Input<number>;
}

interface ScriptState {
    script: string;
    environment: Record<string, string>;
    secretEnvironment: Record<string, string>;
    target: string;
    timeoutSeconds: number;
    result: string;
}

/** What runScript resolves with when the read phase reports the resource gone. */
const ABSENT_MARK = "\u0000absent";

/**
 * Runs `bash -s` with the script on stdin. Resolves with stdout, or rejects with an error naming the
 * target, the phase and the exit status, and the last lines of its output with secrets masked.
 * Self-contained: it is serialized into the dynamic provider.
 */
function runScript(state: Omit<ScriptState, "result">, phase: "create" | "read" | "delete"): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const childProcess = require("child_process") as typeof import("child_process");
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = childProcess.spawn("bash", ["-s"], {
            env: {
                ...process.env,
                ...state.environment,
                ...state.secretEnvironment,
                FLOTILLA_PHASE: phase,
            },
            stdio: ["pipe", "pipe", "pipe"],
            detached: true,
        });
        let stdout = "";
        let combined = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout = keepTail(stdout + d.toString());
            combined = keepTail(combined + d.toString());
        });
        child.stderr.on("data", (d: Buffer) => {
            combined = keepTail(combined + d.toString());
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
            reject(scriptFailure(state.target, phase, why, combined, state.secretEnvironment));
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(state.script);
    });
}

function normalize(inputs: Record<string, unknown>): Omit<ScriptState, "result"> {
    return {
        script: String(inputs.script),
        environment: (inputs.environment as Record<string, string>) ?? {},
        secretEnvironment: (inputs.secretEnvironment as Record<string, string>) ?? {},
        target: String(inputs.target),
        timeoutSeconds: Number(inputs.timeoutSeconds ?? 600),
    };
}

/** The provider behind {@link LocalScript}; exported for tests. */
export const localScriptProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult<ScriptState>> {
        const state = normalize(inputs);
        const stdout = await runScript(state, "create");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const crypto = require("crypto") as typeof import("crypto");
        return { id: crypto.randomUUID(), outs: { ...state, result: lastLine(stdout) } };
    },
    async diff(_id: string, olds: ScriptState, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
        const next = normalize(news);
        const same = (a: unknown, b: unknown) => canonicalJson(a ?? {}) === canonicalJson(b ?? {});
        const replaces = (["script", "environment", "secretEnvironment"] as const).filter(
            (k) => !same(olds[k], next[k]),
        );
        const updates = olds.target !== next.target || olds.timeoutSeconds !== next.timeoutSeconds;
        return { changes: replaces.length > 0 || updates, replaces, deleteBeforeReplace: true };
    },
    async update(_id: string, olds: ScriptState, news: Record<string, unknown>) {
        // Only the target label or the timeout changed (anything else replaces): nothing to run.
        return { outs: { ...normalize(news), result: olds.result } };
    },
    async read(id: string, props: ScriptState): Promise<pulumi.dynamic.ReadResult> {
        const stdout = await runScript(normalize(props as unknown as Record<string, unknown>), "read");
        // An empty id tells the engine the resource no longer exists; the next up creates it again.
        return stdout === ABSENT_MARK ? { id: "", props: {} } : { id, props };
    },
    async delete(_id: string, props: ScriptState): Promise<void> {
        await runScript(normalize(props as unknown as Record<string, unknown>), "delete");
    },
};

/**
 * A bash script run on the machine that runs `pulumi up`, with a create and a delete phase.
 * The local counterpart of a remote script, used where the "machine" is driven from here (the lab's
 * Docker engine). The script is an input, so the delete phase runs the script the resource was
 * created with, even after the library changed. Output is not streamed to the Pulumi log (it may
 * hold secrets); on failure the error carries its last lines, secrets masked.
 */
export class LocalScript extends pulumi.dynamic.Resource {
    /** The last line the create phase printed on stdout. */
    declare public readonly result: pulumi.Output<string>;

    constructor(name: string, args: LocalScriptArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            localScriptProvider,
            name,
            {
                script: args.script,
                environment: args.environment ?? {},
                secretEnvironment: args.secretEnvironment ? pulumi.secret(args.secretEnvironment) : {},
                target: args.target,
                timeoutSeconds: args.timeoutSeconds ?? 600,
                result: undefined,
            },
            {
                ...opts,
                deleteBeforeReplace: true,
                additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "secretEnvironment"],
            },
        );
    }
}
