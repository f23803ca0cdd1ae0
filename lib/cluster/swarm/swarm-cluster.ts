import * as pulumi from "@pulumi/pulumi";
import { nodeLabelLines } from "../node-labels";
import { ClusterCapabilities, ClusterPort, ISwarmCluster, SWARM_PORTS } from "../../core/cluster";
import { Host, ResolvedMember, RuntimeHost, advertisedAddress, isHost } from "../../core/host";
import { knownHostsText } from "../../core/known-hosts";

import { RemoteScript } from "../../shared/remote-script";
import { bundledScript } from "../../shared/scripts";
import { Reason, Validator } from "../../core/validate";

/** Type token of {@link SwarmCluster}. */
export const SWARM_CLUSTER_TYPE = "flotilla:cluster:SwarmCluster";

/** Properties of {@link SwarmClusterArgs}. */
const SWARM_CLUSTER_KEYS = [
    "managers",
    "workers",
    "labels",
    "managerLabels",
    "workerLabels",
    "drainTimeoutSeconds",
    "autolock",
    "joinTokenRotation",
];

/** Manager counts a Swarm accepts. */
export const SWARM_MANAGER_COUNTS = [1, 3, 5, 7] as const;

/** Arguments of {@link SwarmCluster}. */
export interface SwarmClusterArgs {
    /**
     * Manager hosts (with a Docker engine installed and started, e.g. `DockerEngine.hosts`): 1, 3, 5
     * or 7. The first one initialises the swarm; after that it is a manager like the others and can
     * be removed or replaced (the swarm keeps its identity): the swarm's own scripts run on the first
     * listed manager that answers, so once the swarm exists a manager new to it must not be listed
     * first (refused loudly: a new manager joins, it never starts a second swarm). Plain list: it
     * decides which resources exist.
     */
    readonly managers: RuntimeHost[];
    /**
     * Worker hosts (0 or more), with Docker installed for Swarm (`DockerEngine` with `joinsSwarm:
     * true`). Removing one drains it first.
     * @default none.
     */
    readonly workers?: RuntimeHost[];
    /**
     * Node labels set on every node, besides the ones from each host's labels (`provider`, `pool`,
     * `region`, `zone` and the host's own).
     * @default none.
     */
    readonly labels?: Record<string, string>;
    /**
     * Node labels set on the managers only (e.g. `{ role: "manager" }`).
     * @default none.
     */
    readonly managerLabels?: Record<string, string>;
    /**
     * Node labels set on the workers only (e.g. `{ role: "worker" }`).
     * @default none.
     */
    readonly workerLabels?: Record<string, string>;
    /**
     * Seconds a Ready node being removed may take to have no running task left after it is
     * drained (a node that is down is removed at once; when the whole swarm goes, nothing is
     * drained).
     * @default 300.
     */
    readonly drainTimeoutSeconds?: number;
    /**
     * Swarm autolock: the managers' raft keys are encrypted at rest, and a manager whose Docker
     * engine restarts (its machine rebooted) stays locked until it is given the unlock key
     * ({@link SwarmCluster.unlockKey}, secret). Every `pulumi up` (no `--refresh` needed) unlocks
     * every locked manager: each manager's unlock resource looks at it over SSH on every preview and
     * up (read-only, `docker info`; 20 s to connect at most, 60 s to run) and, only when it is
     * locked, updates, which gives the manager the key on stdin (never in argv or a log) and waits
     * (at most 120 s) until it is active again. `pulumi preview` shows that update and changes
     * nothing; an `up` with no manager locked changes nothing. A manager that cannot be reached
     * within that window is left as it is with a warning naming it (the rest of the `up` goes on,
     * and the next `up` looks again); a manager whose host key changed fails the `up`. `up
     * --refresh` unlocks too (the refresh drops a locked manager's unlock resource; the `up`
     * re-creates it). By hand: `docker swarm unlock` on the manager, pasting the key. Turning it on
     * or off later updates the swarm. Plain (it decides which resources exist).
     * @default false.
     */
    readonly autolock?: boolean;
    /**
     * Join token generation: any value; when it changes (or is first set on an existing swarm),
     * both join tokens (worker and manager) are rotated on a manager. Nodes already in the swarm
     * stay; a node added in the same or a later `up` joins with the new token, and the old ones
     * are refused.
     * @default none (never rotated).
     */
    readonly joinTokenRotation?: pulumi.Input<string | number>;
}

