import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARK, SECRET_SIG, recordResources, testHost, valueOf } from "../mocks";
import { bundledScript } from "../../../lib/shared/scripts";
import { hashTriggers } from "../../../lib/shared/remote-script";
import { Host } from "../../../lib/core/host";
import { LabRegistry, LabRegistryArgs, parseLocalImage } from "../../../lib/hosts/lab/lab-registry";
import { InvalidArgumentError } from "../../../lib/core/validate";

// What real creates return: the seed's private key, and each push's result (its target reference).
const registered = recordResources((_type, name, inputs) => {
    if (name.endsWith("-password-seed")) return { privateKey: "SEED-PRIVATE-KEY" };
    if (name.includes("-push-")) return { result: inputs.environment.IMAGE_TARGET };
    return undefined;
});
const PASSWORD = "correct-horse-battery";

// Registrations of the previous test may still be on their way to the mocks.
beforeEach(async () => {
    await new Promise((r) => setTimeout(r, 30));
    registered.splice(0);
});

/** Stands for the resource a pool makes a machine with. */
class Machine extends pulumi.CustomResource {
    constructor(name: string) {
        super("test:index:Machine", name, {});
    }
}

/** A Host as a pool would make it, with one readiness resource. */
function fakeHost(): Host {
    return testHost("reg-0", "10.213.140.2", {
        provider: "lab",
        pool: "reg",
        instanceId: "container-123",
        hostKey: "ssh-ed25519 AAAA host",
        ready: [new Machine("machine")],
    });
}

/** The push child of `image`: `<name>-push-<slug>-<8 hex of sha256(image)>`. */
const pushName = (image: string, name = "reg") =>
    `${name}-push-${image.replace(/[/:]/g, "-")}-${crypto.createHash("sha256").update(image).digest("hex").slice(0, 8)}`;

/** Builds a registry and waits until every child is registered. */
async function build(args: Omit<LabRegistryArgs, "host">, name = "reg") {
    const registry = new LabRegistry(name, { host: fakeHost(), ...args });
    await valueOf(registry.address);
    await valueOf(registry.imageRefs);
    await valueOf(registry.password);
    await new Promise((r) => setTimeout(r, 30));
    return registry;
}

const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};

/** Unwraps Pulumi's secret envelope, failing when the value is not one. */
function unwrapSecret(value: unknown): unknown {
    const env = value as Record<string, unknown>;
    expect(env[SECRET_SIG]).toBe(SECRET_MARK);
    return env.value;
}

