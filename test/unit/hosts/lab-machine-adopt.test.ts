/**
 * lib/hosts/scripts/lab-machine.sh, create phase, with a machine already under its name (what a
 * killed run leaves): adopted only when it runs and carries the same user data (label
 * flotilla.seed = sha256 of MACHINE_USER_DATA_GZ); otherwise removed with its volumes and made
 * again with the label. A fake `docker` on PATH records every call and plays the existing
 * container; the readiness wait's sshd probe targets 192.0.2.1 (nothing answers) with a 1 s boot
 * timeout, so a run ends there: what is checked is the decision and the order of the calls.
 */
import * as childProcess from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bundledScriptText } from "../../../lib/shared/scripts";

const USER_DATA = Buffer.from("user data of this machine").toString("base64");
const HASH = crypto.createHash("sha256").update(USER_DATA).digest("hex");

/** A fake docker: `state` is "<running> <seed label>" of the existing container, or "" for none. */
function fakeDocker(dir: string, state: string): void {
    fs.writeFileSync(path.join(dir, "state"), state);
    fs.writeFileSync(
        path.join(dir, "docker"),
        `#!/usr/bin/env bash
echo "$*" >>"${dir}/calls"
state=$(cat "${dir}/state")
case "$1 $2" in
    "container inspect") [ -n "$state" ] ;;
    "inspect --format") case "$3" in *flotilla.seed*) echo "$state" ;; *Running*) echo "\${state%% *}" ;; *) echo cid-1 ;; esac ;;
    "rm -f") : >"${dir}/state" ;;
    "exec "*) case "$*" in *is-system-running*) echo running ;; esac ;;
    *) : ;;
esac
exit 0
`,
        { mode: 0o755 },
    );
}

function runCreate(state: string): { status: number | null; calls: string[]; stderr: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-lab-machine-"));
    try {
        fakeDocker(dir, state);
        const r = childProcess.spawnSync("bash", ["-s"], {
            input: bundledScriptText("hosts/lab-machine.sh"),
            env: {
                PATH: `${dir}:${process.env.PATH}`,
                FLOTILLA_PHASE: "create",
                MACHINE_NAME: "m-0",
                MACHINE_POOL: "p",
                MACHINE_NETWORK: "p-net",
                // A reserved address nothing answers on: the sshd wait ends at the boot timeout.
                MACHINE_ADDRESS: "192.0.2.1",
                MACHINE_IMAGE: "img",
                MACHINE_BOOT_TIMEOUT: "1",
                MACHINE_META_DATA: "instance-id: m-0\n",
                MACHINE_USER_DATA_GZ: USER_DATA,
            },
            encoding: "utf8",
            timeout: 60_000,
        });
        const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
        return { status: r.status, calls, stderr: r.stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("lab-machine.sh create with a machine already under its name", () => {
    test("running with the same user data: adopted (no removal, no new container)", () => {
        const r = runCreate(`true ${HASH}`);
        expect(r.stderr).toContain("exists and runs with this user data");
        expect(r.calls.filter((c) => /^(rm|create|start|volume)/.test(c))).toEqual([]);
    });

    test.each([
        ["running with other user data", `true ${"0".repeat(64)}`, "exists but was made with other user data"],
        ["running without the label (made by an earlier version)", "true ", "exists but was made with other user data"],
        ["stopped with the same user data", `false ${HASH}`, "exists with this user data but is not running"],
    ])("%s: removed with its volumes, then made again with the label", (_what, state, message) => {
        const r = runCreate(state);
        expect(r.stderr).toContain(message);
        const steps = r.calls.filter((c) => /^(rm|create|start|volume (rm|create))/.test(c));
        expect(steps.slice(0, 6)).toEqual([
            "rm -f m-0",
            "volume rm m-0-docker",
            "volume rm m-0-containerd",
            "volume create --label flotilla.pool=p m-0-docker",
            "volume create --label flotilla.pool=p m-0-containerd",
            expect.stringContaining(`create --name m-0 --hostname m-0 --label flotilla.pool=p --label flotilla.seed=${HASH} `),
        ]);
    });
});
