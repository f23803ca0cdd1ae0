/**
 * The node lifecycle {@link KubeadmCluster} and {@link K3sCluster} share, once: the address each
 * member advertises, the cluster-wide init (on the first listed control-plane node that answers),
 * each node's join, each node's resource (labels and taints; on removal cordon, bounded drain,
 * Node delete, etcd quorum kept) and the teardown mark that spares the node deletes when the
 * whole cluster goes. What differs (scripts, their environment, the join secrets) is given by the
 * distribution. Child names are `${name}-init`, `${name}-join-<host>`, `${name}-node-<host>`,
 * `${name}-teardown`.
 */
import * as pulumi from "@pulumi/pulumi";
import { nodeLabelLines } from "../node-labels";
import { CgroupDriver, Host, ResolvedMember, RuntimeHost, RuntimeInfo, SshConnection, advertisedAddress } from "../../core/host";
import { Ipv4Subnet, overlaps, parseIpv4 } from "../../core/ipv4";
import { Validator } from "../../core/validate";
import { RemoteScript } from "../../shared/remote-script";
import { BundledScript } from "../../shared/scripts";
import { CheckedNetworkAndNodes, memberProperty } from "./kubernetes-cluster-base";

/** The members' addresses as the cluster's resources need them. */
export interface ClusterAddresses {
    /** The address `h` advertises to the others (checked outside the pod and Service networks as it resolves). */
    readonly advertise: (h: Host) => pulumi.Output<string>;
    /** Every member's advertised address, by host name. */
    readonly advertisedAddresses: pulumi.Output<Record<string, string>>;
    /** `apiEndpoint` given, else the first control-plane node's advertised address. */
    readonly apiEndpoint: pulumi.Output<string>;
    /** The serving certificate's names: the endpoint, `extraSans`, every control-plane node's addresses. */
    readonly tlsSans: pulumi.Output<string[]>;
    /** A node's label lines: its own labels, then the cluster's `nodeLabels`. */
    readonly hostLabels: (h: Host) => pulumi.Output<string>;
}

/**
 * The address each node advertises: private when every member shares its network, public
 * otherwise; each depends on its own machine only (not on every machine: state would grow with the
 * square of the cluster's size).
 */
export function clusterAddresses(v: Validator, controlPlane: Host[], workers: Host[], c: CheckedNetworkAndNodes, extraSans: string[]): ClusterAddresses {
    const members = [...controlPlane, ...workers];
    const networks = pulumi.all(members.map((h) => pulumi.output(h.network ?? "")));
    const advertise = (h: Host): pulumi.Output<string> => {
        const i = members.indexOf(h);
        return pulumi.all([networks, h.privateAddress, h.publicAddress]).apply(([nets, privateAddress, publicAddress]) => {
            // The hosts' addresses must lie outside both networks: checked as they resolve.
            const conflict = addressConflict(privateAddress, { podCidr: c.podCidr, serviceCidr: c.serviceCidr });
            if (conflict) {
                v.fail(`${memberProperty(controlPlane.length, i)}.privateAddress`, privateAddress, `an address outside ${conflict} (pick another ${conflict.split(" ")[0]})`);
            }
            const resolved: ResolvedMember[] = members.map((m, j) => ({
                name: m.name,
                privateAddress: j === i ? privateAddress : "",
                network: nets[j] || undefined,
            }));
            const address = advertisedAddress({ ...resolved[i], publicAddress }, resolved);
            if (typeof address !== "string") {
                v.fail(memberProperty(controlPlane.length, i), h.name, `a host the other members can reach (${address.reason})`);
            }
            return address;
        });
    };
    const advertisedAddresses = pulumi
        .all(members.map((h) => advertise(h).apply((a) => [h.name, a] as const)))
        .apply((pairs) => Object.fromEntries(pairs));
    const apiEndpoint = c.apiEndpoint ?? advertise(controlPlane[0]);
    const tlsSans = pulumi
        .all([
            apiEndpoint,
            ...extraSans.map((s) => pulumi.output(s)),
            ...controlPlane.flatMap((h) => [advertise(h), pulumi.output(h.privateAddress), pulumi.output(h.publicAddress)]),
        ])
        .apply((names) => [...new Set(names.filter((n): n is string => typeof n === "string" && n !== ""))]);
    const hostLabels = (h: Host) => nodeLabelLines({ ...c.memberLabels.get(h), ...c.nodeLabels });
    return { advertise, advertisedAddresses, apiEndpoint, tlsSans, hostLabels };
}

