/**
 * The public API, name by name: what the root entry `flotilla` and the subpath entries export
 * (values and types, read with the TypeScript compiler), against the lists below. Making a name
 * public (or internal) is a decision taken here, with a CHANGELOG entry. Also: at most 120 root
 * names, no namespace objects, and every optional property of a public Args/options/spec
 * interface says its default with `@default` (convention 3).
 */
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "../..");

/** The root entry's names, sorted. */
const ROOT_NAMES = [
    "AppDeployerArgs",
    "AppSpec",
    "CgroupDriver",
    "ClusterCapabilities",
    "ClusterPort",
    "ComposeOptions",
    "Containerd",
    "ContainerdArgs",
    "ContainerdSettings",
    "ContainerdSource",
    "DEFAULT_LAB_SUBNET",
    "DockerEngine",
    "DockerEngineArgs",
    "DockerEngineSettings",
    "DockerEngineSource",
    "ExistingBastion",
    "ExistingHosts",
    "ExistingHostsArgs",
    "ExistingMachine",
    "ExposedPortSpec",
    "HealthcheckSpec",
    "Host",
    "HostArchitecture",
    "HostLabels",
    "HostPlatform",
    "HostPoolArgs",
    "ICluster",
    "IHostPool",
    "IKubernetesCluster",
    "ISwarmCluster",
    "InvalidArgumentError",
    "K3sCluster",
    "K3sClusterArgs",
    "K3sComponent",
    "K3sFlannelBackend",
    "K3sSource",
    "KUBERNETES_PORTS",
    "KubeadmCluster",
    "KubeadmClusterArgs",
    "KubeadmFlannelBackend",
    "KubeadmRegistryCredential",
    "KubeadmSource",
    "KubernetesApp",
    "KubernetesAppArgs",
    "KubernetesCluster",
    "KubernetesClusterArgs",
    "KubernetesClusterBaseArgs",
    "KubernetesClusterConstructor",
    "KubernetesDeployerArgs",
    "KubernetesManifestOptions",
    "KubernetesServiceReplicas",
    "LabHostPool",
    "LabHostPoolArgs",
    "LabRegistry",
    "LabRegistryArgs",
    "LegacyKubeadmCluster",
    "LocalScript",
    "LocalScriptArgs",
    "MachinePoolArgs",
    "Orchestrator",
    "PackageAccess",
    "PoolAccessArgs",
    "PortProtocol",
    "PortSpec",
    "PublishMode",
    "RegistryAuth",
    "RegistryCredential",
    "RemoteScript",
    "RemoteScriptArgs",
    "ResourceQuantities",
    "ResourcesSpec",
    "RuntimeHost",
    "RuntimeInfo",
    "RuntimeKind",
    "SWARM_PORTS",
    "ServiceMode",
    "ServiceReplicas",
    "ServiceSpec",
    "SshConnection",
    "SshKeyPair",
    "SshKeyPairArgs",
    "SuppliedSshKey",
    "SwarmApp",
    "SwarmAppArgs",
    "SwarmCluster",
    "SwarmClusterArgs",
    "SwarmNode",
    "UpdateFailureAction",
    "UpdateOrder",
    "UpdatePolicySpec",
    "VmPoolArgs",
    "VolumeMountSpec",
    "VolumeSpec",
    "containerdUserData",
    "dockerEngineUserData",
    "isHost",
    "isHostPool",
    "isKubernetesCluster",
    "isRuntimeHost",
    "isSwarmCluster",
    "kubernetesImageArchives",
    "multipartUserData",
    "renderComposeText",
    "renderKubernetesManifest",
];

/** The subpath entries' names (package.json `exports`), sorted. */
const SUBPATH_NAMES: Record<string, string[]> = {
    "lib/hosts/aws/index.ts": ["AwsHostPool", "AwsHostPoolArgs", "AwsImage"],
    "lib/hosts/azure/index.ts": ["AzureHostPool", "AzureHostPoolArgs", "AzureImageName", "AzureImageReference", "AzureOsDiskType", "AzureZone"],
    "lib/hosts/proxmox/index.ts": ["ProxmoxHostPool", "ProxmoxHostPoolArgs"],
    "lib/workload/deploy/pulumi-kubernetes/index.ts": ["ClusterProvider", "ClusterProviderArgs", "PulumiKubernetesApp", "PulumiKubernetesAppArgs"],
};

