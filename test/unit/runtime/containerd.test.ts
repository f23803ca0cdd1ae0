import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, testHost, valueOf } from "../mocks";
import { bundledScript, bundledScriptText } from "../../../lib/shared/scripts";
import { hashTriggers } from "../../../lib/shared/remote-script";
import { decodeFiles } from "../../../lib/runtime/common";
import { Containerd, ContainerdArgs, containerdConfig, containerdUserData } from "../../../lib/runtime/containerd";
import { InvalidArgumentError } from "../../../lib/core/validate";

const registered = recordResources();
/** The script as shipped: runtime.sh with its includes. */
const SCRIPT = bundledScriptText("runtime/runtime.sh");
const PASSWORD = "s3cr3t-registry-pass";

beforeEach(() => registered.splice(0));

const fakeHost = (name: string, address: string, provider = "aws") => testHost(name, address, { provider });

async function build(name: string, args: ContainerdArgs) {
    const c = new Containerd(name, args);
    await valueOf(c.versions);
    await Promise.all(c.hosts.flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    return c;
}

const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};

const CONFIG = `# Managed by flotilla (Containerd): rewritten whenever its settings change.
version = 2
# Drop-ins of other layers (e.g. the kubeadm cluster's CRI settings); a plugin section there
# replaces this file's one whole.
imports = ["/etc/containerd/conf.d/*.toml"]

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
`;