/** The script-specific parts of a lifecycle resource. */
export interface LifecycleScript {
    readonly script: BundledScript;
    readonly environment: Record<string, pulumi.Input<string>>;
    /** Omitted: the resource has no secret environment. */
    readonly secretEnvironment?: Record<string, pulumi.Input<string>>;
    readonly target: string;
    readonly timeoutSeconds: number;
}

/**
 * The cluster (`${name}-init`): on the first listed control-plane node that answers (the script
 * adopts a cluster that node is in, refuses a newcomer); its result (secret) is what the script
 * prints. A single control-plane node re-created is a new cluster (the init follows its machine);
 * with more, the cluster outlives any one.
 */
export function clusterInit(parent: pulumi.Resource, name: string, controlPlane: Host[], s: LifecycleScript): RemoteScript {
    const first = controlPlane[0];
    return new RemoteScript(
        `${name}-init`,
        {
            connection: first.connection,
            alternates: controlPlane.slice(1).map((m) => m.connection),
            script: s.script,
            environment: s.environment,
            ...(s.secretEnvironment ? { secretEnvironment: s.secretEnvironment } : {}),
            target: s.target,
            triggers: controlPlane.length === 1 ? [first.instanceId] : [],
            timeoutSeconds: s.timeoutSeconds,
        },
        { parent, dependsOn: controlPlane.flatMap((m) => m.ready), additionalSecretOutputs: ["result"] },
    );
}

/** A node's join (`${name}-join-<host>`), on the node itself, again when its machine is re-created. */
export function joinNode(
    parent: pulumi.Resource,
    name: string,
    host: Host,
    s: LifecycleScript & { readonly deleteConnectTimeoutSeconds?: number },
    dependsOn: pulumi.Resource[],
): RemoteScript {
    return new RemoteScript(
        `${name}-join-${host.name}`,
        {
            connection: host.connection,
            script: s.script,
            environment: s.environment,
            ...(s.secretEnvironment ? { secretEnvironment: s.secretEnvironment } : {}),
            target: s.target,
            triggers: [host.instanceId],
            timeoutSeconds: s.timeoutSeconds,
            ...(s.deleteConnectTimeoutSeconds !== undefined ? { deleteConnectTimeoutSeconds: s.deleteConnectTimeoutSeconds } : {}),
        },
        { parent, dependsOn: [...host.ready, ...dependsOn] },
    );
}

/** What the node resources of a distribution need. */
export interface NodeSpec {
    /** The distribution (`k3s node <host>`, `kubeadm node <host>`). */
    readonly distribution: "k3s" | "kubeadm";
    /** The node script (`k3s-node.sh`, `kubeadm-node.sh`). */
    readonly script: BundledScript;
    /** The roles' names: control plane, worker (`server`/`agent`, `control-plane`/`worker`). */
    readonly roles: readonly [string, string];
    readonly hostLabels: (h: Host) => pulumi.Output<string>;
    readonly nodeTaints: string[];
    readonly drainTimeout: number;
    /** The runtime the member reports once it is a node, given the cgroup driver its join found. */
    readonly runtime: (host: Host, cgroupDriver: pulumi.Output<CgroupDriver>) => RuntimeInfo;
}

/**
 * Every node's resource (`${name}-node-<host>`): run on a control-plane node that answers, never
 * the node itself (it may be the one leaving) unless it is the only one, after every control-plane
 * node joined (any may run it); control-plane nodes' one after the other (a removal checks the etcd
 * quorum left: removals in parallel would each count the others as still there). Returns the
 * members, `ready` when their node resource is.
 */
