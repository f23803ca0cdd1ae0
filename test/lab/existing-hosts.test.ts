/**
 * ExistingHosts in the lab: the test makes two machines OUTSIDE Pulumi with plain `docker` (the
 * lab image, each with its own user, key and sshd host key from a NoCloud seed it writes, on a
 * "site" network it creates, 10.213.141.0/28), and a program adopts them beside a LabHostPool of
 * one machine on 10.213.142.0/28: Docker on all three, one Swarm (the lab machine manages, the
 * existing machines work), the demo app on every node and a service only on the existing machines.
 *
 * How the two networks meet: the lab machine is plugged into the site network too (`docker network
 * connect`, as a site's gateway to another network would be) and the existing machines route the
 * pool's block through it (`ip route`), so every member reaches every other at its private
 * address: a flat network, as ExistingHosts' default (no `network`) says. The site network and
 * its machines are the test's, so flotilla's destroy removes its own network without meeting
 * foreign containers on it, and the lab machine's site endpoint goes with the machine.
 *
 * Also: a user without password-less sudo and a machine on an unsupported system are refused
 * naming the machine and what was found; a pinned host
 * key that is not the machine's is refused naming it and both fingerprints;
 * a machine trusted on first use that later presents another key is refused on refresh; destroy
 * leaves the adopted machines running and reachable over SSH, out of the swarm.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { docker, httpGet, poolLeftovers, removeStaleTestPools, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack, until } from "./harness";
import { Login, sshRun } from "./ssh";
import { generateEd25519, OpenSshKeyPair } from "../../lib/shared/ssh-keys";
import { labUserData } from "../../lib/hosts/common/user-data";
import { hostKeyFingerprint } from "../../lib/shared/providers/remote-script";

jest.setTimeout(30 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}exl${process.pid}`;
/** The site's "pool" label, so an interrupted run's machines are removed by removeStaleTestPools. */
const site = `${TEST_POOL_PREFIX}exs${process.pid}`;
const siteNet = `${site}-net`;
const SITE_SUBNET = "10.213.141.0/28";
const POOL_SUBNET = "10.213.142.0/28";
/** The lab machine's address on the site network (the site's gateway to the pool's block). */
const GATEWAY_ON_SITE = "10.213.141.14";
const IMAGE = "flotilla-lab:debian12";

interface SiteMachine {
    name: string;
    address: string;
    user: string;
    client: OpenSshKeyPair;
    host: OpenSshKeyPair;
}
const machines: SiteMachine[] = [0, 1].map((i) => ({
    name: `${site}-${i}`,
    address: `10.213.141.${i + 2}`,
    user: ["alice", "bob"][i],
    client: generateEd25519(`${["alice", "bob"][i]}@test`),
    host: generateEd25519(`root@${site}-${i}`),
}));
const bare = (line: string) => line.split(" ").slice(0, 2).join(" ");
const siteLogin = (m: SiteMachine): Login => ({ host: m.address, user: m.user, privateKey: m.client.privateKey, hostKey: m.host.publicKey });

let stack: Stack | undefined;
let labLogin: Login;

function sh(script: string): string {
    return childProcess.execFileSync("bash", ["-c", script], { encoding: "utf8" });
}

