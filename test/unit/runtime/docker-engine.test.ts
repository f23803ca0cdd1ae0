import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, rejectionOf, testHost, valueOf } from "../mocks";
import { bundledScript, bundledScriptText } from "../../../lib/shared/scripts";
import { hashTriggers } from "../../../lib/shared/remote-script";
import { decodeFiles } from "../../../lib/runtime/common";
import { DOCKER_ENGINE_TYPE, DockerEngine, DockerEngineArgs, dockerDaemonConfig, dockerEngineUserData, resolveDockerSettings } from "../../../lib/runtime/docker-engine";
import { dockerSecretFiles } from "../../../lib/runtime/docker-engine-settings";
import { InvalidArgumentError, Validator } from "../../../lib/core/validate";

const registered = recordResources();
/** The script as shipped: runtime.sh with its includes. */
const SCRIPT = bundledScriptText("runtime/runtime.sh");
const PASSWORD = "s3cr3t-registry-pass";

beforeEach(() => registered.splice(0));

const fakeHost = (name: string, address: string, provider = "aws") => testHost(name, address, { provider });

const cloudHosts = () => [fakeHost("web-0", "10.0.0.2"), fakeHost("web-1", "10.0.0.3")];

async function build(name: string, args: DockerEngineArgs) {
    const engine = new DockerEngine(name, args);
    await valueOf(engine.versions);
    await Promise.all(engine.hosts.flatMap((h) => h.ready.map((r) => valueOf(r.urn))));
    return engine;
}

const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};

const DEFAULT_DAEMON_JSON = `{
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "10m",
    "max-file": "3"
  },
  "live-restore": true
}
`;