export function clusterNodes(
    parent: pulumi.Resource,
    name: string,
    members: { controlPlane: Host[]; workers: Host[]; controlPlaneJoins: RemoteScript[]; workerJoins: RemoteScript[] },
    spec: NodeSpec,
): { controlPlane: RuntimeHost[]; workers: RuntimeHost[] } {
    const { controlPlane, controlPlaneJoins } = members;
    let previousNode: pulumi.Resource | undefined;
    const member = (host: Host, controlPlaneRole: boolean, joined: RemoteScript): RuntimeHost => {
        const others = controlPlane.filter((m) => m !== host);
        const runners = others.length > 0 ? others : [host];
        const node = new RemoteScript(
            `${name}-node-${host.name}`,
            {
                connection: runners[0].connection,
                alternates: nodeAlternates(runners),
                script: spec.script,
                environment: {
                    NODE_NAME: host.name,
                    ROLE: spec.roles[controlPlaneRole ? 0 : 1],
                    LABELS: spec.hostLabels(host),
                    TAINTS: spec.nodeTaints.join("\n"),
                    DRAIN_TIMEOUT: String(spec.drainTimeout),
                },
                target: `${spec.distribution} node ${host.name}`,
                triggers: [host.instanceId],
                timeoutSeconds: spec.drainTimeout + 180,
            },
            { parent, dependsOn: [joined, ...controlPlaneJoins, ...(controlPlaneRole && previousNode ? [previousNode] : [])] },
        );
        if (controlPlaneRole) previousNode = node;
        // Every node's driver comes from its own join (the first control-plane node's too).
        const cgroupDriver = joined.result.apply((r) => (JSON.parse(r) as { cgroupDriver: CgroupDriver }).cgroupDriver);
        return { ...host, runtime: spec.runtime(host, cgroupDriver), ready: [node] };
    };
    return {
        controlPlane: controlPlane.map((h, i) => member(h, true, controlPlaneJoins[i])),
        workers: members.workers.map((h, i) => member(h, false, members.workerJoins[i])),
    };
}

/**
 * The teardown mark (`${name}-teardown`), deleted first when the whole cluster goes (it depends on
 * every node): its delete marks the teardown so the node deletes skip drains, Node deletes and etcd
 * member removals (a control-plane node already out of etcd could not run the next one); each
 * machine resets with its join. Replaced (a single control-plane node re-created): the old mark is
 * written, then removed.
 */
export function clusterTeardown(
    parent: pulumi.Resource,
    name: string,
    distribution: "k3s" | "kubeadm",
    controlPlane: Host[],
    nodes: RuntimeHost[],
    target: string,
    script: BundledScript,
): RemoteScript {
    return new RemoteScript(
        `${name}-teardown`,
        {
            connection: controlPlane[0].connection,
            alternates: controlPlane.slice(1).map((m) => m.connection),
            script,
            environment: { DISTRIBUTION: distribution },
            target,
            timeoutSeconds: 240,
        },
        { parent, dependsOn: nodes.flatMap((m) => m.ready), deleteBeforeReplace: true },
    );
}

/**
 * The alternates of a node resource: the runners after the first, or the only runner again. Never
 * empty, so the resource is always a cluster script for the RemoteScript provider: another runner
 * (e.g. the control plane shrinking to the node itself, or growing from it) is an update. A
 * replace would run the old copy's delete, which removes the node from the cluster.
 */
function nodeAlternates(runners: Host[]): SshConnection[] {
    return (runners.length > 1 ? runners.slice(1) : runners).map((m) => m.connection);
}

/** The kubeconfig with every cluster's `server:` set to `server` (k3s writes https://127.0.0.1:6443). */
export function rewriteKubeconfigServer(kubeconfig: string, server: string): string {
    return kubeconfig.replace(/^(\s*server:\s*).*$/gm, (_line, prefix: string) => `${prefix}${server}`);
}

/** The network (`podCidr 10.42.0.0/16`) that `address` lies in, or undefined (also for a name, not an address). */
export function addressConflict(address: string, networks: Record<string, Ipv4Subnet>): string | undefined {
    const n = parseIpv4(address);
    if (n === undefined) return undefined;
    const one: Ipv4Subnet = { cidr: `${address}/32`, network: n, prefix: 32, size: 1 };
    const hit = Object.entries(networks).find(([, net]) => overlaps(one, net));
    return hit ? `${hit[0]} ${hit[1].cidr}` : undefined;
}
