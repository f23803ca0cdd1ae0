/**
 * What a change of each input does to a script resource, as the engine asks the provider: `diff`
 * receives the stored state (olds) and the new inputs (news) as plain objects, secrets unwrapped.
 * Replace: the script runs again on a new resource; update: the state is rewritten (and for a
 * RemoteScript the script reruns when its text or environment changed); none: nothing happens.
 */
import { localScriptProvider } from "../../../lib/shared/local-script";
import { remoteScriptProvider } from "../../../lib/shared/remote-script";
import { bundledScript, bundledScriptText, sha256 } from "../../../lib/shared/scripts";

const remote = remoteScriptProvider as Required<typeof remoteScriptProvider>;
const local = localScriptProvider as Required<typeof localScriptProvider>;

type Outcome = "replace" | "update" | "none";
/** Replace when anything replaces, update when something changed, else none. */
function outcome(d: { changes?: boolean; replaces?: string[] }): Outcome {
    if ((d.replaces ?? []).length > 0) return "replace";
    return d.changes ? "update" : "none";
}

const SCRIPT = 'echo "hello $NAME"';
const endpoint = (host: string) => ({ host, port: 22, user: "admin", hostKey: "ssh-ed25519 AAAA" });

/** RemoteScript inputs as the resource sends them (an inline script). */
function remoteInputs(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        connection: endpoint("10.0.0.2"),
        privateKey: "PRIVATE",
        bastion: null,
        alternates: [],
        script: SCRIPT,
        scriptHash: sha256(SCRIPT),
        environment: { NAME: "a" },
        secretEnvironment: { TOKEN: "t" },
        target: "thing on host",
        triggers: ["i-1"],
        timeoutSeconds: 900,
        connectTimeoutSeconds: 180,
        ...extra,
    };
}
/** A state as the provider stored it: the inputs and the run's outcome. */
const remoteState = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...remoteInputs(extra), machineId: "m-1", result: "ok" });

/** A state as versions before bundled scripts wrote it: the whole script, no reference, no hash. */
function legacy(state: Record<string, unknown>): Record<string, unknown> {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { scriptHash, scriptRef, ...rest } = state;
    return rest;
}

/** The same object with its keys (at every level) in reverse order. */
function reversed(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(reversed);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
    }
    return value;
}

