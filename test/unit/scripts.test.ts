import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readScript } from "../../lib/shared/scripts";

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

describe("readScript", () => {
    test("replaces include lines by the included file, once, in place", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-scripts-"));
        fs.mkdirSync(path.join(dir, "scripts"));
        fs.writeFileSync(path.join(dir, "scripts", "a.sh"), "#!/usr/bin/env bash\nset -euo pipefail\n# flotilla:include c-common.sh\necho a\n");
        fs.writeFileSync(path.join(dir, "scripts", "c-common.sh"), "# shellcheck shell=bash\nf() { :; }\n");
        expect(readScript(dir, "a.sh")).toBe("#!/usr/bin/env bash\nset -euo pipefail\n# shellcheck shell=bash\nf() { :; }\necho a\n");
        fs.writeFileSync(path.join(dir, "scripts", "b.sh"), "# flotilla:include missing.sh\n");
        expect(() => readScript(dir, "b.sh")).toThrow(/cannot read its script .*missing\.sh/);
        fs.rmSync(dir, { recursive: true });
    });
});

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
        // Included files (lib/shared/scripts/common.sh, <layer>-common.sh) are not run on their own.
        if (/(^|\/|-)common\.sh$/.test(rel)) {
            expect(text).toMatch(/^# shellcheck shell=bash\n# Included, not executed/);
            return;
        }
        expect(text).toMatch(/^#!\/usr\/bin\/env bash\n/);
        expect(text).toContain("\nset -euo pipefail\n");
    });
});
