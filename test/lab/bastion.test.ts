/**
 * The bastion path in the lab (program test/lab/programs/bastion, pool on 10.213.151.0/28): machine
 * 0 is the bastion; machines 1-2 get an nftables firewall (from their first-boot user data,
 * switched on by a step that already goes through the bastion) that accepts SSH only from the
 * bastion's address; Docker is installed on them through `connection.bastion`.
 *
 * Asserted with OpenSSH (`ssh`, known_hosts with only the pool's pre-set keys, StrictHostKeyChecking
 * yes on both hops, `-J` for the jump): direct SSH from this host to machines 1-2 times out, through
 * the bastion it works and the machines see the bastion's address as the client; Docker runs on
 * 1-2 (and not on the bastion); a second up changes nothing; a wrong bastion host key is refused
 * naming both fingerprints; destroy leaves nothing.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { generateEd25519 } from "../../lib/shared/ssh-keys";
import { remoteScriptProvider } from "../../lib/shared/remote-script";
import { hostKeyFingerprint } from "../../lib/shared/providers/remote-script";
import { poolLeftovers, removeStaleTestPools, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { opensshRun, OpenSshTarget } from "./openssh";

jest.setTimeout(20 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}bst${process.pid}`;
const SUBNET = "10.213.151.0/28";
const BASTION = "10.213.151.2";
let stack: Stack;
let machines: OpenSshTarget[];
let privateKey: string;
/** Docker's version on each machine, as the install through the bastion reported it. */
let versions: Record<string, string>;
const timings: string[] = [];

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const out = await f();
    timings.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return out;
}

/** Runs `command` on machine `i` with OpenSSH, through the bastion (machine 0) unless `direct`. */
function on(i: number, command: string, direct = false) {
    return opensshRun(machines[i], privateKey, command, direct ? { connectTimeoutSeconds: 5 } : { jump: machines[0] });
}

function ok(i: number, command: string): string {
    const r = on(i, command, i === 0);
    if (r.status !== 0) throw new Error(`${command} on machine ${i}: exit ${r.status}: ${r.stderr}`);
    return r.stdout;
}

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack("bastion", `bst-${process.pid}`, { "test:poolName": pool, "test:subnet": SUBNET });
});

afterAll(() => tearDown(stack, { pool, after: () => console.log(`timings:\n  ${timings.join("\n  ")}`) }));

describe("the bastion path in the lab", () => {
    test("up: 3 machines, the firewall switched on through the bastion, Docker on machines 1-2 through it", async () => {
        const up = await timed("up (pool of 3, firewall on 2 through the bastion, Docker on 2 through the bastion)", () => stack.up());
        expect(up.summary.result).toBe("succeeded");
        const out = up.outputs;
        const hostKeys = out.hostKeys.value as string[];
        const user = out.user.value as string;
        privateKey = out.privateKey.value as string;
        machines = (out.addresses.value as string[]).map((host, i) => ({ host, user, hostKey: hostKeys[i] }));
        versions = out.dockerVersions.value as Record<string, string>;
        expect(out.bastionHost.value).toBe(BASTION);
        expect(machines.map((m) => m.host)).toEqual([BASTION, "10.213.151.3", "10.213.151.4"]);
        expect(out.sources.value).toEqual({ [`${pool}-1`]: "distro", [`${pool}-2`]: "distro" });
    });

    test("machines 1-2 refuse direct SSH from this host (dropped: the connection times out); the bastion answers", () => {
        for (const i of [1, 2]) {
            const r = on(i, "true", true);
            expect(r.status).toBe(255);
            expect(r.stderr).toContain(`connect to host ${machines[i].host} port 22: Connection timed out`);
        }
        expect(ok(0, "hostname").trim()).toBe(`${pool}-0`);
    });

    test("through the bastion, OpenSSH reaches machines 1-2 (both host keys checked strictly); they see the bastion as the client", () => {
        for (const i of [1, 2]) {
            const [hostname, client] = ok(i, 'hostname; echo "$SSH_CONNECTION"').trim().split("\n");
            expect(hostname).toBe(`${pool}-${i}`);
            expect(client.split(" ")[0]).toBe(BASTION);
            expect(ok(i, "sudo -n nft list table inet flotilla_ssh")).toContain(`ip saddr ${BASTION} tcp dport 22 accept`);
        }
        // A jump host whose key is not the one known is refused by the client.
        const impostor = { ...machines[0], hostKey: generateEd25519("root@impostor").publicKey };
        const r = opensshRun(machines[1], privateKey, "true", { jump: machines[0] }, [machines[1], impostor]);
        expect(r.status).toBe(255);
        expect(r.stderr).toContain("Host key verification failed.");
    });

    test("Docker was installed on machines 1-2 through the bastion (and not on the bastion)", () => {
        expect(Object.keys(versions).sort()).toEqual([`${pool}-1`, `${pool}-2`]);
        for (const i of [1, 2]) {
            expect(ok(i, "sudo -n docker info --format '{{.ServerVersion}}'").trim()).toBe(versions[`${pool}-${i}`]);
            expect(ok(i, "dpkg-query -W -f '${Status}' docker.io")).toBe("install ok installed");
        }
        expect(on(0, "command -v docker", true).status).toBe(1);
    });

    test("a second up changes nothing", async () => {
        const up = await timed("second up", () => stack.up());
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("a wrong bastion host key is refused, naming the bastion's address and both fingerprints", async () => {
        const wrong = generateEd25519("root@impostor").publicKey;
        const props = {
            connection: { host: machines[1].host, port: 22, user: machines[1].user, hostKey: machines[1].hostKey },
            privateKey,
            bastion: { host: BASTION, port: 22, user: machines[0].user, hostKey: wrong, privateKey },
            script: "true",
            environment: {},
            secretEnvironment: {},
            target: "probe through a wrongly pinned bastion",
            triggers: [],
            timeoutSeconds: 30,
            connectTimeoutSeconds: 10,
        };
        const provider = remoteScriptProvider as Required<typeof remoteScriptProvider>;
        const error = await provider.create(props).then(
            () => new Error("create succeeded"),
            (e: Error) => e,
        );
        expect(error.message).toBe(
            `probe through a wrongly pinned bastion: refused: the bastion ${BASTION}:22 presents the host key ${hostKeyFingerprint(machines[0].hostKey)} (ssh-ed25519), ` +
                `not the pinned host key ${hostKeyFingerprint(wrong)}: refusing to connect (another machine at that address, or someone in between; ` +
                "if the machine was re-imaged, pin its new key)",
        );
    });

    test("destroy leaves nothing behind", async () => {
        const result = await timed("destroy", () => stack.destroy());
        expect(result.summary.result).toBe("succeeded");
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