describe("RemoteScript provider diff", () => {
    const bundled = bundledScript("runtime", "runtime.sh");
    test.each<[string, Record<string, unknown>, Outcome]>([
        ["connection.host", { connection: endpoint("10.0.0.9") }, "replace"],
        ["connection.port", { connection: { ...endpoint("10.0.0.2"), port: 2222 } }, "replace"],
        ["connection.user", { connection: { ...endpoint("10.0.0.2"), user: "root" } }, "replace"],
        ["triggers (the machine was replaced)", { triggers: ["i-2"] }, "replace"],
        ["triggers (one more)", { triggers: ["i-1", "c-1"] }, "replace"],
        ["scriptHash (same text in state, another hash asked)", { scriptHash: sha256("other") }, "update"],
        ["script (another inline text)", { script: "echo other", scriptHash: sha256("echo other") }, "update"],
        ["script → scriptRef (a bundled script)", { script: "", scriptRef: bundled.bundled, scriptHash: bundled.hash }, "update"],
        ["environment", { environment: { NAME: "b" } }, "update"],
        ["environment (a variable more)", { environment: { NAME: "a", MORE: "1" } }, "update"],
        ["secretEnvironment", { secretEnvironment: { TOKEN: "u" } }, "update"],
        ["target", { target: "thing on another name" }, "update"],
        ["timeoutSeconds", { timeoutSeconds: 60 }, "update"],
        ["connectTimeoutSeconds", { connectTimeoutSeconds: 30 }, "update"],
        ["deleteConnectTimeoutSeconds", { deleteConnectTimeoutSeconds: 60 }, "update"],
        ["deleteConnectTimeoutSeconds (the default spelled out)", { deleteConnectTimeoutSeconds: 30 }, "none"],
        ["privateKey (a rotated key)", { privateKey: "OTHER" }, "update"],
        ["bastion", { bastion: { ...endpoint("1.2.3.4"), privateKey: "B" } }, "update"],
        ["alternates", { alternates: [{ connection: endpoint("10.0.0.3"), privateKey: "PRIVATE", bastion: null }] }, "update"],
        ["connection.hostKey", { connection: { ...endpoint("10.0.0.2"), hostKey: "ssh-ed25519 BBBB" } }, "update"],
        ["nothing", {}, "none"],
    ])("%s → %s", async (_what, change, expected) => {
        expect(outcome(await remote.diff("id", remoteState() as never, remoteInputs(change)))).toBe(expected);
    });

    test("a script about a cluster (alternates before and after): another connection is an update, not a replace", async () => {
        const alt = (host: string) => [{ connection: endpoint(host), privateKey: "PRIVATE", bastion: null }];
        const olds = remoteState({ alternates: alt("10.0.0.3") });
        expect(outcome(await remote.diff("id", olds as never, remoteInputs({ connection: endpoint("10.0.0.3"), alternates: alt("10.0.0.4") })))).toBe("update");
        expect(outcome(await remote.diff("id", olds as never, remoteInputs({ alternates: alt("10.0.0.3") })))).toBe("none");
        // Without alternates on either side it is about one machine: replaced.
        expect(outcome(await remote.diff("id", olds as never, remoteInputs({ connection: endpoint("10.0.0.3") })))).toBe("replace");
        expect(outcome(await remote.diff("id", remoteState() as never, remoteInputs({ connection: endpoint("10.0.0.3"), alternates: alt("10.0.0.4") })))).toBe("replace");
        // A change of triggers still replaces.
        expect(outcome(await remote.diff("id", olds as never, remoteInputs({ alternates: alt("10.0.0.3"), triggers: ["i-2"] })))).toBe("replace");
    });

    test("a replace names what forces it", async () => {
        const d = await remote.diff("id", remoteState() as never, remoteInputs({ connection: endpoint("10.0.0.9"), triggers: ["i-2"] }));
        expect(d).toMatchObject({ changes: true, replaces: ["connection", "triggers"] });
    });

    test("identical inputs in another key order: no change", async () => {
        expect(outcome(await remote.diff("id", remoteState() as never, reversed(remoteInputs()) as Record<string, unknown>))).toBe("none");
        expect(outcome(await remote.diff("id", reversed(remoteState()) as never, remoteInputs()))).toBe("none");
    });

    test("an old state that stored the whole script and no hash vs a new inline script of the same text: no change", async () => {
        const old = legacy(remoteState());
        expect(outcome(await remote.diff("id", old as never, remoteInputs()))).toBe("none");
    });

    test("an old state that stored the whole script vs the same text edited: the script changes (update, rerun)", async () => {
        const old = legacy(remoteState());
        expect(outcome(await remote.diff("id", old as never, remoteInputs({ script: `${SCRIPT}\n`, scriptHash: sha256(`${SCRIPT}\n`) })))).toBe("update");
    });

    test("a bundled script: the same name and hash is no change; a new hash (the library's script changed) updates", async () => {
        const ref = { script: "", scriptRef: bundled.bundled, scriptHash: bundled.hash };
        expect(outcome(await remote.diff("id", remoteState(ref) as never, remoteInputs(ref)))).toBe("none");
        expect(outcome(await remote.diff("id", remoteState({ ...ref, scriptHash: sha256("older") }) as never, remoteInputs(ref)))).toBe("update");
    });

    test("an old state that stored the whole bundled text vs its reference: the same script (no replace)", async () => {
        const text = bundledScriptText(bundled.bundled);
        const old = legacy(remoteState({ script: text }));
        const d = await remote.diff("id", old as never, remoteInputs({ script: "", scriptRef: bundled.bundled, scriptHash: bundled.hash }));
        expect(d.replaces ?? []).toEqual([]);
    });

    test("an old state missing defaulted inputs (environment, triggers, timeouts) vs the defaults given: no change", async () => {
        const sparse = remoteState({ triggers: [], environment: {}, secretEnvironment: {} });
        for (const k of ["alternates", "bastion", "environment", "secretEnvironment", "triggers", "timeoutSeconds", "connectTimeoutSeconds"]) {
            delete (sparse as Record<string, unknown>)[k];
        }
        expect(outcome(await remote.diff("id", sparse as never, remoteInputs({ triggers: [], environment: {}, secretEnvironment: {} })))).toBe("none");
    });

    test("a state that spelled out every default (empty scriptRef, no bastion) vs inputs that leave them out: no change", async () => {
        const full = remoteState({ scriptRef: "", bastion: null, alternates: [] });
        const sparse = remoteInputs();
        delete sparse.bastion;
        delete sparse.alternates;
        expect(outcome(await remote.diff("id", full as never, sparse))).toBe("none");
    });

    test("triggers stored as values by an older version vs the same values: no change", async () => {
        expect(outcome(await remote.diff("id", remoteState({ triggers: ["i-1", "c-1"] }) as never, remoteInputs({ triggers: ["i-1", "c-1"] })))).toBe("none");
    });
});

