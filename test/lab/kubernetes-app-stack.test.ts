/**
 * KubernetesApp on the whole stack of constructs, through the engine: LabHostPool → Containerd →
 * KubernetesCluster (kubeadm) → LabRegistry (the demo image) → KubernetesApp with registryAuth, on
 * 10.213.171.0/28. Proven: the rollout finishes with the image pulled with the app's credentials,
 * the NodePort answers on every cluster node, a second up changes nothing, the registry password is
 * nowhere in the state in plain text, destroy leaves nothing on the Docker engine.
 */
import * as childProcess from "child_process";
import { Stack } from "@pulumi/pulumi/automation";
import { ROOT, httpGet, poolLeftovers, removeStack, removeStaleTestPools, storedState, testProgramStack, until, TEST_POOL_PREFIX } from "./harness";

jest.setTimeout(40 * 60 * 1000);

const pool = `${TEST_POOL_PREFIX}k8s${process.pid}`;
const NODE_PORT = 30280;
let stack: Stack | undefined;

beforeAll(async () => {
    removeStaleTestPools();
    const cache = childProcess.execFileSync("bash", [`${ROOT}/scripts/kubernetes-build.sh`], { encoding: "utf8" }).trim().split("\n").pop() as string;
    const demo = childProcess.execFileSync("bash", [`${ROOT}/scripts/demo-image.sh`, "k8s-app-stack"], { encoding: "utf8" }).trim().split("\n").pop() as string;
    stack = await testProgramStack("kubernetes-app-stack", `k8sappstack-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": "10.213.171.0/28",
        "test:cache": cache,
        "test:demoImage": demo,
        "test:nodePort": String(NODE_PORT),
    });
});

afterAll(async () => {
    if (stack) {
        await stack.destroy().catch(() => undefined);
        await removeStack(stack);
    }
    childProcess.spawnSync("docker", ["rmi", "flotilla-demo:k8s-app-stack"]);
});

describe("KubernetesApp on LabHostPool → Containerd → KubernetesCluster (kubeadm) → LabRegistry", () => {
    let addresses: string[] = [];
    test("up: the image is pulled with the app's credentials and the NodePort answers on every node", async () => {
        const started = Date.now();
        const up = await stack!.up();
        console.log(`whole stack up (registry, 2 nodes, app): ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(up.outputs.services.value).toEqual({ web: { ready: 2, desired: 2 } });
        addresses = (up.outputs.addresses.value as string[]).slice(1);
        for (const address of addresses) {
            await until(`${address}:${NODE_PORT} answering`, 60, async () => (await httpGet(`http://${address}:${NODE_PORT}/`, 3000))[0] === 200);
            expect(await httpGet(`http://${address}:${NODE_PORT}/`, 3000)).toEqual([200, expect.stringContaining("flotilla-demo k8s-app-stack")]);
        }
        expect(storedState(stack!).includes(up.outputs.registryPassword.value as string)).toBe(false);
    });

    test("a second up changes nothing", async () => {
        const up = await stack!.up();
        expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
    });

    test("destroy leaves nothing on the Docker engine", async () => {
        await stack!.destroy();
        expect(poolLeftovers(pool)).toEqual([]);
    });
});
