import * as pulumi from "@pulumi/pulumi";
import { nodeLabelLines } from "./node-labels";
import { ClusterCapabilities, ClusterPort, ISwarmCluster, SWARM_PORTS } from "../core/cluster";
import { Host, ResolvedMember, RuntimeHost, advertisedAddress, isHost } from "../core/host";

import { RemoteScript } from "../shared/remote-script";
import { bundledScript } from "../shared/scripts";
import { Validator } from "../core/validate";

/** Type token of {@link SwarmCluster}. */
export const SWARM_CLUSTER_TYPE = "flotilla:cluster:SwarmCluster";


/** Properties of {@link SwarmClusterArgs}. */
const SWARM_CLUSTER_KEYS = ["managers", "workers", "labels", "managerLabels", "workerLabels", "drainTimeoutSeconds"];

/** Manager counts a Swarm accepts. */
export const SWARM_MANAGER_COUNTS = [1, 3, 5, 7] as const;

/** Arguments of {@link SwarmCluster}. */
export interface SwarmClusterArgs {
    /**
     * Manager hosts (with a Docker engine installed and started, e.g. `DockerEngine.hosts`): 1, 3, 5
     * or 7. The first one initialises the swarm and must stay the first. Plain list: it decides
     * which resources exist.
     */
    readonly managers: RuntimeHost[];
    /**
     * Worker hosts (0 or more), with Docker installed for Swarm (`DockerEngine` with `joinsSwarm:
     * true`). Removing one drains it first. Default none.
     */
    readonly workers?: RuntimeHost[];
    /**
     * Node labels set on every node, besides the ones from each host's labels (`provider`, `pool`,
     * `region`, `zone` and the host's own). Default none.
     */
    readonly labels?: Record<string, string>;
    /** Node labels set on the managers only (e.g. `{ role: "manager" }`). Default none. */
    readonly managerLabels?: Record<string, string>;
    /** Node labels set on the workers only (e.g. `{ role: "worker" }`). Default none. */
    readonly workerLabels?: Record<string, string>;
    /**
     * Seconds a Ready node being removed may take to have no running task left after it is
     * drained (a node that is down is removed at once). Default 300.
     */
    readonly drainTimeoutSeconds?: number;
}

/** One node of the swarm. */
export interface SwarmNode {
    readonly name: string;
    readonly role: "manager" | "worker";
    readonly address: string;
    readonly nodeId: string;
}

interface InitResult {
    /** Whether the first manager's kernel has IPVS (the service VIP and the routing mesh need it). */
    ipvs?: boolean;
    clusterId: string;
    nodeId: string;
    workerToken: string;
    managerToken: string;
}

