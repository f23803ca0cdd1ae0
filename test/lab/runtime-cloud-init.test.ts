/**
 * The runtime's cloud-init fragments on fresh lab machines, handed over through cloud-init's NoCloud
 * datasource exactly as a cloud VM gets its user data: Docker on one machine, containerd on another.
 * The pool's create itself fails unless cloud-init finishes without error; then the runtime is there
 * and a locally built image runs.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { poolLeftovers, removePool, tearDown, testProgramStack } from "./harness";
import { Login } from "./ssh";
import {
    RUNTIME_POOL_PREFIX,
    loginsFrom,
    onMachine,
    removeStaleRuntimePools,
    runImageWithContainerd,
    runImageWithDocker,
    testImageTarball,
} from "./runtime-lab";

jest.setTimeout(10 * 60 * 1000);

const dockerPool = `${RUNTIME_POOL_PREFIX}i${process.pid}`;
const containerdPool = `${RUNTIME_POOL_PREFIX}j${process.pid}`;
let stack: Stack;
let docker: Login;
let containerd: Login;
let image: Buffer;

beforeAll(async () => {
    removeStaleRuntimePools();
    image = testImageTarball();
    stack = await testProgramStack("runtime-cloud-init", `rti-${process.pid}`, {
        "test:dockerPool": dockerPool,
        "test:dockerSubnet": "10.213.112.0/29",
        "test:containerdPool": containerdPool,
        "test:containerdSubnet": "10.213.113.0/29",
        "test:containerdVersion": "1.6.20~ds1-1+deb12u3",
    });
});

afterAll(() => tearDown(stack, { after: () => [dockerPool, containerdPool].forEach(removePool) }));

/** cloud-init's own verdict: done, no errors, no recoverable errors. */
async function cloudInitVerdict(login: Login) {
    const status = await onMachine(login, "cloud-init status --long; echo exit=$?");
    const result = JSON.parse(await onMachine(login, "cat /run/cloud-init/result.json")) as { v1: { errors: unknown[] } };
    return { status: status.split("\n")[0], exit: /exit=(\d+)/.exec(status)?.[1], errors: result.v1.errors };
}

describe("runtime cloud-init fragments in the lab", () => {
    test("fresh machines boot with the fragments; cloud-init reports success", async () => {
        const started = Date.now();
        const up = await stack.up();
        console.log(`up of 2 machines installing their runtime through cloud-init: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(up.summary.result).toBe("succeeded");
        docker = loginsFrom(up.outputs, "docker")[0];
        containerd = loginsFrom(up.outputs, "containerd")[0];
        for (const login of [docker, containerd]) {
            expect(await cloudInitVerdict(login)).toEqual({ status: "status: done", exit: "0", errors: [] });
        }
    });

    test("the script knew it ran inside cloud-init and reported its result there", async () => {
        const log = await onMachine(docker, "cat /var/log/flotilla/runtime-docker.log");
        expect(log).toMatch(/^=== \S+ create: source distro, version pin none$/m);
        expect(log).toContain("running inside cloud-init: not waiting for it");
        expect(await onMachine(docker, "grep '^{\"runtime\"' /var/log/cloud-init-output.log")).toBe(
            '{"runtime":"docker","version":"20.10.24+dfsg1","package":"docker.io","packageVersion":"20.10.24+dfsg1-1+deb12u1+b6","source":"distro","cgroupDriver":"cgroupfs"}\n',
        );
        expect(await onMachine(containerd, "grep '^{\"runtime\"' /var/log/cloud-init-output.log")).toBe(
            '{"runtime":"containerd","version":"1.6.20~ds1","package":"containerd","packageVersion":"1.6.20~ds1-1+deb12u3","source":"distro","cgroupDriver":"systemd"}\n',
        );
    });

    test("Docker is configured as the fragment said and runs a locally built image", async () => {
        expect(await onMachine(docker, "docker info --format '{{.LiveRestoreEnabled}} {{json .RegistryConfig.Mirrors}}'")).toBe(
            'true ["https://mirror.flotilla.test/"]\n',
        );
        expect(await runImageWithDocker(docker, image, "hello via cloud-init")).toBe("hello via cloud-init\n");
    });

    test("containerd is configured as the fragment said and runs a locally built image", async () => {
        expect(await onMachine(containerd, "containerd config dump | grep -c 'SystemdCgroup = true'")).toBe("1\n");
        expect(await runImageWithContainerd(containerd, image, "hello via cloud-init")).toBe("hello via cloud-init\n");
    });

    test("destroy leaves nothing behind", async () => {
        await stack.destroy();
        expect([...poolLeftovers(dockerPool), ...poolLeftovers(containerdPool)]).toEqual([]);
    });
});
