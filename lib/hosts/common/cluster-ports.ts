/**
 * The ports a pool opens between its machines: the cluster's own list (`ClusterPort[]`: a cluster's
 * `ports`, or `SWARM_PORTS` / `KUBERNETES_PORTS`), never chosen by an orchestrator's name. The
 * names `"swarm"` and `"kubernetes"` are still read, as deprecated shorthands for those two lists.
 */
import { ClusterPort, KUBERNETES_PORTS, SWARM_PORTS } from "../../core/cluster";
import { Validator, isPlainObject } from "../../core/validate";

/** Which orchestrators' ports a pool opens between its machines (the deprecated shorthand). */
export const CLUSTER_KINDS = ["swarm", "kubernetes"] as const;
/** An orchestrator whose ports a pool opens (the deprecated shorthand of its port list). */
export type ClusterKind = (typeof CLUSTER_KINDS)[number];

/** The port list each deprecated name stands for. */
const PORTS_OF: Readonly<Record<ClusterKind, readonly ClusterPort[]>> = { swarm: SWARM_PORTS, kubernetes: KUBERNETES_PORTS };

/** Characters AWS takes in a security group rule's description (the strictest of the pools' firewalls). */
const PURPOSE = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,120}$/;

/** Ports as `protocol/from-to`, to drop duplicates. */
function portKey(p: ClusterPort): string {
    return `${p.protocol}/${p.port}-${p.toPort ?? p.port}`;
}

/** `ports` without repeats (same protocol and range), in order. */
export function uniquePorts(ports: readonly ClusterPort[]): ClusterPort[] {
    const seen = new Set<string>();
    return ports.filter((p) => {
        const key = portKey(p);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

/**
 * The ports of these orchestrators (deduplicated, in order).
 * @deprecated Give the port lists themselves (`SWARM_PORTS`, `KUBERNETES_PORTS`, a cluster's `ports`).
 */
export function clusterPorts(kinds: readonly ClusterKind[]): ClusterPort[] {
    return uniquePorts(
        kinds.flatMap((kind) => {
            const ports = PORTS_OF[kind];
            // No orchestrator gets another's ports by default.
            if (ports === undefined) throw new Error(`flotilla: no cluster ports known for ${JSON.stringify(kind)} (give a ClusterPort[] list)`);
            return ports;
        }),
    );
}

/**
 * Checks a list of orchestrator names, default both.
 * @deprecated Pools take `ClusterPort[]` ({@link checkClusterPorts}).
 */
export function checkClusterKinds(v: Validator, property: string, value: unknown): ClusterKind[] {
    if (value === undefined) return [...CLUSTER_KINDS];
    const list = v.list(property, value, `a list of ${CLUSTER_KINDS.map((k) => `"${k}"`).join(", ")}`);
    return list.map((k, i) => v.oneOf(`${property}[${i}]`, k, CLUSTER_KINDS));
}

/** What a pool's `clusterPorts` accepts, for messages. */
export const CLUSTER_PORTS_EXPECTED =
    "a list of cluster ports { port, toPort?, protocol, purpose } (a cluster's `ports`, SWARM_PORTS, KUBERNETES_PORTS), " +
    'or the deprecated names "swarm" and "kubernetes"';

/**
 * Checks a pool's `clusterPorts`: a plain list of {@link ClusterPort}s (a cluster's `ports`,
 * `SWARM_PORTS`, `KUBERNETES_PORTS`, or several concatenated); the deprecated names `"swarm"` and
 * `"kubernetes"` stand for those two lists, any other name is refused. Default (undefined): Swarm's
 * and Kubernetes' ports. Returns the ports without repeats, in order.
 */
export function checkClusterPorts(v: Validator, property: string, value: unknown): ClusterPort[] {
    if (value === undefined) return clusterPorts(CLUSTER_KINDS);
    const list = v.list(property, value, CLUSTER_PORTS_EXPECTED);
    return uniquePorts(
        list.flatMap((item, i): readonly ClusterPort[] => {
            const at = `${property}[${i}]`;
            if (typeof item === "string") return PORTS_OF[v.oneOf(at, item, CLUSTER_KINDS)];
            return [checkClusterPort(v, at, item)];
        }),
    );
}

/** One {@link ClusterPort}: a port (range) 1..65535, tcp or udp, and what it is for. */
function checkClusterPort(v: Validator, at: string, value: unknown): ClusterPort {
    if (!isPlainObject(value)) v.fail(at, value, `${CLUSTER_PORTS_EXPECTED}: each item a port { port, toPort?, protocol, purpose }`);
    v.known(at, value, ["port", "toPort", "protocol", "purpose"]);
    const p = value as Partial<ClusterPort>;
    const port = v.integer(`${at}.port`, p.port, 1, 65535);
    const toPort = p.toPort === undefined ? undefined : v.integer(`${at}.toPort`, p.toPort, port, 65535);
    const protocol = v.oneOf(`${at}.protocol`, p.protocol, ["tcp", "udp"] as const);
    if (typeof p.purpose !== "string" || !PURPOSE.test(p.purpose)) {
        v.fail(`${at}.purpose`, p.purpose, "what the port is for: 1 to 120 letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* (it describes the firewall rule)");
    }
    return { port, ...(toPort !== undefined ? { toPort } : {}), protocol, purpose: p.purpose };
}

/** True when `ports` include `port`/`protocol` (a single port or within a range). */
export function includesPort(ports: readonly ClusterPort[], port: number, protocol: "tcp" | "udp"): boolean {
    return ports.some((p) => p.protocol === protocol && p.port <= port && port <= (p.toPort ?? p.port));
}