/**
 * A Docker Swarm made of hosts that run a Docker engine. The first manager initialises it; the
 * other managers and all workers join in parallel with tokens fetched once and kept secret, each
 * advertising its private address. Every node is labelled from its host. Removing a worker drains
 * it, waits until its tasks are gone, removes it from the node list and makes it leave; removing a
 * manager demotes it first, and Docker refuses a demotion that would break the managers' quorum.
 * A node that is not Ready (its machine stopped, or deleted outside Pulumi) is removed without
 * draining (Swarm counts its tasks as running forever); its own scripts, unreachable, are
 * forgotten after the RemoteScript delete window, so `up` and `destroy` converge without a refresh.
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
    /** Swarm cluster id. */
    public readonly clusterId: pulumi.Output<string>;
    /**
     * `ssh://<user>@<first manager>` — a Docker host URL for the Docker CLI or `@pulumi/docker`'s
     * Provider (`host`), with the managers' SSH key.
     */
    public readonly dockerHost: pulumi.Output<string>;
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
        const init = new RemoteScript(
            `${name}-init`,
            {
                connection: first.connection,
                script: bundledScript("cluster", "swarm-init.sh"),
                environment: { ADVERTISE_ADDR: advertise(first) },
                target: `swarm init on ${first.name}`,
                triggers: [first.instanceId],
                timeoutSeconds: 300,
            },
            { parent: this, dependsOn: first.ready, additionalSecretOutputs: ["result"] },
        );
        const initResult = init.result.apply((r) => JSON.parse(r) as InitResult);
        this.workerJoinToken = pulumi.secret(initResult.apply((r) => r.workerToken));
        this.managerJoinToken = pulumi.secret(initResult.apply((r) => r.managerToken));
        this.clusterId = pulumi.unsecret(initResult.apply((r) => r.clusterId));
        this.capabilities = pulumi.unsecret(
            initResult.apply((r): ClusterCapabilities => ({
                serviceVirtualIp: r.ipvs !== false,
                routingMesh: r.ipvs !== false,
                loadBalancer: false,
            })),
        );
        const joinAddr = pulumi.interpolate`${advertise(first)}:2377`;

        const joinScript = bundledScript("cluster", "swarm-join.sh");
        const nodeScript = bundledScript("cluster", "swarm-node.sh");
            const member = (host: RuntimeHost, role: "manager" | "worker", index: number) => {
            const bootstrap = role === "manager" && index === 0;
            let nodeId: pulumi.Output<string>;
            let joined: pulumi.Resource;
            if (bootstrap) {
                nodeId = pulumi.unsecret(initResult.apply((r) => r.nodeId));
                joined = init;
            } else {
                const join = new RemoteScript(
                    `${name}-join-${host.name}`,
                    {
                        connection: host.connection,
                        script: joinScript,
                        environment: { ROLE: role, JOIN_ADDR: joinAddr, ADVERTISE_ADDR: advertise(host) },
                        secretEnvironment: {
                            JOIN_TOKEN: role === "manager" ? this.managerJoinToken : this.workerJoinToken,
                        },
                        target: `swarm join of ${host.name} as a ${role}`,
                        triggers: [host.instanceId, this.clusterId],
                        timeoutSeconds: 300,
                    },
                    { parent: this, dependsOn: [...host.ready, init] },
                );
                nodeId = join.result.apply((r) => (JSON.parse(r) as { nodeId: string }).nodeId);
                joined = join;
            }
            const labels = nodeLabelLines({ ...host.labels, ...userLabels, ...roleLabels[role] });
            // Run by a manager: the first one (always in the swarm), else any other that answers,
            // never the node itself (it may be the one leaving).
            const otherManagers = managers.slice(1).filter((m) => m !== host).map((m) => m.connection);
            const node = new RemoteScript(
                `${name}-node-${host.name}`,
                {
                    connection: first.connection,
                    alternates: otherManagers,
                    script: nodeScript,
                    environment: {
                        NODE_ID: nodeId,
                        NODE_NAME: host.name,
                        ROLE: role,
                        LABELS: labels,
                        BOOTSTRAP: String(bootstrap),
                        DRAIN_TIMEOUT: String(drainTimeout),
                    },
                    target: `swarm node ${host.name}`,
                    // A re-created machine is a new node: label it, and remove the old one (down).
                    triggers: [nodeId],
                    timeoutSeconds: drainTimeout + 120,
                },
                { parent: this, dependsOn: [joined] },
            );
            const ready: RuntimeHost = { ...host, ready: [node] };
            const info = pulumi
                .all([nodeId, advertise(host)])
                .apply(([id, address]): SwarmNode => ({ name: host.name, role, address, nodeId: id }));
            return { ready, info };
        };

        const managerMembers = managers.map((h, i) => member(h, "manager", i));
        const workerMembers = workers.map((h, i) => member(h, "worker", i));
        this.managers = managerMembers.map((m) => m.ready);
        this.workers = workerMembers.map((m) => m.ready);
        this.nodes = pulumi.all([...managerMembers, ...workerMembers].map((m) => m.info));
        this.managerAddresses = pulumi.all(managers.map((m) => advertise(m)));
        this.dockerHost = pulumi.interpolate`ssh://${first.connection.user}@${first.connection.host}`;

        this.registerOutputs({
            managerAddresses: this.managerAddresses,
            workerJoinToken: this.workerJoinToken,
            managerJoinToken: this.managerJoinToken,
            clusterId: this.clusterId,
            dockerHost: this.dockerHost,
            nodes: this.nodes,
            ports: this.ports,
            capabilities: this.capabilities,
            advertisedAddresses: this.advertisedAddresses,
        });
    }
}
