/**
 * A long step shows its progress: a script's log lines (its stderr) reach the engine's output as
 * they come, through the dynamic provider's stdout, with known secrets and the shapes of generated
 * credentials masked. (test/lab/remote-script.test.ts shows a running script's line in a real `up`'s
 * output before its resource completes.)
 */
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import { lineSplitter, progressLine, progressLines, progressSink } from "../../../lib/shared/script-output";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

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

    // Credentials made at run time, in the shapes the scripts' tools print them.
    const alnum = (n: number) => Array.from(crypto.randomBytes(n), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
    const hex = (n: number) => crypto.randomBytes(n).toString("hex");
    const keyLines = generateEd25519("test").privateKey.split("\n");
    test.each([
        ["a known secret value", "logging in with hunter2hunter2", "logging in with [secret]"],
        ["a Swarm join token", `join with SWMTKN-1-${alnum(50)}-${alnum(25)}`, "join with [secret]"],
        ["a Swarm unlock key", `unlock key SWMKEY-1-${crypto.randomBytes(32).toString("base64").replace(/=+$/, "")}`, "unlock key [secret]"],
        ["a kubeadm bootstrap token", `token ${alnum(6)}.${alnum(16)} issued`, "token [secret] issued"],
        ["a k3s token", `K10${hex(32)}::server:${hex(16)}`, "[secret]"],
        ["a certificate key", `key ${hex(32)}`, "key [secret]"],
        ["a private key", `${keyLines[0]} ${keyLines[1]}`, "[secret]"],
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
            expect(progressLines("t", "create", {})).toBeUndefined();
            // A refresh's read phase shows nothing even with the switch (every preview runs one).
            process.env.FLOTILLA_PROGRESS = "1";
            expect(progressLines("t", "read", {})).toBeUndefined();
            expect(progressLines("t", "create", {})).toBeDefined();
        } finally {
            delete process.env.FLOTILLA_PROGRESS;
            if (saved !== undefined) process.env.FLOTILLA_PROGRESS = saved;
        }
        // In a process of its own with the switch: each line on stdout, prefixed, masked.
        const out = childProcess.execFileSync(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                "-e",
                `const { progressSink } = require(${JSON.stringify(path.resolve(__dirname, "../../../lib/shared/script-output"))});` +
                    `const sink = progressSink("lab machine m0 (10.0.0.2)", { TOKEN: "tok-secret-1" }); sink("step 1 with tok-secret-1"); sink("step 2");`,
            ],
            { env: { ...process.env, FLOTILLA_PROGRESS: "1" }, encoding: "utf8", cwd: path.resolve(__dirname, "../../..") },
        );
        expect(out).toBe("flotilla: lab machine m0 (10.0.0.2): step 1 with [secret]\nflotilla: lab machine m0 (10.0.0.2): step 2\n");
    });
});
