/**
 * The orchestrator-neutral description of an application (what users write, {@link AppSpec}) and
 * its validated form with every default resolved (what renderers read, {@link NormalizedAppSpec}):
 * one or more long-running services, each an image with its replicas, internal and published
 * ports, environment, secrets, resources, volumes, placement, readiness and liveness checks and
 * update policy, all reaching each other by service name on one private network (web + db + a
 * named volume, as a compose file would say it).
 *
 * Types only: nothing here creates a resource. Everything that reaches the cluster is described in
 * neutral terms; how each orchestrator realises it is noted beside it (Swarm / Kubernetes) and
 * lives in the renderers.
 */
import * as pulumi from "@pulumi/pulumi";

// ---------------------------------------------------------------------------------------------
// The spec (what users write)
// ---------------------------------------------------------------------------------------------

/** How a service's tasks are counted: a fixed number, or one on every eligible node. */
export type ServiceMode = "replicated" | "global";

/**
 * How a published port reaches the service from outside the cluster.
 * - `ingress`: the port is open on every node of the cluster and routed to the service's tasks
 *   wherever they run (Swarm routing mesh; Kubernetes Service of type NodePort). Needs the
 *   cluster's routing mesh (IPVS on Swarm).
 * - `host`: the port is open only on the nodes where a task runs, straight to that task (Swarm
 *   `mode: host`; Kubernetes `hostPort`). Works where the routing mesh does not (the lab's kernel
 *   has no IPVS); at most one task per node can publish a given port.
 * - `loadBalancer`: an external load balancer routes to the service (Kubernetes Service of type
 *   LoadBalancer). Swarm has none to provision: it renders the port as `ingress` (put your own
 *   load balancer in front of the nodes), so it needs the routing mesh too.
 */
export type PublishMode = "ingress" | "host" | "loadBalancer";

/** Transport protocol of a port. */
export type PortProtocol = "tcp" | "udp";

/** Order of an update: start the new task before stopping the old one, or the other way round. */
export type UpdateOrder = "start-first" | "stop-first";

/** What to do when an updated task fails within the monitor period. */
export type UpdateFailureAction = "rollback" | "pause" | "continue";

/** An application: services that find each other by name on one private network. */
export interface AppSpec<V extends pulumi.Input<string> = pulumi.Input<string>> {
    /**
     * The services, by name. A name is a DNS label starting with a letter (at most 63 characters);
     * the other services reach this one at that host name (Swarm: network alias on the app's
     * overlay network; Kubernetes: a Service of that name). At least one.
     */
    readonly services: Readonly<Record<string, ServiceSpec<V>>>;
    /**
     * Secrets of the app, by name: each value is always treated as secret (never logged, never
     * written into a rendered file, never shown in an error: only its length) and must not be
     * empty (an Output is checked when it resolves). A service lists the names it needs in its
     * `secrets`; each one appears in its containers as the file `/run/secrets/<name>` (Swarm
     * secret; Kubernetes Secret volume). Names: lower-case letters, digits, '-', '_' and '.',
     * starting and ending with a letter or digit. A changed value rolls the services that use it.
     * @default none.
     */
    readonly secrets?: Readonly<Record<string, V>>;
    /**
     * Publish mode of every port that does not set its own `mode` (see {@link PublishMode}).
     * @default `"ingress"`; set `"host"` where the routing mesh is unavailable (the lab).
     */
    readonly publishMode?: PublishMode;
    /**
     * Named volumes, by name, with their size and class. Services mount volumes by name (their
     * `volumes`); a volume declared here must be mounted by at least one service, and a mounted
     * volume not declared here gets the defaults (no size, the cluster's default class).
     * @default none.
     */
    readonly volumes?: Readonly<Record<string, VolumeSpec>>;
}

