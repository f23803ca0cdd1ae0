/**
 * Inputs that may be Outputs are validated when they resolve (Validator.later): the failure names
 * the property and shows a secret only by its length, and no child that depends on the value
 * reaches the engine. The scenarios run in a process of their own (programs/on-resolve.ts): a
 * registration that fails under mocks leaves rejected promises nobody awaits, which Jest would
 * report against whichever test runs next. Each stray rejection must be the validation error itself.
 */
import * as childProcess from "child_process";
import * as path from "path";

interface Outcome {
    name: string;
    message: string | null;
    isContractError: boolean;
    registered: string[];
    strayMessages: string[];
    strayTypes: string[];
}

const outcomes = new Map<string, Outcome>();
beforeAll(() => {
    const r = childProcess.spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "..", "programs", "on-resolve.ts")], {
        cwd: path.resolve(__dirname, "../../.."),
        encoding: "utf8",
        timeout: 110_000,
    });
    if (r.status !== 0) throw new Error(`on-resolve.ts failed (${r.status}): ${r.stderr}`);
    for (const line of r.stdout.split("\n").filter((l) => l.startsWith("{"))) {
        const o = JSON.parse(line) as Outcome;
        outcomes.set(o.name, o);
    }
}, 120_000);

const outcome = (name: string): Outcome => {
    const o = outcomes.get(name);
    if (!o) throw new Error(`no outcome for ${name}; have ${[...outcomes.keys()].join(", ")}`);
    return o;
};

const LAB = 'flotilla:hosts:LabHostPool "lab": invalid';
const PART = 'a cloud-init user data part: a string starting with "#cloud-config", "#!" (a script) or "#cloud-boothook"';
const APP = 'flotilla:workload:SwarmApp "web": invalid';
const K8S = (name: string) => `flotilla:workload:PulumiKubernetesApp "${name}": invalid`;
const SERVER = 'a registry address host[:port] as image references start with, e.g. "10.213.0.5:5000" or "registry.example.com"';

describe("an Output input fails when it resolves, before any child that needs it is registered", () => {
    test.each([
        [
            "userData part",
            `${LAB} userData[1]: received a secret of 7 characters; expected ${PART} (its first line is none of these).`,
            ["flotilla:hosts:LabHostPool lab"],
        ],
        [
            "userData list",
            `${LAB} userData[1]: received a secret of 4 characters; expected ${PART} (its first line is none of these).`,
            ["flotilla:hosts:LabHostPool lab"],
        ],
        ["userData not a list", `${LAB} userData: received "#!/bin/sh"; expected a list of user data parts.`, ["flotilla:hosts:LabHostPool lab"]],
        [
            "registryAuth empty password",
            `${APP} registryAuth.password: received a secret of 0 characters; expected a non-empty password or token.`,
            ["flotilla:workload:SwarmApp web"],
        ],
        [
            "registryAuth bad server",
            `${APP} registryAuth.server: received "https://r.example.com"; expected ${SERVER} (a URL: give host[:port] without a scheme).`,
            ["flotilla:workload:SwarmApp web"],
        ],
        [
            "kubernetes capabilities other than planned",
            `${K8S("lb")} capabilities: received {"serviceVirtualIp":true,"routingMesh":true,"loadBalancer":false}; expected the cluster's capabilities, ` +
                `{"serviceVirtualIp":true,"routingMesh":true,"loadBalancer":true}, which need other objects (service-web-lb added, service-web-nodeport gone): set capabilities to them.`,
            // The provider needs no rendered object; none of the app's objects reached the engine.
            ["flotilla:workload:PulumiKubernetesApp lb", "pulumi:providers:kubernetes lb-provider"],
        ],
        [
            "kubernetes no routing mesh reported",
            `${K8S("mesh")} services.web.ports[0]: received {"target":80,"published":30080,"protocol":"tcp","mode":"ingress"}; expected a port published in "host" mode ` +
                `(set its mode, or the app's publishMode, to "host"): this cluster has no routing mesh, which "ingress" publishing needs on Kubernetes.`,
            ["flotilla:workload:PulumiKubernetesApp mesh", "pulumi:providers:kubernetes mesh-provider"],
        ],
        [
            "kubernetes image Output not a reference",
            `${K8S("img")} services.web.image: received "Not An Image"; expected a Docker image reference [registry[:port]/]path[:tag][@digest] ` +
                `(path component "Not An Image" is not lower-case letters and digits separated by '.', '_', '__' or '-').`,
            ["flotilla:workload:PulumiKubernetesApp img", "pulumi:providers:kubernetes img-provider"],
        ],
        [
            "registryAuth empty username",
            `${APP} registryAuth.username: received ""; expected a non-empty user name without white space or ':'.`,
            ["flotilla:workload:SwarmApp web"],
        ],
    ])("%s", (name, message, registered) => {
        const o = outcome(name);
        expect(o.isContractError).toBe(true);
        expect(o.message).toBe(message);
        // Only the component itself: every child waits for the check, so none reached the engine.
        expect(o.registered).toEqual(registered);
        // Whatever else was left rejected is that same error, nothing else.
        expect(o.strayTypes).toEqual(["InvalidArgumentError"]);
        expect(o.strayMessages).toEqual([message]);
    });

    test("a pool's sshKey halves of two pairs as Outputs: refused when they resolve, no EC2 key pair registered", () => {
        const o = outcome("aws sshKey halves of two pairs");
        expect(o.isContractError).toBe(true);
        expect(o.message).toBe(
            'flotilla:hosts:AwsHostPool "p": invalid sshKey.publicKey: received a public key line; expected the public half of sshKey.privateKey ' +
                "(the public key (ssh-ed25519) is not the public half of the private key (ssh-ed25519): they are from two different key pairs).",
        );
        expect(o.registered.filter((r) => r.startsWith("aws:ec2/keyPair:KeyPair") || r.startsWith("aws:ec2/instance:Instance"))).toEqual([]);
        expect(o.registered).toContain("flotilla:hosts:AwsHostPool p");
        expect(o.message).not.toContain("PRIVATE KEY");
    });

    test("the secret's value never shows", () => {
        expect(outcome("registryAuth empty password").message).not.toMatch(/received ""/);
    });

    test("good user data Outputs let every child through", () => {
        const o = outcome("userData good");
        expect(o.message).toBeNull();
        expect(o.registered.sort()).toEqual(
            [
                "flotilla:hosts:LabHostPool lab",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-image",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-machine-0",
                "pulumi-nodejs:dynamic/flotilla:LocalScript lab-network",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair lab-host-key-seed",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair lab-ssh-key",
            ].sort(),
        );
        expect(o.strayMessages).toEqual([]);
    });
});
