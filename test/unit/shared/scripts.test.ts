import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LIB_DIR, SHARED_SCRIPTS_DIR, bundledScript, bundledScriptText, readScript } from "../../../lib/shared/scripts";

const ROOT = path.resolve(__dirname, "../../..");

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

/** A folder `<dir>/scripts` holding the given files; removed after the test. */
function scriptsDir(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-scripts-"));
    made.push(dir);
    fs.mkdirSync(path.join(dir, "scripts"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, "scripts", name), text);
    return dir;
}
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe("readScript", () => {
    test("replaces include lines by the included file, once, in place", () => {
        const dir = scriptsDir({
            "a.sh": "#!/usr/bin/env bash\nset -euo pipefail\n# flotilla:include c-common.sh\necho a\n",
            "c-common.sh": "# shellcheck shell=bash\nf() { :; }\n",
            "b.sh": "# flotilla:include missing.sh\n",
        });
        expect(readScript(dir, "a.sh")).toBe("#!/usr/bin/env bash\nset -euo pipefail\n# shellcheck shell=bash\nf() { :; }\necho a\n");
        expect(() => readScript(dir, "b.sh")).toThrow(/cannot read its script .*missing\.sh \(included by b\.sh\): no such file/);
        expect(() => readScript(dir, "none.sh")).toThrow(/cannot read its script .*none\.sh: no such file/);
    });

    test("includes nest: an included file's includes are resolved where they stand, depth first", () => {
        const dir = scriptsDir({
            "top.sh": "#!/usr/bin/env bash\n# flotilla:include mid.sh\necho top\n",
            "mid.sh": "# mid starts\n# flotilla:include leaf.sh\nmid() { leaf; }\n",
            "leaf.sh": "leaf() { :; }\n",
        });
        expect(readScript(dir, "top.sh")).toBe("#!/usr/bin/env bash\n# mid starts\nleaf() { :; }\nmid() { leaf; }\necho top\n");
    });

    test("each file is included once, where it is first included; later includes of it are dropped", () => {
        const dir = scriptsDir({
            // top includes lib twice, and both x and y include lib too (a diamond).
            "top.sh": "# flotilla:include x.sh\n# flotilla:include lib.sh\n# flotilla:include y.sh\n# flotilla:include lib.sh\necho top\n",
            "x.sh": "# flotilla:include lib.sh\nx() { lib; }\n",
            "y.sh": "# flotilla:include lib.sh\ny() { lib; }\n",
            "lib.sh": "lib() { :; }\n",
        });
        expect(readScript(dir, "top.sh")).toBe("lib() { :; }\nx() { lib; }\ny() { lib; }\necho top\n");
    });

    test("an include found beside the includer comes first; else lib/shared/scripts/ has it", () => {
        const dir = scriptsDir({
            "own.sh": "# flotilla:include common.sh\n",
            "shared.sh": "# flotilla:include common.sh\n",
        });
        expect(readScript(dir, "shared.sh")).toBe(fs.readFileSync(path.join(SHARED_SCRIPTS_DIR, "common.sh"), "utf8").trimEnd() + "\n");
        fs.writeFileSync(path.join(dir, "scripts", "common.sh"), "# my own common\n");
        expect(readScript(dir, "own.sh")).toBe("# my own common\n");
    });

    test.each([
        [{ "a.sh": "# flotilla:include a.sh\n" }, "a.sh -> a.sh"],
        [{ "a.sh": "# flotilla:include b.sh\n", "b.sh": "# flotilla:include a.sh\n" }, "a.sh -> b.sh -> a.sh"],
        [
            { "a.sh": "# flotilla:include b.sh\n", "b.sh": "# flotilla:include c.sh\n", "c.sh": "# flotilla:include b.sh\n" },
            "b.sh -> c.sh -> b.sh",
        ],
    ])("includes that lead back to their includer are refused, naming the cycle (%#)", (files, cycle) => {
        const dir = scriptsDir(files);
        expect(() => readScript(dir, "a.sh")).toThrow(
            `flotilla: its scripts include each other in a cycle (${cycle}): an include must not lead back to its includer`,
        );
    });

    test("only a whole line `# flotilla:include <file>.sh` includes; anything else is left as it is", () => {
        const text = "echo '# flotilla:include x.sh'\n  # flotilla:include x.sh\n# flotilla:include x.sh # note\n# flotilla:include ../x.sh\n";
        const dir = scriptsDir({ "a.sh": text });
        expect(readScript(dir, "a.sh")).toBe(text);
    });

    test("bundled names may name a folder inside the layer (lib/<layer>/<folder>/scripts/<file>)", () => {
        expect(bundledScriptText("runtime/runtime.sh")).toContain("set -euo pipefail");
        expect(() => bundledScriptText("nowhere/deeper/x.sh")).toThrow(/cannot read its script .*nowhere\/deeper\/scripts\/x\.sh/);
        expect(() => bundledScriptText("../etc/x.sh")).toThrow(/is not a bundled script name/);
        expect(path.basename(LIB_DIR)).toBe("lib");
    });
});

describe("scripts whose text is part of a replace-on-change input", () => {
    // runtime.sh is also the runtime's first-boot document (dockerEngineUserData, containerdUserData)
    // that AWS, Azure, Proxmox and lab pools boot with, and a pool replaces a machine whose user data
    // changed: a change to it replaces every such machine of every user's stack.
    // LocalScript replaces its resource when the script's hash changes (a lab machine is then
    // deleted and created again), unlike RemoteScript, which runs a changed script again as an
    // update. The lab's local scripts, includes and all, must therefore keep their text: a change
    // to one of them (or to common.sh, which they include) replaces every lab machine of a recorded
    // stack. Change a hash here only on purpose, and say so in the changelog.
    test.each([
        ["hosts/lab-network.sh", "deb5649ea7a88b894ff7010aa69cfee2465752f469f60d5fe1dcc3fa07cf587a"],
        ["hosts/lab-image-ensure.sh", "d3873b68be95ec30ada8de802d70c981f2bcf55a4cb304501ad17bdafe6d6ce5"],
        ["hosts/lab-machine.sh", "31f7164824aa7dbd81c839124576bcf9ecf0a722dd14cb1904fdc420e7c9d779"],
        ["hosts/lab-registry-push.sh", "eb8bffee5826b4d9620d70cbb269560d55e5aea636bc8712281916b44c4e2498"],
        ["runtime/runtime.sh", "b42520ea04ac24abdae0609a6678d76698fefd01c85902fe55fdacdacc5c808f"],
    ])("%s keeps its hash", (bundled, hash) => {
        const [layer, file] = bundled.split("/");
        expect(bundledScript(layer, file).hash).toBe(hash);
    });
});

/** The files some bundled script includes (by name): they are included, not run on their own. */
function includedNames(scripts: string[]): Set<string> {
    const names = new Set<string>();
    for (const s of scripts) {
        for (const m of fs.readFileSync(s, "utf8").matchAll(/^# flotilla:include ([A-Za-z0-9._-]+\.sh)$/gm)) names.add(m[1]);
    }
    return names;
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
        // Included files (lib/shared/scripts/*.sh, <layer>-common.sh, ...) are not run on their own.
        if (includedNames(scripts).has(path.basename(rel)) || rel.startsWith("lib/shared/scripts/")) {
            expect(text).toMatch(/^# shellcheck shell=bash\n# Included, not executed/);
            return;
        }
        expect(text).toMatch(/^#!\/usr\/bin\/env bash\n/);
        expect(text).toContain("\nset -euo pipefail\n");
    });
});
