/** Limits, fixed values and small helpers of the Kubernetes rendering. Internal (not re-exported). */
import type { ResolvedRegistryAuth, ResolvedRegistryCredential } from "./kubernetes-objects";

/** Mode of the secret files, as on Swarm: read-only for everyone (0444). */
export const SECRET_FILE_MODE = 0o444;
/** Kubernetes' default `progressDeadlineSeconds` of a Deployment. */
export const PROGRESS_DEADLINE_SECONDS = 600;
/** Largest number of seconds in an int32 field (periods, delays). */
export const MAX_SECONDS = 2 ** 31 - 1;
/** Hex digits of the value hash in a Secret name. */
export const HASH_LENGTH = 8;
/** Suffixes of the Services of published ports. */
export const NODE_PORT_SUFFIX = "-nodeport";
export const LOAD_BALANCER_SUFFIX = "-lb";

/** Whole seconds, rounded up, at least `min`. */
export function seconds(ms: number, min = 0): number {
    return Math.max(min, Math.ceil(ms / 1000));
}

/** The registry address of resolved credentials in either shape (`registry`, or the deprecated `server`). */
export function registryOf(auth: ResolvedRegistryCredential | ResolvedRegistryAuth): string {
    return "registry" in auth ? auth.registry : auth.server;
}
