/**
 * State upgrade: a stack recorded by an older flotilla is previewed by this one with no replacement
 * and no deletion. The recorded stack (test/lab/states/upgrade.json, from test/lab/programs/upgrade:
 * LabHostPool, LabRegistry, Containerd, KubernetesCluster (kubeadm), KubernetesApp, ExistingHosts,
 * DockerEngine, SwarmCluster and SwarmApp, all up and serving when it was recorded; see
 * test/lab/state-upgrade.ts) is imported into a fresh stack and previewed with the program
 * unchanged: constructs that moved or were renamed must be found again through their aliases, and
 * their children under the same names. The machines are gone; a preview does not need them.
 * The program names the Kubernetes archives of scripts/kubernetes-build.sh's cache (built if missing).
 */
import * as fs from "fs";
import { PreviewResult, Stack } from "@pulumi/pulumi/automation";
import { removeStack, testProgramStack } from "./harness";
import { META_FILE, STACK, STATE_FILE, UpgradeMeta, kubernetesCache } from "./state-upgrade";

jest.setTimeout(20 * 60 * 1000);

let stack: Stack | undefined;

// Nothing was created, and the recorded machines are gone (a destroy would try to reach them):
// only the imported stack and its folder go.
afterAll(async () => {
    if (stack) await removeStack(stack);
});

test("a stack recorded by flotilla 0.1.0 previews with 0 replacements and 0 deletions", async () => {
    const meta = JSON.parse(fs.readFileSync(META_FILE, "utf8")) as UpgradeMeta;
    const deployment = JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
    expect(deployment.deployment.resources).toHaveLength(meta.resources);
    stack = await testProgramStack("upgrade", STACK, { ...meta.config, "test:cache": kubernetesCache() });
    await stack.importStack(deployment);

    let output = "";
    const t0 = Date.now();
    const preview: PreviewResult = await stack.preview({ diff: true, onOutput: (o) => (output += o) });
    const summary = preview.changeSummary as Record<string, number>;
    console.log(`state-upgrade: ${meta.resources} resources recorded at ${meta.commit}; preview ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(summary)}`);
    const bad = Object.entries(summary).filter(([op, n]) => n > 0 && /replace|delete|discard/.test(op));
    if (bad.length > 0) console.log(output);
    expect(bad).toEqual([]);
    // Every recorded resource (provider resources are not steps of their own) is still the program's:
    // the same, or updated in place; none left behind.
    const recorded = (deployment.deployment.resources as { type: string }[]).filter((r) => !r.type.startsWith("pulumi:providers:")).length;
    expect((summary.same ?? 0) + (summary.update ?? 0)).toBe(recorded);
});