describe("DockerEngine", () => {
    test("registers exactly the component and one install per host, named after the host", async () => {
        await build("docker", { hosts: cloudHosts() });
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "flotilla:runtime:DockerEngine docker",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript docker-install-web-0",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript docker-install-web-1",
        ]);
    });

    test("cloud hosts: Docker's repository, pinned default version, secure daemon.json, the shipped script", async () => {
        const engine = await build("docker", { hosts: cloudHosts() });
        const install = byName("docker-install-web-1").inputs;
        // The script is named and hashed, not copied into the state.
        expect([install.script ?? "", install.scriptRef, install.scriptHash]).toEqual(["", "runtime/runtime.sh", bundledScript("runtime", "runtime.sh").hash]);
        const env = install.environment as Record<string, string>;
        expect({ ...env, RUNTIME_FILES: decodeFiles(env.RUNTIME_FILES) }).toEqual({
            RUNTIME_KIND: "docker",
            RUNTIME_SOURCE: "upstream",
            RUNTIME_VERSION: "29.2.1",
            RUNTIME_APT_URL: "https://download.docker.com/linux",
            RUNTIME_LIVE_RESTORE: "true",
            RUNTIME_WAIT_TIMEOUT: "600",
            RUNTIME_FILES: [{ path: "/etc/docker/daemon.json", mode: "0644", restart: true, content: DEFAULT_DAEMON_JSON }],
        });
        expect(install.secretEnvironment ?? {}).toEqual({});
        expect(install.target).toBe("docker engine on web-1 (10.0.0.3)");
        expect(install.triggers).toEqual(hashTriggers(["i-web-1"]));
        expect(install.timeoutSeconds).toBe(1800);
        expect(install.connection).toEqual({ host: "10.0.0.3", port: 22, user: "admin", hostKey: "ssh-ed25519 AAAA" });
        expect((install.privateKey as Record<string, unknown>)[SECRET_SIG]).toBe(SECRET_MARK);
        expect([engine.runtime, engine.source, engine.version, engine.joinsSwarm, engine.liveRestore]).toEqual([
            "docker",
            "docker-ce",
            "29.2.1",
            false,
            true,
        ]);
        expect(await valueOf(engine.daemonConfig)).toBe(DEFAULT_DAEMON_JSON);
    });

    test("lab hosts default to the distribution's packages, unpinned", async () => {
        const engine = await build("docker", { hosts: [fakeHost("lab-0", "10.213.0.2", "lab")] });
        const env = byName("docker-install-lab-0").inputs.environment as Record<string, string>;
        expect([env.RUNTIME_SOURCE, env.RUNTIME_VERSION, env.RUNTIME_APT_URL]).toEqual(["distro", "", undefined]);
        expect(engine.source).toBe("distro");
        expect(engine.sources).toEqual({ "lab-0": "distro" });
    });

    test("lab hosts (no pin installed) report no version pin", async () => {
        const engine = await build("docker", { hosts: [fakeHost("lab-0", "10.213.0.2", "lab")] });
        expect(engine.version).toBeUndefined();
    });

    test("hosts of both kinds: each gets its own default source; the engine says per-host", async () => {
        const engine = await build("docker", { hosts: [fakeHost("web-0", "10.0.0.2"), fakeHost("lab-0", "10.213.0.2", "lab")] });
        expect(engine.source).toBe("per-host");
        expect(engine.sources).toEqual({ "web-0": "docker-ce", "lab-0": "distro" });
        const env = (n: string) => byName(n).inputs.environment as Record<string, string>;
        expect([env("docker-install-web-0").RUNTIME_SOURCE, env("docker-install-web-0").RUNTIME_VERSION]).toEqual(["upstream", "29.2.1"]);
        expect([env("docker-install-lab-0").RUNTIME_SOURCE, env("docker-install-lab-0").RUNTIME_VERSION]).toEqual(["distro", ""]);
    });

    test("a given source applies to every host, whatever its package access", async () => {
        const engine = await build("docker", { hosts: [fakeHost("web-0", "10.0.0.2"), fakeHost("lab-0", "10.213.0.2", "lab")], source: "preinstalled" });
        expect([engine.source, engine.sources]).toEqual(["preinstalled", { "web-0": "preinstalled", "lab-0": "preinstalled" }]);
    });

    test("the hosts handed on are RuntimeHosts: Docker, live-restore and Swarm readiness as installed", async () => {
        const standalone = await build("docker", { hosts: cloudHosts() });
        expect(standalone.hosts[0].runtime).toMatchObject({ kind: "docker", liveRestore: true, swarmReady: false });
        expect(standalone.hosts[0].runtime.criSocket).toBeUndefined();
        // Under mocks the script never reports: the driver falls back to cgroupfs.
        expect(await valueOf(standalone.hosts[0].runtime.cgroupDriver)).toBe("cgroupfs");
        const swarm = await build("swarm", { hosts: cloudHosts(), joinsSwarm: true });
        expect(swarm.hosts[1].runtime).toMatchObject({ kind: "docker", liveRestore: false, swarmReady: true });
        expect([swarm.hosts[1].platform, swarm.hosts[1].packageAccess]).toEqual([cloudHosts()[1].platform, "upstream"]);
    });

    test("every setting reaches daemon.json and the environment; Swarm hosts get no live-restore", async () => {
        const engine = await build("docker", {
            hosts: cloudHosts(),
            source: "docker-ce",
            version: "5:28.5.1-1~debian.12~bookworm",
            joinsSwarm: true,
            registryMirrors: ["https://mirror.gcr.io/", "http://10.1.2.3:5000"],
            insecureRegistries: ["registry.lab:5000", "10.213.110.1"],
            logMaxSize: "50m",
            logMaxFiles: 5,
            dockerAptUrl: "https://artifacts.example.com/docker/linux/",
            waitTimeoutSeconds: 120,
            timeoutSeconds: 900,
        });
        const expected = {
            "log-driver": "json-file",
            "log-opts": { "max-size": "50m", "max-file": "5" },
            "live-restore": false,
            "registry-mirrors": ["https://mirror.gcr.io", "http://10.1.2.3:5000"],
            "insecure-registries": ["registry.lab:5000", "10.213.110.1"],
        };
        expect(JSON.parse(await valueOf(engine.daemonConfig))).toEqual(expected);
        const install = byName("docker-install-web-0").inputs;
        const env = install.environment as Record<string, string>;
        expect(JSON.parse(decodeFiles(env.RUNTIME_FILES)[0].content)).toEqual(expected);
        expect([env.RUNTIME_VERSION, env.RUNTIME_LIVE_RESTORE, env.RUNTIME_WAIT_TIMEOUT, env.RUNTIME_APT_URL]).toEqual([
            "5:28.5.1-1~debian.12~bookworm",
            "false",
            "120",
            "https://artifacts.example.com/docker/linux",
        ]);
        expect(install.timeoutSeconds).toBe(900);
        expect([engine.liveRestore, engine.joinsSwarm]).toEqual([false, true]);
    });

    test("registry credentials travel only as a secret file, never in the plain environment", async () => {
        await build("docker", {
            hosts: cloudHosts(),
            registryCredentials: [
                { registry: "registry.example.com:5000", username: "ci", password: pulumi.secret(PASSWORD) },
                { registry: "docker.io", username: "hubuser", password: "plain-given-pass" },
            ],
        });
        const install = byName("docker-install-web-0").inputs;
        expect(JSON.stringify(install.environment)).not.toContain("RUNTIME_SECRET_FILES");
        const secret = install.secretEnvironment as Record<string, unknown>;
        expect(secret[SECRET_SIG]).toBe(SECRET_MARK);
        const value = secret.value as Record<string, string>;
        expect(Object.keys(value)).toEqual(["RUNTIME_SECRET_FILES"]);
        const files = decodeFiles(value.RUNTIME_SECRET_FILES);
        expect(files.map((f) => [f.path, f.mode, f.restart])).toEqual([["/root/.docker/config.json", "0600", false]]);
        expect(JSON.parse(files[0].content)).toEqual({
            auths: {
                "registry.example.com:5000": { auth: Buffer.from(`ci:${PASSWORD}`).toString("base64") },
                "https://index.docker.io/v1/": { auth: Buffer.from("hubuser:plain-given-pass").toString("base64") },
            },
        });
    });

    test("a credential's registry and user may be Outputs (core's RegistryCredential): resolved into the secret file only", async () => {
        await build("docker", {
            hosts: cloudHosts(),
            registryCredentials: [
                { registry: pulumi.output("10.213.0.5:5000"), username: pulumi.output("ci"), password: pulumi.secret(PASSWORD) },
            ],
        });
        const install = byName("docker-install-web-0").inputs;
        expect(JSON.stringify(install.environment)).not.toContain("10.213.0.5");
        const files = decodeFiles((install.secretEnvironment as { value: Record<string, string> }).value.RUNTIME_SECRET_FILES);
        expect(JSON.parse(files[0].content)).toEqual({
            auths: { "10.213.0.5:5000": { auth: Buffer.from(`ci:${PASSWORD}`).toString("base64") } },
        });
    });

    test.each([
        [
            [{ registry: pulumi.output("https://r.example.com"), username: "u", password: "p" }],
            'registryCredentials[0].registry: received "https://r.example.com"; expected a registry as host[:port]',
        ],
        [
            [{ registry: "r.example.com", username: pulumi.output("a b"), password: "p" }],
            `registryCredentials[0].username: received "a b"; expected a non-empty user name without white space or ':'.`,
        ],
        [
            [
                { registry: "r.example.com", username: "u", password: "p" },
                { registry: pulumi.output("r.example.com"), username: "v", password: "q" },
            ],
            'registryCredentials[1].registry: received "r.example.com"; expected a registry as host[:port] (no scheme, no path), such as "registry.example.com", listed once.',
        ],
        [
            [{ registry: "r.example.com", username: pulumi.secret("has space"), password: "p" }],
            "registryCredentials[0].username: received a secret of 9 characters; expected a non-empty user name",
        ],
    ])("an Output part is checked when it resolves, failing the secret files (%#)", async (registryCredentials, message) => {
        const v = new Validator(DOCKER_ENGINE_TYPE, "docker");
        const s = resolveDockerSettings(v, { registryCredentials }, "docker-ce");
        const files = dockerSecretFiles(v, s);
        expect(await rejectionOf(files as pulumi.Output<string>)).toContain(`${T} ${message}`);
    });

    test("hosts keep everything but readiness, which becomes their install; per-host outputs are keyed by name", async () => {
        const input = cloudHosts();
        const engine = await build("docker", { hosts: input });
        expect(engine.hosts.map((h) => h.name)).toEqual(["web-0", "web-1"]);
        expect(engine.hosts[1].connection).toBe(input[1].connection);
        expect(engine.hosts[1].labels).toBe(input[1].labels);
        expect(engine.hosts[1].instanceId).toBe(input[1].instanceId);
        expect(engine.hosts[1].ready).toHaveLength(1);
        expect(await valueOf(engine.hosts[1].ready[0].urn)).toMatch(/docker-install-web-1$/);
        // Under mocks the scripts never run: the result is unknown, so each value is empty.
        expect(await valueOf(engine.versions)).toEqual({ "web-0": "", "web-1": "" });
        expect(await valueOf(engine.packages)).toEqual({ "web-0": "", "web-1": "" });
    });

    const T = 'flotilla:runtime:DockerEngine "docker": invalid';
    const base = () => ({ hosts: cloudHosts() });
    test.each([
        [{ source: "snap" }, `${T} source: received "snap"; expected one of "docker-ce", "distro", "preinstalled".`],
        [
            { version: "latest" },
            `${T} version: received "latest"; expected a version pin such as "29.2.1" (an upstream version or its prefix) or an exact apt version such as "5:29.2.1-1~debian.12~bookworm".`,
        ],
        [
            { version: "29.2.1; reboot" },
            `${T} version: received "29.2.1; reboot"; expected a version pin such as "29.2.1"`,
        ],
        [{ version: "v29.2.1" }, `${T} version: received "v29.2.1"; expected a version pin`],
        [
            { registryMirrors: ["mirror.example.com"] },
            `${T} registryMirrors[0]: received "mirror.example.com"; expected an http(s) URL without credentials, query or fragment, such as "https://mirror.gcr.io".`,
        ],
        [{ registryMirrors: ["https://ok.example.com", "ftp://x.example.com"] }, `${T} registryMirrors[1]: received "ftp://x.example.com"`],
        [{ registryMirrors: ["https://user:pw@mirror.example.com"] }, `${T} registryMirrors[0]: received "https://user:pw@mirror.example.com"`],
        [{ registryMirrors: "https://mirror.example.com" }, `${T} registryMirrors: received "https://mirror.example.com"; expected a list.`],
        [
            { insecureRegistries: ["http://registry.lab:5000"] },
            `${T} insecureRegistries[0]: received "http://registry.lab:5000"; expected a registry as host[:port] (no scheme, no path), such as "registry.lab:5000".`,
        ],
        [{ insecureRegistries: ["registry.lab:99999"] }, `${T} insecureRegistries[0]: received "registry.lab:99999"`],
        [{ insecureRegistries: ["registry.lab/team"] }, `${T} insecureRegistries[0]: received "registry.lab/team"`],
        [
            { registryCredentials: [{ registry: "https://r.example.com", username: "u", password: "p" }] },
            `${T} registryCredentials[0].registry: received "https://r.example.com"; expected a registry as host[:port]`,
        ],
        [
            { registryCredentials: [{ registry: "r.example.com", username: "", password: "p" }] },
            `${T} registryCredentials[0].username: received ""; expected a non-empty user name without white space or ':'.`,
        ],
        [
            { registryCredentials: [{ registry: "r.example.com", username: "u" }] },
            `${T} registryCredentials[0].password: received undefined; expected a password or token (a string or a secret Output).`,
        ],
        [{ joinsSwarm: "yes" }, `${T} joinsSwarm: received "yes"; expected true or false.`],
        [{ logMaxSize: "10MB" }, `${T} logMaxSize: received "10MB"; expected a size such as "10m": a number followed by k, m or g.`],
        [{ logMaxFiles: 0 }, `${T} logMaxFiles: received 0; expected an integer from 1 to 100.`],
        [{ dockerAptUrl: "download.docker.com" }, `${T} dockerAptUrl: received "download.docker.com"; expected an http(s) URL such as "https://download.docker.com/linux".`],
        [{ waitTimeoutSeconds: 5 }, `${T} waitTimeoutSeconds: received 5; expected an integer from 10 to 3600.`],
        [{ timeoutSeconds: 30 }, `${T} timeoutSeconds: received 30; expected an integer from 60 to 7200.`],
        [{ hosts: [] }, `${T} hosts: received "0 hosts"; expected a list of Hosts (e.g. a host pool's \`hosts\`).`],
        [{ hosts: undefined }, `${T} hosts: received undefined; expected a list of Hosts (e.g. a host pool's \`hosts\`).`],
        [
            { hosts: [fakeHost("a", "10.0.0.2"), fakeHost("a", "10.0.0.3")] },
            `${T} hosts[1].name: received "a"; expected a name no other host in the list has.`,
        ],
    ])("bad input %p fails at construction, naming the property, and creates nothing", async (bad, message) => {
        const args = { ...base(), ...bad } as unknown as DockerEngineArgs;
        expect(() => new DockerEngine("docker", args)).toThrow(InvalidArgumentError);
        expect(() => new DockerEngine("docker", args)).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });
});

