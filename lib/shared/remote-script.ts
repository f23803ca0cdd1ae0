import * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "../core/host";
import { FlotillaDynamicResource } from "./dynamic";
import { scriptProps } from "./local-script";
import { BundledScript } from "./scripts";
import { normalizeTriggers } from "./providers/remote-script";
import { compactPrivateKey } from "./ssh-keys";

export { provider as remoteScriptProvider } from "./providers/remote-script";

/** Arguments of {@link RemoteScript}. */
export interface RemoteScriptArgs {
    /** How to reach the machine (a `Host`'s `connection`). The private keys are kept secret. */
    readonly connection: SshConnection;
    /**
     * Other machines that can run the script equally well (e.g. the other Swarm managers), tried in
     * order when the ones before cannot be reached within 20 s. With alternates the script is about
     * a cluster, not one machine: no machine identity check is made, and another `connection` (with
     * alternates before and after) is an update, not a replace (e.g. the first manager removed).
     * @default none.
     */
    readonly alternates?: SshConnection[];
    /**
     * Bash script run as root (through `sudo -n` when the login user is not root) for every phase,
     * named by `FLOTILLA_PHASE`:
     * - `create`, then `update` whenever the script or its environment changes: apply, idempotently;
     * - `read` (on refresh, and on every preview and up with {@link RemoteScriptArgs.detectDrift}):
     *   exit 0 when what it made is there, 3 when it is gone (after a refresh the next up runs
     *   `create` again; with detectDrift the up runs `update`); it must change nothing;
     * - `delete`: undo, idempotently.
     * It may print a result on its last stdout line ({@link RemoteScript.result}). Its stdin is
     * /dev/null; it never sees a terminal. Either the script's text (kept whole in the state) or a
     * script shipped with flotilla (`bundledScript`, internal: only its name and hash are kept; a
     * changed script runs again on the next up).
     */
    readonly script: pulumi.Input<string> | BundledScript;
    /**
     * Plain environment variables for the script.
     * @default none
     */
    readonly environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Environment variables that stay secret: stored encrypted, masked in every error message.
     * @default none
     */
    readonly secretEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** What the script acts on, for error messages (e.g. `docker on lab-0 (10.213.0.2)`). */
    readonly target: pulumi.Input<string>;
    /**
     * Values that, when they change, make the script run again on a fresh resource (replace), e.g.
     * the machine's identity so a re-created machine gets the script again.
     * @default none.
     */
    readonly triggers?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Seconds one phase may take before it is abandoned and reported failed.
     * @default 900.
     */
    readonly timeoutSeconds?: pulumi.Input<number>;
    /**
     * Seconds to keep retrying the SSH connection (a machine still booting).
     * @default 180.
     */
    readonly connectTimeoutSeconds?: pulumi.Input<number>;
    /**
     * Seconds the `delete` phase keeps retrying the SSH connection before taking the machine for
     * gone (deleted or stopped outside Pulumi): when every attempt was refused, found no route or
     * timed out (and, with alternates, for every one of them), what the script made went with the
     * machine, so the resource is forgotten with a warning naming it instead of failing the
     * destroy. A machine that answers with another `/etc/machine-id` (re-imaged) is forgotten too.
     * A host-key mismatch, a refused login, a peer that is not SSH or an unreachable bastion is
     * never taken for gone. A machine found gone once gets 5 s for its next scripts' deletes in the
     * same run (its scripts are deleted one after the other).
     * @default 30.
     */
    readonly deleteConnectTimeoutSeconds?: pulumi.Input<number>;
    /**
     * Drift detection without a refresh: when nothing changed in the program, every diff (each
     * `preview` and `up`) runs the script's `read` phase on the machine, which must then change
     * nothing (bounded: 20 s to connect at most, 60 s to run). When it exits 3 (what the script made
     * is gone, e.g. a Swarm manager locked again), the resource is updated and the `update` phase
     * runs (in an `up`; a preview only shows the update). When the probe cannot tell (the machine
     * cannot be reached within that window, or the read fails or times out), the resource is left
     * as it is with a warning naming the machine and why, so one machine down does not fail an
     * `up` that does not need it; a host-key mismatch is an error. With it, an update always runs
     * the script again. Each preview and up then costs one SSH session per resource.
     * @default false
     * (the `read` phase runs on refresh only).
     */
    readonly detectDrift?: boolean;
}

/**
 * A bash script run over SSH on a machine, with create/update/read/delete phases: how flotilla
 * installs and configures things on hosts it did not create (and on lab machines). The script is an
 * input, so `delete` runs the script the resource was applied with. Output is not streamed to the
 * Pulumi log (it may hold secrets); on failure the error names the target, the phase and the exit
 * status, with the last lines of output, secrets masked.
 */
