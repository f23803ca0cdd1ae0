/**
 * Flotilla's dynamic resources, without serializing their provider by value.
 *
 * Pulumi's `dynamic.Resource` serializes the provider object with its closures into every
 * resource's state (inputs and outputs), several kilobytes each, and, from an installed package,
 * as `require("<package>/dist/...")` paths that the package's `exports` map may hide. Flotilla's
 * resources instead store a one-line provider that loads the provider module by its package path
 * in the provider process (which resolves modules from the program's folder), exactly as a
 * provider plugin is loaded by name: the provider code is the installed flotilla's, and each
 * provider handles every state earlier versions wrote (as Pulumi's dynamic provider host
 * requires of any dynamic provider that changes).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

/** The providers flotilla ships (modules `lib/shared/providers/<name>`). */
export type ProviderName = "local-script" | "remote-script" | "ssh-key-pair";

let packageName: string | undefined;

/** The name of the package this module belongs to (from the nearest package.json above it). */
export function flotillaPackageName(): string {
    if (packageName === undefined) {
        let dir = __dirname;
        for (;;) {
            const file = path.join(dir, "package.json");
            if (fs.existsSync(file)) {
                const name = (JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string }).name;
                if (name) {
                    packageName = name;
                    break;
                }
            }
            const up = path.dirname(dir);
            if (up === dir) throw new Error("flotilla: cannot find its own package.json");
            dir = up;
        }
    }
    return packageName;
}

/**
 * The module specifier of a provider, as the provider process requires it: the package's short
 * `p/<name>` export (`./dist/lib/shared/providers/<name>.js`; every resource stores it twice).
 */
export function providerModule(name: ProviderName): string {
    return `${flotillaPackageName()}/p/${name}`;
}

/** The `__provider` text stored with each resource: one line that loads the provider module. */
export function providerText(name: ProviderName): string {
    return `exports.handler=()=>require(${JSON.stringify(providerModule(name))}).provider`;
}

/** Type token of a flotilla dynamic resource (`pulumi-nodejs:dynamic/flotilla:RemoteScript`). */
export function dynamicType(type: string): string {
    return `pulumi-nodejs:dynamic/flotilla:${type}`;
}

/** The type every dynamic resource had before flotilla named its own (kept as an alias). */
const LEGACY_DYNAMIC_TYPE = "pulumi-nodejs:dynamic:Resource";

/**
 * Base of flotilla's dynamic resources: a custom resource of the Node.js dynamic provider whose
 * provider is {@link providerText}. Props must not define `__provider`.
 */
export abstract class FlotillaDynamicResource extends pulumi.CustomResource {
    protected constructor(
        provider: ProviderName,
        type: string,
        name: string,
        props: Record<string, unknown>,
        opts?: pulumi.CustomResourceOptions,
    ) {
        super(
            dynamicType(type),
            name,
            { ...props, __provider: providerText(provider) },
            { ...opts, aliases: [...(opts?.aliases ?? []), { type: LEGACY_DYNAMIC_TYPE }] },
        );
    }
}
