/**
 * SwarmApp on a 5-node lab swarm (3 managers, 2 workers), through the engine: the demo web image
 * serves HTTP on every node, a second up runs nothing, a rolling update under continuous requests
 * loses none, an unhealthy image is rolled back and fails the up, a killed worker's task moves, the
 * leader stopping elects another and a further update still applies, and destroy leaves nothing.
 */
import * as childProcess from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, httpGet, LoadStats, poolLeftovers, removeStaleTestPools, reportLoad, requestLoop, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";
import { Login, sshRun } from "./ssh";

jest.setTimeout(30 * 60 * 1000);

const ROOT = `${__dirname}/../..`;
const pool = `${TEST_POOL_PREFIX}app${process.pid}`;
const GREETING = "hello-secret-4711";
let stack: Stack;
let logins: Login[];
let addresses: string[];

function demoImage(tag: string, variant = "good"): string {
    const out = childProcess.execFileSync("bash", [`${ROOT}/scripts/demo-image.sh`, tag, variant], { encoding: "utf8" });
    return out.trim().split("\n").pop() as string;
}

/** GET http://address:port/ → [status, body] (3 s); rejects on connection errors. */
function get(address: string, port: number, path = "/"): Promise<[number, string]> {
    return httpGet(`http://${address}:${port}${path}`, 3000);
}

