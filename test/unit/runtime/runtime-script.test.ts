/**
 * lib/runtime/scripts/runtime.sh on this machine, where it must change nothing: only the paths that
 * stop before touching the system (OS check, bad settings), and its pure functions extracted verbatim.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bundledScriptText } from "../../../lib/shared/scripts";

/** The script as shipped: runtime.sh with its includes (the kinds' files, apt.sh, common.sh). */
const TEXT = bundledScriptText("runtime/runtime.sh");

/** Temporary folders this file made, removed after its tests. */
const made: string[] = [];
afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-runtime-"));
    made.push(dir);
    return dir;
}

const SCRIPT = path.join(tempDir(), "runtime.sh");
fs.writeFileSync(SCRIPT, TEXT);

function osRelease(content: string): string {
    const dir = tempDir();
    const file = path.join(dir, "os-release");
    fs.writeFileSync(file, content);
    return file;
}

function run(env: Record<string, string>) {
    const r = childProcess.spawnSync("bash", [SCRIPT], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
        encoding: "utf8",
        timeout: 20_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^\d\d:\d\d:\d\d /gm, "") };
}

/** One function of the script, exactly as shipped. */
function fn(name: string): string {
    const m = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?^\\}\\n`, "m").exec(TEXT);
    if (!m) throw new Error(`no function ${name} in runtime.sh`);
    return m[0];
}

describe("runtime.sh", () => {
    test.each([
        [
            'PRETTY_NAME="Alpine Linux v3.20"\nNAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n',
            "unsupported OS: found 'Alpine Linux v3.20' (ID=alpine VERSION_ID=3.20.3); supported: Debian 12, Ubuntu 22.04, Ubuntu 24.04",
        ],
        [
            'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n',
            "unsupported OS: found 'Debian GNU/Linux 11 (bullseye)' (ID=debian VERSION_ID=11); supported: Debian 12, Ubuntu 22.04, Ubuntu 24.04",
        ],
        [
            'PRETTY_NAME="Ubuntu 20.04.6 LTS"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="20.04"\nVERSION_CODENAME=focal\n',
            "unsupported OS: found 'Ubuntu 20.04.6 LTS' (ID=ubuntu VERSION_ID=20.04); supported: Debian 12, Ubuntu 22.04, Ubuntu 24.04",
        ],
    ])("any other OS stops it first, with a message naming the OS found (%#)", (release, message) => {
        for (const phase of ["create", "update", "read"]) {
            const r = run({
                FLOTILLA_PHASE: phase,
                RUNTIME_KIND: "docker",
                RUNTIME_SOURCE: "distro",
                RUNTIME_OS_RELEASE: osRelease(release),
            });
            expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
                status: 1,
                stdout: "",
                stderr: `runtime docker: ERROR: ${message}\n`,
            });
        }
    });

    test("no os-release at all is refused too", () => {
        const r = run({ FLOTILLA_PHASE: "create", RUNTIME_KIND: "docker", RUNTIME_SOURCE: "distro", RUNTIME_OS_RELEASE: "/nonexistent" });
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(
            "runtime docker: ERROR: cannot tell which OS this is (/nonexistent is missing); supported: Debian 12, Ubuntu 22.04, Ubuntu 24.04\n",
        );
    });

    test("Debian 12, Ubuntu 22.04 and 24.04 pass the OS check (stopped right after, by an unknown phase)", () => {
        for (const [id, version, codename] of [
            ["debian", "12", "bookworm"],
            ["ubuntu", "22.04", "jammy"],
            ["ubuntu", "24.04", "noble"],
        ]) {
            const r = run({
                FLOTILLA_PHASE: "nothing",
                RUNTIME_KIND: "containerd",
                RUNTIME_SOURCE: "upstream",
                RUNTIME_OS_RELEASE: osRelease(`ID=${id}\nVERSION_ID="${version}"\nVERSION_CODENAME=${codename}\n`),
            });
            expect(r.status).toBe(1);
            expect(r.stderr).not.toContain("unsupported OS");
            expect(r.stderr).toMatch(/runtime containerd: ERROR: (unknown FLOTILLA_PHASE 'nothing'|must run as root)/);
        }
    });

    test.each([
        [{ RUNTIME_KIND: "podman", RUNTIME_SOURCE: "distro" }, "runtime podman: ERROR: unknown RUNTIME_KIND 'podman' (docker or containerd)\n"],
        [{ RUNTIME_KIND: "docker", RUNTIME_SOURCE: "snap" }, "runtime docker: ERROR: unknown RUNTIME_SOURCE 'snap' (upstream, distro or preinstalled)\n"],
    ])("unknown settings stop it before anything (%p)", (env, message) => {
        const r = run({ FLOTILLA_PHASE: "create", ...env });
        expect([r.status, r.stderr]).toEqual([1, message]);
    });

    test.each([
        ["29.2.1", "5:29.2.1-1~debian.12~bookworm", true],
        ["29.2", "5:29.2.1-1~debian.12~bookworm", true],
        ["29", "5:29.2.1-1~debian.12~bookworm", true],
        ["29.2.1", "5:29.2.10-1~debian.12~bookworm", false],
        ["2", "5:29.2.1-1~debian.12~bookworm", false],
        ["5:29.2.1-1~debian.12~bookworm", "5:29.2.1-1~debian.12~bookworm", true],
        ["5:29.2.1", "5:29.2.1-1~debian.12~bookworm", false],
        ["20.10.24", "20.10.24+dfsg1-1+deb12u1+b6", true],
        ["20.10.24+dfsg1-1+deb12u1+b6", "20.10.24+dfsg1-1+deb12u1+b6", true],
        ["1.6.20~ds1-1+deb12u2", "1.6.20~ds1-1+deb12u3", false],
        ["1.6.20~ds1-1+deb12u3", "1.6.20~ds1-1+deb12u3", true],
        ["1.6.2", "1.6.20~ds1-1+deb12u3", false],
        ["1.6", "1.6.20~ds1-1+deb12u3", true],
        ["1.7", "1.7.28-1~ubuntu.24.04~noble", true],
        ["", "anything", true],
    ])("pin %p matches %p: %p", (pin, version, matches) => {
        const r = childProcess.spawnSync("bash", ["-c", `${fn("version_matches")}\nversion_matches "$1" "$2"`, "x", version, pin]);
        expect(r.status).toBe(matches ? 0 : 1);
    });
});
