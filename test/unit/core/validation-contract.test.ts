/**
 * The validation contract of every construct (lib/core/validate.ts), message by message: unknown
 * properties (closest name, full list), Outputs where a plain value is required, a pool or runtime
 * given where its `hosts` are expected, hosts without the runtime a layer needs, registry
 * credentials, one pool name / address block per program, and user data checked before any child
 * exists. Every case asserts the whole message and that nothing was registered.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, messageOf, refusedIn, keyPairOutputs, recordResources, testHost, testRuntimeHost, valueOf } from "../mocks";
import { resetClaims } from "../../../lib/core/claims";
import { FULL_CAPABILITIES, ISwarmCluster, SWARM_PORTS } from "../../../lib/core/cluster";
import { InvalidArgumentError } from "../../../lib/core/validate";
import { LabHostPool } from "../../../lib/hosts/lab";
import { LabRegistry } from "../../../lib/hosts/lab/lab-registry";
import { DockerEngine, dockerEngineUserData } from "../../../lib/runtime/docker-engine";
import { Containerd, containerdUserData } from "../../../lib/runtime/containerd";
import { SwarmCluster } from "../../../lib/cluster/swarm";
import { SwarmApp, SwarmAppArgs } from "../../../lib/workload/deploy/swarm-app";

// What real creates return: key pairs their keys, a stack deploy its services.
const registered = recordResources((type, name) => (name.endsWith("-deploy") ? { result: "{}" } : keyPairOutputs(type, name)));

beforeEach(async () => {
    await settle();
    registered.splice(0);
    resetClaims();
});

/** Lets every registration started so far reach the mocks. */
const settle = () => new Promise((r) => setTimeout(r, 30));

/** The message a construction fails with; nothing registered by it. */
const refused = refusedIn(registered);

const cloud = () => [testHost("web-0", "10.0.0.2"), testHost("web-1", "10.0.0.3")];
const swarmHosts = (n: number, prefix = "m") => Array.from({ length: n }, (_, i) => testRuntimeHost(`${prefix}${i}`, `10.0.0.${i + 2}`));

/** A pool whose children have all been registered (a fixture, not under test). */
async function pool(name = "fixture", subnet = "10.77.0.0/24"): Promise<LabHostPool> {
    const p = new LabHostPool(name, { size: 1, subnet });
    await valueOf(p.privateAddresses);
    await settle();
    return p;
}

