/**
 * What every workload deployer takes ({@link AppDeployerArgs}: the app, the cluster, registry
 * credentials, a rollout timeout) and the checks of those settings, shared by `SwarmApp`,
 * `KubernetesApp` and `PulumiKubernetesApp`.
 */
import { ICluster } from "../../core/cluster";
import { CheckedRegistryCredential, RegistryCredential, checkRegistryCredential } from "../../core/registry-credential";
import { Validator, hasOwn } from "../../core/validate";
import { APP_KEYS, AppSpec } from "../app-spec";
import { RegistryAuth } from "./registry-auth";

/** Default of {@link AppDeployerArgs.rolloutTimeoutSeconds}. */
export const DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 300;

/** Bounds of {@link AppDeployerArgs.rolloutTimeoutSeconds}. */
export const ROLLOUT_TIMEOUT_RANGE: readonly [number, number] = [10, 7200];

/**
 * Arguments every workload deployer takes: the app (an {@link AppSpec}, flat: `services`,
 * `secrets`, `volumes`, `publishMode`), the cluster it goes to, and how it is deployed.
 */
export interface AppDeployerArgs<C extends ICluster = ICluster> extends AppSpec {
    /**
     * The cluster to deploy to (e.g. a `SwarmCluster` or a `KubernetesCluster`, or anything
     * offering the orchestrator's interface). Required by every deployer except where it says
     * how else to reach the cluster.
     * @default none: required, unless the deployer takes another way to the cluster
     * (`PulumiKubernetesApp`'s `provider`).
     */
    readonly cluster?: C;
    /**
     * Credentials of a private registry the nodes pull the app's images from, a
     * {@link RegistryCredential} `{ registry, username, password }` (the password kept secret);
     * `{ server, username, password }`, the shape before flotilla 0.2, is still accepted.
     * @default none: images are pulled anonymously (or are on the nodes already)
     */
    readonly registryAuth?: RegistryCredential | RegistryAuth;
    /**
     * Seconds to wait after a deploy for every service's rollout to finish (updated, running or
     * ready as many as desired) before `up` fails with what the services' tasks or pods report,
     * 10 to 7200.
     * @default 300
     */
    readonly rolloutTimeoutSeconds?: number;
}

/** Properties of {@link AppDeployerArgs} besides the {@link AppSpec}'s and `cluster`. */
export const APP_DEPLOYER_KEYS = ["registryAuth", "rolloutTimeoutSeconds"] as const;

/**
 * Checks `registryAuth` (undefined: none) as core's {@link checkRegistryCredential}, accepting the
 * former `server` in place of `registry`. Returns it as Outputs, the password secret.
 */
export function checkRegistryAuthArg(v: Validator, value: unknown): CheckedRegistryCredential | undefined {
    return value === undefined ? undefined : checkRegistryCredential(v, "registryAuth", value, { acceptServer: true });
}

/**
 * An Args property that has a former name (a deprecated alias): the one given, and its value.
 * Giving both is refused, naming the old one. Undefined values count as not given.
 */
export function renamedArg(v: Validator, args: object, name: string, former: string): { property: string; value: unknown } {
    const given = args as Record<string, unknown>;
    if (given[name] !== undefined && given[former] !== undefined) {
        v.fail(former, given[former], `no ${former} beside ${name} (${former} is its former name): give ${name} only`);
    }
    return given[former] !== undefined ? { property: former, value: given[former] } : { property: name, value: given[name] };
}

/**
 * Checks `rolloutTimeoutSeconds` (or, given `former`, its deprecated alias of that name): plain, an
 * integer in {@link ROLLOUT_TIMEOUT_RANGE}; undefined is `fallback`.
 */
export function checkRolloutTimeout(v: Validator, args: object, fallback = DEFAULT_ROLLOUT_TIMEOUT_SECONDS, former?: string): number {
    const { property, value } = former === undefined ? { property: "rolloutTimeoutSeconds", value: (args as AppDeployerArgs).rolloutTimeoutSeconds } : renamedArg(v, args, "rolloutTimeoutSeconds", former);
    v.plain(property, value);
    return v.integer(property, value ?? fallback, ROLLOUT_TIMEOUT_RANGE[0], ROLLOUT_TIMEOUT_RANGE[1]);
}

/** The {@link AppSpec} part of a deployer's Args: their own properties of {@link APP_KEYS}. */
export function appSpecOf(args: AppSpec): AppSpec {
    const spec: Record<string, unknown> = {};
    for (const key of APP_KEYS) {
        if (hasOwn(args, key)) spec[key] = (args as unknown as Record<string, unknown>)[key];
    }
    return spec as unknown as AppSpec;
}
