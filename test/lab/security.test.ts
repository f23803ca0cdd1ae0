/**
 * Security checks on a real lab stack (program test/lab/programs/security, one pool of 4 machines
 * on 10.213.167.0/28): machines 0-2 with Docker in a Swarm of 3 managers, machine 3 a LabRegistry
 * whose password the test sets (a secret config value it knows, so the scans can find it), the
 * Docker engines logged in to it.
 *
 * "Outside the cluster's network" means: any machine not attached to the pool's Docker network
 * `<pool>-net` — here a container on Docker's default `bridge` network, standing for the rest of
 * the world — and the addresses of the machine running Pulumi other than its address on the pool
 * network, which only ports *published* by a machine container would reach (none may be). The
 * machine running Pulumi is the pool network's gateway: it is inside, and serves as the control
 * that the probe does see open ports (2377 on the managers, 5000 on the registry, 22 everywhere).
 *
 * Checked:
 *  - ports: from outside, no Swarm management port (2377) and no Docker API port (2375, 2376)
 *    answers on any machine; no machine publishes a port on the host;
 *  - SSH on every machine the pool created: `sshd -T` says password, keyboard-interactive and root
 *    login are off; real attempts fail: the login user with a password it was just given, root
 *    with a password and with the pool's key put into root's authorized_keys (the control: the
 *    login user with the pool key gets in);
 *  - Docker's API never on TCP: no TCP listener of dockerd but the Swarm's own (2377, 7946), no
 *    `tcp://` host in dockerd's command line, unit or daemon.json, no 2375/2376 listener at all;
 *  - secrets: the backend's files (state, history, backups), `pulumi stack export` (secrets not
 *    shown), all engine output and the logs on every machine (journal, cloud-init logs) hold no
 *    private key, join token, registry password (also as Basic-auth base64) or kubeconfig client
 *    key in clear; the control: the same scan finds them in `stack export --show-secrets`.
 * Findings and figures are printed.
 */
import * as crypto from "crypto";
import { Stack } from "@pulumi/pulumi/automation";
import { AuthenticationType, Client } from "ssh2";
import { backendDir, docker, poolLeftovers, removeStaleTestPools, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { allFiles, leaks as leaksOf, logScanCommand, openOnes, probeAllHere, probeOutside, scanInput, stackExport } from "./secret-scan";
import { Login, sshRun } from "./ssh";

jest.setTimeout(25 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}sec${process.pid}`;
const stackName = `sec-${process.pid}`;
const registryAddress = "10.213.167.5:5000";
const registryPassword = `Reg-${crypto.randomBytes(12).toString("hex")}`;
let stack: Stack;
let logins: Login[];
let names: string[];
let secrets: Record<string, string>;
/** Everything the engine printed, over all runs. */
let engineOutput = "";
/** The secrets in clear that `text` holds (the known values of this stack and the patterns). */
const leaks = (text: string) => leaksOf(text, secrets);

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/**
 * One real SSH login attempt: resolves `in` when the server accepts it, else `refused (<the
 * methods the server still offered>)`.
 */
function sshAttempt(host: string, hostKey: string, user: string, auth: { password: string } | { privateKey: string }): Promise<string> {
    const expected = Buffer.from(hostKey.split(" ")[1] ?? "", "base64");
    return new Promise((resolve, reject) => {
        const conn = new Client();
        let tried = false;
        conn.on("ready", () => {
            conn.end();
            resolve("in");
        });
        conn.on("error", (err) => {
            conn.end();
            if (/authentication methods failed/.test(err.message)) resolve(`refused (${offered.join(",")})`);
            else reject(err);
        });
        let offered: string[] = [];
        conn.connect({
            host,
            port: 22,
            username: user,
            hostVerifier: (key: Buffer) => key.equals(expected),
            readyTimeout: 20_000,
            authHandler: (methodsLeft, _partial, next) => {
                if (!tried) {
                    tried = true;
                    next("password" in auth ? { type: "password", username: user, password: auth.password } : { type: "publickey", username: user, key: auth.privateKey });
                } else {
                    offered = methodsLeft ?? [];
                    next(false as unknown as AuthenticationType);
                }
            },
        });
    });
}

async function sudo(i: number, command: string, stdin?: Buffer): Promise<string> {
    const r = await sshRun(logins[i], `sudo ${command}`, 120_000, stdin);
    if (r.code !== 0) throw new Error(`${names[i]}: ${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack(
        "security",
        stackName,
        { "test:poolName": pool, "test:subnet": "10.213.167.0/28", "test:registryAddress": registryAddress },
        { "test:registryPassword": registryPassword },
    );
});