/** One node of the swarm. */
export interface SwarmNode {
    /** The host's name (its `Host.name`). */
    readonly name: string;
    /** Its role in the swarm. */
    readonly role: "manager" | "worker";
    /** The address it advertises to the other nodes. */
    readonly address: string;
    /** Its Swarm node id (`docker node ls`). */
    readonly nodeId: string;
}

interface InitResult {
    /** Whether the manager's kernel has IPVS (the service VIP and the routing mesh need it). */
    ipvs?: boolean;
    clusterId: string;
    workerToken: string;
    managerToken: string;
    /** "" without autolock. */
    unlockKey?: string;
}

/** What `joinTokenRotation` accepts: a non-negative integer or a string without white space (at most 64). */
function rotationValue(value: unknown): string | Reason {
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return String(value);
    if (typeof value === "string" && value.length > 0 && value.length <= 64 && ![...value].some((c) => c <= " ")) return value;
    return new Reason();
}

/**
 * A Docker Swarm made of hosts that run a Docker engine. The first manager initialises it; the
 * other managers and all workers join in parallel (through any manager that answers) with tokens
 * fetched from a manager and kept secret, each advertising its private address. Every node is
 * labelled from its host. Removing a worker drains it, waits until its tasks are gone, removes it
 * from the node list and makes it leave; removing a manager (the first one included: the swarm
 * keeps its identity) demotes it first, and Docker refuses a demotion that would break the
 * managers' quorum. A node that is not Ready (its machine stopped, or deleted outside Pulumi) is
 * removed without draining (Swarm counts its tasks as running forever); its own scripts,
 * unreachable, are forgotten after the RemoteScript delete window, so `up` and `destroy` converge
 * without a refresh. When the whole swarm goes (destroy, or the component removed), a teardown
 * resource deleted before every node marks it, and no node is drained. Options: autolock (locked
 * managers unlocked by the next `up`) and join token rotation.
 */
export class SwarmCluster extends pulumi.ComponentResource implements ISwarmCluster {
    /** Always `swarm`. */
    public readonly orchestrator = "swarm" as const;
    /**
     * What this swarm supports, probed on the first manager: without IPVS in its kernel (the lab)
     * there is neither a service VIP nor the routing mesh, and workload renderers use DNS
     * round-robin discovery and host-mode publishing instead.
     */
    public readonly capabilities: pulumi.Output<ClusterCapabilities>;
    /** The address each member advertises to the others, by host name (private when they share its network). */
    public readonly advertisedAddresses: pulumi.Output<Record<string, string>>;
    /** Addresses the managers advertise (see {@link advertisedAddresses}), the first manager first. */
    public readonly managerAddresses: pulumi.Output<string[]>;
    /** Token a worker joins with. Secret. */
    public readonly workerJoinToken: pulumi.Output<string>;
    /** Token a manager joins with. Secret. */
    public readonly managerJoinToken: pulumi.Output<string>;
    /** The key that unlocks a locked manager, with `autolock` (undefined without). Secret. */
    public readonly unlockKey?: pulumi.Output<string>;
    /** Swarm cluster id. */
    public readonly clusterId: pulumi.Output<string>;
    /**
     * `ssh://<user>@<first manager>` — a Docker host URL for the Docker CLI or `@pulumi/docker`'s
     * Provider (`host`), with the managers' SSH key.
     */
    public readonly dockerHost: pulumi.Output<string>;
    /**
     * known_hosts lines of the nodes, one per address (the pools' `sshConfig` snippets name the file
     * to keep them in): `ssh`, `DOCKER_HOST=ssh://...` and `docker context` check host keys strictly.
     * Not kept in the state.
     */
    public readonly knownHosts: pulumi.Output<string>;
    /** The nodes, managers first. */
    public readonly nodes: pulumi.Output<SwarmNode[]>;
    /**
     * The members, with `ready` meaning "in the swarm and labelled": managers first, then workers.
     * Deploy workloads after `managers[i].ready`.
     */
    public readonly managers: RuntimeHost[];
    /** The workers, `ready` when in the swarm and labelled. */
    public readonly workers: RuntimeHost[];
    /** Ports nodes must reach on each other. */
    public readonly ports: readonly ClusterPort[] = SWARM_PORTS;