/** Makes one machine as a site's admins would have: the lab image, its own user, key and host key, booted. */
async function makeMachine(m: SiteMachine): Promise<void> {
    for (const v of ["docker", "containerd"]) docker("volume", "create", "--label", `flotilla.pool=${site}`, `${m.name}-${v}`);
    // The flags of lib/hosts/scripts/lab-machine.sh.
    docker(
        "create", "--name", m.name, "--hostname", m.name, "--label", `flotilla.pool=${site}`,
        "--network", siteNet, "--ip", m.address,
        "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-v", `${m.name}-docker:/var/lib/docker`, "-v", `${m.name}-containerd:/var/lib/containerd`,
        IMAGE,
    );
    const seed = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-seed-"));
    try {
        fs.writeFileSync(path.join(seed, "meta-data"), `instance-id: ${m.name}\nlocal-hostname: ${m.name}\n`);
        fs.writeFileSync(
            path.join(seed, "user-data"),
            labUserData({ user: m.user, authorizedKey: m.client.publicKey, hostPrivate: m.host.privateKey, hostPublic: m.host.publicKey }),
            { mode: 0o600 },
        );
        sh(`tar -C '${seed}' --owner=0 --group=0 --transform 's,^\\.,var/lib/cloud/seed/nocloud,' -cf - . | docker cp - '${m.name}:/'`);
    } finally {
        fs.rmSync(seed, { recursive: true, force: true });
    }
    docker("start", m.name);
    await until(`${m.name}: cloud-init done`, 180, async () => {
        const r = childProcess.spawnSync("docker", ["exec", m.name, "cloud-init", "status"], { encoding: "utf8" });
        if (r.status === 1 || r.status === 2) throw new Error(`${m.name}: cloud-init failed: ${r.stdout}${r.stderr}`);
        return r.status === 0;
    }, 1000);
    await until(`${m.name}: SSH as ${m.user}`, 60, async () => (await sshRun(siteLogin(m), "sudo -n true", 10_000)).code === 0, 1000);
}

/** Removes what the test made outside Pulumi (and whatever a failed destroy left of the pool). */
function removeSite(): void {
    const containers = docker("ps", "-a", "--filter", `label=flotilla.pool=${site}`, "--format", "{{.Names}}");
    if (containers.length > 0) docker("rm", "-f", ...containers);
    const volumes = docker("volume", "ls", "--filter", `label=flotilla.pool=${site}`, "--format", "{{.Name}}");
    if (volumes.length > 0) docker("volume", "rm", ...volumes);
    const poolContainers = docker("ps", "-a", "--filter", `label=flotilla.pool=${pool}`, "--format", "{{.Names}}");
    if (poolContainers.length > 0) docker("rm", "-f", ...poolContainers);
    if (docker("network", "ls", "--filter", `name=^${siteNet}$`, "--format", "{{.Name}}").length > 0) docker("network", "rm", siteNet);
}

async function config(stage: string, extra: Record<string, string> = {}): Promise<void> {
    await stack!.setAllConfig({
        "test:stage": { value: stage },
        "test:machines": {
            value: JSON.stringify(
                machines.map((m, i) => ({ name: m.name, address: m.address, user: m.user, ...(i === 0 ? { hostKey: m.host.publicKey } : {}) })),
            ),
        },
        "test:keys": { value: JSON.stringify(machines.map((m) => m.client.privateKey)), secret: true },
        "test:wrongPin": { value: extra.wrongPin ?? "" },
    });
}

