/**
 * Containerd on a fresh lab machine, through the Automation API: installed at a pinned version with
 * the systemd cgroup option and registry hosts; a locally built image runs under it; a changed pin
 * upgrades in place (same resource, same machine, images kept); `preinstalled` only verifies.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { poolLeftovers, tearDown, testProgramStack } from "./harness";
import { Login } from "./ssh";
import {
    RUNTIME_POOL_PREFIX,
    loginsFrom,
    onMachine,
    removeStaleRuntimePools,
    runImageWithContainerd,
    testImageTarball,
} from "./runtime-lab";

jest.setTimeout(10 * 60 * 1000);

const pool = `${RUNTIME_POOL_PREFIX}c${process.pid}`;
const host = `${pool}-0`;
// Debian 12 offers two: bookworm-security has deb12u2, bookworm (point release) deb12u3.
const OLDER = "1.6.20~ds1-1+deb12u2";
const NEWER = "1.6.20~ds1-1+deb12u3";
let stack: Stack;
let login: Login;
let image: Buffer;

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

beforeAll(async () => {
    removeStaleRuntimePools();
    image = testImageTarball();
    stack = await testProgramStack("runtime", `rtc-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": "10.213.111.0/29",
        "test:machines": "1",
        "test:runtime": "containerd",
        "test:version": OLDER,
        "test:mirrors": "https://mirror.flotilla.test",
        "test:insecure": "10.213.111.1:5000",
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("Containerd in the lab", () => {
    test("a fresh machine gets containerd at the pinned version, held, configured", async () => {
        const started = Date.now();
        const up = await stack.up();
        console.log(`up of 1 machine + containerd: ${seconds(started)}s`);
        expect(up.summary.resourceChanges).toEqual({ create: 9 });
        login = loginsFrom(up.outputs)[0];
        expect(up.outputs.packages.value).toEqual({ [host]: `containerd=${OLDER}` });
        expect(up.outputs.versions.value).toEqual({ [host]: "1.6.20~ds1" });
        expect(await onMachine(login, "dpkg-query -W -f '${Version}' containerd; echo; apt-mark showhold")).toBe(
            `${OLDER}\ncontainerd\n`,
        );
        expect(await onMachine(login, "cat /etc/containerd/config.toml")).toBe(up.outputs.containerdConfig.value);
        const dump = await onMachine(login, "containerd config dump");
        expect(dump).toMatch(/^\s+SystemdCgroup = true$/m);
        expect(dump).toMatch(/^\s+config_path = "\/etc\/containerd\/certs.d"$/m);
        expect(await onMachine(login, "cd /etc/containerd/certs.d && find . -type f | sort")).toBe(
            "./10.213.111.1:5000/hosts.toml\n./docker.io/hosts.toml\n",
        );
        expect(await onMachine(login, "ss -Hltnp | grep containerd | grep -v ' 127.0.0.1:' || echo loopback-only")).toBe(
            "loopback-only\n",
        );
    });

    test("a locally built image (docker save | ctr images import over SSH) runs under containerd", async () => {
        expect(await runImageWithContainerd(login, image, "hello from containerd")).toBe("hello from containerd\n");
    });

    test("a changed version pin upgrades in place: same resource, same machine, images kept", async () => {
        const machineBefore = await onMachine(login, "cat /etc/machine-id");
        await stack.setConfig("test:version", { value: NEWER });
        const started = Date.now();
        const up = await stack.up();
        console.log(`upgrade of containerd in place: ${seconds(started)}s`);
        expect(up.summary.resourceChanges).toEqual({ same: 8, update: 1 });
        expect(up.outputs.packages.value).toEqual({ [host]: `containerd=${NEWER}` });
        expect(await onMachine(login, "cat /etc/machine-id")).toBe(machineBefore);
        expect(await onMachine(login, "dpkg-query -W -f '${Version}' containerd; echo; apt-mark showhold")).toBe(
            `${NEWER}\ncontainerd\n`,
        );
        expect(await onMachine(login, "grep ' upgrade containerd:' /var/log/dpkg.log | wc -l")).toBe("1\n");
        expect(await onMachine(login, "ctr -n flotilla run --rm docker.io/library/flotilla-test:busybox t-up echo kept")).toBe(
            "kept\n",
        );
    });

    test("a second up changes nothing", async () => {
        expect((await stack.up()).summary.resourceChanges).toEqual({ same: 9 });
    });

    test("source preinstalled verifies only: nothing installed; a pin the host does not match fails clearly", async () => {
        const dpkgBefore = await onMachine(login, "wc -l </var/log/dpkg.log");
        await stack.setConfig("test:source", { value: "preinstalled" });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 8, update: 1 });
        expect(up.outputs.packages.value).toEqual({ [host]: `containerd=${NEWER}` });
        expect(await onMachine(login, "wc -l </var/log/dpkg.log")).toBe(dpkgBefore);

        await stack.setConfig("test:version", { value: "1.7" });
        const error = await stack.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toContain(`containerd on ${host} (10.213.111.2): update failed with exit code 1`);
        expect(error.message).toContain(`ERROR: source 'preinstalled': containerd ${NEWER} is installed, the pin is '1.7'`);
        expect(await onMachine(login, "wc -l </var/log/dpkg.log")).toBe(dpkgBefore);
    });

    test("Docker's repository out of reach: the install fails clearly and adds no apt source", async () => {
        await stack.setConfig("test:source", { value: "containerd.io" });
        await stack.setConfig("test:version", { value: "1.7" });
        // The pool's gateway is this machine; nothing listens on port 9 there.
        await stack.setConfig("test:dockerAptUrl", { value: "http://10.213.111.1:9/linux" });
        const error = await stack.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toContain(
            "ERROR: cannot download Docker's signing key from http://10.213.111.1:9/linux/debian/gpg",
        );
        expect(await onMachine(login, "ls /etc/apt/sources.list.d/ /etc/apt/keyrings/ 2>&1 | grep -c docker || true")).toBe("0\n");
        expect(await onMachine(login, "dpkg-query -W -f '${Version}' containerd")).toBe(NEWER);
    });

    test("destroy leaves containerd's machine and pool gone", async () => {
        await stack.destroy();
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