describe("dockerDaemonConfig", () => {
    test("no hosts key (so no TCP socket), rotation, live-restore; mirrors and insecure registries only when given", () => {
        const text = dockerDaemonConfig({
            liveRestore: true,
            registryMirrors: [],
            insecureRegistries: [],
            logMaxSize: "10m",
            logMaxFiles: 3,
        });
        expect(text).toBe(DEFAULT_DAEMON_JSON);
        expect(text).not.toContain("hosts");
        expect(text).not.toContain("tcp://");
    });
});

describe("dockerEngineUserData", () => {
    test("a #!/bin/bash part: the settings exported (create, inside cloud-init), then the script unchanged", async () => {
        const text = await valueOf(dockerEngineUserData({ source: "distro", registryMirrors: ["https://mirror.gcr.io"] }));
        const lines = text.split("\n");
        expect(lines[0]).toBe("#!/bin/bash");
        expect(lines.slice(2, 9)).toEqual([
            "export FLOTILLA_PHASE='create'",
            "export RUNTIME_IN_CLOUD_INIT='1'",
            "export RUNTIME_KIND='docker'",
            "export RUNTIME_SOURCE='distro'",
            "export RUNTIME_VERSION=''",
            "export RUNTIME_LIVE_RESTORE='true'",
            "export RUNTIME_WAIT_TIMEOUT='600'",
        ]);
        expect(lines[9]).toMatch(/^export RUNTIME_FILES='\/etc\/docker\/daemon.json 0644 1 [A-Za-z0-9+/=]+'$/);
        expect(lines.slice(10).join("\n")).toBe(SCRIPT);
    });

    test("the fragment is valid bash and shellcheck-clean", async () => {
        const text = await valueOf(dockerEngineUserData({ insecureRegistries: ["registry.lab:5000"] }));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-ud-"));
        try {
            const file = path.join(dir, "part.sh");
            fs.writeFileSync(file, text);
            expect(childProcess.spawnSync("bash", ["-n", file]).status).toBe(0);
            const r = childProcess.spawnSync("shellcheck", ["--severity=info", "--shell=bash", file], { encoding: "utf8" });
            expect(r.stdout + r.stderr).toBe("");
            expect(r.status).toBe(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("defaults to Docker's repository; secret when it carries credentials", async () => {
        const plain = dockerEngineUserData();
        expect(await valueOf(plain)).toContain("export RUNTIME_SOURCE='upstream'\nexport RUNTIME_VERSION='29.2.1'");
        expect(await pulumi.isSecret(plain)).toBe(false);
        const withAuth = dockerEngineUserData({
            registryCredentials: [{ registry: "r.example.com", username: "u", password: pulumi.secret(PASSWORD) }],
        });
        expect(await pulumi.isSecret(withAuth)).toBe(true);
        expect(await valueOf(withAuth)).toMatch(/^export RUNTIME_SECRET_FILES='\/root\/.docker\/config.json 0600 0 /m);
    });

    test("bad input fails at the call, naming the property", () => {
        expect(() => dockerEngineUserData({ source: "apt" as never })).toThrow(
            'flotilla:runtime:DockerEngine "userData": invalid source: received "apt"; expected one of "docker-ce", "distro", "preinstalled".',
        );
    });
});
