/**
 * The demo image (scripts/demo-image.sh) really serves HTTP and reports its health on the host's
 * Docker engine; LabRegistry on a lab machine through the engine: authentication, pushed images,
 * no change on a second up or a refresh, no plaintext password at rest, per-image push and removal,
 * a bad secret password refused without showing it, nothing left after destroy.
 */
import * as childProcess from "child_process";
import * as http from "http";
import * as path from "path";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, ROOT, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { Login, sshRun } from "./ssh";
import { bundledScriptText } from "../../lib/shared/scripts";

jest.setTimeout(15 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}reg${process.pid}`;
const DEMO = path.join(ROOT, "scripts", "demo-image.sh");

/** Builds a demo image (idempotent) and returns its reference, the script's last stdout line. */
function demoImage(tag: string, variant: "good" | "unhealthy"): string {
    const out = childProcess.execFileSync("bash", [DEMO, tag, variant], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return out.trimEnd().split("\n").pop() as string;
}

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** GET with an optional Basic login, bounded. */
function get(url: string, login?: { user: string; password: string }): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (login) headers.authorization = `Basic ${Buffer.from(`${login.user}:${login.password}`).toString("base64")}`;
    return new Promise((resolve, reject) => {
        const req = http.get(url, { headers, timeout: 10_000 }, (res) => {
            let body = "";
            res.on("data", (d: Buffer) => (body += d.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)));
        req.on("error", reject);
    });
}

/** Waits (bounded) until a container's health status is `want`; returns the seconds it took. */
async function healthBecomes(container: string, want: string, limitSeconds = 40): Promise<number> {
    const started = Date.now();
    let status = "";
    while (Date.now() - started < limitSeconds * 1000) {
        status = docker("inspect", "--format", "{{.State.Health.Status}}", container)[0];
        if (status === want) return (Date.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${container}: health is '${status}' after ${limitSeconds}s, expected '${want}'`);
}

