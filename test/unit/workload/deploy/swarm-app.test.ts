import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, testRuntimeHost, valueOf } from "../../mocks";
import { bundledScript, bundledScriptText } from "../../../../lib/shared/scripts";
import { SwarmCluster } from "../../../../lib/cluster/swarm";
import { RuntimeHost } from "../../../../lib/core/host";
import { SwarmApp, SwarmAppArgs } from "../../../../lib/workload/deploy/swarm-app";
import { swarmSecretName } from "../../../../lib/workload/render";

const registered = recordResources((_type, name) => {
    if (name.endsWith("-init")) {
        return { result: JSON.stringify({ clusterId: "c1", nodeId: "n0", workerToken: "WT", managerToken: "MT" }) };
    }
    if (name.includes("-join-")) return { result: JSON.stringify({ nodeId: `n-${name}` }) };
    if (name.endsWith("-deploy")) return { result: JSON.stringify({ web: { running: 2, desired: 2 } }) };
    return undefined;
});

const host = (name: string, address: string): RuntimeHost => testRuntimeHost(name, address, { provider: "lab" });

let cluster: SwarmCluster;
beforeEach(() => {
    registered.splice(0);
    cluster = new SwarmCluster("sw", { managers: [host("m0", "10.0.0.2"), host("m1", "10.0.0.3"), host("m2", "10.0.0.4")] });
});
const deployInputs = () => registered.find((r) => r.name === "web-deploy")?.inputs as Record<string, any>;

function app(extra: Partial<SwarmAppArgs> = {}): SwarmAppArgs {
    return {
        cluster,
        publishMode: "host",
        secrets: { token: pulumi.secret("s3cret") },
        services: { web: { image: "10.0.0.9:5000/demo:v1", replicas: 2, ports: [{ target: 8080, published: 80 }], secrets: ["token"] } },
        ...extra,
    };
}

describe("SwarmApp", () => {
    test("one deploy script on the first manager, the others as alternates; compose and secrets in its environment", async () => {
        const a = new SwarmApp("web", app({ registryAuth: { server: "10.0.0.9:5000", username: "u", password: pulumi.secret("pw") } }));
        expect(await valueOf(a.services)).toEqual({ web: { running: 2, desired: 2 } });
        const d = deployInputs();
        expect(registered.filter((r) => r.name.startsWith("web")).map((r) => `${r.type} ${r.name}`)).toEqual([
            "flotilla:workload:SwarmApp web",
            "pulumi-nodejs:dynamic/flotilla:RemoteScript web-deploy",
        ]);
        expect(d.connection.host).toBe("10.0.0.2");
        expect(d.alternates.value.map((x: any) => x.connection.host)).toEqual(["10.0.0.3", "10.0.0.4"]);
        // The environment is secret as a whole because the compose derives from a secret value.
        const env = d.environment[SECRET_SIG] ? d.environment.value : d.environment;
        expect(env).toMatchObject({
            STACK: "web",
            CONVERGE_TIMEOUT: "300",
            RESOLVE_IMAGE: "always",
            SECRET_COUNT: "1",
            SECRET_NAME_0: swarmSecretName("web", "token", "s3cret"),
            REGISTRY_SERVER: "10.0.0.9:5000",
            REGISTRY_USERNAME: "u",
        });
        const composeText = zlib.gunzipSync(Buffer.from(env.COMPOSE_GZ, "base64")).toString("utf8");
        const compose = JSON.parse(composeText);
        expect(compose.services.web.image).toBe("10.0.0.9:5000/demo:v1");
        expect(composeText.includes("s3cret")).toBe(false);
        expect(d.secretEnvironment[SECRET_SIG]).toBe(SECRET_MARK);
        expect(d.secretEnvironment.value).toEqual({ SECRET_VALUE_0: "s3cret", REGISTRY_PASSWORD: "pw" });
        expect([d.script ?? "", d.scriptRef, d.scriptHash]).toEqual(["", "workload/stack-deploy.sh", bundledScript("workload", "stack-deploy.sh").hash]);
        expect(bundledScriptText(d.scriptRef)).toContain("docker stack deploy --compose-file");
    });

    const T = 'flotilla:workload:SwarmApp "web": invalid';
    test.each([
        [() => app({ replicas: 1 } as never), /^flotilla:workload:SwarmApp "web": invalid replicas/],
        [() => ({ ...app(), services: { web: { image: "demo", replicas: -1 } } }), new RegExp(`^${T} services.web.replicas: received -1`)],
        [() => app({ stackName: "Bad_Name" }), new RegExp(`^${T} stackName: received "Bad_Name"`)],
        [() => app({ convergeTimeoutSeconds: 1 }), new RegExp(`^${T} convergeTimeoutSeconds: received 1; expected an integer from 10 to 7200.`)],
        [() => app({ rolloutTimeoutSeconds: 7201 }), new RegExp(`^${T} rolloutTimeoutSeconds: received 7201; expected an integer from 10 to 7200.`)],
        [
            () => app({ rolloutTimeoutSeconds: 60, convergeTimeoutSeconds: 60 }),
            `${T} convergeTimeoutSeconds: received 60; expected no convergeTimeoutSeconds beside rolloutTimeoutSeconds (convergeTimeoutSeconds is its former name): give rolloutTimeoutSeconds only.`,
        ],
        [() => app({ resolveImage: "sometimes" as never }), new RegExp(`^${T} resolveImage: received "sometimes"`)],
        [
            () => app({ cluster: {} as never }),
            `${T} cluster: received {}; expected a Swarm cluster (a SwarmCluster, or anything offering ISwarmCluster: orchestrator "swarm", managers, workers).`,
        ],
    ])("bad input %#: fails at construction, creates nothing", async (args, message) => {
        const before = registered.length;
        expect(() => new SwarmApp("web", args())).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered.slice(before).filter((r) => r.name.startsWith("web"))).toEqual([]);
    });
});