describe("Containerd", () => {
    test("registers exactly the component and one install per host", async () => {
        await build("ctrd", { hosts: [fakeHost("k-0", "10.0.0.2"), fakeHost("k-1", "10.0.0.3")] });
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "flotilla:runtime:Containerd ctrd",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript ctrd-install-k-0",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript ctrd-install-k-1",
        ]);
    });

    test("cloud hosts: containerd.io from Docker's repository, systemd cgroups, the shipped script", async () => {
        const c = await build("ctrd", { hosts: [fakeHost("k-0", "10.0.0.2")] });
        const install = byName("ctrd-install-k-0").inputs;
        expect([install.script ?? "", install.scriptRef, install.scriptHash]).toEqual(["", "runtime/runtime.sh", bundledScript("runtime", "runtime.sh").hash]);
        const env = install.environment as Record<string, string>;
        expect({ ...env, RUNTIME_FILES: decodeFiles(env.RUNTIME_FILES) }).toEqual({
            RUNTIME_KIND: "containerd",
            RUNTIME_SOURCE: "upstream",
            RUNTIME_VERSION: "1.7",
            RUNTIME_APT_URL: "https://download.docker.com/linux",
            RUNTIME_WAIT_TIMEOUT: "600",
            RUNTIME_CGROUP_DRIVER: "systemd",
            RUNTIME_FILES: [{ path: "/etc/containerd/config.toml", mode: "0644", restart: true, content: CONFIG }],
        });
        expect(install.target).toBe("containerd on k-0 (10.0.0.2)");
        expect(install.triggers).toEqual(hashTriggers(["i-k-0"]));
        expect([c.runtime, c.source, c.version, c.systemdCgroup, c.config]).toEqual([
            "containerd",
            "containerd.io",
            "1.7",
            true,
            CONFIG,
        ]);
    });

    test("the hosts handed on are RuntimeHosts: containerd with its CRI socket, never Swarm-ready", async () => {
        const c = await build("ctrd", { hosts: [fakeHost("k-0", "10.0.0.2")] });
        expect(c.hosts[0].runtime).toMatchObject({
            kind: "containerd",
            criSocket: "unix:///run/containerd/containerd.sock",
            liveRestore: false,
            swarmReady: false,
        });
    });

    test("hosts of both kinds: each gets its own default source; the component says per-host", async () => {
        const c = await build("ctrd", { hosts: [fakeHost("k-0", "10.0.0.2"), fakeHost("lab-0", "10.213.0.2", "lab")] });
        expect([c.source, c.sources]).toEqual(["per-host", { "k-0": "containerd.io", "lab-0": "distro" }]);
    });

    test("lab hosts default to the distribution's containerd, unpinned", async () => {
        const c = await build("ctrd", { hosts: [fakeHost("lab-0", "10.213.0.2", "lab")] });
        const env = byName("ctrd-install-lab-0").inputs.environment as Record<string, string>;
        expect([env.RUNTIME_SOURCE, env.RUNTIME_VERSION, env.RUNTIME_APT_URL]).toEqual(["distro", "", undefined]);
        expect(c.source).toBe("distro");
        expect(c.sources).toEqual({ "lab-0": "distro" });
    });

    test("lab hosts (no pin installed) report no version pin", async () => {
        const c = await build("ctrd", { hosts: [fakeHost("lab-0", "10.213.0.2", "lab")] });
        expect(c.version).toBeUndefined();
    });

    test("mirrors and insecure registries become hosts.toml files; systemdCgroup can be turned off", async () => {
        await build("ctrd", {
            hosts: [fakeHost("k-0", "10.0.0.2")],
            source: "distro",
            version: "1.6.20~ds1-1+deb12u3",
            systemdCgroup: false,
            registryMirrors: ["https://mirror.gcr.io", "http://10.1.2.3:5000/"],
            insecureRegistries: ["registry.lab:5000"],
        });
        const env = byName("ctrd-install-k-0").inputs.environment as Record<string, string>;
        expect(env.RUNTIME_VERSION).toBe("1.6.20~ds1-1+deb12u3");
        const files = decodeFiles(env.RUNTIME_FILES);
        expect(files.map((f) => [f.path, f.mode, f.restart])).toEqual([
            ["/etc/containerd/config.toml", "0644", true],
            ["/etc/containerd/certs.d/docker.io/hosts.toml", "0644", false],
            ["/etc/containerd/certs.d/registry.lab:5000/hosts.toml", "0644", false],
        ]);
        expect(files[0].content).toBe(CONFIG.replace("SystemdCgroup = true", "SystemdCgroup = false"));
        expect(files[1].content).toBe(
            [
                "# Managed by flotilla (Containerd).",
                'server = "https://registry-1.docker.io"',
                "",
                '[host."https://mirror.gcr.io"]',
                '  capabilities = ["pull", "resolve"]',
                "",
                '[host."http://10.1.2.3:5000"]',
                '  capabilities = ["pull", "resolve"]',
                "",
            ].join("\n"),
        );
        expect(files[2].content).toBe(
            [
                "# Managed by flotilla (Containerd).",
                'server = "https://registry.lab:5000"',
                "",
                '[host."https://registry.lab:5000"]',
                '  capabilities = ["pull", "resolve", "push"]',
                "  skip_verify = true",
                "",
                '[host."http://registry.lab:5000"]',
                '  capabilities = ["pull", "resolve", "push"]',
                "",
            ].join("\n"),
        );
    });

    test("with credentials, config.toml (which then holds them) is a secret file of mode 0600", async () => {
        const c = await build("ctrd", {
            hosts: [fakeHost("k-0", "10.0.0.2")],
            registryCredentials: [{ registry: "registry.example.com", username: "ci", password: pulumi.secret(PASSWORD) }],
        });
        const install = byName("ctrd-install-k-0").inputs;
        const env = install.environment as Record<string, string>;
        expect(decodeFiles(env.RUNTIME_FILES)).toEqual([]);
        expect(JSON.stringify(env)).not.toContain(Buffer.from(PASSWORD).toString("base64").slice(0, 12));
        const secret = install.secretEnvironment as Record<string, unknown>;
        expect(secret[SECRET_SIG]).toBe(SECRET_MARK);
        const files = decodeFiles((secret.value as Record<string, string>).RUNTIME_SECRET_FILES);
        expect(files.map((f) => [f.path, f.mode, f.restart])).toEqual([["/etc/containerd/config.toml", "0600", true]]);
        expect(files[0].content).toBe(
            `${CONFIG}\n[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.example.com".auth]\n` +
                `  username = "ci"\n  password = "${PASSWORD}"\n`,
        );
        expect(c.config).toBe(CONFIG);
    });

    const T = 'flotilla:runtime:Containerd "ctrd": invalid';
    test.each([
        [{ source: "docker-ce" }, `${T} source: received "docker-ce"; expected one of "containerd.io", "distro", "preinstalled".`],
        [
            { version: "stable" },
            `${T} version: received "stable"; expected a version pin such as "1.7.28" (an upstream version or its prefix) or an exact apt version such as "1.6.20~ds1-1+deb12u3".`,
        ],
        [{ systemdCgroup: "true" }, `${T} systemdCgroup: received "true"; expected true or false.`],
        [{ registryMirrors: ["//mirror"] }, `${T} registryMirrors[0]: received "//mirror"; expected an http(s) URL`],
        [{ insecureRegistries: ["reg_1:5000"] }, `${T} insecureRegistries[0]: received "reg_1:5000"; expected a registry as host[:port]`],
        [{ hosts: [] }, `${T} hosts: received "0 hosts"; expected a list of Hosts (e.g. a host pool's \`hosts\`).`],
    ])("bad input %p fails at construction, naming the property, and creates nothing", async (bad, message) => {
        const args = { hosts: [fakeHost("k-0", "10.0.0.2")], ...bad } as unknown as ContainerdArgs;
        expect(() => new Containerd("ctrd", args)).toThrow(InvalidArgumentError);
        expect(() => new Containerd("ctrd", args)).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});

describe("containerdConfig / containerdUserData", () => {
    test("Docker Hub credentials are keyed by the host containerd contacts; strings are TOML-escaped", () => {
        const text = containerdConfig({ systemdCgroup: true }, [{ registry: "docker.io", username: "u", password: 'p"q\\r' }]);
        expect(text).toContain('[plugins."io.containerd.grpc.v1.cri".registry.configs."registry-1.docker.io".auth]');
        expect(text).toContain('  password = "p\\"q\\\\r"\n');
    });

    test("the fragment exports the containerd settings, then the script unchanged", async () => {
        const text = await valueOf(containerdUserData({ source: "distro", version: "1.6.20~ds1-1+deb12u3" }));
        expect(text.startsWith("#!/bin/bash\n")).toBe(true);
        expect(text).toContain("export RUNTIME_KIND='containerd'\nexport RUNTIME_SOURCE='distro'\nexport RUNTIME_VERSION='1.6.20~ds1-1+deb12u3'\n");
        expect(text.endsWith(`\n${SCRIPT}`)).toBe(true);
        expect(await valueOf(containerdUserData())).toContain("export RUNTIME_SOURCE='upstream'\nexport RUNTIME_VERSION='1.7'\n");
    });
});
