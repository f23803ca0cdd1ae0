import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { localScriptProvider } from "../../../lib/shared/local-script";

const provider = localScriptProvider as Required<typeof localScriptProvider>;

function inputs(script: string, extra: Record<string, unknown> = {}) {
    return { script, environment: {}, secretEnvironment: {}, target: "test target", timeoutSeconds: 30, ...extra };
}

describe("LocalScript provider", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-local-script-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("create runs the script with its environment and FLOTILLA_PHASE; result is the last stdout line", async () => {
        const script = 'echo "$FLOTILLA_PHASE $GREETING" > "$DIR/phase"; echo first; echo "last $SECRET_X"';
        const res = await provider.create(
            inputs(script, { environment: { GREETING: "hi", DIR: dir }, secretEnvironment: { SECRET_X: "s1" } }),
        );
        expect(fs.readFileSync(path.join(dir, "phase"), "utf8")).toBe("create hi\n");
        expect(res.outs.result).toBe("last s1");
        expect(res.outs.script).toBe(script);
    });

    test("delete runs the same script with FLOTILLA_PHASE=delete", async () => {
        const script = 'echo "$FLOTILLA_PHASE" > "$DIR/phase"';
        const res = await provider.create(inputs(script, { environment: { DIR: dir } }));
        await provider.delete(res.id, res.outs);
        expect(fs.readFileSync(path.join(dir, "phase"), "utf8")).toBe("delete\n");
    });

    test("a failure names the target, phase and exit code, shows the tail, and masks secrets", async () => {
        const script = [
            'for i in $(seq 1 100); do echo "line $i"; done',
            'echo "token is $TOKEN" >&2',
            "exit 3",
        ].join("\n");
        const err = await provider
            .create(inputs(script, { secretEnvironment: { TOKEN: "SWMTKN-abcdef" } }))
            .then(() => undefined, (e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        const message = (err as Error).message;
        expect(message).toMatch(/^test target: create failed with exit code 3 after \d+\.\ds\. Last lines of its output:\n/);
        expect(message).toContain("token is [secret]");
        expect(message).not.toContain("SWMTKN-abcdef");
        expect(message).toContain("line 100");
        expect(message).not.toContain("line 60\n");
        expect(message.split("\n")).toHaveLength(41);
    });

    test("a script that runs too long is killed and reported", async () => {
        const err = await provider
            .create(inputs("echo started; sleep 30", { timeoutSeconds: 1 }))
            .then(() => undefined, (e: Error) => e);
        expect((err as Error).message).toBe("test target: create timed out after 1s. Last lines of its output:\nstarted");
    });

    test("diff: script or environment changes replace; target or timeout only update", async () => {
        const olds = { ...inputs("a"), result: "" };
        expect(await provider.diff("id", olds, inputs("a"))).toMatchObject({ changes: false, replaces: [] });
        expect(await provider.diff("id", olds, inputs("b"))).toMatchObject({ changes: true, replaces: ["script"] });
        expect(await provider.diff("id", olds, inputs("a", { environment: { A: "1" } }))).toMatchObject({
            changes: true,
            replaces: ["environment"],
        });
        expect(await provider.diff("id", olds, inputs("a", { secretEnvironment: { S: "1" } }))).toMatchObject({
            changes: true,
            replaces: ["secretEnvironment"],
        });
        expect(await provider.diff("id", olds, inputs("a", { target: "other" }))).toMatchObject({
            changes: true,
            replaces: [],
        });
    });
});

describe("LocalScript provider, read phase (refresh)", () => {
    test("exit 0 keeps the resource, exit 3 reports it gone, anything else is an error", async () => {
        const props = { ...inputs('[ "$FLOTILLA_PHASE" = read ] && exit "$CODE"; exit 9'), result: "r" };
        const withCode = (code: string) => ({ ...props, environment: { CODE: code } });
        expect(await provider.read("the-id", withCode("0"))).toEqual({ id: "the-id", props: withCode("0") });
        expect(await provider.read("the-id", withCode("3"))).toEqual({ id: "", props: {} });
        await expect(provider.read("the-id", withCode("1"))).rejects.toThrow(
            /^test target: read failed with exit code 1 after/,
        );
    });
});
