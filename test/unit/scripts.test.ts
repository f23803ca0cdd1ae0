import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");

/** Every shell script of the project: the ones shipped with the library and the setup scripts. */
function shellScripts(): string[] {
    const out: string[] = [path.join(ROOT, ".ci", "run")];
    const walk = (dir: string) => {
        if (!fs.existsSync(dir)) return;
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory() && entry.name !== "node_modules") walk(p);
            else if (entry.name.endsWith(".sh")) out.push(p);
        }
    };
    walk(path.join(ROOT, "lib"));
    walk(path.join(ROOT, "scripts"));
    walk(path.join(ROOT, "bench"));
    return out;
}

describe("shell scripts", () => {
    const scripts = shellScripts();

    test("there are scripts to check (the walk found the library's and the setup's)", () => {
        const names = scripts.map((s) => path.relative(ROOT, s));
        expect(names).toEqual(
            expect.arrayContaining(["lib/hosts/scripts/lab-machine.sh", "scripts/setup.sh", ".ci/run"]),
        );
    });

    test.each(shellScripts().map((s) => [path.relative(ROOT, s)]))("%s is shellcheck-clean", (rel) => {
        const r = childProcess.spawnSync("shellcheck", ["--severity=info", rel], { cwd: ROOT, encoding: "utf8" });
        if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): scripts/setup.sh installs it`);
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    test.each(shellScripts().map((s) => [path.relative(ROOT, s)]))("%s fails loudly (set -euo pipefail)", (rel) => {
        const text = fs.readFileSync(path.join(ROOT, rel), "utf8");
        if (rel === "scripts/lib.sh") {
            expect(text).toContain("Sourced, not executed.");
            return;
        }
        expect(text).toMatch(/^#!\/usr\/bin\/env bash\n/);
        expect(text).toContain("\nset -euo pipefail\n");
    });
});