describe("SwarmApp registryAuth", () => {
    const expected = 'expected a registry address host[:port] as image references start with, e.g. "10.213.0.5:5000" or "registry.example.com"';
    test.each([
        [{ server: "https://10.0.0.9:5000", username: "u", password: "p" }, `registryAuth.server: received "https://10.0.0.9:5000"; ${expected} (a URL: give host[:port] without a scheme).`],
        [{ server: "10.0.0.9:5000/v2", username: "u", password: "p" }, `registryAuth.server: received "10.0.0.9:5000/v2"; ${expected} (has a path: give host[:port] only).`],
        [{ server: "10.0.0.9:70000", username: "u", password: "p" }, `registryAuth.server: received "10.0.0.9:70000"; ${expected} (port 70000 is not from 1 to 65535).`],
        [{ server: "10.0.0.9:5000", user: "u", password: "p" }, 'registryAuth.user: received a string of 1 character; expected no such property; known: server, username, password.'],
    ])("%p is refused at construction", (registryAuth, message) => {
        expect(() => new SwarmApp("web", app({ registryAuth: registryAuth as never }))).toThrow(`flotilla:workload:SwarmApp "web": invalid ${message}`);
    });
});

describe("SwarmApp shared deployer settings", () => {
    const env = (d: Record<string, any>) => (d.environment[SECRET_SIG] ? d.environment.value : d.environment);
    test.each([
        ["rolloutTimeoutSeconds", { rolloutTimeoutSeconds: 120 }, "120"],
        ["convergeTimeoutSeconds, its deprecated former name", { convergeTimeoutSeconds: 90 }, "90"],
    ])("%s sets the convergence timeout", async (_what, extra, timeout) => {
        new SwarmApp("web", app(extra));
        await new Promise((r) => setTimeout(r, 20));
        expect(env(deployInputs()).CONVERGE_TIMEOUT).toBe(timeout);
    });

    test("registryAuth as core's RegistryCredential ({ registry, ... }) reaches the deploy as { server, ... } did", async () => {
        new SwarmApp("web", app({ registryAuth: { registry: "10.0.0.9:5000", username: "u", password: pulumi.secret("pw") } }));
        await new Promise((r) => setTimeout(r, 20));
        const d = deployInputs();
        expect(env(d)).toMatchObject({ REGISTRY_SERVER: "10.0.0.9:5000", REGISTRY_USERNAME: "u" });
        expect(d.secretEnvironment.value).toMatchObject({ REGISTRY_PASSWORD: "pw" });
    });

    test("registryAuth with both registry and server is refused", () => {
        expect(() => new SwarmApp("web", app({ registryAuth: { registry: "r:5000", server: "r:5000", username: "u", password: "p" } as never }))).toThrow(
            'flotilla:workload:SwarmApp "web": invalid registryAuth.server: received a string of 6 characters; expected no such property; known: registry, username, password.',
        );
    });
});
