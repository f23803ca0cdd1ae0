/**
 * A LabHostPool on the local lab, through the Automation API and the real engine:
 * up -> machines answer SSH (strict host keys) and have booted cleanly; up again -> no change;
 * secrets never in plain text in the state; destroy -> nothing left on the Docker engine.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { sshRun } from "./ssh";

jest.setTimeout(15 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}${process.pid}`;
const subnet = "10.213.101.0/29";
let stack: Stack;

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("hosts", `hosts-${process.pid}`, {
        "flotilla:machines": "3",
        "flotilla:poolName": pool,
        "flotilla:subnet": subnet,
    });
});

afterAll(() => tearDown(stack, { pool }));

describe("LabHostPool in the lab", () => {
    let outputs: Record<string, { value: unknown; secret: boolean }>;

    test("up creates 3 machines that answer SSH and have booted cleanly, with no container runtime", async () => {
        const started = Date.now();
        const result = await stack.up();
        console.log(`up of 3 lab machines: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(result.summary.result).toBe("succeeded");
        outputs = result.outputs;
        expect(outputs.machines.value).toEqual([`${pool}-0`, `${pool}-1`, `${pool}-2`]);
        expect(outputs.addresses.value).toEqual(["10.213.101.2", "10.213.101.3", "10.213.101.4"]);
        expect(outputs.sshPrivateKey.secret).toBe(true);

        const addresses = outputs.addresses.value as string[];
        const hostKeys = outputs.hostKeys.value as string[];
        for (let i = 0; i < 3; i++) {
            const login = {
                host: addresses[i],
                user: outputs.sshUser.value as string,
                privateKey: outputs.sshPrivateKey.value as string,
                hostKey: hostKeys[i],
            };
            const r = await sshRun(
                login,
                "hostname; systemctl is-system-running; sudo -n id -u; cloud-init status; " +
                    "for c in docker dockerd containerd; do command -v $c || echo no-$c; done",
            );
            expect({ code: r.code, lines: r.stdout.trim().split("\n") }).toEqual({
                code: 0,
                lines: [`${pool}-${i}`, "running", "0", "status: done", "no-docker", "no-dockerd", "no-containerd"],
            });
        }
    });

    test("a client expecting another host key is refused (host keys are checked strictly)", async () => {
        const addresses = outputs.addresses.value as string[];
        const hostKeys = outputs.hostKeys.value as string[];
        await expect(
            sshRun(
                {
                    host: addresses[0],
                    user: outputs.sshUser.value as string,
                    privateKey: outputs.sshPrivateKey.value as string,
                    hostKey: hostKeys[1],
                },
                "true",
            ),
        ).rejects.toThrow(/verification failed/i);
    });

    test("a second up changes nothing", async () => {
        const started = Date.now();
        const result = await stack.up();
        console.log(`no-op up: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(result.summary.resourceChanges).toEqual({ same: 9 });
        const preview = await stack.preview();
        expect(preview.changeSummary).toEqual({ same: 9 });
    });

    test("the stored state holds no private key or user data in plain text", async () => {
        const state = storedState(stack);
        const key = outputs.sshPrivateKey.value as string;
        const keyBody = key.split("\n")[2];
        expect(keyBody.length).toBeGreaterThan(40);
        // Booleans, not the state itself: a failure must not print secrets into the test log.
        expect({
            keyBody: state.includes(keyBody),
            keyLabel: state.includes("PRIVATE KEY"),
            userData: state.includes("#cloud-config"),
            encrypted: state.includes("ciphertext"),
        }).toEqual({ keyBody: false, keyLabel: false, userData: false, encrypted: true });
    });

    test("refresh finds the machines as they are", async () => {
        const result = await stack.refresh();
        expect(result.summary.result).toBe("succeeded");
        expect(result.summary.resourceChanges).toEqual({ same: 9 });
    });

    test("a machine removed behind Pulumi's back: refresh notices, the next up brings it back", async () => {
        docker("rm", "-f", `${pool}-1`);
        const refresh = await stack.refresh();
        expect(refresh.summary.resourceChanges).toEqual({ same: 8, delete: 1 });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 8, create: 1 });
        const r = await sshRun(
            {
                host: (outputs.addresses.value as string[])[1],
                user: outputs.sshUser.value as string,
                privateKey: outputs.sshPrivateKey.value as string,
                hostKey: (outputs.hostKeys.value as string[])[1],
            },
            "hostname; systemctl is-system-running",
        );
        expect(r.stdout.trim().split("\n")).toEqual([`${pool}-1`, "running"]);
    });

    test("destroy leaves no container, volume or network behind", async () => {
        expect(poolLeftovers(pool).length).toBeGreaterThan(0);
        const started = Date.now();
        const result = await stack.destroy();
        console.log(`destroy of 3 lab machines: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(result.summary.resourceChanges).toEqual({ delete: 9 });
        expect(poolLeftovers(pool)).toEqual([]);
    });

    test("bad input fails the up before anything is created", async () => {
        await stack.setConfig("flotilla:machines", { value: "0" });
        await expect(stack.up()).rejects.toThrow(
            `flotilla:hosts:LabHostPool "lab": invalid size: received 0; expected an integer from 1 to 64.`,
        );
        const state = await stack.exportStack();
        const resources = (state.deployment as { resources?: unknown[] }).resources ?? [];
        expect(resources.filter((r) => (r as { type: string }).type !== "pulumi:pulumi:Stack")).toEqual([]);
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
