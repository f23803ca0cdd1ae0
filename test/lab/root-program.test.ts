/**
 * The root program (`npm run up`), through the Automation API and the real engine: lab machines →
 * Docker → a Swarm of 3 managers and 2 workers → the demo image, pushed into the lab's private
 * registry and pulled from it with credentials, answering HTTP 200 on every node. A second up
 * changes nothing; no secret is in the state or the engine's output; destroy leaves nothing.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { poolLeftovers, removeStack, removeStaleTestPools, rootStack, storedState, TEST_POOL_PREFIX, httpGet } from "./harness";
import { sshRun } from "./ssh";

jest.setTimeout(20 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}root${process.pid}`;
let stack: Stack;

const get = httpGet;

beforeAll(async () => {
    removeStaleTestPools();
    stack = await rootStack(`root-${process.pid}`, { "flotilla:poolName": pool, "flotilla:subnet": "10.213.126.0/28" });
});

afterAll(async () => {
    if (stack) {
        await stack.destroy().catch(() => undefined);
        await removeStack(stack);
    }
});

describe("the root program", () => {
    let outputs: Record<string, { value: any; secret: boolean }>;
    let engineOutput = "";

    test("up: 5 Ready nodes, one Leader, the app converged and HTTP 200 from every node", async () => {
        const started = Date.now();
        const up = await stack.up();
        outputs = up.outputs;
        engineOutput = up.stdout + up.stderr;
        const urls = outputs.urls.value as string[];
        expect(urls).toHaveLength(5);
        for (const url of urls) {
            expect(await get(url)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        }
        console.log(`root program: up to HTTP 200 on all 5 nodes in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(outputs.services.value).toEqual({ web: { running: 5, desired: 5 } });
        const login = {
            host: outputs.addresses.value[0],
            user: outputs.sshUser.value,
            privateKey: outputs.sshPrivateKey.value,
            hostKey: outputs.hostKeys.value[0],
        };
        const nodes = await sshRun(login, "sudo docker node ls --format '{{.Status}} {{.ManagerStatus}}'");
        const lines = nodes.stdout.trim().split("\n").map((l) => l.trim());
        expect(lines.filter((l) => l.startsWith("Ready"))).toHaveLength(5);
        expect(lines.filter((l) => l.endsWith("Leader"))).toHaveLength(1);
        // The image came from the private registry, with credentials.
        const images = await sshRun(login, "sudo docker image ls --format '{{.Repository}}:{{.Tag}}'");
        // (pulled by digest, which `docker stack deploy --resolve-image always` pins)
        expect(images.stdout).toContain(`${outputs.registryUrl.value}/flotilla-demo:`);
        const anonymous = await get(`http://${outputs.registryUrl.value}/v2/`);
        expect(anonymous[0]).toBe(401);
        // Nothing left of the login on the manager.
        const leftover = await sshRun(login, "sudo cat /root/.docker/config.json 2>/dev/null || true");
        expect(leftover.stdout.includes(outputs.registryUrl.value)).toBe(false);
    });

    test("a second up changes nothing", async () => {
        const up = await stack.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("no registry password, join token or private key in the state or the engine's output", async () => {
        const state = storedState(stack);
        console.log(`root program state: ${state.length} bytes for 6 machines, ${Math.round(state.length / 6)} per machine (246296 before lean state)`);
        const password = outputs.registryPassword.value as string;
        expect(outputs.registryPassword.secret).toBe(true);
        expect({
            password: (state + engineOutput).includes(password),
            token: /SWMTKN-1-[0-9a-z]{20}/.test(state + engineOutput),
            key: (state + engineOutput).includes("PRIVATE KEY"),
        }).toEqual({ password: false, token: false, key: false });
    });

    test("destroy leaves nothing behind", async () => {
        const started = Date.now();
        const result = await stack.destroy();
        console.log(`root program: destroy in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