describe("LabRegistry", () => {
    test("registers exactly: the component, the registry script and one push per image", async () => {
        await build({ password: PASSWORD, images: ["flotilla-demo:v1", "team/app:2.0"] });
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                "test:index:Machine machine",
                "flotilla:hosts:LabRegistry reg",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript reg-registry",
                "pulumi-nodejs:dynamic/flotilla:LocalScript reg-push-flotilla-demo-v1-b5c72d34",
                "pulumi-nodejs:dynamic/flotilla:LocalScript reg-push-team-app-2.0-f88acf06",
            ].sort(),
        );
    });

    test("without a password, one more child: the key pair the generated password comes from", async () => {
        await build({});
        expect(registered.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
            [
                "test:index:Machine machine",
                "flotilla:hosts:LabRegistry reg",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair reg-password-seed",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript reg-registry",
            ].sort(),
        );
        expect(byName("reg-password-seed").inputs.comment).toBe("registry-password@reg");
    });

    test("the registry script runs on the host with its exact inputs; the password only in the secret environment", async () => {
        await build({ password: PASSWORD, username: "ci-bot", port: 5443 });
        const r = byName("reg-registry").inputs;
        expect([r.script ?? "", r.scriptRef, r.scriptHash]).toEqual(["", "hosts/lab-registry.sh", bundledScript("hosts", "lab-registry.sh").hash]);
        expect(r.environment).toEqual({ REGISTRY_PORT: "5443", REGISTRY_USERNAME: "ci-bot" });
        expect(unwrapSecret(r.secretEnvironment)).toEqual({ REGISTRY_PASSWORD: PASSWORD });
        // The host key is stored bare (its comment dropped).
        expect(r.connection).toEqual({ host: "10.213.140.2", port: 22, user: "admin", hostKey: "ssh-ed25519 AAAA" });
        expect(unwrapSecret(r.privateKey)).toBe("PRIVATE");
        expect(r.target).toBe("registry on reg-0");
        // Triggers are stored as a hash of the values (only a change matters).
        expect(r.triggers).toEqual(hashTriggers(["container-123"]));
        expect(r.timeoutSeconds).toBe(600);
        expect(JSON.stringify([r.environment, r.target, r.script])).not.toContain(PASSWORD);
    });

    test("each push runs locally with its exact inputs; the password only in the secret environment", async () => {
        await build({ password: PASSWORD, images: ["flotilla-demo:v1", "team/app:2.0"] });
        expect(pushName("team/app:2.0")).toBe("reg-push-team-app-2.0-f88acf06");
        const p = byName(pushName("team/app:2.0")).inputs;
        expect([p.script ?? "", p.scriptRef, p.scriptHash]).toEqual(["", "hosts/lab-registry-push.sh", bundledScript("hosts", "lab-registry-push.sh").hash]);
        expect(p.environment).toEqual({
            REGISTRY_ADDRESS: "10.213.140.2:5000",
            REGISTRY_USERNAME: "flotilla",
            IMAGE_SOURCE: "team/app:2.0",
            IMAGE_TARGET: "10.213.140.2:5000/team/app:2.0",
            REGISTRY_INSTANCE: "container-123",
        });
        expect(unwrapSecret(p.secretEnvironment)).toEqual({ REGISTRY_PASSWORD: PASSWORD });
        expect(p.target).toBe("image team/app:2.0 -> registry on reg-0");
        expect(p.timeoutSeconds).toBe(900);
    });

    test("outputs: address, user, port, images, pushed references; the password is a secret", async () => {
        const registry = await build({ password: PASSWORD, images: ["flotilla-demo:v1"] });
        expect(await valueOf(registry.address)).toBe("10.213.140.2:5000");
        expect([registry.username, registry.port, registry.images]).toEqual(["flotilla", 5000, ["flotilla-demo:v1"]]);
        expect(await valueOf(registry.imageRefs)).toEqual(["10.213.140.2:5000/flotilla-demo:v1"]);
        expect(await pulumi.isSecret(registry.password)).toBe(true);
        expect(await valueOf(registry.password)).toBe(PASSWORD);
    });

    test("a generated password is a secret of 32 URL-safe characters derived from the seed key, given to the registry", async () => {
        const a = await build({});
        expect(await pulumi.isSecret(a.password)).toBe(true);
        const value = await valueOf(a.password);
        const expected = crypto
            .createHash("sha256")
            .update("flotilla-registry-password\nSEED-PRIVATE-KEY")
            .digest("base64url")
            .slice(0, 32);
        expect(value).toBe(expected);
        expect(value).toMatch(/^[A-Za-z0-9_-]{32}$/);
        expect(unwrapSecret(byName("reg-registry").inputs.secretEnvironment)).toEqual({ REGISTRY_PASSWORD: value });
    });

    test("a password given as a secret Output stays secret", async () => {
        const registry = await build({ password: pulumi.secret(PASSWORD) });
        expect(await pulumi.isSecret(registry.password)).toBe(true);
        expect(unwrapSecret(byName("reg-registry").inputs.secretEnvironment)).toEqual({ REGISTRY_PASSWORD: PASSWORD });
    });

    test.each([
        ["flotilla-demo:v1", { path: "flotilla-demo", tag: "v1" }],
        ["team/app:2.0_rc-1", { path: "team/app", tag: "2.0_rc-1" }],
        ["my.app:1", { path: "my.app", tag: "1" }],
        ["flotilla-demo", "it has no tag"],
        ["Flotilla:v1", 'path component "Flotilla" is not lower-case'],
        ["registry.example.com/app:1", "it names a registry (registry.example.com): give the local name"],
        ["localhost/app:1", "it names a registry (localhost): give the local name"],
        ["app@sha256:abc", 'digest "sha256:abc" is not sha256:<64 lower-case hex digits> (or sha384, sha512)'],
        ["app:", `tag "" is not 1 to 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_'`],
        ["app:-x", `tag "-x" is not 1 to 128 letters, digits, '_', '.' and '-' starting with a letter, digit or '_'`],
        [`app@sha256:${"a".repeat(64)}`, "it has a digest: give a tag"],
    ])("parseLocalImage(%p)", (image, expected) => {
        expect(parseLocalImage(image)).toEqual(expected);
    });

    const T = 'flotilla:hosts:LabRegistry "reg": invalid';
    const IMG = 'a local image reference with a tag and no registry host, such as "flotilla-demo:v1"';
    test.each([
        [{ host: undefined }, `${T} host: received undefined; expected a Host (e.g. pool.hosts[0]) with name, connection, privateAddress, instanceId and ready.`],
        [{ host: { name: "x" } }, `${T} host: received {"name":"x"}; expected a Host (e.g. pool.hosts[0]) with name, connection, privateAddress, instanceId and ready.`],
        [
            { username: "bad:user" },
            `${T} username: received "bad:user"; expected a user name of 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit.`,
        ],
        [{ username: "" }, `${T} username: received ""; expected a user name of 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit.`],
        [{ password: "short" }, `${T} password: received a secret of 5 characters; expected 8 to 72 printable ASCII characters.`],
        [{ password: "x".repeat(73) }, `${T} password: received a secret of 73 characters; expected 8 to 72 printable ASCII characters.`],
        [{ password: "line\nbreak-in-it" }, `${T} password: received a secret of 16 characters; expected 8 to 72 printable ASCII characters.`],
        [{ port: 80 }, `${T} port: received 80; expected an integer from 1024 to 65535.`],
        [{ port: 70000 }, `${T} port: received 70000; expected an integer from 1024 to 65535.`],
        [{ port: 5000.5 }, `${T} port: received 5000.5; expected an integer from 1024 to 65535.`],
        [{ images: "flotilla-demo:v1" }, `${T} images: received "flotilla-demo:v1"; expected a list of local image references such as ["flotilla-demo:v1"].`],
        [{ images: ["flotilla-demo"] }, `${T} images[0]: received "flotilla-demo"; expected ${IMG} (it has no tag).`],
        [
            { images: ["flotilla-demo:v1", "registry.example.com/app:1"] },
            `${T} images[1]: received "registry.example.com/app:1"; expected ${IMG} (it names a registry (registry.example.com): give the local name).`,
        ],
        [{ images: ["a:1", 7] }, `${T} images[1]: received 7; expected ${IMG} (not a string).`],
        [{ images: ["a:1", "b:1", "a:1"] }, `${T} images[2]: received "a:1"; expected an image not already listed (images[0] is the same).`],
        [{ archives: ["/x.tar"] }, `${T} archives: received ["/x.tar"]; expected an object { "<name>:<tag>": "/path/to/image.tar" }.`],
        [{ archives: { "k8s/pause": "/c/pause.tar" } }, `${T} archives.k8s/pause: received "k8s/pause"; expected a name with a tag and no registry host, such as "k8s/pause:3.10.2" (it has no tag).`],
        [{ archives: { "k8s/pause:3": "pause.tar" } }, `${T} archives.k8s/pause:3: received "pause.tar"; expected the absolute path of a docker-archive tarball (.tar) on the machine running Pulumi.`],
        [{ images: ["a:1"], archives: { "a:1": "/a.tar" } }, `${T} archives.a:1: received "a:1"; expected a name not also in images.`],
    ])("bad input %p fails at construction and creates nothing", async (bad, message) => {
        const args = { host: fakeHost(), password: PASSWORD, ...bad } as unknown as LabRegistryArgs;
        await new Promise((r) => setTimeout(r, 20));
        registered.splice(0);
        expect(() => new LabRegistry("reg", args)).toThrow(InvalidArgumentError);
        expect(() => new LabRegistry("reg", args)).toThrow(message);
        await new Promise((r) => setTimeout(r, 20));
        expect(registered).toEqual([]);
    });

    test("archives: one push per tarball, from the docker-archive, as <address>/<name>:<tag>; imageRef works for them", async () => {
        const registry = await build({ password: PASSWORD, images: ["flotilla-demo:v1"], archives: { "k8s/pause:3.10.2": "/cache/images/pause.tar" } });
        const push = byName(pushName("k8s/pause:3.10.2")).inputs;
        expect(push.environment).toMatchObject({
            IMAGE_SOURCE: "k8s/pause:3.10.2",
            IMAGE_ARCHIVE: "/cache/images/pause.tar",
            IMAGE_TARGET: "10.213.140.2:5000/k8s/pause:3.10.2",
        });
        expect((byName(pushName("flotilla-demo:v1")).inputs as Record<string, any>).environment.IMAGE_ARCHIVE).toBeUndefined();
        expect(registry.images).toEqual(["flotilla-demo:v1", "k8s/pause:3.10.2"]);
        expect(await valueOf(registry.imageRef("k8s/pause:3.10.2"))).toBe("10.213.140.2:5000/k8s/pause:3.10.2");
        expect(await valueOf(registry.imageRefs)).toEqual(["10.213.140.2:5000/flotilla-demo:v1", "10.213.140.2:5000/k8s/pause:3.10.2"]);
    });
});