async function onNode(i: number, command: string): Promise<string> {
    const r = await sshRun(logins[i], `sudo ${command}`);
    if (r.code !== 0) throw new Error(`${command} on node ${i}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

beforeAll(async () => {
    removeStaleTestPools();
    const images = [demoImage("v1"), demoImage("v2"), demoImage("v3-bad", "unhealthy")];
    stack = await testProgramStack(
        "swarm-app",
        `app-${process.pid}`,
        { "test:poolName": pool, "test:subnet": "10.213.122.0/28", "test:withApp": "false", "test:image": "flotilla-demo:v1" },
        { "test:greeting": GREETING },
    );
    const up = await stack.up();
    addresses = up.outputs.addresses.value as string[];
    const hostKeys = up.outputs.hostKeys.value as string[];
    logins = addresses.map((host, i) => ({
        host,
        user: up.outputs.user.value as string,
        privateKey: up.outputs.privateKey.value as string,
        hostKey: hostKeys[i],
    }));
    // The nodes get the images the way `docker load` gives them (resolveImage: never).
    const archive = childProcess.execFileSync("docker", ["save", ...images], { maxBuffer: 256 * 1024 * 1024 });
    await Promise.all(logins.map((l) => sshRun(l, "sudo docker load -q", 120_000, archive)));
});

afterAll(() => tearDown(stack, { pool }));

describe("SwarmApp in the lab", () => {
    test("up: the app converges and every node answers HTTP 200 on its published port", async () => {
        await stack.setConfig("test:withApp", { value: "true" });
        const started = Date.now();
        const up = await stack.up();
        expect(up.outputs.services.value).toEqual({
            web: { running: 5, desired: 5 },
            api: { running: 1, desired: 1 },
            db: { running: 1, desired: 1 },
        });
        // The lab's kernel has no IPVS: the swarm says so, and the app was rendered for it.
        expect(up.outputs.capabilities.value).toEqual({ serviceVirtualIp: false, routingMesh: false, loadBalancer: false });
        for (const address of addresses) {
            expect(await get(address, 8080)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        }
        console.log(`deploy to first HTTP 200 on all 5 nodes: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        // The secret reached the tasks as a file, and is nowhere in the state.
        const task = (await onNode(0, "docker ps -q --filter label=com.docker.swarm.service.name=demo_web")).trim();
        expect(await onNode(0, `docker exec ${task} /bin/busybox cat /run/secrets/greeting`)).toBe(GREETING);
        expect(storedState(stack).includes(GREETING)).toBe(false);
    });

    test("web reaches db by its service name over the app's network (DNS round-robin endpoints)", async () => {
        const task = (await onNode(0, "docker ps -q --filter label=com.docker.swarm.service.name=demo_web")).trim();
        // busybox's own resolver asks Docker's embedded DNS for "db" (the demo image's static busybox
        // wget cannot resolve names: glibc's resolver needs NSS modules a static binary cannot
        // load), then wget fetches from the address it got, over the overlay network. (Its -T
        // option makes that static wget crash: the ssh command's own timeout bounds it.)
        const fetch =
            '/bin/busybox sh -c \'ip=$(/bin/busybox nslookup db 2>/dev/null | /bin/busybox awk "/^Address/ { a = \\$NF } END { print a }"); ' +
            'echo "db=$ip"; /bin/busybox wget -q -O- "http://$ip:8080/"\'';
        const out = await onNode(0, `docker exec ${task} ${fetch}`);
        expect(out).toMatch(/^db=10\.\d+\.\d+\.\d+\n/);
        expect(out).toContain("flotilla-demo v1");
        expect((await onNode(0, "docker service inspect --format '{{.Spec.EndpointSpec.Mode}}' demo_db")).trim()).toBe("dnsrr");
    });

    test("a second up runs nothing", async () => {
        const up = await stack.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("image v1 -> v2: a rolling update under continuous requests fails none", async () => {
        await stack.setConfig("test:image", { value: "flotilla-demo:v2" });
        // Lenient client: a load balancer that moves on to the next node when one refuses a
        // connection (as any LB does for a node being restarted); an HTTP error or a request no
        // node answers is a failed request.
        const load = requestLoop({ urls: addresses.map((a) => `http://${a}:8080/`), expect: /flotilla-demo v[12]/ });
        let stats: LoadStats;
        try {
            const up = await stack.up();
            expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
        } finally {
            stats = await load.stop();
        }
        reportLoad("rolling update", stats);
        expect(stats.failures).toEqual([]);
        expect(stats.ok).toBeGreaterThan(50);
        for (const address of addresses) {
            expect(await get(address, 8080)).toEqual([200, expect.stringContaining("flotilla-demo v2")]);
        }
    });

    test("an image that fails its health check is rolled back and the up fails with the reason", async () => {
        await stack.setConfig("test:image", { value: "flotilla-demo:v3-bad" });
        const error = await stack.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toMatch(/stack demo: update failed with exit code 1/);
        expect(error.message).toMatch(/demo_web: update failed and was rollback completed/);
        // The rolled-back tasks start again: every node serves v2 within moments.
        for (const address of addresses) {
            await until(`${address} serving v2 again`, 60, async () => {
                const [status, body] = await get(address, 8080);
                return status === 200 && body.includes("flotilla-demo v2");
            });
        }
        await stack.setConfig("test:image", { value: "flotilla-demo:v2" });
    });

    test("a worker killed: its task runs on the other worker", async () => {
        const where = async () =>
            (await onNode(0, "docker service ps demo_api --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'")).trim();
        const before = (await where()).split(" ")[0];
        const victim = Number(before.split("-").pop());
        expect([3, 4]).toContain(victim);
        const other = victim === 3 ? 4 : 3;
        docker("kill", `${pool}-${victim}`);
        const seconds = await until("the api task running (healthy) on the other worker", 120, async () => {
            const [status] = await get(addresses[other], 8081);
            return status === 200 && (await where()).split("\n").some((l) => l.startsWith(`${pool}-${other} Running`));
        });
        console.log(`worker killed -> its task serving on the other worker after ${seconds.toFixed(1)}s`);
    });

    test("the leader stopped: another manager leads, the app keeps serving, an update still applies", async () => {
        docker("stop", `${pool}-0`);
        const seconds = await until("a new leader", 60, async () =>
            (await onNode(1, "docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'"))
                .split("\n")
                .some((l) => /-(1|2) Leader$/.test(l.trim())),
        );
        console.log(`leader stopped -> new leader after ${seconds.toFixed(1)}s`);
        // The update is applied once the swarm has seen the old leader go (as an operator would
        // wait): while it still counts as Ready, its global task would hold the rolling update.
        const down = await until("the stopped leader marked Down", 120, async () =>
            (await onNode(1, "docker node ls --format '{{.Hostname}} {{.Status}}'"))
                .split("\n")
                .some((l) => l.trim() === `${pool}-0 Down`),
        );
        console.log(`leader stopped -> marked Down after ${(seconds + down).toFixed(1)}s`);
        expect(await get(addresses[1], 8080)).toEqual([200, expect.stringContaining("flotilla-demo v2")]);
        await stack.setConfig("test:image", { value: "flotilla-demo:v1" });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
        for (const i of [1, 2]) {
            expect(await get(addresses[i], 8080)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        }
    });

    test("destroy leaves nothing behind", async () => {
        docker("start", `${pool}-0`);
        docker("start", `${pool}-3`, `${pool}-4`);
        await until("the restarted machines answer SSH", 120, async () => (await sshRun(logins[0], "true")).code === 0);
        const result = await stack.destroy();
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
