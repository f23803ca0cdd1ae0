/**
 * Helpers of the runtime lab tests (and bench/runtime.ts): logins from stack outputs, commands with
 * stdin over SSH (to stream an image into `docker load` / `ctr images import`), the test image, and
 * the clean-up of this suite's own stale pools.
 */
import * as childProcess from "child_process";
import * as path from "path";
import { removeStaleTestPools, ROOT, TEST_POOL_PREFIX } from "./harness";
import { Login, RunResult, sshRun } from "./ssh";

/** Pool names of the runtime tests start with this (a sub-prefix of TEST_POOL_PREFIX). */
export const RUNTIME_POOL_PREFIX = `${TEST_POOL_PREFIX}rt`;

/** The image scripts/test-image.sh builds. */
export const TEST_IMAGE = "flotilla-test:busybox";

/** Builds the test image if needed and returns it as a `docker save` tarball. */
export function testImageTarball(): Buffer {
    childProcess.execFileSync("bash", [path.join(ROOT, "scripts", "test-image.sh"), TEST_IMAGE], { stdio: "pipe" });
    return childProcess.execFileSync("docker", ["save", TEST_IMAGE], { maxBuffer: 64 * 1024 * 1024 });
}

/**
 * Logins to every machine of a test program's stack outputs (addresses, hostKeys, user, privateKey;
 * with a prefix: e.g. dockerAddresses, dockerHostKeys, ...).
 */
export function loginsFrom(outputs: Record<string, { value: unknown }>, prefix = ""): Login[] {
    const get = (k: string) => outputs[prefix ? `${prefix}${k[0].toUpperCase()}${k.slice(1)}` : k].value;
    const hostKeys = get("hostKeys") as string[];
    return (get("addresses") as string[]).map((host, i) => ({
        host,
        user: get("user") as string,
        privateKey: get("privateKey") as string,
        hostKey: hostKeys[i],
    }));
}

/** Runs one command over SSH (strict host key), feeding `input` on its stdin. */
export function sshRunInput(login: Login, command: string, input: Buffer | string, timeoutMs = 120_000): Promise<RunResult> {
    return sshRun(login, command, timeoutMs, Buffer.from(input));
}

export async function onMachine(login: Login, command: string, input: Buffer | string = ""): Promise<string> {
    const r = await sshRunInput(login, `sudo -n bash -c ${quote(command)}`, input);
    if (r.code !== 0) {
        throw new Error(`on ${login.host}: \`${command}\` exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    }
    return r.stdout;
}

/** Streams the test image into Docker on a machine and runs it; returns what it printed. */
export async function runImageWithDocker(login: Login, image: Buffer, text: string): Promise<string> {
    await onMachine(login, "docker load -q", image);
    return onMachine(login, `docker run --rm ${TEST_IMAGE} echo ${quote(text)}`);
}

/** Streams the test image into containerd on a machine (namespace flotilla) and runs it with ctr. */
export async function runImageWithContainerd(login: Login, image: Buffer, text: string): Promise<string> {
    await onMachine(login, "ctr -n flotilla images import - >/dev/null", image);
    return onMachine(
        login,
        `ctr -n flotilla run --rm docker.io/library/${TEST_IMAGE} flotilla-test-$$ echo ${quote(text)}`,
    );
}

function quote(s: string): string {
    return `'${s.split("'").join(`'\\''`)}'`;
}

/** Removes what interrupted earlier test runs left (pools whose test process is gone). */
export const removeStaleRuntimePools = removeStaleTestPools;

/**
 * Holds every apt/dpkg lock on a machine for `seconds`, the way unattended-upgrades does (POSIX
 * fcntl locks, which apt and dpkg use), in a transient systemd unit that outlives the SSH session.
 * Resolves once the locks are held. The unit writes `acquired`/`released` times (dpkg.log format)
 * to /run/flotilla-test-lock.
 */
export async function holdAptLocks(login: Login, seconds: number): Promise<void> {
    // Held until releaseAptLocks (or `seconds` at the most), so a loaded machine cannot let the
    // hold run out before the install even starts.
    const py = [
        "import fcntl, time",
        "def now(): return time.strftime('%Y-%m-%d %H:%M:%S')",
        "paths = ['/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock', '/var/lib/apt/lists/lock', '/var/cache/apt/archives/lock']",
        "held = [open(p, 'a') for p in paths]",
        "[fcntl.lockf(h, fcntl.LOCK_EX) for h in held]",
        "open('/run/flotilla-test-lock', 'w').write('acquired ' + now() + '\\n')",
        "import os",
        `deadline = time.time() + ${seconds}`,
        "while time.time() < deadline and not os.path.exists('/run/flotilla-test-lock.release'): time.sleep(0.2)",
        "open('/run/flotilla-test-lock', 'a').write('released ' + now() + '\\n')",
    ].join("\n");
    await onMachine(login, "cat >/run/flotilla-test-lock.py && rm -f /run/flotilla-test-lock /run/flotilla-test-lock.release", py);
    await onMachine(login, "systemd-run --quiet --collect --unit flotilla-test-lock python3 /run/flotilla-test-lock.py");
    for (let i = 0; i < 50; i++) {
        const state = await onMachine(login, "cat /run/flotilla-test-lock 2>/dev/null || true");
        if (state.startsWith("acquired")) return;
        await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the apt/dpkg locks were not taken on ${login.host}`);
}

/** Releases the locks {@link holdAptLocks} holds (its holder then writes "released <time>"). */
export async function releaseAptLocks(login: Login): Promise<void> {
    await onMachine(login, "touch /run/flotilla-test-lock.release");
}
