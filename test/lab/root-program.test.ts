/**
 * The root program (`npm run up`), through the Automation API and the real engine: lab machines →
 * Docker → a Swarm of 3 managers and 2 workers → the demo image, pushed into the lab's private
 * registry and pulled from it with credentials, answering HTTP 200 on every node. A second up
 * changes nothing; no secret is in the state or the engine's output; destroy leaves nothing.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { httpGet, poolLeftovers, removeStaleTestPools, rootStack, storedState, tearDown, TEST_POOL_PREFIX } from "./harness";
import { sshRun } from "./ssh";

jest.setTimeout(20 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}root${process.pid}`;
let stack: Stack;

const get = httpGet;

beforeAll(async () => {
    removeStaleTestPools();
    stack = await rootStack(`root-${process.pid}`, { "flotilla:poolName": pool, "flotilla:subnet": "10.213.126.0/28" });
});

afterAll(() => tearDown(stack, { pool }));

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

    test("the Swarm from outside with only the stack's outputs: docker -H ssh:// and ssh, host keys checked strictly", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-ssh-"));
        try {
            // What the program's doc comment tells a user to do, in a folder standing for ~/.ssh.
            const dotSsh = path.join(dir, ".ssh");
            fs.mkdirSync(dotSsh, { mode: 0o700 });
            const knownHostsFile = path.join(dotSsh, `flotilla-${pool}.known_hosts`);
            fs.writeFileSync(path.join(dotSsh, `flotilla-${pool}`), outputs.sshPrivateKey.value as string, { mode: 0o600 });
            fs.writeFileSync(knownHostsFile, outputs.knownHosts.value as string);
            const config = path.join(dotSsh, "config");
            fs.writeFileSync(config, (outputs.sshConfig.value as string).replaceAll("~/.ssh/", `${dotSsh}/`));
            // ssh reads ~/.ssh/config from the passwd entry's home, not $HOME: `ssh -F` stands in for it.
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            const ssh = path.join(bin, "ssh");
            fs.writeFileSync(ssh, `#!/bin/sh\nexec /usr/bin/ssh -F '${config}' "$@"\n`, { mode: 0o755 });
            const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
            expect(outputs.dockerHost.value).toBe(`ssh://${outputs.sshUser.value}@${outputs.addresses.value[0]}`);
            const nodes = childProcess.execFileSync("docker", ["-H", outputs.dockerHost.value, "node", "ls", "--format", "{{.Status}}"], {
                env,
                encoding: "utf8",
                timeout: 60_000,
            });
            expect(nodes.trim().split("\n")).toEqual(["Ready", "Ready", "Ready", "Ready", "Ready"]);
            const name = childProcess.execFileSync(ssh, ["-o", "BatchMode=yes", `${pool}-1`, "hostname"], { env, encoding: "utf8", timeout: 60_000 });
            expect(name.trim()).toBe(`${pool}-1`);
            // Strict checking: another key recorded for the machine, and ssh refuses to connect.
            const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC8hUy0vn5yrE0wcU7b0h3Xm0O9Z0mYbyJ0pyFt2o2Ws";
            fs.writeFileSync(knownHostsFile, (outputs.knownHosts.value as string).replace(/ssh-ed25519 \S+/g, other));
            const refused = childProcess.spawnSync(ssh, ["-o", "BatchMode=yes", `${pool}-1`, "true"], { env, encoding: "utf8", timeout: 60_000 });
            expect(refused.status).not.toBe(0);
            expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
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
