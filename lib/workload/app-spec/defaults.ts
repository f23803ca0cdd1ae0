/**
 * The AppSpec's defaults and limits, its property list, and placement constraints: the public
 * constants {@link normalizeAppSpec} applies.
 */
import type { NormalizedHealthcheck, NormalizedUpdatePolicy, PlacementConstraint, PublishMode } from "./types";

// ---------------------------------------------------------------------------------------------
// Defaults and limits
// ---------------------------------------------------------------------------------------------

/** Default number of tasks of a replicated service. */
export const DEFAULT_REPLICAS = 1;
/** Largest number of tasks of a replicated service. */
export const MAX_REPLICAS = 1000;
/** Default publish mode of a port. */
export const DEFAULT_PUBLISH_MODE: PublishMode = "ingress";
/** The publish modes, in the order error messages list them. */
export const PUBLISH_MODES: readonly PublishMode[] = ["ingress", "host", "loadBalancer"];
/** The smallest memory limit the Docker engine accepts: 6 MiB. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
/** Directory in which a service's secrets appear as files. */
export const SECRETS_DIR = "/run/secrets";
/** Largest `parallelism`, `maxSurge` and `maxUnavailable` of an update. */
export const MAX_UPDATE_BATCH = 1000;

/**
 * Default update policy: one task at a time, the new one started first (`maxSurge` 1,
 * `maxUnavailable` 0). For a service that publishes a host-mode port or mounts a named volume
 * read-write, `order` is `stop-first` (`maxSurge` 0, `maxUnavailable` 1).
 */
export const DEFAULT_UPDATE_POLICY: NormalizedUpdatePolicy = {
    parallelism: 1,
    delayMs: 5_000,
    order: "start-first",
    failureAction: "rollback",
    monitorMs: 10_000,
    maxSurge: 1,
    maxUnavailable: 0,
};

/** Defaults of a health check's timings. */
export const DEFAULT_HEALTHCHECK: Omit<NormalizedHealthcheck, "command"> = {
    intervalMs: 10_000,
    timeoutMs: 5_000,
    retries: 3,
    startPeriodMs: 0,
};

// ---------------------------------------------------------------------------------------------
// Placement
// ---------------------------------------------------------------------------------------------

/**
 * Parses a placement constraint `<label>==<value>` or `<label>!=<value>` (spaces around the
 * operator allowed). Returns it, or why the text is not one.
 */
export function parsePlacementConstraint(text: unknown): PlacementConstraint | string {
    if (typeof text !== "string") {
        return "not a string";
    }
    const m = /^\s*([^\s=!]+)\s*(==|!=)\s*(\S*)\s*$/.exec(text);
    if (!m) {
        return "not <label>==<value> or <label>!=<value>";
    }
    const [, label, operator, value] = m;
    if (label.startsWith("node.") || label.startsWith("engine.")) {
        return `"${label}" is orchestrator-specific: write the node label alone, e.g. "zone==a"`;
    }
    if (!LABEL_NAME.test(label)) {
        return `label "${label}" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`;
    }
    if (!LABEL_VALUE.test(value)) {
        return `value "${value}" is not 1 to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit`;
    }
    return { label, operator: operator as "==" | "!=", value };
}

// Node label names: what both Swarm constraints (`^[a-z_][a-z0-9\-_.]+$`, case-insensitive) and
// Kubernetes label names accept. Values: Kubernetes label values (a subset of Swarm's).
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9._]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9._]{0,61}[A-Za-z0-9])?$/;

/** Properties of {@link AppSpec}. */
export const APP_KEYS = ["publishMode", "secrets", "services", "volumes"];
