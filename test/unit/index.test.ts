import { recordResources } from "./mocks";

const registered = recordResources();

test("importing the library creates nothing", async () => {
    const lib = await import("../../lib");
    expect(typeof lib.LabHostPool).toBe("function");
    expect(typeof lib.ExistingHosts).toBe("function");
    await new Promise((r) => setTimeout(r, 50));
    expect(registered).toEqual([]);
});

test("the root loads no cloud SDK: AzureHostPool comes only from the subpath flotilla/azure", async () => {
    const lib = (await import("../../lib")) as Record<string, unknown>;
    expect(lib.AzureHostPool).toBeUndefined();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require("../../package.json");
    expect(pkg.exports["./azure"]).toEqual({ types: "./dist/lib/hosts/azure/index.d.ts", default: "./dist/lib/hosts/azure/index.js" });
    // In a process of its own (Jest's module registry is not Node's): what requiring the root loads.
    const { execFileSync } = await import("child_process");
    const script =
        "require('./lib');const m=Object.keys(require.cache);" +
        "console.log(JSON.stringify([m.some(k=>k.includes('@pulumi/azure-native')),m.some(k=>k.includes('hosts/azure/')),m.some(k=>k.endsWith('@pulumi/azure-native/index.js'))]))";
    const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: `${__dirname}/../..`, encoding: "utf8" });
    expect(JSON.parse(out.trim())).toEqual([false, false, false]);
    const azure = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script.replace("./lib", "./lib/hosts/azure")], { cwd: `${__dirname}/../..`, encoding: "utf8" });
    // ... and what requiring flotilla/azure loads: the SDK's submodules, never its root (every service).
    expect(JSON.parse(azure.trim())).toEqual([true, true, false]);
}, 60000);

test("the root loads no @pulumi/kubernetes: the provider path comes only from the subpath flotilla/kubernetes", async () => {
    const lib = (await import("../../lib")) as Record<string, unknown>;
    expect(lib.PulumiKubernetesApp).toBeUndefined();
    expect(lib.ClusterProvider).toBeUndefined();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require("../../package.json");
    expect(pkg.exports["./kubernetes"]).toEqual({
        types: "./dist/lib/workload/deploy/pulumi-kubernetes/index.d.ts",
        default: "./dist/lib/workload/deploy/pulumi-kubernetes/index.js",
    });
    expect(pkg.typesVersions["*"].kubernetes).toEqual(["dist/lib/workload/deploy/pulumi-kubernetes/index.d.ts"]);
    expect(pkg.peerDependenciesMeta["@pulumi/kubernetes"]).toEqual({ optional: true });
    const { execFileSync } = await import("child_process");
    // [any @pulumi/kubernetes file, the subpath's own files, the SDK's root index]
    const script = (entry: string) =>
        `require('${entry}');const m=Object.keys(require.cache);` +
        "console.log(JSON.stringify([m.some(k=>k.includes('@pulumi/kubernetes')),m.some(k=>k.includes('pulumi-kubernetes/')),m.some(k=>k.endsWith('@pulumi/kubernetes/index.js'))]))";
    const run = (entry: string) =>
        JSON.parse(execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script(entry)], { cwd: `${__dirname}/../..`, encoding: "utf8" }).trim());
    expect(run("./lib")).toEqual([false, false, false]);
    // flotilla/kubernetes loads the SDK's modules of the resources it makes, never its root (every API group).
    expect(run("./lib/workload/deploy/pulumi-kubernetes")).toEqual([true, true, false]);
}, 60000);