/** A named volume of the app. */
export interface VolumeSpec {
    /**
     * Capacity to request, a memory-like quantity (`"1Gi"`, `"500M"`, see
     * {@link ResourceQuantities.memory}), more than 0. Kubernetes: the PersistentVolumeClaim's
     * storage request. Swarm: not expressible with the `local` driver, so not rendered.
     * @default none (Kubernetes renderers then need a default of their own or a class that sizes volumes).
     */
    readonly size?: string;
    /**
     * Kind of storage, a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253
     * characters). Kubernetes: the storage class name. Swarm: the volume driver (`driver:` in the
     * compose file), which must be installed on the nodes.
     * @default the cluster's default (the
     * default storage class; Docker's `local` driver).
     */
    readonly class?: string;
}

/** One service: an image run as one or more identical tasks (containers). */
export interface ServiceSpec<V extends pulumi.Input<string> = pulumi.Input<string>> {
    /**
     * Image reference, `[registry[:port]/]path[:tag][@digest]`, e.g. `postgres:16`,
     * `registry.lab:5000/shop/web:1.4.2`, `ghcr.io/org/app@sha256:…`. Path components are
     * lower-case. Without a registry the image comes from Docker Hub; credentials for a private
     * registry are the deployer's business. Without a tag: `latest`. May be an Output (e.g. a
     * registry construct's image reference): checked when it resolves, with the same message.
     */
    readonly image: V | string;
    /**
     * `replicated` (a fixed number of tasks) or `global` (one task per eligible node).
     * @default `replicated`.
     */
    readonly mode?: ServiceMode;
    /**
     * Number of tasks of a replicated service, an integer from 0 to 1000.
     * @default 1. Not allowed for a global service.
     */
    readonly replicas?: number;
    /**
     * Arguments replacing the image's command (Docker CMD; Kubernetes `args`).
     * @default the image's.
     */
    readonly command?: readonly string[];
    /**
     * Program replacing the image's entrypoint (Docker ENTRYPOINT; Kubernetes `command`).
     * @default the image's.
     */
    readonly entrypoint?: readonly string[];
    /**
     * Environment variables: names `[A-Za-z_][A-Za-z0-9_]*`, values strings (an Output is checked when it resolves).
     * @default none.
     */
    readonly env?: Readonly<Record<string, V>>;
    /**
     * Ports the other services of the app reach this one on (by its name), never published outside
     * the cluster: a port number (TCP) or `{ port, protocol }`, each at most once. The target of a
     * published port is internal too, without being listed here. Kubernetes: the ports of the
     * service's ClusterIP Service. Swarm: every port is reachable on the app's overlay network
     * anyway, so nothing is rendered.
     * @default none.
     */
    readonly expose?: readonly (number | ExposedPortSpec)[];
    /**
     * Ports published outside the cluster. A published port (with its protocol) is used at most
     * once in the whole app.
     * @default none.
     */
    readonly ports?: readonly PortSpec[];
    /**
     * Names of the app's `secrets` this service gets as files `/run/secrets/<name>`.
     * @default none.
     */
    readonly secrets?: readonly string[];
    /**
     * Named volumes to mount, by volume name (a DNS label): the mount path, or `{ path, readOnly }`.
     * Size and class are the app's `volumes`. The volume outlives the service; two services naming
     * the same volume share it where they run on the same node. With Docker's default driver a
     * volume is local to a node: pin a stateful service with `placement`.
     * @default none.
     */
    readonly volumes?: Readonly<Record<string, string | VolumeMountSpec>>;
    /**
     * CPU and memory limits and reservations.
     * @default none (unbounded, nothing reserved).
     */
    readonly resources?: ResourcesSpec;
    /**
     * Node label selectors, all of which a node must satisfy to run this service's tasks: each
     * `<label>==<value>` or `<label>!=<value>`, on the node labels the cluster sets from its hosts'
     * labels (`provider`, `pool`, `region`, `zone` and yours), e.g. `["zone==a", "pool!=spot"]`.
     * Label names: letters, digits, '.', '_' and '-' (no `prefix/`: Swarm constraints refuse '/');
     * values as Kubernetes label values. Swarm compares values ignoring case, Kubernetes does not:
     * keep them lower-case. Rendered for Swarm as `node.labels.<label> == <value>`; for Kubernetes
     * as node affinity.
     * @default any node.
     */
    readonly placement?: readonly string[];
    /**
     * One check that is both the readiness and the liveness check. Not together with `readiness`
     * or `liveness`.
     * @default the image's own HEALTHCHECK, if any.
     */
    readonly healthcheck?: HealthcheckSpec;
    /**
     * When a task may receive traffic (Kubernetes readiness probe: an unready pod leaves the
     * Service's endpoints). Swarm has one health check: it renders `liveness` if given, else this
     * (an unready task is then also restarted, and routed to only once healthy).
     * @default the
     * `healthcheck`, else none.
     */
    readonly readiness?: HealthcheckSpec;
    /**
     * When a task must be restarted (Kubernetes liveness probe; Swarm's health check, which
     * restarts an unhealthy task).
     * @default the `healthcheck`, else none.
     */
    readonly liveness?: HealthcheckSpec;
    /**
     * How a change rolls out.
     * @default see {@link UpdatePolicySpec}.
     */
    readonly update?: UpdatePolicySpec;
    /**
     * Labels on the service and its containers. Keys starting with `flotilla.` are reserved.
     * @default none.
     */
    readonly labels?: Readonly<Record<string, string>>;
}

