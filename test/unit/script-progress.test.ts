/**
 * A long step shows its progress: a script's log lines (its stderr) reach the engine's output as
 * they come, through the dynamic provider's stdout, with known secrets and the shapes of generated
 * credentials masked. (test/lab/remote-script.test.ts shows a running script's line in a real `up`'s
 * output before its resource completes.)
 */
import * as childProcess from "child_process";
import * as path from "path";
import { lineSplitter, progressLine, progressSink } from "../../lib/shared/script-output";

describe("script progress lines", () => {
    test("lines are emitted as they complete, across chunks; blank lines skipped; the rest on flush", () => {
        const seen: string[] = [];
        const s = lineSplitter((l) => seen.push(l));
        s.push("first li");
        expect(seen).toEqual([]);
        s.push("ne\r\n\nsecond\nthi");
        expect(seen).toEqual(["first line", "second"]);
        s.flush();
        expect(seen).toEqual(["first line", "second", "thi"]);
    });

    test.each([
        ["a known secret value", "logging in with hunter2hunter2", "logging in with [secret]"],
        ["a Swarm join token", "join with SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx", "join with [secret]"],
        ["a Swarm unlock key", "unlock key SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8", "unlock key [secret]"],
        ["a kubeadm bootstrap token", "token abcdef.0123456789abcdef issued", "token [secret] issued"],
        ["a k3s token", "K10a1b2c3d4e5f6a7b8c9d0e1f2a3b4::server:s3cr3t", "[secret]"],
        ["a certificate key", `key ${"0f".repeat(32)}`, "key [secret]"],
        ["a private key", "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA", "[secret]"],
    ])("%s is masked", (_what, line, shown) => {
        expect(progressLine(line, { PASSWORD: "hunter2hunter2" })).toBe(shown);
    });

    test("a very long line is cut", () => {
        expect(progressLine("x".repeat(1000), {})).toHaveLength(400);
    });

    test("only inside the engine's dynamic-provider process (or with FLOTILLA_PROGRESS=1): the unit suite prints nothing", () => {
        const saved = process.env.FLOTILLA_PROGRESS;
        delete process.env.FLOTILLA_PROGRESS;
        try {
            expect(progressSink("t", {})).toBeUndefined();
        } finally {
            if (saved !== undefined) process.env.FLOTILLA_PROGRESS = saved;
        }
        // In a process of its own with the switch: each line on stdout, prefixed, masked.
        const out = childProcess.execFileSync(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                "-e",
                `const { progressSink } = require(${JSON.stringify(path.resolve(__dirname, "../../lib/shared/script-output"))});` +
                    `const sink = progressSink("lab machine m0 (10.0.0.2)", { TOKEN: "tok-secret-1" }); sink("step 1 with tok-secret-1"); sink("step 2");`,
            ],
            { env: { ...process.env, FLOTILLA_PROGRESS: "1" }, encoding: "utf8", cwd: path.resolve(__dirname, "../..") },
        );
        expect(out).toBe("flotilla: lab machine m0 (10.0.0.2): step 1 with [secret]\nflotilla: lab machine m0 (10.0.0.2): step 2\n");
    });
});