/** Public interfaces that describe what a construct gives, not what it takes: no defaults to state. */
const OUTPUT_SHAPES = new Set(["Host", "HostLabels", "HostPlatform", "RuntimeInfo", "RuntimeHost", "SshConnection", "ClusterPort", "ClusterCapabilities"]);

const ENTRIES = ["lib/index.ts", ...Object.keys(SUBPATH_NAMES)];

let program: ts.Program;
let checker: ts.TypeChecker;

beforeAll(() => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.build.json"), {}, {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        },
    });
    if (!config) throw new Error("tsconfig.build.json unreadable");
    program = ts.createProgram(
        ENTRIES.map((e) => path.join(ROOT, e)),
        config.options,
    );
    checker = program.getTypeChecker();
}, 120000);

/** The exports of an entry, aliases resolved. */
function exportsOf(entry: string): { name: string; symbol: ts.Symbol }[] {
    const source = program.getSourceFile(path.join(ROOT, entry));
    if (!source) throw new Error(`no source file ${entry}`);
    const module = checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${entry} is not a module`);
    return checker.getExportsOfModule(module).map((s) => ({
        name: s.name,
        symbol: s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s,
    }));
}

test("the root entry exports exactly the stable API: at most 120 names", () => {
    const names = exportsOf("lib/index.ts").map((e) => e.name).sort();
    expect(names).toEqual([...ROOT_NAMES].sort());
    expect(names.length).toBeLessThanOrEqual(120);
});

test.each(Object.entries(SUBPATH_NAMES))("the subpath entry %s exports exactly its stable API", (entry, expected) => {
    expect(exportsOf(entry).map((e) => e.name).sort()).toEqual([...expected].sort());
});

test("no export is a namespace (a module object)", () => {
    for (const entry of ENTRIES) {
        const modules = exportsOf(entry).filter((e) => e.symbol.flags & ts.SymbolFlags.ValueModule && !(e.symbol.flags & ts.SymbolFlags.Function));
        expect(modules.map((e) => `${entry}: ${e.name}`)).toEqual([]);
    }
    // At run time too: every value the root gives is a class, a function or plain data.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const root = require("../../lib") as Record<string, unknown>;
    const values = Object.keys(root).filter((k) => k !== "__esModule");
    expect(values.filter((k) => !ROOT_NAMES.includes(k))).toEqual([]);
    for (const key of values) {
        const value = root[key];
        const isModule = typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).some((v) => typeof v === "function");
        expect([key, isModule]).toEqual([key, false]);
    }
});

test("every exported name has a doc comment", () => {
    const undocumented: string[] = [];
    for (const entry of ENTRIES) {
        for (const { name, symbol } of exportsOf(entry)) {
            if (symbol.getDocumentationComment(checker).length === 0 && ts.getJSDocTags(symbol.declarations![0]).length === 0) {
                undocumented.push(`${entry}: ${name}`);
            }
        }
    }
    expect(undocumented).toEqual([]);
});

test("every optional property of a public Args, options or spec interface says its default with @default", () => {
    const missing: string[] = [];
    for (const entry of ENTRIES) {
        for (const { name, symbol } of exportsOf(entry)) {
            if (!(symbol.flags & ts.SymbolFlags.Interface) || OUTPUT_SHAPES.has(name)) continue;
            for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
                if (!(property.flags & ts.SymbolFlags.Optional)) continue;
                const declaration = property.declarations?.[0];
                if (!declaration) continue;
                const tags = ts.getJSDocTags(declaration).map((t) => t.tagName.text);
                // A deprecated alias has the default of the property that replaced it.
                if (!tags.includes("default") && !tags.includes("deprecated")) missing.push(`${name}.${property.name}`);
            }
        }
    }
    expect(missing).toEqual([]);
});
