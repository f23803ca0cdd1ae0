import * as pulumi from "@pulumi/pulumi";
import { FlotillaDynamicResource } from "./dynamic";
import { BundledScript, isBundledScript, sha256 } from "./scripts";

export { provider as localScriptProvider } from "./providers/local-script";

/** Arguments of {@link LocalScript}. */
export interface LocalScriptArgs {
    /**
     * Bash script run for every phase, named by `FLOTILLA_PHASE`: `create`, `read` (on refresh:
     * exit 0 when what it made is there and sound, exit 3 when it is gone, so the next up makes it
     * again) and `delete`. It receives the environment below (and `FLOTILLA_LIB_DIR`, the
     * installed library's folder), must be idempotent, and may print a result on its last stdout
     * line in the create phase (see {@link LocalScript.result}). Either the script's text (kept
     * whole in the state) or a script shipped with flotilla (`bundledScript`, internal: only its name
     * and hash are kept). Any change of the script, environment or triggers replaces the resource
     * (delete, then create).
     */
    readonly script: pulumi.Input<string> | BundledScript;
    /**
     * Plain environment variables for the script.
     * @default none
     */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Environment variables that must stay secret: stored encrypted, and their values are masked in
     * any error message the resource produces.
     * @default none
     */
    readonly secretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Secret environment variables the create phase alone needs (e.g. a machine's first-boot user
     * data): stored encrypted with the inputs, but the resource's outputs keep only their hash, so
     * large values cost half. A change replaces the resource, like any other.
     * @default none.
     */
    readonly createOnlySecretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** What the script acts on, for error messages (e.g. `lab machine lab-0 (10.213.0.2)`). */
    readonly target: pulumi.Input<string>;
    /**
     * Seconds a phase may take before it is killed and reported as failed.
     * @default 600.
     */
    readonly timeoutSeconds?: pulumi.Input<number>;
}

/** The script props of a script resource: inline text, or a bundled script's name and hash. */
export function scriptProps(script: pulumi.Input<string> | BundledScript): Record<string, pulumi.Input<string>> {
    if (isBundledScript(script)) {
        return { scriptRef: script.bundled, scriptHash: script.hash };
    }
    return { script, scriptHash: pulumi.output(script).apply(sha256) };
}

/**
 * A bash script run on the machine that runs `pulumi up`, with a create, a read and a delete phase.
 * The local counterpart of a remote script, used where the "machine" is driven from here (the lab's
 * Docker engine). Output is not streamed to the Pulumi log (it may hold secrets); on failure the
 * error carries its last lines, secrets masked.
 */
export class LocalScript extends FlotillaDynamicResource {
    /** The last line the create phase printed on stdout. */
    declare public readonly result: pulumi.Output<string>;

    constructor(name: string, args: LocalScriptArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "local-script",
            "LocalScript",
            name,
            {
                ...scriptProps(args.script),
                environment: args.environment ?? {},
                secretEnvironment: args.secretEnvironment ? pulumi.secret(args.secretEnvironment) : {},
                ...(args.createOnlySecretEnvironment
                    ? { createOnlySecretEnvironment: pulumi.secret(args.createOnlySecretEnvironment), createOnlyHash: undefined }
                    : {}),
                target: args.target,
                timeoutSeconds: args.timeoutSeconds ?? 600,
                result: undefined,
            },
            {
                ...opts,
                deleteBeforeReplace: true,
                additionalSecretOutputs: [
                    ...(opts?.additionalSecretOutputs ?? []),
                    ...(args.secretEnvironment ? ["secretEnvironment"] : []),
                    ...(args.createOnlySecretEnvironment ? ["createOnlyHash"] : []),
                ],
            },
        );
    }
}