describe("LabHostPool", () => {
    const T = 'flotilla:hosts:LabHostPool "lab": invalid';
    const KNOWN = "known: size, poolName, subnet, image, sshUser, sshKey, labels, bootTimeoutSeconds, userData, kubernetes";
    const PART =
        'a cloud-init user data part: a string starting with "#cloud-config", "#!" (a script) or "#cloud-boothook"';
    test.each([
        [{ size: 1, sise: 2 }, `${T} sise: received 2; expected no such property (did you mean "size"?); ${KNOWN}.`],
        [{ size: 1, subnett: "10.1.0.0/24" }, `${T} subnett: received a string of 11 characters; expected no such property (did you mean "subnet"?); ${KNOWN}.`],
        [{ size: 1, zone: "a" }, `${T} zone: received a string of 1 character; expected no such property; ${KNOWN}.`],
        [
            { size: pulumi.output(3) },
            `${T} size: received an Output; expected a plain value, not an Output (it decides which machines exist and is checked before any is created).`,
        ],
        [
            { size: 1, subnet: pulumi.output("10.1.0.0/24") },
            `${T} subnet: received an Output; expected a plain value, not an Output (it decides which machines exist and is checked before any is created).`,
        ],
        [{ size: 1, userData: "#cloud-config\n{}" }, `${T} userData: received "#cloud-config\\n{}"; expected a list of user data parts.`],
        [{ size: 1, userData: ["#cloud-config\n{}", 7] }, `${T} userData[1]: received a secret number; expected ${PART} (not a string).`],
    ])("%p fails at construction, creating nothing", async (args, message) => {
        expect(await refused(() => new LabHostPool("lab", args as never))).toBe(message);
        expect(registered).toEqual([]);
    });

    test("a bad plain user data part fails at construction, showing only its length", async () => {
        const message = await refused(() => new LabHostPool("lab", { size: 1, userData: ["#cloud-config\n{}", "echo hi"] }));
        expect(message).toBe(`${T} userData[1]: received a secret of 7 characters; expected ${PART} (its first line is none of these).`);
        expect(registered).toEqual([]);
    });

    test("a bad user data part never shows its content, only its length", async () => {
        const message = await refused(() => new LabHostPool("lab", { size: 1, userData: ["TOKEN=hunter2\n"] }));
        expect(message).not.toContain("hunter2");
    });

    test("two pools of one program may not share a pool name", async () => {
        new LabHostPool("a", { size: 1, poolName: "shared" });
        await settle();
        const message = await refused(() => new LabHostPool("b", { size: 1, poolName: "shared", subnet: "10.1.0.0/24" }));
        expect(message).toBe(
            'flotilla:hosts:LabHostPool "b": invalid poolName: received "shared"; expected a pool name no other pool of this program uses (flotilla:hosts:LabHostPool "a" does).',
        );
        expect(registered.filter((r) => r.name === "b" || r.name.startsWith("b-"))).toEqual([]);
    });

    test("a pool named by its resource name collides with another's poolName", async () => {
        new LabHostPool("a", { size: 1, poolName: "lab" });
        await settle();
        expect(await refused(() => new LabHostPool("lab", { size: 1, subnet: "10.1.0.0/24" }))).toBe(
            `${T} name: received "lab"; expected a pool name no other pool of this program uses (flotilla:hosts:LabHostPool "a" does).`,
        );
    });

    test.each([
        ["10.213.0.0/24", "10.213.0.0/24"],
        ["10.213.0.128/25", "10.213.0.0/24"],
        ["10.0.0.0/8", "10.213.0.0/24"],
    ])("a subnet %s overlapping another pool's %s is refused", async (subnet, other) => {
        new LabHostPool("a", { size: 1, subnet: other });
        await settle();
        expect(await refused(() => new LabHostPool("lab", { size: 1, subnet }))).toBe(
            `${T} subnet: received "${subnet}"; expected a block that overlaps no other pool's (flotilla:hosts:LabHostPool "a" has ${other}).`,
        );
    });

    test("a refused pool claims nothing: the next one may use its name and block", async () => {
        expect(() => new LabHostPool("lab", { size: 0 })).toThrow(InvalidArgumentError);
        const lab = new LabHostPool("lab", { size: 1 });
        expect(lab.poolName).toBe("lab");
    });

    test("resetClaims starts a new program: the same pool may be declared again", () => {
        new LabHostPool("lab", { size: 1 });
        resetClaims();
        expect(() => new LabHostPool("lab", { size: 1 })).not.toThrow();
    });
});