/** A port other services of the app reach a service on. */
export interface ExposedPortSpec {
    /** The port the container listens on, 1 to 65535. */
    readonly port: number;
    /**
     * `tcp` or `udp`.
     * @default `tcp`.
     */
    readonly protocol?: PortProtocol;
}

/** A published port. */
export interface PortSpec {
    /** Port the container listens on, 1 to 65535. */
    readonly target: number;
    /**
     * Port opened outside the cluster, 1 to 65535.
     * @default `target`.
     */
    readonly published?: number;
    /**
     * `tcp` or `udp`.
     * @default `tcp`.
     */
    readonly protocol?: PortProtocol;
    /**
     * `ingress`, `host` or `loadBalancer` (see {@link PublishMode}).
     * @default the app's `publishMode`.
     */
    readonly mode?: PublishMode;
}

/** A named volume's mount. */
export interface VolumeMountSpec {
    /** Absolute path in the container, not `/` and not under `/run/secrets`. */
    readonly path: string;
    /**
     * Mount read-only.
     * @default `false`.
     */
    readonly readOnly?: boolean;
}

/** CPU and memory quantities. */
export interface ResourceQuantities {
    /**
     * CPUs: a number (`0.5`, `2`) or a string of CPUs (`"0.5"`) or millicpus (`"500m"`), at a
     * precision of at most 0.001 CPU.
     * @default none.
     */
    readonly cpu?: number | string;
    /**
     * Memory: a number of bytes, or a string with a Kubernetes-style suffix: `k`, `M`, `G`, `T`
     * (powers of 1000) or `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024), e.g. `"256Mi"`, `"1G"`. Note
     * `"512M"` is 512,000,000 bytes (Docker's `512m` is `"512Mi"` here).
     * @default none.
     */
    readonly memory?: number | string;
}

/** Limits cap what a task may use; reservations are set aside for it when it is scheduled. */
export interface ResourcesSpec {
    /**
     * Caps (Kubernetes `limits`). A memory limit is at least 6Mi (the Docker engine's minimum).
     * @default none.
     */
    readonly limits?: ResourceQuantities;
    /**
     * Reservations (Kubernetes `requests`), no larger than the limits.
     * @default none.
     */
    readonly reservations?: ResourceQuantities;
}

/**
 * A health check: a command run inside the container. Durations are strings such as `"10s"`,
 * `"1m30s"`, `"500ms"` (units `h`, `m`, `s`, `ms`). Kubernetes probes count whole seconds, so
 * its renderer rounds up.
 */
