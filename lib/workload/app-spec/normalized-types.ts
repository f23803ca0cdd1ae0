/**
 * The validated form of an {@link AppSpec} with every default resolved: what the renderers read
 * (normalizeAppSpec makes it). Types only.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ImageReference } from "../../core/image-ref";
import type { PortProtocol, PublishMode, ServiceMode, UpdateFailureAction, UpdateOrder } from "./types";
// Named by the doc comments' links only.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
import type { AppSpec, UpdatePolicySpec } from "./types";

/** A published port with its defaults resolved. */
export interface NormalizedPort {
    /** Port the container listens on. */
    readonly target: number;
    /** Port opened outside the cluster. */
    readonly published: number;
    /** Transport protocol. */
    readonly protocol: PortProtocol;
    /** How the port is published. */
    readonly mode: PublishMode;
}

/** A port the other services reach a service on. */
export interface NormalizedExposedPort {
    /** The container's port. */
    readonly port: number;
    /** Transport protocol. */
    readonly protocol: PortProtocol;
}

/** A named volume's mount, resolved. */
export interface NormalizedVolumeMount {
    /** Volume name. */
    readonly volume: string;
    /** Absolute path in the container. */
    readonly path: string;
    /** Mounted read-only. */
    readonly readOnly: boolean;
}

/** A named volume of the app, resolved. */
export interface NormalizedVolume {
    /** Volume name. */
    readonly name: string;
    /** Capacity to request in bytes; undefined: none given. */
    readonly sizeBytes: number | undefined;
    /** Storage class / volume driver; undefined: the cluster's default. */
    readonly class: string | undefined;
}

/** Resource quantities in base units. */
export interface NormalizedQuantities {
    /** CPUs in billionths (nano-CPUs): 0.5 CPU is 500000000. */
    readonly nanoCpus?: number;
    /** Memory in bytes. */
    readonly memoryBytes?: number;
}

/** Limits and reservations, in base units. */
export interface NormalizedResources {
    /** Caps. */
    readonly limits: NormalizedQuantities;
    /** Reservations. */
    readonly reservations: NormalizedQuantities;
}

/** A node label selector. */
export interface PlacementConstraint {
    /** Node label name, e.g. `zone`. */
    readonly label: string;
    /** `==` (label has this value) or `!=` (label is absent or has another value). */
    readonly operator: "==" | "!=";
    /** The value compared with. */
    readonly value: string;
}

/** A health check with its defaults resolved; durations in milliseconds. */
export interface NormalizedHealthcheck {
    /** Array: exec form; string: run by `/bin/sh -c`. */
    readonly command: string | readonly string[];
    /** Time between checks. */
    readonly intervalMs: number;
    /** Time after which a check counts as failed. */
    readonly timeoutMs: number;
    /** Consecutive failures that make the task unhealthy. */
    readonly retries: number;
    /** Time after start during which failures do not count. */
    readonly startPeriodMs: number;
}

/**
 * An update policy with its defaults resolved, in both views: Swarm's (`parallelism`, `order`)
 * and Kubernetes' (`maxSurge`, `maxUnavailable`), per the mapping of {@link UpdatePolicySpec}.
 * Durations in milliseconds.
 */
export interface NormalizedUpdatePolicy {
    /** Swarm: tasks updated at a time. */
    readonly parallelism: number;
    /** Wait between batches. */
    readonly delayMs: number;
    /** Swarm: start the new task first, or stop the old one first. */
    readonly order: UpdateOrder;
    /** What to do when an updated task fails. */
    readonly failureAction: UpdateFailureAction;
    /** How long each updated task is watched for failure. */
    readonly monitorMs: number;
    /** Kubernetes: tasks above the desired count during the update. */
    readonly maxSurge: number;
    /** Kubernetes: tasks below the desired count during the update. */
    readonly maxUnavailable: number;
}

/** A service, validated, with every default resolved. */
export interface NormalizedService<V = pulumi.Input<string>> {
    /** Service name (its host name for the other services). */
    readonly name: string;
    /** The image reference as given (checked when it resolves, if an Output). */
    readonly image: V | string;
    /** Parts of the image reference; undefined while `image` is an unresolved Output ({@link resolveAppSpec} fills it in). */
    readonly imageReference: ImageReference | undefined;
    /** Replicated or global. */
    readonly mode: ServiceMode;
    /** Number of tasks; undefined for a global service. */
    readonly replicas: number | undefined;
    /** Undefined: the image's. */
    readonly command: readonly string[] | undefined;
    /** Undefined: the image's. */
    readonly entrypoint: readonly string[] | undefined;
    /** Environment, by name in sorted order. */
    readonly env: Readonly<Record<string, V>>;
    /** Ports the other services reach this one on: `expose` and every published port's target, sorted by port and protocol. */
    readonly expose: readonly NormalizedExposedPort[];
    /** Published ports, in the order given. */
    readonly ports: readonly NormalizedPort[];
    /** Names of the app's secrets this service mounts, sorted. */
    readonly secrets: readonly string[];
    /** Volume mounts, sorted by volume name. */
    readonly volumes: readonly NormalizedVolumeMount[];
    /** Limits and reservations. */
    readonly resources: NormalizedResources;
    /** Node label selectors, all of which must hold. */
    readonly placement: readonly PlacementConstraint[];
    /** When a task may receive traffic; undefined: no check of flotilla's (the image's own, if any). */
    readonly readiness: NormalizedHealthcheck | undefined;
    /** When a task must be restarted; undefined: no check of flotilla's (the image's own, if any). */
    readonly liveness: NormalizedHealthcheck | undefined;
    /** How a change rolls out. */
    readonly update: NormalizedUpdatePolicy;
    /** User labels, sorted by key. */
    readonly labels: Readonly<Record<string, string>>;
}

/** An {@link AppSpec}, validated, with every default resolved. */
export interface NormalizedAppSpec<V = pulumi.Input<string>> {
    /** Services in the order given. */
    readonly services: readonly NormalizedService<V>[];
    /** Secret values by name, in sorted order (an Output is checked when it resolves). */
    readonly secrets: Readonly<Record<string, V>>;
    /** Every named volume some service mounts, sorted by name, with its size and class. */
    readonly volumes: readonly NormalizedVolume[];
    /** The app's default publish mode. */
    readonly publishMode: PublishMode;
}