describe("LabRegistry", () => {
    const T = 'flotilla:hosts:LabRegistry "reg": invalid';
    const KNOWN = "known: host, username, password, port, images, archives";
    const host = () => testHost("reg-0", "10.213.140.2", { provider: "lab" });
    test.each([
        [() => ({ host: host(), imgaes: ["a:1"] }), `${T} imgaes: received a list of 1; expected no such property (did you mean "images"?); ${KNOWN}.`],
        [() => ({ host: host(), user: "ci" }), `${T} user: received a string of 2 characters; expected no such property; ${KNOWN}.`],
        [
            () => ({ host: host(), port: pulumi.output(5000) }),
            `${T} port: received an Output; expected a plain value, not an Output (it is needed before any resource is created).`,
        ],
        [
            () => ({ host: host(), images: pulumi.output(["a:1"]) }),
            `${T} images: received an Output; expected a plain value, not an Output (it is needed before any resource is created).`,
        ],
        [() => ({ host: [host()] }), `${T} host: received "a list of 1 hosts"; expected one Host (e.g. pool.hosts[0]).`],
    ])("%#: fails at construction, creating nothing", async (args, message) => {
        expect(await refused(() => new LabRegistry("reg", args() as never))).toBe(message);
        expect(registered).toEqual([]);
    });

    test("a pool given instead of one of its hosts is named", async () => {
        const p = await pool();
        expect(await refused(() => new LabRegistry("reg", { host: p as never }))).toBe(
            `${T} host: received a LabHostPool; expected a Host (e.g. pool.hosts[0]) with name, connection, privateAddress, instanceId and ready.`,
        );
    });

    test("images that differ but share a readable slug get distinct children", async () => {
        const reg = new LabRegistry("reg", { host: host(), password: "correct-horse", images: ["a/b:c", "a-b:c"] });
        await valueOf(reg.address);
        await settle();
        const hex = (s: string) => crypto.createHash("sha256").update(s).digest("hex").slice(0, 8);
        const pushes = registered.filter((r) => r.name.includes("-push-")).map((r) => r.name);
        expect(pushes).toEqual([`reg-push-a-b-c-${hex("a/b:c")}`, `reg-push-a-b-c-${hex("a-b:c")}`]);
        expect(new Set(pushes).size).toBe(2);
        expect(registered.filter((r) => r.name.includes("-push-")).map((r) => (r.inputs.environment as Record<string, string>).IMAGE_SOURCE)).toEqual([
            "a/b:c",
            "a-b:c",
        ]);
    });

    test("imageRef names the registry's images when asked for another", () => {
        const reg = new LabRegistry("reg", { host: host(), password: "correct-horse", images: ["a:1"] });
        expect(messageOf(() => reg.imageRef("b:1"))).toMatch(/invalid image: received "b:1"; expected one of the registry's images: a:1\.$/);
    });

    test("imageRef's message names the registry resource", () => {
        const reg = new LabRegistry("reg", { host: host(), password: "correct-horse", images: ["a:1"] });
        expect(messageOf(() => reg.imageRef("b:1"))).toBe(
            'flotilla:hosts:LabRegistry "reg": invalid image: received "b:1"; expected one of the registry\'s images: a:1.',
        );
    });
});

describe.each([
    ["DockerEngine", "flotilla:runtime:DockerEngine", (n: string, a: unknown) => new DockerEngine(n, a as never), "joinSwarm", "joinsSwarm"],
    ["Containerd", "flotilla:runtime:Containerd", (n: string, a: unknown) => new Containerd(n, a as never), "systemdCgroups", "systemdCgroup"],
] as const)("%s", (_label, type, make, typo, near) => {
    const T = `${type} "rt": invalid`;
    const HOSTS = "expected a list of Hosts (e.g. a host pool's `hosts`)";

    test("an unknown property names the closest known one and lists them all", async () => {
        const message = await refused(() => make("rt", { hosts: cloud(), [typo]: true }));
        expect(message).toMatch(new RegExp(`^${escape(`${T} ${typo}: received true; expected no such property (did you mean "${near}"?); known: hosts, timeoutSeconds, source, version, `)}`));
        expect(message).toContain(`${near}, `);
        expect(registered).toEqual([]);
    });

    test.each([
        [{ hosts: pulumi.output([]) }, `${T} hosts: received an Output; expected a plain value, not an Output (the list decides which resources exist).`],
        [{ registryMirrors: pulumi.output(["https://m.example.com"]) }, `${T} registryMirrors: received an Output; expected a plain value, not an Output (its length decides which resources exist).`],
        [{ insecureRegistries: pulumi.output(["r:5000"]) }, `${T} insecureRegistries: received an Output; expected a plain value, not an Output (its length decides which resources exist).`],
        [{ hosts: { hosts: [] } }, `${T} hosts: received {"hosts":[]}; ${HOSTS}: pass its \`hosts\`.`],
        [{ hosts: [{ name: "x" }] }, `${T} hosts[0]: received {"name":"x"}; expected a Host (name, instanceId, privateAddress, connection, ready), e.g. from a host pool's \`hosts\`.`],
    ])("%p fails at construction, creating nothing", async (bad, message) => {
        expect(await refused(() => make("rt", { hosts: cloud(), ...bad }))).toBe(message);
        expect(registered).toEqual([]);
    });

    test.each([["source", "distro"], ["version", "1.7"], ["waitTimeoutSeconds", 60]] as const)(
        "%s given as an Output is refused at construction, creating nothing",
        async (key, value) => {
            const m = await refused(() => make("rt", { hosts: cloud(), [key]: pulumi.output(value) }));
            expect(m).toMatch(new RegExp(`^${escape(`${T} ${key}: received an Output; expected `)}`));
            expect(registered).toEqual([]);
        },
    );

    test.each([["source", "distro"], ["waitTimeoutSeconds", 60]] as const)(
        "%s given as an Output says a plain value is required",
        async (key, value) => {
            const m = await refused(() => make("rt", { hosts: cloud(), [key]: pulumi.output(value) }));
            expect(m).toContain(`${T} ${key}: received an Output; expected a plain value, not an Output`);
        },
    );

    test("a pool given instead of its hosts: pass its `hosts`", async () => {
        const p = await pool();
        expect(await refused(() => make("rt", { hosts: p }))).toBe(`${T} hosts: received a LabHostPool; ${HOSTS}: pass its \`hosts\`.`);
    });

    test("another runtime given instead of its hosts: pass its `hosts`", async () => {
        const other = new DockerEngine("other", { hosts: cloud() });
        await settle();
        expect(await refused(() => make("rt", { hosts: other }))).toBe(`${T} hosts: received a DockerEngine; ${HOSTS}: pass its \`hosts\`.`);
    });
});

describe.each([
    ["dockerEngineUserData", "flotilla:runtime:DockerEngine", (a: unknown) => dockerEngineUserData(a as never), "sorce"],
    ["containerdUserData", "flotilla:runtime:Containerd", (a: unknown) => containerdUserData(a as never), "sorce"],
] as const)("%s", (_label, type, make, typo) => {
    const T = `${type} "userData": invalid`;
    test("an unknown property names the closest known one", async () => {
        const message = await refused(() => make({ [typo]: "distro" }));
        expect(message).toMatch(new RegExp(`^${escape(`${T} ${typo}: received a string of 6 characters; expected no such property (did you mean "source"?); known: source, version, `)}`));
        expect(message).not.toContain("hosts");
    });

    test("hosts are not a user data setting", async () => {
        const message = await refused(() => make({ hosts: [] }));
        expect(message).toMatch(new RegExp(`^${escape(`${T} hosts: received a list of 0; expected no such property; known: source, `)}`));
    });

    test("an Output where a list decides the files is refused", async () => {
        expect(await refused(() => make({ registryMirrors: pulumi.output([]) }))).toBe(
            `${T} registryMirrors: received an Output; expected a plain value, not an Output (its length decides which resources exist).`,
        );
    });

    test("settings that are not an object are refused", async () => {
        expect(await refused(() => make("distro"))).toMatch(new RegExp(`^${escape(`${T} args: received "distro"; expected `)}`));
    });
});

describe("SwarmCluster", () => {
    const T = 'flotilla:cluster:SwarmCluster "sw": invalid';
    const SWARM_HOSTS = "a list of hosts with Docker installed for Swarm (a DockerEngine's `hosts`, with joinsSwarm: true)";
    test.each([
        [
            () => ({ managers: swarmHosts(1), worker: [] }),
            `${T} worker: received a list of 0; expected no such property (did you mean "workers"?); known: managers, workers, labels, managerLabels, workerLabels, drainTimeoutSeconds, autolock, joinTokenRotation.`,
        ],
        [
            () => ({ managers: pulumi.output(swarmHosts(1)) }),
            `${T} managers: received an Output; expected a plain value, not an Output (the list decides which resources exist).`,
        ],
        [
            () => ({ managers: swarmHosts(1), workers: pulumi.output([]) }),
            `${T} workers: received an Output; expected a plain value, not an Output (the list decides which resources exist).`,
        ],
        [
            () => ({ managers: [testHost("m0", "10.0.0.2")] }),
            `${T} managers[0]: received "host \\"m0\\" without a runtime"; expected a host with Docker installed for Swarm: pass a DockerEngine's \`hosts\` (joinsSwarm: true), not the pool's.`,
        ],
        [
            () => ({ managers: swarmHosts(1), workers: [testHost("w0", "10.0.0.9")] }),
            `${T} workers[0]: received "host \\"w0\\" without a runtime"; expected a host with Docker installed for Swarm: pass a DockerEngine's \`hosts\` (joinsSwarm: true), not the pool's.`,
        ],
        [
            () => ({ managers: [testRuntimeHost("m0", "10.0.0.2", { runtime: { liveRestore: true, swarmReady: false } })] }),
            `${T} managers[0]: received "host \\"m0\\" with Docker installed for standalone use (live-restore on)"; expected a host whose DockerEngine has joinsSwarm: true (Docker refuses Swarm mode with live-restore).`,
        ],
        [
            () => ({
                managers: [
                    testRuntimeHost("m0", "10.0.0.2", {
                        runtime: { kind: "containerd", criSocket: "unix:///run/containerd/containerd.sock", cgroupDriver: "systemd", liveRestore: false, swarmReady: false },
                    }),
                ],
            }),
            `${T} managers[0]: received "host \\"m0\\" with containerd"; expected a host with Docker Engine (Swarm is Docker's): use DockerEngine.`,
        ],
    ])("%#: fails at construction, creating nothing", async (args, message) => {
        expect(await refused(() => new SwarmCluster("sw", args() as never))).toBe(message);
        expect(registered).toEqual([]);
    });

    test("an object holding hosts given instead of them: pass its `hosts`", async () => {
        const m = await refused(() => new SwarmCluster("sw", { managers: { hosts: swarmHosts(1) } as never }));
        expect(m).toMatch(new RegExp(`^${escape(`${T} managers: received {"hosts":[{"name":"m0",`)}.*${escape(`; expected ${SWARM_HOSTS}: pass its \`hosts\`.`)}$`));
    });

    test("a received value shows nested Outputs as <Output>", async () => {
        const m = await refused(() => new SwarmCluster("sw", { managers: { hosts: swarmHosts(1) } as never }));
        expect(m).toContain('received {"hosts":[{"name":"m0","instanceId":"<Output>","publicAddress":"<Output>"');
        expect(m).not.toContain("toJSON");
    });

    test("a pool given instead of a runtime's hosts: pass its `hosts`", async () => {
        const p = await pool();
        expect(await refused(() => new SwarmCluster("sw", { managers: p as never }))).toBe(
            `${T} managers: received a LabHostPool; expected ${SWARM_HOSTS}: pass its \`hosts\`.`,
        );
    });

    test("the pool's hosts (no runtime yet) are refused, naming what to pass instead", async () => {
        const p = await pool();
        expect(await refused(() => new SwarmCluster("sw", { managers: p.hosts as never }))).toBe(
            `${T} managers[0]: received "host \\"fixture-0\\" without a runtime"; expected a host with Docker installed for Swarm: pass a DockerEngine's \`hosts\` (joinsSwarm: true), not the pool's.`,
        );
    });

    test("a DockerEngine without joinsSwarm: its hosts are refused", async () => {
        const engine = new DockerEngine("docker", { hosts: cloud() });
        await settle();
        expect(await refused(() => new SwarmCluster("sw", { managers: [engine.hosts[0]] }))).toBe(
            `${T} managers[0]: received "host \\"web-0\\" with Docker installed for standalone use (live-restore on)"; expected a host whose DockerEngine has joinsSwarm: true (Docker refuses Swarm mode with live-restore).`,
        );
    });

    test("a DockerEngine given instead of its hosts: pass its `hosts`", async () => {
        const engine = new DockerEngine("docker", { hosts: cloud(), joinsSwarm: true });
        await settle();
        expect(await refused(() => new SwarmCluster("sw", { managers: engine as never }))).toBe(
            `${T} managers: received a DockerEngine; expected ${SWARM_HOSTS}: pass its \`hosts\`.`,
        );
    });

    test("Containerd hosts are refused: Swarm is Docker's", async () => {
        const c = new Containerd("ctrd", { hosts: [testHost("k0", "10.0.0.2")] });
        await settle();
        expect(await refused(() => new SwarmCluster("sw", { managers: c.hosts }))).toBe(
            `${T} managers[0]: received "host \\"k0\\" with containerd"; expected a host with Docker Engine (Swarm is Docker's): use DockerEngine.`,
        );
    });

});

describe("SwarmApp", () => {
    const T = 'flotilla:workload:SwarmApp "web": invalid';
    const cluster: ISwarmCluster = {
        orchestrator: "swarm",
        capabilities: pulumi.output(FULL_CAPABILITIES),
        ports: SWARM_PORTS,
        managers: swarmHosts(1),
        workers: [],
    };
    const app = (extra: Record<string, unknown> = {}): SwarmAppArgs =>
        ({ cluster, services: { web: { image: "nginx:1.27" } }, ...extra }) as SwarmAppArgs;
    const SERVER = 'a registry address host[:port] as image references start with, e.g. "10.213.0.5:5000" or "registry.example.com"';

    test.each([
        [
            { stackName: pulumi.output("shop") },
            `${T} stackName: received an Output; expected a plain value, not an Output (it is needed before any resource is created).`,
        ],
        [
            { convergeTimeoutSeconds: pulumi.output(60) },
            `${T} convergeTimeoutSeconds: received an Output; expected a plain value, not an Output (it is needed before any resource is created).`,
        ],
        [
            { registryAuth: { server: "r.example.com", username: "u" } },
            `${T} registryAuth.password: received undefined; expected a password or token (a string or a secret Output).`,
        ],
        [{ registryAuth: { server: "r.example.com", username: "u", password: "" } }, `${T} registryAuth.password: received a secret of 0 characters; expected a non-empty password or token.`],
        [{ registryAuth: { username: "u", password: "p" } }, `${T} registryAuth.registry: received undefined; expected ${SERVER}.`],
        [{ registryAuth: { server: "http://x", username: "u", password: "p" } }, `${T} registryAuth.server: received "http://x"; expected ${SERVER} (a URL: give host[:port] without a scheme).`],
        [{ registryAuth: { server: "a/b", username: "u", password: "p" } }, `${T} registryAuth.server: received "a/b"; expected ${SERVER} (has a path: give host[:port] only).`],
        [{ registryAuth: { server: "host:99999", username: "u", password: "p" } }, `${T} registryAuth.server: received "host:99999"; expected ${SERVER} (port 99999 is not from 1 to 65535).`],
        [{ registryAuth: { server: "r.example.com", username: "", password: "p" } }, `${T} registryAuth.username: received ""; expected a non-empty user name without white space or ':'.`],
        [
            { registryAuth: { server: "r.example.com", username: "u", pasword: "p" } },
            `${T} registryAuth.pasword: received a string of 1 character; expected no such property (did you mean "password"?); known: server, username, password.`,
        ],
        [{ registryAuth: "u:p@r.example.com" }, `${T} registryAuth: received a secret of 17 characters; expected an object { registry, username, password }.`],
        [{ cluster: swarmHosts(1) }, /^flotilla:workload:SwarmApp "web": invalid cluster: received \[\{"name":"m0".*; expected a Swarm cluster \(a SwarmCluster, or anything offering ISwarmCluster: orchestrator "swarm", managers, workers\)\.$/],
    ])("%p fails at construction, creating nothing", async (extra, message) => {
        const m = await refused(() => new SwarmApp("web", app(extra)));
        if (typeof message === "string") expect(m).toBe(message);
        else expect(m).toMatch(message);
        expect(registered).toEqual([]);
    });

    test("a pool given instead of a cluster is named", async () => {
        const p = await pool();
        expect(await refused(() => new SwarmApp("web", app({ cluster: p })))).toBe(
            `${T} cluster: received a LabHostPool; expected a Swarm cluster (a SwarmCluster, or anything offering ISwarmCluster: orchestrator "swarm", managers, workers).`,
        );
    });

    test("a password given as plain text still travels only as a secret", async () => {
        const a = new SwarmApp("web", app({ registryAuth: { server: "r.example.com:5000", username: "u", password: "plain-pass" } }));
        await valueOf(a.services);
        await settle();
        const deploy = registered.find((r) => r.name === "web-deploy")?.inputs as Record<string, any>;
        expect(deploy.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(deploy.secretEnvironment.value.REGISTRY_PASSWORD).toBe("plain-pass");
        expect(JSON.stringify(deploy.environment)).not.toContain("plain-pass");
    });

    test("a password never shows: only its length", async () => {
        const m = await refused(() => new SwarmApp("web", app({ registryAuth: { server: "r.example.com", username: "u", password: "" } })));
        expect(m).toContain("a secret of 0 characters");
    });

    test("a mistyped top-level property names the closest one", async () => {
        const m = await refused(() => new SwarmApp("web", app({ service: {} })));
        expect(m).toBe(`${T} service: received an empty object; expected no such property (did you mean "services"?); known: cluster, stackName, registryAuth, rolloutTimeoutSeconds, resolveImage, convergeTimeoutSeconds, publishMode, secrets, services, volumes.`);
    });

    test("a mistyped SwarmApp property names the closest one and lists every property", async () => {
        const m = await refused(() => new SwarmApp("web", app({ stackname: "shop" })));
        expect(m).toContain('stackname: received a string of 4 characters; expected no such property (did you mean "stackName"?); known: ');
        expect(m).toContain("cluster");
        expect(m).toContain("registryAuth");
    });
});

/** Escapes a text for a RegExp. */
function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