    constructor(name: string, args: SwarmClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(SWARM_CLUSTER_TYPE, name);
        v.args(args, SWARM_CLUSTER_KEYS, "SwarmClusterArgs");
        const managers = v.hostList<RuntimeHost>("managers", args.managers, {
            expected: "a list of hosts with Docker installed for Swarm (a DockerEngine's `hosts`, with joinsSwarm: true)",
        });
        if (!(SWARM_MANAGER_COUNTS as readonly number[]).includes(managers.length)) {
            v.fail(
                "managers",
                `${managers.length} hosts`,
                "1, 3, 5 or 7 hosts: managers keep the swarm working while a majority of them (a quorum) is up, " +
                    "so 3 tolerate 1 failure, 5 tolerate 2, 7 tolerate 3, and an even number tolerates no more " +
                    "than the odd number below it",
            );
        }
        const workers =
            args.workers === undefined
                ? []
                : v.hostList<RuntimeHost>("workers", args.workers, {
                      min: 0,
                      expected: "a list of hosts with Docker installed for Swarm (may be empty)",
                  });
        const seen = new Set<string>();
        [...managers, ...workers].forEach((h, i) => {
            const property = i < managers.length ? `managers[${i}]` : `workers[${i - managers.length}]`;
            if (!isHost(h)) {
                v.fail(property, h, "a Host with Docker installed (from a DockerEngine's `hosts`)");
            }
            const runtime = (h as Partial<RuntimeHost>).runtime;
            if (runtime === undefined) {
                v.fail(property, `host "${h.name}" without a runtime`, "a host with Docker installed for Swarm: pass a DockerEngine's `hosts` (joinsSwarm: true), not the pool's");
            }
            if (runtime.kind !== "docker") {
                v.fail(property, `host "${h.name}" with ${runtime.kind}`, "a host with Docker Engine (Swarm is Docker's): use DockerEngine");
            }
            if (!runtime.swarmReady || runtime.liveRestore) {
                v.fail(
                    property,
                    `host "${h.name}" with Docker installed for standalone use (live-restore on)`,
                    "a host whose DockerEngine has joinsSwarm: true (Docker refuses Swarm mode with live-restore)",
                );
            }
            if (seen.has(h.name)) {
                v.fail(`${property}.name`, h.name, "each host at most once across managers and workers");
            }
            seen.add(h.name);
        });
        const userLabels = v.labels("labels", args.labels);
        const roleLabels = {
            manager: v.labels("managerLabels", args.managerLabels),
            worker: v.labels("workerLabels", args.workerLabels),
        };
        const drainTimeout = v.integer("drainTimeoutSeconds", args.drainTimeoutSeconds ?? 300, 10, 3600);
        const autolock = v.boolean("autolock", v.plain("autolock", args.autolock, "it decides which resources exist"), false);
        const rotation =
            args.joinTokenRotation === undefined
                ? undefined
                : v.later("joinTokenRotation", args.joinTokenRotation, "a non-negative integer or a string without white space (at most 64 characters)", rotationValue);

        super(SWARM_CLUSTER_TYPE, name, {}, opts);

        const first = managers[0];
        const members = [...managers, ...workers];
        // The address each member advertises: private when every member shares its network,
        // public otherwise (a swarm across two clouds). The choice needs the members' networks
        // only, so each member's address depends on its own machine alone (not on every machine:
        // state would grow with the square of the cluster's size).
        const networks = pulumi.all(members.map((h) => pulumi.output(h.network ?? "")));
        const advertise = (h: Host): pulumi.Output<string> => {
            const i = members.indexOf(h as RuntimeHost);
            return pulumi.all([networks, h.privateAddress, h.publicAddress]).apply(([nets, privateAddress, publicAddress]) => {
                const resolved: ResolvedMember[] = members.map((m, j) => ({
                    name: m.name,
                    privateAddress: j === i ? privateAddress : "",
                    network: nets[j] || undefined,
                }));
                const address = advertisedAddress({ ...resolved[i], publicAddress }, resolved);
                if (typeof address !== "string") {
                    v.fail(i < managers.length ? `managers[${i}]` : `workers[${i - managers.length}]`, h.name, `a host the other members can reach (${address.reason})`);
                }
                return address;
            });
        };
        this.advertisedAddresses = pulumi
            .all(members.map((h) => advertise(h).apply((a) => [h.name, a] as const)))
            .apply((pairs) => Object.fromEntries(pairs));
        // Scripts about the whole swarm run on the first listed manager that answers: no manager is
        // special once the swarm exists (another connection is an update, never a replace).
        const anyManager = { connection: first.connection, alternates: managers.slice(1).map((m) => m.connection) };
        const init = new RemoteScript(
            `${name}-init`,
            {
                ...anyManager,
                script: bundledScript("cluster", "swarm-init.sh"),
                environment: {
                    ADVERTISE_ADDR: advertise(first),
                    AUTOLOCK: String(autolock),
                    ...(rotation ? { ROTATION: rotation } : {}),
                },
                target: `the swarm (on its first manager that answers, ${first.name} first)`,
                // A single manager re-created is a new swarm; with more, the swarm outlives any one.
                triggers: managers.length === 1 ? [first.instanceId] : [],
                timeoutSeconds: 300,
            },
            { parent: this, dependsOn: managers.flatMap((m) => m.ready), additionalSecretOutputs: ["result"] },
        );
        const initResult = init.result.apply((r) => JSON.parse(r) as InitResult);
        this.workerJoinToken = pulumi.secret(initResult.apply((r) => r.workerToken));
        this.managerJoinToken = pulumi.secret(initResult.apply((r) => r.managerToken));
        this.unlockKey = autolock ? pulumi.secret(initResult.apply((r) => r.unlockKey ?? "")) : undefined;
        this.clusterId = pulumi.unsecret(initResult.apply((r) => r.clusterId));
        this.capabilities = pulumi.unsecret(
            initResult.apply((r): ClusterCapabilities => ({
                serviceVirtualIp: r.ipvs !== false,
                routingMesh: r.ipvs !== false,
                loadBalancer: false,
            })),
        );
        const managerAddrs = pulumi.all(managers.map((m) => pulumi.interpolate`${advertise(m)}:2377`)).apply((a) => a.join(" "));

        const joinScript = bundledScript("cluster", "swarm-join.sh");
        const nodeScript = bundledScript("cluster", "swarm-node.sh");
        const unlockScript = bundledScript("cluster", "swarm-unlock.sh");
        const join = (host: RuntimeHost, role: "manager" | "worker") =>
            new RemoteScript(
                `${name}-join-${host.name}`,
                {
                    connection: host.connection,
                    script: joinScript,
                    environment: { ROLE: role, MANAGER_ADDRS: managerAddrs, ADVERTISE_ADDR: advertise(host) },
                    secretEnvironment: {
                        JOIN_TOKEN: role === "manager" ? this.managerJoinToken : this.workerJoinToken,
                    },
                    target: `swarm join of ${host.name} as a ${role}`,
                    triggers: [host.instanceId, this.clusterId],
                    timeoutSeconds: 300,
                },
                { parent: this, dependsOn: [...host.ready, init] },
            );
        // Every manager joins (the one that initialised the swarm is a member already: a no-op), so
        // none of them is special when the list changes.
        const managerJoins = managers.map((h) => join(h, "manager"));
        const workerJoins = workers.map((h) => join(h, "worker"));
        // Under autolock, each manager has a check that unlocks it when its engine restarted: looked
        // at on every preview and up (detectDrift), updated (unlocking) only when it is locked.
        const unlocks = autolock
            ? managers.map(
                  (h, i) =>
                      new RemoteScript(
                          `${name}-unlock-${h.name}`,
                          {
                              connection: h.connection,
                              script: unlockScript,
                              environment: { NODE_NAME: h.name },
                              secretEnvironment: { UNLOCK_KEY: this.unlockKey! },
                              target: `swarm unlock of ${h.name}`,
                              triggers: [h.instanceId, this.clusterId],
                              timeoutSeconds: 180,
                              detectDrift: true,
                          },
                          { parent: this, dependsOn: [managerJoins[i]] },
                      ),
              )
            : [];
        const member = (host: RuntimeHost, role: "manager" | "worker", joined: RemoteScript) => {
            const labels = nodeLabelLines({ ...host.labels, ...userLabels, ...roleLabels[role] });
            // Run by a manager that answers, never the node itself (it may be the one leaving),
            // unless it is the only manager.
            const others = managers.filter((m) => m !== host);
            const runners = others.length > 0 ? others : [host];
            const node = new RemoteScript(
                `${name}-node-${host.name}`,
                {
                    connection: runners[0].connection,
                    alternates: runners.slice(1).map((m) => m.connection),
                    script: nodeScript,
                    environment: {
                        NODE_ID: joined.result.apply((r) => (JSON.parse(r) as { nodeId: string }).nodeId),
                        NODE_NAME: host.name,
                        ROLE: role,
                        LABELS: labels,
                        DRAIN_TIMEOUT: String(drainTimeout),
                    },
                    target: `swarm node ${host.name}`,
                    // A re-created machine is a new node: label it, and remove the old one (down).
                    triggers: [joined.result.apply((r) => (JSON.parse(r) as { nodeId: string }).nodeId)],
                    timeoutSeconds: drainTimeout + 120,
                },
                // After every manager joined and is unlocked (any of them may run it).
                { parent: this, dependsOn: [joined, ...managerJoins, ...unlocks] },
            );
            const ready: RuntimeHost = { ...host, ready: [node] };
            const info = pulumi
                .all([joined.result, advertise(host)])
                .apply(([r, address]): SwarmNode => ({ name: host.name, role, address, nodeId: (JSON.parse(r) as { nodeId: string }).nodeId }));
            return { ready, info, node };
        };

        const managerMembers = managers.map((h, i) => member(h, "manager", managerJoins[i]));
        const workerMembers = workers.map((h, i) => member(h, "worker", workerJoins[i]));
        // Deleted first when the whole swarm goes (it depends on every node): marks the teardown so
        // the node deletes skip their drains. Its inputs do not change with the membership.
        new RemoteScript(
            `${name}-teardown`,
            {
                ...anyManager,
                script: bundledScript("cluster", "swarm-teardown.sh"),
                target: "the swarm's removal (on its first manager that answers)",
                timeoutSeconds: 120,
            },
            {
                parent: this,
                dependsOn: [...managerMembers, ...workerMembers].map((m) => m.node),
                // Replaced (a single manager re-created): the old mark is written, then removed.
                deleteBeforeReplace: true,
            },
        );
        this.managers = managerMembers.map((m) => m.ready);
        this.workers = workerMembers.map((m) => m.ready);
        this.nodes = pulumi.all([...managerMembers, ...workerMembers].map((m) => m.info));
        this.managerAddresses = pulumi.all(managers.map((m) => advertise(m)));
        this.dockerHost = pulumi.interpolate`ssh://${first.connection.user}@${first.connection.host}`;

        this.knownHosts = knownHostsText([...this.managers, ...this.workers]);
        this.registerOutputs({
            managerAddresses: this.managerAddresses,
            workerJoinToken: this.workerJoinToken,
            managerJoinToken: this.managerJoinToken,
            unlockKey: this.unlockKey,
            clusterId: this.clusterId,
            dockerHost: this.dockerHost,
            nodes: this.nodes,
            ports: this.ports,
            capabilities: this.capabilities,
            advertisedAddresses: this.advertisedAddresses,
        });
    }
}