afterAll(() => tearDown(stack, { pool }));

describe("security checks on a lab stack (Swarm of 3 + LabRegistry)", () => {
    test("up", async () => {
        const started = Date.now();
        const up = await stack.up({ onOutput: (o) => (engineOutput += o) });
        console.log(`up of 4 machines, Docker on 3, a swarm of 3 managers and a registry: ${seconds(started)}s`);
        engineOutput += up.stdout + up.stderr;
        const out = up.outputs;
        names = out.names.value as string[];
        const hostKeys = out.hostKeys.value as string[];
        const privateKey = out.privateKey.value as string;
        logins = (out.addresses.value as string[]).map((host, i) => ({ host, user: out.user.value as string, privateKey, hostKey: hostKeys[i] }));
        expect(out.registryPassword.value).toBe(registryPassword);
        expect(out.registryAddress.value).toBe(registryAddress);
        const keyBody = privateKey.split("\n").filter((l) => l.length > 0 && !l.startsWith("-----"));
        secrets = {
            "the registry password": registryPassword,
            "the registry password as Basic auth": Buffer.from(`flotilla:${registryPassword}`).toString("base64"),
            "the worker join token": out.workerJoinToken.value as string,
            "the manager join token": out.managerJoinToken.value as string,
            // A line of the key's base64 body (64 characters): found however the key is framed.
            "the pool's private key": keyBody[1],
        };
        expect(Object.values(secrets).every((s) => typeof s === "string" && s.length >= 20)).toBe(true);
    });

    test("from outside the pool's network no Swarm management or Docker API port answers; no port is published", async () => {
        const ports = [22, 2375, 2376, 2377, 5000, 7946];
        const targets = logins.flatMap((l) => ports.map((p) => `${l.host}:${p}`));
        const started = Date.now();
        const outside = probeOutside(pool, targets);
        const inside = await probeAllHere(targets);
        console.log(`probe (${seconds(started)}s) from outside (a container on Docker's bridge network), open: ${JSON.stringify(outside.filter((l) => l.endsWith(" open")))}`);
        console.log(`probe from inside (the pool network's gateway), open: ${JSON.stringify(inside.filter((l) => l.endsWith(" open")))}`);
        expect(outside).toHaveLength(targets.length);
        expect(outside.filter((l) => /:(2375|2376|2377) open$/.test(l))).toEqual([]);
        // The control: from inside the probe sees the managers' 2377, the registry and every sshd.
        const open = openOnes(inside);
        expect(open).toEqual(
            expect.arrayContaining([...logins.slice(0, 3).map((l) => `${l.host}:2377`), registryAddress, ...logins.map((l) => `${l.host}:22`)]),
        );
        // The Docker API is not on TCP even inside.
        expect(open.filter((t) => /:(2375|2376)$/.test(t))).toEqual([]);
        // Nothing reaches a machine through the host's other addresses: no published port.
        for (const name of names) {
            const [bindings, ports_] = docker("inspect", "--format", "{{json .HostConfig.PortBindings}}|{{json .NetworkSettings.Ports}}", name)[0].split("|");
            expect([name, bindings, ports_]).toEqual([name, "{}", "{}"]);
        }
    });

    test("SSH on every machine: no password, no keyboard-interactive, no root login (sshd -T and real attempts)", async () => {
        for (let i = 0; i < logins.length; i++) {
            const settings = Object.fromEntries(
                (await sudo(i, "sshd -T"))
                    .split("\n")
                    .map((l) => l.trim().split(" "))
                    .map(([k, ...v]) => [k, v.join(" ")]),
            );
            const relevant = ["passwordauthentication", "kbdinteractiveauthentication", "permitrootlogin", "permitemptypasswords"];
            expect([names[i], relevant.map((k) => `${k} ${settings[k]}`)]).toEqual([names[i], relevant.map((k) => `${k} no`)]);
            // Give the login user a password and root the pool's key and a password: sshd must still refuse.
            const password = `Pw-${crypto.randomBytes(8).toString("hex")}`;
            await sudo(i, "chpasswd", Buffer.from(`${logins[i].user}:${password}\nroot:${password}\n`));
            await sudo(i, `sh -c 'install -d -m 700 /root/.ssh && install -m 600 /home/${logins[i].user}/.ssh/authorized_keys /root/.ssh/authorized_keys'`);
            const { host, hostKey, user, privateKey } = logins[i];
            const attempts = {
                [`${user} with the pool key`]: await sshAttempt(host, hostKey, user, { privateKey }),
                [`${user} with a password`]: await sshAttempt(host, hostKey, user, { password }),
                "root with a password": await sshAttempt(host, hostKey, "root", { password }),
                "root with the pool key": await sshAttempt(host, hostKey, "root", { privateKey }),
            };
            console.log(`${names[i]}: ${JSON.stringify(attempts)}`);
            expect(attempts).toEqual({
                [`${user} with the pool key`]: "in",
                [`${user} with a password`]: "refused (publickey)",
                "root with a password": "refused (publickey)",
                "root with the pool key": "refused (publickey)",
            });
            await sudo(i, `sh -c 'rm -f /root/.ssh/authorized_keys && passwd -l root >/dev/null && passwd -l ${user} >/dev/null'`);
        }
    });

    test("the Docker API never over TCP: dockerd's only TCP listeners are the Swarm's, no tcp:// host anywhere", async () => {
        for (let i = 0; i < logins.length; i++) {
            const listeners = (await sudo(i, "ss -ltnpH"))
                .trim()
                .split("\n")
                .map((l) => l.trim().split(/\s+/))
                .map((f) => `${f[3]} ${/\(\("([^"]+)"/.exec(f[5] ?? "")?.[1] ?? "?"}`);
            console.log(`${names[i]} TCP listeners: ${JSON.stringify(listeners)}`);
            expect(listeners.filter((l) => /:(2375|2376) /.test(l))).toEqual([]);
            if (i < 3) {
                const dockerd = listeners.filter((l) => l.endsWith(" dockerd")).map((l) => l.split(" ")[0]).sort();
                // The management port on the machine's own address only (--listen-addr), gossip on 7946.
                expect(dockerd.filter((a) => !a.endsWith(":7946"))).toEqual([`${logins[i].host}:2377`]);
                const config = await sudo(i, "sh -c 'ps -o args= -C dockerd; systemctl show docker -p ExecStart --value; cat /etc/docker/daemon.json'");
                expect(config).toContain("dockerd");
                expect(config).not.toMatch(/tcp:\/\//);
                expect(config).not.toMatch(/"hosts"/);
                // The registry login is root's only, not readable by others.
                expect((await sudo(i, "stat -c '%U %a' /root/.docker/config.json")).trim()).toBe("root 600");
            } else {
                expect(listeners.filter((l) => / dockerd$/.test(l))).toEqual([]);
            }
        }
    });

    test("no secret in clear in the backend's files, stack export, engine output or the machines' logs", async () => {
        const backend = allFiles(backendDir(stack));
        const exported = stackExport(stack, false);
        const shown = stackExport(stack, true);
        const onMachines: Record<string, string[]> = {};
        const needles = scanInput(secrets);
        const scan = logScanCommand;
        for (let i = 0; i < logins.length; i++) {
            const count = await sudo(i, scan("journalctl --no-pager -o cat; cat /var/log/cloud-init.log /var/log/cloud-init-output.log /tmp/flotilla-*.err"), needles);
            onMachines[names[i]] = count.trim().split(" ");
        }
        // The control: the same scan finds the registry login where it must be (root's Docker config).
        const control = (await sudo(0, scan("cat /root/.docker/config.json"), needles)).trim().split(" ");
        console.log(`control scan of /root/.docker/config.json on ${names[0]} (secret lines, pattern lines, lines): ${JSON.stringify(control)}`);
        expect(Number(control[0])).toBeGreaterThan(0);
        console.log(
            `scanned: ${backend.count} backend files (${backend.text.length} bytes), export ${exported.length} bytes, ` +
                `engine output ${engineOutput.length} bytes, machine logs (secret lines, pattern lines, lines): ${JSON.stringify(onMachines)}`,
        );
        expect({
            backend: leaks(backend.text),
            export: leaks(exported),
            engineOutput: leaks(engineOutput),
            machineLogs: Object.entries(onMachines).filter(([, [secretLines, patternLines]]) => secretLines !== "0" || patternLines !== "0"),
        }).toEqual({ backend: [], export: [], engineOutput: [], machineLogs: [] });
        // Secrets are there, as ciphertext only.
        expect(exported).toContain('"ciphertext"');
        // The control: with --show-secrets the same scan finds every known value.
        const found = leaks(shown);
        console.log(`stack export --show-secrets: the scan finds ${JSON.stringify(found)}`);
        expect(found).toEqual(expect.arrayContaining(["the registry password", "the worker join token", "the manager join token", "the pool's private key"]));
    });

    test("destroy leaves nothing, and prints no secret", async () => {
        const destroy = await stack.destroy();
        expect(destroy.summary.result).toBe("succeeded");
        expect(leaks(destroy.stdout + destroy.stderr)).toEqual([]);
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
