/**
 * RemoteScript against a real lab machine, through the engine: phases, environment quoting, secrets
 * kept out of state and errors, re-run on change, refresh, a replaced machine, delete.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { docker, poolLeftovers, removeStaleTestPools, storedState, tearDown, TEST_POOL_PREFIX, testProgramStack } from "./harness";
import { sshRun } from "./ssh";
import { remoteScriptProvider } from "../../lib/shared/remote-script";

jest.setTimeout(15 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}rs${process.pid}`;
const TOKEN = "tok-3f9a1c-secret-value";
const GREETING = `it's "quoted" $HOME \\ done`;
const SCRIPT = `set -euo pipefail
d=/var/lib/flotilla-test
case "$FLOTILLA_PHASE" in
  create|update)
    mkdir -p "$d"
    printf '%s|%s\\n' "$FLOTILLA_PHASE" "$GREETING" >>"$d/log"
    printf '%s' "$TOKEN" >"$d/token"
    echo "progress: the log written on $(hostname), token $TOKEN" >&2
    sleep 4
    echo "some progress"
    echo "result uid=$(id -u) $GREETING" ;;
  read) [ -f "$d/log" ] || exit 3 ;;
  delete) rm -rf "$d" ;;
esac
`;

let stack: Stack;
let login: { host: string; user: string; privateKey: string; hostKey: string };

async function onMachine(command: string): Promise<string> {
    const r = await sshRun(login, command);
    expect(r.code).toBe(0);
    return r.stdout;
}

beforeAll(async () => {
    removeStaleTestPools();
    stack = await testProgramStack(
        "remote-script",
        `rs-${process.pid}`,
        { "test:poolName": pool, "test:subnet": "10.213.102.0/29", "test:script": SCRIPT, "test:greeting": GREETING },
        { "test:token": TOKEN },
    );
});

afterAll(() => tearDown(stack, { pool }));

describe("RemoteScript on a lab machine", () => {
    test("create runs the script as root with its environment, quoted exactly; result is the last line", async () => {
        // The engine's output as it comes, each chunk with the time it arrived.
        const chunks: { at: number; text: string }[] = [];
        const up = await stack.up({ onOutput: (text) => chunks.push({ at: Date.now(), text }) });
        const output = chunks.map((c) => c.text).join("");
        // A running script's log line reaches the output before its resource completes, secret masked.
        const progressAt = chunks.find((c) => c.text.includes(`flotilla: test script on ${pool}-0: progress: the log written on ${pool}-0, token [secret]`))?.at;
        const createdAt = chunks.find((c) => /RemoteScript script created/.test(c.text))?.at;
        expect(progressAt).toBeDefined();
        expect(createdAt).toBeDefined();
        expect(output.indexOf("progress: the log written")).toBeLessThan(output.search(/RemoteScript script created/));
        expect((createdAt as number) - (progressAt as number)).toBeGreaterThanOrEqual(2000);
        expect(output.includes(TOKEN)).toBe(false);
        const out = up.outputs;
        login = {
            host: out.address.value as string,
            user: out.user.value as string,
            privateKey: out.privateKey.value as string,
            hostKey: out.hostKey.value as string,
        };
        expect(out.result.value).toBe(`result uid=0 ${GREETING}`);
        expect(await onMachine("sudo cat /var/lib/flotilla-test/log")).toBe(`create|${GREETING}\n`);
        expect(await onMachine("sudo cat /var/lib/flotilla-test/token")).toBe(TOKEN);
        expect(out.machineId.value).toBe((await onMachine("cat /etc/machine-id")).trim());
    });

    test("nothing of the secret or the private key is stored in plain text; no temp file is left", async () => {
        const state = storedState(stack);
        expect({ token: state.includes(TOKEN), key: state.includes("PRIVATE KEY") }).toEqual({ token: false, key: false });
        expect(await onMachine("ls /tmp | grep -c '^tmp\\.' || true")).toBe("0\n");
    });

    test("a second up runs nothing", async () => {
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 8 });
        expect(await onMachine("sudo cat /var/lib/flotilla-test/log")).toBe(`create|${GREETING}\n`);
    });

    test("a changed environment re-runs the script in place (update phase)", async () => {
        await stack.setConfig("test:greeting", { value: "second" });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 7, update: 1 });
        expect(await onMachine("sudo cat /var/lib/flotilla-test/log")).toBe(`create|${GREETING}\nupdate|second\n`);
    });

    test("a failing script fails the up with target, phase, exit code and its last lines, secret masked", async () => {
        await stack.setConfig("test:script", { value: 'echo "token=$TOKEN on $(hostname)" >&2; exit 7' });
        const error = await stack.up().then(
            () => new Error("up succeeded"),
            (e: Error) => e,
        );
        const message = error.message;
        expect(message).toContain(`test script on ${pool}-0: update failed with exit code 7 after`);
        expect(message).toContain(`token=[secret] on ${pool}-0`);
        expect(message.includes(TOKEN)).toBe(false);
        // The failed update left the recorded state as it was: restoring the script is no change.
        await stack.setConfig("test:script", { value: SCRIPT });
        expect((await stack.up()).summary.resourceChanges).toEqual({ same: 8 });
    });

    test("refresh notices what the script made is gone; the next up makes it again", async () => {
        await onMachine("sudo rm -rf /var/lib/flotilla-test");
        const refresh = await stack.refresh();
        expect(refresh.summary.resourceChanges).toEqual({ same: 7, delete: 1 });
        expect((await stack.up()).summary.resourceChanges).toEqual({ same: 7, create: 1 });
        expect(await onMachine("sudo cat /var/lib/flotilla-test/log")).toBe("create|second\n");
    });

    test("delete and refresh check the machine identity: another machine at the address is left alone", async () => {
        const props = {
            connection: { host: login.host, port: 22, user: login.user, hostKey: login.hostKey },
            privateKey: login.privateKey,
            bastion: null,
            script: SCRIPT,
            environment: { GREETING: "x" },
            secretEnvironment: { TOKEN: "x" },
            target: "direct",
            triggers: [],
            timeoutSeconds: 60,
            connectTimeoutSeconds: 30,
            machineId: "0123456789abcdef0123456789abcdef",
            result: "",
        };
        const provider = remoteScriptProvider as Required<typeof remoteScriptProvider>;
        await provider.delete("id", props);
        expect(await onMachine("sudo cat /var/lib/flotilla-test/log")).toBe("create|second\n");
        expect(await provider.read("id", props)).toEqual({ id: "", props: {} });
        const machineId = (await onMachine("cat /etc/machine-id")).trim();
        expect(await provider.read("id", { ...props, machineId })).toEqual({ id: "id", props: { ...props, machineId } });
    });

    test("a machine gone behind Pulumi's back: refresh drops machine and script, the next up redoes both", async () => {
        const before = (await onMachine("cat /etc/machine-id")).trim();
        docker("rm", "-f", `${pool}-0`);
        const started = Date.now();
        const refresh = await stack.refresh();
        console.log(`refresh with the machine gone: ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(refresh.summary.resourceChanges).toEqual({ same: 6, delete: 2 });
        expect((await stack.up()).summary.resourceChanges).toEqual({ same: 6, create: 2 });
        expect((await onMachine("cat /etc/machine-id")).trim()).not.toBe(before);
        expect(await onMachine("sudo cat /var/lib/flotilla-test/log")).toBe("create|second\n");
    });

    test("removing the resource runs its delete phase", async () => {
        await stack.setConfig("test:withScript", { value: "false" });
        const up = await stack.up();
        expect(up.summary.resourceChanges).toEqual({ same: 7, delete: 1 });
        expect(await onMachine("test -e /var/lib/flotilla-test && echo present || echo gone")).toBe("gone\n");
    });

    test("destroy leaves nothing behind", async () => {
        await stack.destroy();
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