async function on(login: Login, command: string): Promise<string> {
    const r = await sshRun(login, `sudo -n ${command}`, 120_000);
    if (r.code !== 0) throw new Error(`${command} on ${login.host}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
}

const timings: string[] = [];
const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const out = await f();
    timings.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
    console.log(timings[timings.length - 1]);
    return out;
};

beforeAll(async () => {
    removeStaleTestPools();
    docker("network", "create", "--driver", "bridge", "--subnet", SITE_SUBNET, "--gateway", "10.213.141.1", "--label", `flotilla.pool=${site}`, siteNet);
    await timed("two machines made outside Pulumi (docker create, NoCloud seed, boot)", () => Promise.all(machines.map(makeMachine)));
    stack = await testProgramStack("existing", `ex-${process.pid}`, { "test:poolName": pool, "test:subnet": POOL_SUBNET });
    await config("lab");
});

afterAll(() => tearDown(stack, { pool, after: removeSite }));

describe("ExistingHosts in the lab", () => {
    test("up: the lab machine joins the site network; two adopted machines and it form one swarm", async () => {
        const first = await timed("up of the lab pool (1 machine)", () => stack!.up());
        const labAddress = (first.outputs.labAddresses.value as string[])[0];
        labLogin = {
            host: labAddress,
            user: first.outputs.labUser.value as string,
            privateKey: first.outputs.labPrivateKey.value as string,
            hostKey: (first.outputs.labHostKeys.value as string[])[0],
        };
        // The interconnect, made by the "network admins": the lab machine is plugged into the site
        // network and the site routes the pool's block through it.
        docker("network", "connect", "--ip", GATEWAY_ON_SITE, siteNet, `${pool}-0`);
        for (const m of machines) docker("exec", m.name, "ip", "route", "replace", POOL_SUBNET, "via", GATEWAY_ON_SITE);
        for (const m of machines) expect(await on(siteLogin(m), `bash -c 'exec 3<>/dev/tcp/${labAddress}/22 && echo reached'`)).toContain("reached");

        const odd = machines[1];
        await config("cluster");
        // A login without password-less sudo is refused, naming the machine and the user.
        const sudoers = docker("exec", odd.name, "bash", "-c", "ls /etc/sudoers.d/*cloud-init*")[0];
        docker("exec", odd.name, "mv", sudoers, "/root/sudoers.saved");
        try {
            const noSudo = await timed("up refused for a user without password-less sudo", () =>
                stack!.up().then(
                    () => new Error("up succeeded"),
                    (e: Error) => e,
                ),
            );
            expect(noSudo.message).toContain(`existing machine ${odd.name} (${odd.user}@${odd.address}:22): create failed with exit code 126`);
            expect(noSudo.message).toContain(`flotilla: ${odd.user} cannot run sudo -n (password-less sudo is needed)`);
        } finally {
            docker("exec", odd.name, "mv", "/root/sudoers.saved", sudoers);
        }
        // A machine on an operating system flotilla does not support is refused, naming it and what was found.
        docker("exec", odd.name, "bash", "-c", "cp --remove-destination /usr/lib/os-release /etc/os-release && sed -i 's/^VERSION_ID=.*/VERSION_ID=\"11\"/' /etc/os-release");
        try {
            const refused = await timed("up refused for an unsupported OS on one machine (the rest proceeds)", () =>
                stack!.up().then(
                    () => new Error("up succeeded"),
                    (e: Error) => e,
                ),
            );
            expect(refused.message).toContain(
                `machine ${odd.name} runs debian 11: not supported (supported: debian 12, ubuntu 22.04, ubuntu 24.04 on amd64 or arm64)`,
            );
        } finally {
            docker("exec", odd.name, "ln", "-sf", "../usr/lib/os-release", "/etc/os-release");
        }

        const up = await timed("the next up: ExistingHosts + Docker on 3 + Swarm (1 manager, 2 workers) complete", () => stack!.up());
        const out = up.outputs;
        // Probed, not assumed: the lab image is Debian 12 on this machine's architecture.
        const arch = process.arch === "arm64" ? "arm64" : "amd64";
        expect(out.platforms.value).toEqual(Object.fromEntries(machines.map((m) => [m.name, { os: "debian", osVersion: "12", arch }])));
        // The identity is each machine's /etc/machine-id.
        for (const [i, m] of machines.entries()) {
            expect((out.instanceIds.value as string[])[i]).toBe(docker("exec", m.name, "cat", "/etc/machine-id")[0]);
        }
        // The key pinned (machine 0) and the key first seen (machine 1) are the machines' own.
        expect(out.existingHostKeys.value).toEqual(machines.map((m) => bare(m.host.publicKey)));
        const nodes = (await on(labLogin, "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")).trim().split("\n").map((l) => l.trim()).sort();
        expect(nodes).toEqual([`${pool}-0 Ready Leader`, `${machines[0].name} Ready`, `${machines[1].name} Ready`].sort());
        const labels = await on(labLogin, `sh -c 'for n in $(docker node ls -q); do docker node inspect --format "{{.Description.Hostname}} {{json .Spec.Labels}}" $n; done'`);
        for (const m of machines) expect(labels).toContain(`${m.name} {"pool":"site","provider":"existing","site":"lab-annex"}`);
        // Lean state: the first-seen key is kept once, bare, in the unpinned machine's probe only.
        const probes = (JSON.parse(storedState(stack!)).checkpoint.latest.resources as { urn: string; outputs?: Record<string, unknown> }[])
            .filter((r) => /RemoteScript::site-probe-/.test(r.urn));
        expect(probes.map((r) => [r.urn.split("::").pop(), r.outputs?.seenHostKey]).sort()).toEqual([
            [`site-probe-${machines[0].name}`, undefined],
            [`site-probe-${machines[1].name}`, bare(machines[1].host.publicKey)],
        ]);
        // Docker on the adopted machines came from Debian (packageAccess "distribution").
        for (const m of machines) expect(await on(siteLogin(m), "dpkg-query -W -f '${Status}' docker.io")).toBe("install ok installed");
    });

    test("the demo app answers HTTP 200 on every node; the site service runs only on the existing machines", async () => {
        const archive = childProcess.execFileSync("docker", ["save", "flotilla-demo:v1"], { maxBuffer: 256 * 1024 * 1024 });
        await timed("docker save | ssh docker load on 3 machines", () =>
            Promise.all([labLogin, ...machines.map(siteLogin)].map((l) => sshRun(l, "sudo -n docker load -q", 120_000, archive))),
        );
        await config("app");
        const up = await timed("up of the SwarmApp (web global + site on existing only)", () => stack!.up());
        expect(up.outputs.services.value).toEqual({ web: { running: 3, desired: 3 }, site: { running: 2, desired: 2 } });
        for (const address of [labLogin.host, ...machines.map((m) => m.address)]) {
            expect(await httpGet(`http://${address}:8080/`)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        }
        const where = (await on(labLogin, "docker service ps demo_site --filter desired-state=running --format '{{.Node}}'")).trim().split("\n").sort();
        expect(where).toEqual(machines.map((m) => m.name).sort());
        for (const m of machines) expect(await httpGet(`http://${m.address}:8081/`)).toEqual([200, expect.stringContaining("flotilla-demo v1")]);
        await expect(httpGet(`http://${labLogin.host}:8081/`, 2000)).rejects.toThrow();
    });

    test("a second up changes nothing", async () => {
        const up = await stack!.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("a pinned host key that is not the machine's is refused, naming it and both fingerprints", async () => {
        const wrong = generateEd25519("root@impostor").publicKey;
        await config("app", { wrongPin: wrong });
        const error = await stack!.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        const m = machines[0];
        expect(error.message).toContain(`existing machine ${m.name} (${m.user}@${m.address}:22): refused: ${m.address}:22 presents the host key ${hostKeyFingerprint(m.host.publicKey)} (ssh-ed25519), not the pinned host key ${hostKeyFingerprint(wrong)}`);
        await config("app");
        const again = await stack!.up();
        expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("a machine trusted on first use that presents another key later is refused on refresh", async () => {
        const m = machines[1];
        const other = generateEd25519(`root@${m.name}`);
        const swapKey = (k: OpenSshKeyPair) => {
            const b64 = Buffer.from(k.privateKey).toString("base64");
            docker("exec", m.name, "bash", "-c", `echo ${b64} | base64 -d >/etc/ssh/ssh_host_ed25519_key && echo '${k.publicKey}' >/etc/ssh/ssh_host_ed25519_key.pub && systemctl restart ssh`);
        };
        swapKey(other);
        try {
            const error = await stack!.refresh().then(
                () => new Error("refresh succeeded"),
                (e: Error) => e,
            );
            expect(error.message).toContain(`existing machine ${m.name} (${m.user}@${m.address}:22): refused: ${m.address}:22 presents the host key ${hostKeyFingerprint(other.publicKey)} (ssh-ed25519), not the host key it presented when first seen, ${hostKeyFingerprint(m.host.publicKey)} (recorded in the state)`);
        } finally {
            swapKey(m.host);
        }
        const refreshed = await stack!.refresh();
        expect(refreshed.summary.result).toBe("succeeded");
    });

    test("destroy removes what flotilla made and leaves the adopted machines running and reachable over SSH", async () => {
        const result = await timed("destroy", () => stack!.destroy());
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
        for (const m of machines) {
            expect(docker("inspect", "--format", "{{.State.Running}}", m.name)).toEqual(["true"]);
            expect((await on(siteLogin(m), "docker info --format '{{.Swarm.LocalNodeState}}'")).trim()).toBe("inactive");
            expect((await sshRun(siteLogin(m), "id -un")).stdout.trim()).toBe(m.user);
        }
        console.log(`timings:\n  ${timings.join("\n  ")}`);
    });
});

