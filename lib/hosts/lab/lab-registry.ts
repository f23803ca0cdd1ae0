import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Host, isHost } from "../../core/host";
import { parseImageReference } from "../../core/image-ref";
import { LocalScript } from "../../shared/local-script";
import { RemoteScript } from "../../shared/remote-script";
import { bundledScript, sha256 } from "../../shared/scripts";
import { SshKeyPair } from "../../shared/ssh-key-pair";
import { InvalidArgumentError, Reason, Validator } from "../../core/validate";

/** Type token of {@link LabRegistry}. */
export const LAB_REGISTRY_TYPE = "flotilla:hosts:LabRegistry";
/** Default registry user. */
export const DEFAULT_REGISTRY_USERNAME = "flotilla";
/** Default registry port (the Distribution registry's own default). */
export const DEFAULT_REGISTRY_PORT = 5000;

/** Arguments of {@link LabRegistry}. */
export interface LabRegistryArgs {
    /**
     * The machine to run the registry on, e.g. `pool.hosts[0]` of a LabHostPool of size 1 that is
     * the registry's own: the registry takes over its `docker-registry` package and port.
     */
    readonly host: Host;
    /**
     * The one user the registry accepts: 1 to 64 letters, digits, '.', '_' and '-', starting with
     * a letter or digit. Plain: validated before anything is created.
     * @default `flotilla`.
     */
    readonly username?: string;
    /**
     * The user's password: 8 to 72 printable ASCII characters (bcrypt reads at most 72). Keep it a
     * secret (e.g. `config.requireSecret(...)`).
     * @default generated once and kept in the stack's
     * state (a random 32-character password, derived from a child key pair that serves as its
     * stored randomness); read it from {@link LabRegistry.password}.
     */
    readonly password?: pulumi.Input<string>;
    /**
     * TCP port of the registry on the host, 1024 to 65535 (the registry runs as an unprivileged
     * user). Plain: part of the address.
     * @default 5000.
     */
    readonly port?: number;
    /**
     * Images on the Docker engine of the machine running Pulumi to push into the registry, each a
     * local reference with a tag and no registry host, e.g. `flotilla-demo:v1` (built by
     * `scripts/demo-image.sh v1`). Pushed as `<address>/<name>:<tag>`. Plain: each image is a child
     * resource named after it, so adding or removing one leaves the others alone; removing one
     * removes its tag from the registry. The push is redone when the registry's machine is
     * replaced; content is identified by the reference, so push new content under a new tag.
     * @default none.
     */
    readonly images?: string[];
    /**
     * Images to push from `docker save` (docker-archive) tarballs on the machine running Pulumi,
     * without loading them into its engine: `{ "<name>:<tag>": "/abs/path/image.tar" }`, pushed as
     * `<address>/<name>:<tag>` (e.g. the Kubernetes images of scripts/kubernetes-build.sh). Each
     * a child resource like {@link images}' (pushed again when the path or the registry's machine
     * changes: put new content under a new tag). A name may not be in both. Plain.
     * @default none.
     */
    readonly archives?: Record<string, string>;
}

/**
 * A private image registry on a lab machine, like a company's: Debian's `docker-registry` (the
 * CNCF Distribution registry, v2 API) with htpasswd (bcrypt) authentication for one user, on plain
 * HTTP at `<private address>:<port>`. Clients therefore list {@link address} as an insecure
 * registry (the runtime layer supports that) and log in with {@link username} and
 * {@link password}. The chosen local images are pushed into it with skopeo from the machine running
 * Pulumi. Deleting it purges the package, its configuration and the stored images.
 *
 * Plain HTTP means the credentials cross the lab network in the clear (Basic auth): acceptable on a
 * private lab bridge, not on a network you do not own.
 */