/** Runs skopeo; returns its exit status and output. */
function skopeo(...args: string[]): { status: number | null; out: string } {
    const r = childProcess.spawnSync("skopeo", args, { encoding: "utf8", timeout: 60_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
    removeStaleTestPools();
});

describe("demo image on the host's Docker engine", () => {
    const containers: string[] = [];

    /** Starts the image with its port published on 127.0.0.1; returns the container name and base URL. */
    function run(image: string, role: string): { name: string; url: string } {
        const name = `${pool}-demo-${role}`;
        docker("rm", "-f", name);
        docker("run", "-d", "--rm", "--name", name, "--label", `flotilla.pool=${pool}`, "-p", "127.0.0.1::8080", image);
        containers.push(name);
        const port = docker("port", name, "8080/tcp")[0].split(":").pop();
        return { name, url: `http://127.0.0.1:${port}` };
    }

    afterAll(() => {
        if (containers.length > 0) docker("rm", "-f", ...containers);
    });

    test("demo-image.sh prints the reference last and is idempotent (same image ID on a second run)", () => {
        expect(demoImage("v1", "good")).toBe("flotilla-demo:v1");
        const id = docker("image", "inspect", "--format", "{{.Id}}", "flotilla-demo:v1")[0];
        expect(demoImage("v1", "good")).toBe("flotilla-demo:v1");
        expect(docker("image", "inspect", "--format", "{{.Id}}", "flotilla-demo:v1")[0]).toBe(id);
    });

    test("good: serves its version on /, ok on /healthz, becomes healthy, stops at once", async () => {
        const { name, url } = run(demoImage("v1", "good"), "good");
        const seconds = await healthBecomes(name, "healthy");
        console.log(`demo image good: healthy after ${seconds.toFixed(1)}s`);
        const index = await get(`${url}/`);
        expect(index.status).toBe(200);
        expect(index.body).toContain("flotilla-demo v1");
        expect(await get(`${url}/healthz`)).toMatchObject({ status: 200, body: "ok\n" });
        const started = Date.now();
        docker("stop", name);
        expect(Date.now() - started).toBeLessThan(5000);
    });

    test("unhealthy: serves its version on / but /healthz fails, so Docker reports it unhealthy", async () => {
        const { name, url } = run(demoImage("lr-unhealthy", "unhealthy"), "unhealthy");
        const seconds = await healthBecomes(name, "unhealthy");
        console.log(`demo image unhealthy: unhealthy after ${seconds.toFixed(1)}s`);
        const index = await get(`${url}/`);
        expect(index.status).toBe(200);
        expect(index.body).toContain("flotilla-demo lr-unhealthy");
        expect((await get(`${url}/healthz`)).status).toBe(404);
    });
});

describe("LabRegistry on a lab machine", () => {
    let stack: Stack;
    let address: string;
    let login: { user: string; password: string };
    let machine: Login;

    beforeAll(async () => {
        demoImage("v1", "good");
        demoImage("lr-extra", "good");
        stack = await testProgramStack("lab-registry", `reg-${process.pid}`, {
            "test:poolName": pool,
            "test:subnet": "10.213.140.0/29",
            "test:images": "flotilla-demo:v1",
        });
    });

    afterAll(() => tearDown(stack, { pool }));

    test("up: a registry on the pool's machine, the image pushed, the password a generated secret", async () => {
        const started = Date.now();
        const begun = new Map<string, number>();
        const took: string[] = [];
        const onEvent = (e: EngineEvent) => {
            const pre = e.resourcePreEvent?.metadata;
            const done = e.resOutputsEvent?.metadata;
            if (pre) begun.set(pre.urn, e.timestamp);
            if (done && begun.has(done.urn) && /machine|registry-registry|push/.test(done.urn)) {
                took.push(`${done.urn.split("::").pop()} ${e.timestamp - (begun.get(done.urn) as number)}s`);
            }
        };
        const up = await stack.up({ onEvent });
        console.log(
            `lab-registry up: ${((Date.now() - started) / 1000).toFixed(1)}s in all; ${took.join(", ")} (whole seconds)`,
        );
        const out = up.outputs;
        address = out.address.value as string;
        login = { user: out.username.value as string, password: out.password.value as string };
        machine = {
            host: out.hostAddress.value as string,
            user: out.sshUser.value as string,
            privateKey: out.privateKey.value as string,
            hostKey: out.hostKey.value as string,
        };
        expect(address).toBe(`${out.hostAddress.value}:5000`);
        expect(address).toMatch(/^10\.213\.140\.\d+:5000$/);
        expect(out.imageRefs.value).toEqual([`${address}/flotilla-demo:v1`]);
        expect(login.user).toBe("flotilla");
        expect(out.password.secret).toBe(true);
        expect(login.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    });

    test("the registry demands the credentials: 401 without or with a wrong password, 200 with them", async () => {
        const anonymous = await get(`http://${address}/v2/`);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers["www-authenticate"]).toBe('Basic realm="flotilla-registry"');
        expect((await get(`http://${address}/v2/`, { ...login, password: `${login.password}x` })).status).toBe(401);
        expect((await get(`http://${address}/v2/`, login)).status).toBe(200);
    });

    test("the pushed image is listed, only for the user", async () => {
        const tags = await get(`http://${address}/v2/flotilla-demo/tags/list`, login);
        expect(tags.status).toBe(200);
        expect(JSON.parse(tags.body)).toEqual({ name: "flotilla-demo", tags: ["v1"] });
        expect((await get(`http://${address}/v2/flotilla-demo/tags/list`)).status).toBe(401);
    });

    test("skopeo inspect works with the credentials and fails without them", () => {
        const ref = `docker://${address}/flotilla-demo:v1`;
        const withCreds = skopeo("inspect", "--tls-verify=false", "--creds", `${login.user}:${login.password}`, ref);
        expect(withCreds.status).toBe(0);
        expect(JSON.parse(withCreds.out).Labels).toMatchObject({ "flotilla.demo.version": "v1" });
        const without = skopeo("inspect", "--tls-verify=false", "--no-creds", ref);
        expect(without.status).not.toBe(0);
        expect(without.out).toMatch(/unauthorized|authentication required/i);
    });

    test("the stored state holds neither the password nor the Basic token in plain text", () => {
        const state = storedState(stack);
        const token = Buffer.from(`${login.user}:${login.password}`).toString("base64");
        expect({ password: state.includes(login.password), token: state.includes(token) }).toEqual({
            password: false,
            token: false,
        });
    });

    test("the registry script run again on the machine rewrites nothing and restarts nothing", async () => {
        // The very text the component runs (includes resolved).
        const script = Buffer.from(bundledScriptText("hosts/lab-registry.sh")).toString("base64");
        const pid = async () => (await sshRun(machine, "systemctl show -p MainPID --value docker-registry")).stdout.trim();
        const before = await pid();
        // Test only: the password is on this command line (the component sends it on stdin).
        const env = `FLOTILLA_PHASE=update REGISTRY_PORT=5000 REGISTRY_USERNAME=${login.user} REGISTRY_PASSWORD=${login.password}`;
        const r = await sshRun(machine, `echo ${script} | base64 -d >/tmp/lr.sh && sudo -n env ${env} bash /tmp/lr.sh; rc=$?; rm -f /tmp/lr.sh; exit $rc`);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("5000\n");
        expect(r.stderr).not.toMatch(/wrote|restarting|installing/);
        expect(r.stderr).toContain("ready on port 5000");
        expect(await pid()).toBe(before);
    });

    test("a second up and a refresh change nothing", async () => {
        const up = await stack.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
        const refresh = await stack.refresh();
        expect(Object.keys(refresh.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("adding an image pushes only it; removing it removes its tag and nothing else", async () => {
        await stack.setConfig("test:images", { value: "flotilla-demo:v1,flotilla-demo:lr-extra" });
        let started = Date.now();
        const add = await stack.up();
        console.log(`lab-registry: pushing one more image: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(add.summary.resourceChanges).toMatchObject({ create: 1 });
        expect(Object.keys(add.summary.resourceChanges ?? {}).sort()).toEqual(["create", "same"]);
        expect(add.outputs.imageRefs.value).toEqual([`${address}/flotilla-demo:v1`, `${address}/flotilla-demo:lr-extra`]);
        const both = JSON.parse((await get(`http://${address}/v2/flotilla-demo/tags/list`, login)).body);
        expect(both.tags.sort()).toEqual(["lr-extra", "v1"]);

        await stack.setConfig("test:images", { value: "flotilla-demo:v1" });
        started = Date.now();
        const remove = await stack.up();
        console.log(`lab-registry: removing one image: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(remove.summary.resourceChanges).toMatchObject({ delete: 1 });
        expect(Object.keys(remove.summary.resourceChanges ?? {}).sort()).toEqual(["delete", "same"]);
        const one = JSON.parse((await get(`http://${address}/v2/flotilla-demo/tags/list`, login)).body);
        expect(one.tags).toEqual(["v1"]);
    });

    test("a new password: the registry is updated in place, the old password refused, the images pushed again", async () => {
        const next = "a-new-password-2026";
        await stack.setConfig("test:password", { value: next, secret: true });
        const started = Date.now();
        const up = await stack.up();
        console.log(`lab-registry: password change: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        // The registry script is updated, the push replaced (its credentials changed), the seed of
        // the generated password deleted.
        expect(up.summary.resourceChanges).toMatchObject({ update: 1, replace: 1, delete: 1 });
        expect(up.outputs.password.value).toBe(next);
        expect((await get(`http://${address}/v2/`, login)).status).toBe(401);
        login = { ...login, password: next };
        expect((await get(`http://${address}/v2/`, login)).status).toBe(200);
        const tags = JSON.parse((await get(`http://${address}/v2/flotilla-demo/tags/list`, login)).body);
        expect(tags.tags).toEqual(["v1"]);
        expect(storedState(stack).includes(next)).toBe(false);
    });

    test("a bad password from secret config fails the preview, naming the property but not the value", async () => {
        await stack.setConfig("test:password", { value: "tiny-pw", secret: true });
        try {
            const error = await stack.preview().then(
                () => new Error("preview succeeded"),
                (e: Error) => e,
            );
            expect(error.message).toContain(
                'flotilla:hosts:LabRegistry "registry": invalid password: received a secret of 7 characters; expected 8 to 72 printable ASCII characters.',
            );
            expect(error.message.includes("tiny-pw")).toBe(false);
        } finally {
            await stack.setConfig("test:password", { value: login.password, secret: true });
        }
    });

    test("destroy leaves nothing behind", async () => {
        const started = Date.now();
        await stack.destroy();
        console.log(`lab-registry destroy: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