/** LocalScript inputs as the resource sends them (an inline script). */
function localInputs(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        script: SCRIPT,
        scriptHash: sha256(SCRIPT),
        environment: { NAME: "a" },
        secretEnvironment: { TOKEN: "t" },
        target: "thing",
        timeoutSeconds: 600,
        ...extra,
    };
}
const localState = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...localInputs(extra), result: "ok" });

describe("LocalScript provider diff", () => {
    const bundled = bundledScript("hosts", "lab-network.sh");
    test.each<[string, Record<string, unknown>, Outcome]>([
        ["script (another text)", { script: "echo other", scriptHash: sha256("echo other") }, "replace"],
        ["scriptHash (the bundled script changed)", { scriptHash: sha256("other") }, "replace"],
        ["environment", { environment: { NAME: "b" } }, "replace"],
        ["environment (a variable less)", { environment: {} }, "replace"],
        ["secretEnvironment", { secretEnvironment: { TOKEN: "u" } }, "replace"],
        ["target", { target: "another label" }, "update"],
        ["timeoutSeconds", { timeoutSeconds: 60 }, "update"],
        ["nothing", {}, "none"],
    ])("%s → %s", async (_what, change, expected) => {
        expect(outcome(await local.diff("id", localState(), localInputs(change)))).toBe(expected);
    });

    test("a replace names what forces it and deletes first", async () => {
        const d = await local.diff("id", localState(), localInputs({ script: "x", scriptHash: sha256("x"), environment: {} }));
        expect(d).toMatchObject({ changes: true, replaces: ["script", "environment"], deleteBeforeReplace: true });
    });

    test("identical inputs in another key order: no change", async () => {
        expect(outcome(await local.diff("id", localState(), reversed(localInputs()) as Record<string, unknown>))).toBe("none");
        expect(outcome(await local.diff("id", reversed(localState()) as Record<string, unknown>, localInputs()))).toBe("none");
    });

    test("an old state that stored the whole script and no hash vs a new inline script of the same text: no change", async () => {
        const old = legacy(localState());
        expect(outcome(await local.diff("id", old, localInputs()))).toBe("none");
    });

    test("a legacy state holding the whole bundled text vs its reference with that text's hash: no replace, only the state is rewritten", async () => {
        const text = bundledScriptText(bundled.bundled);
        const old = legacy(localState({ script: text }));
        expect(sha256(text)).toBe(bundled.hash);
        const d = await local.diff("id", old, localInputs({ script: "", scriptRef: bundled.bundled, scriptHash: bundled.hash }));
        expect(outcome(d)).toBe("update");
        expect(d.replaces).toEqual([]);
    });

    test("a legacy state holding an older bundled text vs the current reference: replace (the script changed)", async () => {
        const old = legacy(localState({ script: "#!/usr/bin/env bash\necho older\n" }));
        const d = await local.diff("id", old, localInputs({ script: "", scriptRef: bundled.bundled, scriptHash: bundled.hash }));
        expect(d.replaces).toEqual(["script"]);
    });

    test("a bundled script with the same name and hash: no change", async () => {
        const ref = { script: "", scriptRef: bundled.bundled, scriptHash: bundled.hash };
        expect(outcome(await local.diff("id", localState(ref), localInputs(ref)))).toBe("none");
    });

    test("a state with an empty scriptRef vs inputs without one (an inline script): no change", async () => {
        expect(outcome(await local.diff("id", localState({ scriptRef: "" }), localInputs()))).toBe("none");
    });

    test("an old state missing the defaulted environments vs empty ones: no change", async () => {
        const sparse = localState({ environment: {}, secretEnvironment: {} });
        delete (sparse as Record<string, unknown>).environment;
        delete (sparse as Record<string, unknown>).secretEnvironment;
        expect(outcome(await local.diff("id", sparse, localInputs({ environment: {}, secretEnvironment: {} })))).toBe("none");
    });
});