export class LabRegistry extends pulumi.ComponentResource {
    /**
     * `<private address>:<port>`: what image references start with, and what runtimes list as an
     * insecure registry. Known as soon as the machine's address is; it does not wait for the
     * registry to answer (the references in {@link imageRefs} and {@link imageRef} do).
     */
    public readonly address: pulumi.Output<string>;
    /** The registry user. */
    public readonly username: string;
    /** The user's password (given or generated). Secret. */
    public readonly password: pulumi.Output<string>;
    /** TCP port of the registry. */
    public readonly port: number;
    /** The local references pushed, in the order given, then the names of {@link LabRegistryArgs.archives}. */
    public readonly images: string[];
    /**
     * The pushed images as the cluster pulls them, in the order of {@link images}, e.g.
     * `10.213.0.5:5000/flotilla-demo:v1`; known once every push is done.
     */
    public readonly imageRefs: pulumi.Output<string[]>;
    private readonly refs: Record<string, pulumi.Output<string>>;
    private readonly resourceName: string;

    /**
     * The reference the cluster pulls one of {@link images} by (`<address>/<name>:<tag>`), known
     * once it is pushed: what a workload's `image` takes.
     */
    public imageRef(image: string): pulumi.Output<string> {
        const ref = this.refs[image];
        if (ref === undefined) {
            throw new InvalidArgumentError(LAB_REGISTRY_TYPE, this.resourceName, "image", image, `one of the registry's images: ${this.images.join(", ")}`);
        }
        return ref;
    }

