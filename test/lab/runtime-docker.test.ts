/**
 * DockerEngine on fresh lab machines, through the Automation API and the real engine: installed on
 * each (while the dpkg lock is held on one of them), a locally built image runs on each, a second
 * up re-runs nothing, a configuration change only rewrites the configuration and restarts the
 * daemon, a version pin that does not exist fails clearly and leaves the hosts as they were.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { poolLeftovers, storedState, tearDown, testProgramStack } from "./harness";
import { Login } from "./ssh";
import {
    RUNTIME_POOL_PREFIX,
    holdAptLocks,
    releaseAptLocks,
    loginsFrom,
    onMachine,
    removeStaleRuntimePools,
    runImageWithDocker,
    testImageTarball,
} from "./runtime-lab";

jest.setTimeout(10 * 60 * 1000);

const pool = `${RUNTIME_POOL_PREFIX}d${process.pid}`;
const PASSWORD = "reg-pass-7c1e9f-secret";
const LOCK_SECONDS = 20;
const DOCKER_IO = "20.10.24+dfsg1-1+deb12u1+b6";
let stack: Stack;
let logins: Login[];
let image: Buffer;

/** What must not change on a host when nothing should: packages, daemon, its configuration, runs. */
async function hostState(login: Login) {
    const out = await onMachine(
        login,
        "wc -l </var/log/dpkg.log; systemctl show -p MainPID --value docker; sha256sum </etc/docker/daemon.json; " +
            "grep -c '^=== ' /var/log/flotilla/runtime-docker.log",
    );
    const [dpkgLines, pid, daemonJson, runs] = out.trim().split("\n");
    return { dpkgLines, pid, daemonJson, runs: Number(runs) };
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

beforeAll(async () => {
    removeStaleRuntimePools();
    image = testImageTarball();
    stack = await testProgramStack(
        "runtime",
        `rtd-${process.pid}`,
        { "test:poolName": pool, "test:subnet": "10.213.110.0/29", "test:machines": "2", "test:registryUser": "ci" },
        { "test:registryPassword": PASSWORD },
    );
});

afterAll(() => tearDown(stack, { pool }));

describe("DockerEngine in the lab", () => {
    test("two fresh machines: no container runtime yet", async () => {
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ create: 8 });
        logins = loginsFrom(up.outputs);
        for (const login of logins) {
            expect(await onMachine(login, "command -v dockerd || echo none")).toBe("none\n");
        }
    });

    test(`installed on each, though the dpkg lock is held for ${LOCK_SECONDS} s on one when the install starts`, async () => {
        // Held until the install is seen waiting for it, then LOCK_SECONDS more (bounded: 900 s).
        await holdAptLocks(logins[0], 900);
        await stack.setConfig("test:runtime", { value: "docker" });
        const started = Date.now();
        const running = stack.up();
        let settled = false;
        running.then(
            () => (settled = true),
            () => (settled = true),
        );
        const waitingLine = /waiting for the apt\/dpkg lock \(held by process \d+ \(python3\)/;
        while (!settled && !waitingLine.test(await onMachine(logins[0], "cat /var/log/flotilla/runtime-docker.log 2>/dev/null || true"))) {
            await new Promise((r) => setTimeout(r, 1000));
        }
        await new Promise((r) => setTimeout(r, LOCK_SECONDS * 1000));
        await releaseAptLocks(logins[0]);
        const up = await running;
        console.log(`install on 2 machines (one waiting ${LOCK_SECONDS}s for the dpkg lock): ${seconds(started)}s`);
        expect(up.summary.resourceChanges).toEqual({ same: 8, create: 3 });
        expect(up.outputs.source.value).toBe("distro");
        expect(up.outputs.versions.value).toEqual({ [`${pool}-0`]: "20.10.24+dfsg1", [`${pool}-1`]: "20.10.24+dfsg1" });
        expect(up.outputs.packages.value).toEqual({
            [`${pool}-0`]: `docker.io=${DOCKER_IO}`,
            [`${pool}-1`]: `docker.io=${DOCKER_IO}`,
        });
        expect((up.outputs.readyUrns.value as string[][]).map((u) => u.map((x) => x.split("::").pop()))).toEqual([
            [`docker-install-${pool}-0`],
            [`docker-install-${pool}-1`],
        ]);

        // The install waited for the lock: dpkg installed docker.io only after it was released.
        const lock = await onMachine(logins[0], "cat /run/flotilla-test-lock");
        const released = /released (.*)/.exec(lock)?.[1] as string;
        expect(released).toBeDefined();
        const installedAt = (await onMachine(logins[0], "grep ' install docker.io:' /var/log/dpkg.log | cut -c1-19")).trim();
        expect(installedAt >= released).toBe(true);
        expect(await onMachine(logins[0], "cat /var/log/flotilla/runtime-docker.log")).toMatch(
            /waiting for the apt\/dpkg lock \(held by process \d+ \(python3\)/,
        );
    });

    test("the daemon is configured with secure defaults and has no TCP socket", async () => {
        const outputs = (await stack.outputs()) as Record<string, { value: unknown }>;
        for (const login of logins) {
            expect(await onMachine(login, "cat /etc/docker/daemon.json")).toBe(outputs.daemonConfig.value);
            expect(await onMachine(login, "docker info --format '{{.LiveRestoreEnabled}} {{.LoggingDriver}}'")).toBe(
                "true json-file\n",
            );
            expect(await onMachine(login, "ss -Hltnp | grep dockerd || echo no-tcp")).toBe("no-tcp\n");
            expect(await onMachine(login, "systemctl is-enabled docker; systemctl is-active docker")).toBe("enabled\nactive\n");
        }
    });

    test("registry credentials are on the host (root only) and nowhere in plain text", async () => {
        const config = await onMachine(logins[1], "stat -c %a /root/.docker/config.json; cat /root/.docker/config.json");
        expect(config.split("\n")[0]).toBe("600");
        expect(JSON.parse(config.slice(4)).auths["registry.flotilla.test"].auth).toBe(
            Buffer.from(`ci:${PASSWORD}`).toString("base64"),
        );
        const log = await onMachine(logins[1], "cat /var/log/flotilla/runtime-docker.log");
        const state = storedState(stack);
        const b64 = Buffer.from(`ci:${PASSWORD}`).toString("base64");
        expect({ log: log.includes(PASSWORD) || log.includes(b64), state: state.includes(PASSWORD) || state.includes(b64) }).toEqual({
            log: false,
            state: false,
        });
    });

    test("a locally built image (docker save | docker load over SSH) runs on each", async () => {
        for (const [i, login] of logins.entries()) {
            expect(await runImageWithDocker(login, image, `hello from ${i}`)).toBe(`hello from ${i}\n`);
        }
    });

    test("a second up changes nothing and runs no command", async () => {
        const before = await Promise.all(logins.map(hostState));
        const started = Date.now();
        const up = await stack.up();
        console.log(`no-op up with DockerEngine on 2 machines: ${seconds(started)}s`);
        expect(up.summary.resourceChanges).toEqual({ same: 11 });
        expect(await Promise.all(logins.map(hostState))).toEqual(before);
        expect(before.map((s) => s.runs)).toEqual([1, 1]);
    });

    test("a configuration change re-applies the configuration and restarts the daemon, nothing else", async () => {
        const before = await Promise.all(logins.map(hostState));
        await stack.setConfig("test:mirrors", { value: "https://mirror.flotilla.test" });
        await stack.setConfig("test:insecure", { value: "10.213.110.1:5000" });
        await stack.setConfig("test:joinsSwarm", { value: "true" });
        const started = Date.now();
        const up = await stack.up();
        console.log(`configuration change on 2 machines: ${seconds(started)}s`);
        expect(up.summary.resourceChanges).toEqual({ same: 9, update: 2 });
        const after = await Promise.all(logins.map(hostState));
        for (const [i, login] of logins.entries()) {
            expect(after[i].dpkgLines).toBe(before[i].dpkgLines); // no package touched
            expect(after[i].pid).not.toBe(before[i].pid); // daemon restarted
            expect(after[i].daemonJson).not.toBe(before[i].daemonJson);
            expect(after[i].runs).toBe(2);
            const run = (await onMachine(login, "sed -n '/^=== .* update:/,$p' /var/log/flotilla/runtime-docker.log"))
                .split("\n")
                .filter((l) => / runtime docker: /.test(l))
                .map((l) => l.replace(/^\S+ runtime docker: /, "").replace(/ in \d+s:/, ":"));
            expect(run).toEqual([
                `docker.io ${DOCKER_IO} is installed: nothing to install`,
                "wrote /etc/docker/daemon.json",
                "restarting docker (its configuration or package changed)",
                `done: docker 20.10.24+dfsg1 (package docker.io ${DOCKER_IO}), cgroup driver cgroupfs`,
            ]);
            expect(
                await onMachine(
                    login,
                    "docker info --format '{{.LiveRestoreEnabled}} {{json .RegistryConfig.Mirrors}} {{json .RegistryConfig.IndexConfigs}}'",
                ),
            ).toMatch(/^false \["https:\/\/mirror.flotilla.test\/"\] .*"10.213.110.1:5000":\{"Name":"10.213.110.1:5000","Mirrors":\[\],"Secure":false/);
            // The image loaded before is still there and runs.
            expect(await onMachine(login, "docker run --rm flotilla-test:busybox echo still")).toBe("still\n");
        }
    });

    test("a version pin that does not exist fails clearly, before changing anything on the hosts", async () => {
        const before = await Promise.all(logins.map(hostState));
        await stack.setConfig("test:version", { value: "99.0.1" });
        const error = await stack.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        for (const i of [0, 1]) {
            expect(error.message).toContain(`docker engine on ${pool}-${i} (10.213.110.${i + 2}): update failed with exit code 1`);
        }
        expect(error.message).toContain(
            `ERROR: version '99.0.1' of docker.io is not available from this machine's apt sources (debian bookworm); available: ${DOCKER_IO}`,
        );
        const after = await Promise.all(logins.map(hostState));
        expect(after.map((s) => ({ ...s, runs: s.runs - 1 }))).toEqual(before);
        for (const login of logins) {
            expect(await onMachine(login, "apt-mark showhold")).toBe("");
        }
        await stack.removeConfig("test:version");
        expect((await stack.up()).summary.resourceChanges).toEqual({ same: 11 });
    });

    test("destroy leaves nothing behind", async () => {
        const result = await stack.destroy();
        expect(result.summary.resourceChanges).toEqual({ delete: 11 });
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