export interface HealthcheckSpec {
    /**
     * The command: an array is run as is (Docker `CMD`; Kubernetes exec probe), a string by
     * `/bin/sh -c` (Docker `CMD-SHELL`). Exit status 0 means healthy.
     */
    readonly command: string | readonly string[];
    /**
     * Time between checks, more than 0.
     * @default `"10s"`.
     */
    readonly interval?: string;
    /**
     * Time after which a check counts as failed, more than 0.
     * @default `"5s"`.
     */
    readonly timeout?: string;
    /**
     * Consecutive failures that make the task unhealthy, 1 to 100.
     * @default 3.
     */
    readonly retries?: number;
    /**
     * Time after start during which failures do not count.
     * @default `"0s"`.
     */
    readonly startPeriod?: string;
}

/**
 * How a change to a service (a new image, env, secret…) rolls out over its tasks. The pace is
 * given either neutrally (`maxSurge` / `maxUnavailable`, Kubernetes' meaning) or Swarm-style
 * (`parallelism` / `order`), not both. Swarm's mapping of the neutral form:
 * - `maxSurge` > 0, `maxUnavailable` 0: `order: start-first`, `parallelism` = `maxSurge`;
 * - `maxSurge` 0, `maxUnavailable` > 0: `order: stop-first`, `parallelism` = `maxUnavailable`;
 * - both > 0: `order: start-first`, `parallelism` = `maxSurge` (Swarm cannot bound both: up to
 *   `maxSurge` old tasks stay until their replacements started, none is stopped early).
 * The Swarm form maps back as `start-first` → `maxSurge` = `parallelism`, `maxUnavailable` 0, and
 * `stop-first` → `maxSurge` 0, `maxUnavailable` = `parallelism`.
 */
export interface UpdatePolicySpec {
    /**
     * Tasks that may run above the desired count during the update, an integer from 0 to 1000
     * (Kubernetes `maxSurge`).
     * @default 0 when `maxUnavailable` is given; else from
     * `parallelism`/`order` (1 by default, 0 for a service whose default order is `stop-first`).
     * Not together with `parallelism` or `order`; not 0 together with a `maxUnavailable` of 0.
     */
    readonly maxSurge?: number;
    /**
     * Tasks that may be missing below the desired count during the update, an integer from 0 to
     * 1000 (Kubernetes `maxUnavailable`).
     * @default 0 when `maxSurge` is given; else from
     * `parallelism`/`order` (0 by default, 1 for a service whose default order is `stop-first`).
     * Not together with `parallelism` or `order`.
     */
    readonly maxUnavailable?: number;
    /**
     * Swarm-style: tasks updated at a time, 1 to 1000.
     * @default 1. Not together with `maxSurge`/`maxUnavailable`.
     */
    readonly parallelism?: number;
    /**
     * Wait between batches, a duration (`"5s"`).
     * @default `"5s"`.
     */
    readonly delay?: string;
    /**
     * Swarm-style: `start-first` (a new task starts before the old one stops: no gap) or
     * `stop-first`. Not together with `maxSurge`/`maxUnavailable`.
     * @default `start-first`, except
     * `stop-first` for a service that publishes a port in `host` mode (the old task holds the port
     * on its node, so a new one could not start beside it) or mounts a named volume read-write
     * (two tasks would write the same data at once).
     */
    readonly order?: UpdateOrder;
    /**
     * On a task failing during the update: `rollback` to the previous version, `pause` the update,
     * or `continue`.
     * @default `rollback`. A rollback itself uses the same pace, delay and monitor,
     * and pauses if it fails.
     */
    readonly failureAction?: UpdateFailureAction;
    /**
     * How long each updated task is watched for failure, more than 0.
     * @default `"10s"`.
     */
    readonly monitor?: string;
}

export * from "./normalized-types";