export class RemoteScript extends FlotillaDynamicResource {
    /** The last line the latest create/update printed on stdout. */
    declare public readonly result: pulumi.Output<string>;
    /** `/etc/machine-id` of the machine the script ran on. */
    declare public readonly machineId: pulumi.Output<string>;
    /**
     * The host key (`ssh-ed25519 AAAA...`) the machine presented when first seen, when the
     * connection pins none (trust on first use): every later phase (update, refresh, delete)
     * refuses another key. Undefined when a key is pinned (`connection.hostKey`).
     */
    declare public readonly seenHostKey: pulumi.Output<string | undefined>;
    /**
     * The bastion's host key when first seen, when `connection.bastion` pins none (trust on first
     * use for the jump host too): every later phase refuses another key from that bastion.
     */
    declare public readonly seenBastionHostKey: pulumi.Output<string | undefined>;

    constructor(name: string, args: RemoteScriptArgs, opts?: pulumi.CustomResourceOptions) {
        // Keys are kept compact (an ed25519 key as its seed): every byte is stored twice per resource.
        const key = (k: pulumi.Input<string>) => pulumi.secret(pulumi.output(k).apply(compactPrivateKey));
        const target = (c: SshConnection) => ({
            // The host key without its comment: type and key are what is checked.
            connection: { host: c.host, port: c.port, user: c.user, hostKey: pulumi.output(c.hostKey ?? "").apply(bareKey) },
            privateKey: key(c.privateKey),
            bastion: c.bastion
                ? pulumi.secret({
                      host: c.bastion.host,
                      port: c.bastion.port,
                      user: c.bastion.user,
                      hostKey: c.bastion.hostKey ?? "",
                      privateKey: key(c.bastion.privateKey),
                  })
                : null,
        });
        const alternates = args.alternates ?? [];
        // Only what holds something secret is marked (an empty value encrypted still costs bytes).
        const secretOutputs = [
            "privateKey",
            ...(args.connection.bastion ? ["bastion"] : []),
            ...(alternates.length > 0 ? ["alternates"] : []),
            ...(args.secretEnvironment ? ["secretEnvironment"] : []),
        ];
        super(
            "remote-script",
            "RemoteScript",
            name,
            {
                // Defaults are left out: the provider fills them in (state is a cost).
                ...omitUndefined({
                    ...target(args.connection),
                    bastion: args.connection.bastion ? target(args.connection).bastion : undefined,
                    // An alternate with the main connection's key keeps none of its own (the usual case:
                    // one pool key for every machine); the provider uses the main one.
                    alternates:
                        alternates.length > 0
                            ? pulumi.secret(
                                  pulumi.all([pulumi.output(args.connection.privateKey), ...alternates.map((a) => pulumi.output(a.privateKey))]).apply(
                                      ([main, ...keys]) =>
                                          pulumi.all(
                                              alternates.map((a, i) => {
                                                  const { privateKey, ...rest } = target(a);
                                                  return pulumi.output((keys[i] === main ? rest : { ...rest, privateKey }) as Record<string, pulumi.Input<unknown>>);
                                              }),
                                          ),
                                  ),
                              )
                            : undefined,
                    ...scriptProps(args.script),
                    environment: args.environment,
                    secretEnvironment: args.secretEnvironment ? pulumi.secret(args.secretEnvironment) : undefined,
                    target: args.target,
                    triggers: args.triggers ? pulumi.output(args.triggers).apply(hashTriggers) : undefined,
                    timeoutSeconds: args.timeoutSeconds,
                    connectTimeoutSeconds: args.connectTimeoutSeconds,
                    deleteConnectTimeoutSeconds: args.deleteConnectTimeoutSeconds,
                    detectDrift: args.detectDrift ? true : undefined,
                }),
                machineId: undefined,
                result: undefined,
                seenHostKey: undefined,
                seenBastionHostKey: undefined,
            },
            {
                ...opts,
                additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secretOutputs],
            },
        );
    }
}

/** The properties of `record` that are not undefined. */
export function omitUndefined(record: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/**
 * Triggers as the state keeps them: one short hash of all the values (what matters is only
 * whether they changed; the values themselves, e.g. 64-digit container ids, need not be stored).
 */
export function hashTriggers(values: string[]): string[] {
    return normalizeTriggers(values);
}

/** `ssh-ed25519 AAAA... comment` → `ssh-ed25519 AAAA...`. */
export function bareKey(line: string): string {
    return line.trim().split(/\s+/).slice(0, 2).join(" ");
}