    constructor(name: string, args: LabRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate everything plain before registering anything.
        const v = new Validator(LAB_REGISTRY_TYPE, name);
        v.args(args, LAB_REGISTRY_KEYS, "LabRegistryArgs");
        const host = args.host;
        if (Array.isArray(host)) {
            v.fail("host", `a list of ${host.length} hosts`, "one Host (e.g. pool.hosts[0])");
        }
        if (!isHost(host)) {
            v.fail("host", host, "a Host (e.g. pool.hosts[0]) with name, connection, privateAddress, instanceId and ready");
        }
        for (const key of ["username", "port", "images", "archives"] as const) v.plain(key, args[key]);
        const username = args.username ?? DEFAULT_REGISTRY_USERNAME;
        if (typeof username !== "string" || !USERNAME.test(username)) {
            v.fail(
                "username",
                username,
                "a user name of 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit",
            );
        }
        const port = v.integer("port", args.port ?? DEFAULT_REGISTRY_PORT, 1024, 65535);
        const images = v.list("images", args.images, 'a list of local image references such as ["flotilla-demo:v1"]') as string[];
        const pushes = images.map((image, i) => {
            const parsed = parseLocalImage(image);
            if (typeof parsed === "string") {
                v.fail(
                    `images[${i}]`,
                    image,
                    `a local image reference with a tag and no registry host, such as "flotilla-demo:v1" (${parsed})`,
                );
            }
            const j = images.indexOf(image);
            if (j !== i) {
                v.fail(`images[${i}]`, image, `an image not already listed (images[${j}] is the same)`);
            }
            // Injective: the readable part alone could be the same for "a/b:c" and "a-b:c".
            const slug = image.replace(/[/:]/g, "-");
            return { image, ...(parsed as { path: string; tag: string }), child: `${name}-push-${slug}-${sha256(image).slice(0, 8)}`, legacy: `${name}-push-${slug}`, archive: undefined as string | undefined };
        });
        const archives = args.archives === undefined ? {} : args.archives;
        if (typeof archives !== "object" || archives === null || Array.isArray(archives)) {
            v.fail("archives", archives, 'an object { "<name>:<tag>": "/path/to/image.tar" }');
        }
        for (const [image, file] of Object.entries(archives)) {
            const parsed = parseLocalImage(image);
            if (typeof parsed === "string") {
                v.fail(`archives.${image}`, image, `a name with a tag and no registry host, such as "k8s/pause:3.10.2" (${parsed})`);
            }
            if (images.includes(image)) v.fail(`archives.${image}`, image, "a name not also in images");
            if (typeof file !== "string" || !/^\/\S+\.tar$/.test(file)) {
                v.fail(`archives.${image}`, file, "the absolute path of a docker-archive tarball (.tar) on the machine running Pulumi");
            }
            const slug = image.replace(/[/:]/g, "-");
            pushes.push({ image, ...(parsed as { path: string; tag: string }), child: `${name}-push-${slug}-${sha256(image).slice(0, 8)}`, legacy: `${name}-push-${slug}`, archive: file });
        }
        const password = args.password === undefined ? undefined : v.later("password", args.password, PASSWORD_EXPECTED, checkPassword, { secret: true });

        super(LAB_REGISTRY_TYPE, name, {}, opts);

        this.resourceName = name;
        this.username = username;
        this.port = port;
        this.images = [...images, ...Object.keys(archives)];

        let secret: pulumi.Output<string>;
        if (password !== undefined) {
            secret = password;
        } else {
            const seed = new SshKeyPair(`${name}-password-seed`, { comment: `registry-password@${name}` }, { parent: this });
            secret = seed.privateKey.apply((key) =>
                crypto.createHash("sha256").update(`flotilla-registry-password\n${key}`).digest("base64url").slice(0, 32),
            );
        }
        this.password = pulumi.secret(secret);

        const registry = new RemoteScript(
            `${name}-registry`,
            {
                connection: host.connection,
                script: bundledScript("hosts", "lab-registry.sh"),
                environment: { REGISTRY_PORT: String(port), REGISTRY_USERNAME: username },
                secretEnvironment: { REGISTRY_PASSWORD: this.password },
                target: `registry on ${host.name}`,
                triggers: [host.instanceId],
                timeoutSeconds: 600,
            },
            { parent: this, dependsOn: host.ready },
        );

        // Known as soon as the machine's address is: a runtime that lists it as an insecure
        // registry need not wait for the registry to be installed (image references do wait).
        this.address = pulumi.interpolate`${host.privateAddress}:${port}`;

        const pushScript = bundledScript("hosts", "lab-registry-push.sh");
        const pushed = pushes.map(
            (p) =>
                new LocalScript(
                    p.child,
                    {
                        script: pushScript,
                        target: `image ${p.image} -> registry on ${host.name}`,
                        environment: {
                            REGISTRY_ADDRESS: this.address,
                            REGISTRY_USERNAME: username,
                            IMAGE_SOURCE: p.image,
                            ...(p.archive ? { IMAGE_ARCHIVE: p.archive } : {}),
                            IMAGE_TARGET: pulumi.interpolate`${this.address}/${p.path}:${p.tag}`,
                            // A new machine is a new, empty registry: push again.
                            REGISTRY_INSTANCE: host.instanceId,
                        },
                        secretEnvironment: { REGISTRY_PASSWORD: this.password },
                        timeoutSeconds: 900,
                    },
                    { parent: this, dependsOn: [registry], aliases: [{ name: p.legacy }] },
                ),
        );
        this.imageRefs = pulumi.all(pushed.map((p) => p.result));
        this.refs = Object.fromEntries(pushes.map((p, i) => [p.image, pushed[i].result]));

        this.registerOutputs({
            address: this.address,
            username: this.username,
            password: this.password,
            port: this.port,
            images: this.images,
            imageRefs: this.imageRefs,
        });
    }
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PASSWORD_EXPECTED = "8 to 72 printable ASCII characters";

/** Properties of {@link LabRegistryArgs}. */
const LAB_REGISTRY_KEYS = ["host", "username", "password", "port", "images", "archives"];

/**
 * Splits a local image reference `name[/name...]:tag` into path and tag (the project's one image
 * reference parser), or says why it is not one: no tag, a digest, or a registry host.
 */
export function parseLocalImage(image: unknown): { path: string; tag: string } | string {
    const ref = parseImageReference(image);
    if (typeof ref === "string") return ref;
    if (ref.registry !== undefined) return `it names a registry (${ref.registry}): give the local name`;
    if (ref.digest !== undefined) return "it has a digest: give a tag";
    if (ref.tag === undefined) return "it has no tag";
    return { path: ref.path, tag: ref.tag };
}

/** A password is 8 to 72 printable ASCII characters (bcrypt reads at most 72). */
function checkPassword(password: unknown): string | Reason {
    return typeof password === "string" && password.length >= 8 && password.length <= 72 && /^[\x20-\x7e]*$/.test(password)
        ? password
        : new Reason();
}
