/**
 * What the cluster layer offers the workload layer (interfaces, not classes), and the ports a host
 * pool must open between a cluster's members. Types only: nothing here creates a resource.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RuntimeHost } from "./host";

/** A port the cluster's members must reach on each other (and nobody else needs). */
export interface ClusterPort {
    /** The port, or the first port of a range. */
    readonly port: number;
    /** Last port of a range (inclusive); undefined for a single port. */
    readonly toPort?: number;
    /** Its protocol. */
    readonly protocol: "tcp" | "udp";
    /** What it is for, e.g. `"cluster management (managers)"` (firewall rule descriptions). */
    readonly purpose: string;
}

/** Ports Docker Swarm needs between its nodes; host pools open them only inside the cluster. */
export const SWARM_PORTS: readonly ClusterPort[] = [
    { port: 2377, protocol: "tcp", purpose: "cluster management (managers)" },
    { port: 7946, protocol: "tcp", purpose: "node communication" },
    { port: 7946, protocol: "udp", purpose: "node communication" },
    { port: 4789, protocol: "udp", purpose: "overlay network (VXLAN) traffic" },
];

/**
 * Ports Kubernetes needs between its nodes (kubernetes.io "Ports and Protocols", plus the default
 * CNI's VXLAN); host pools open them only inside the cluster. The API server port (6443) is also
 * what administrators reach from `adminCidrs`.
 */
export const KUBERNETES_PORTS: readonly ClusterPort[] = [
    { port: 6443, protocol: "tcp", purpose: "Kubernetes API server" },
    { port: 2379, toPort: 2380, protocol: "tcp", purpose: "etcd server client API (control plane)" },
    { port: 10250, protocol: "tcp", purpose: "kubelet API" },
    { port: 10259, protocol: "tcp", purpose: "kube-scheduler (control plane)" },
    { port: 10257, protocol: "tcp", purpose: "kube-controller-manager (control plane)" },
    { port: 10256, protocol: "tcp", purpose: "kube-proxy health" },
    { port: 8472, protocol: "udp", purpose: "flannel VXLAN overlay" },
];

/**
 * What a cluster supports, so a workload renderer chooses how to express an app there instead of
 * assuming (e.g. the lab's kernel has no IPVS: no Swarm service VIP and no routing mesh).
 */
export interface ClusterCapabilities {
    /**
     * Services reach each other by name through one virtual IP (Swarm VIP, Kubernetes ClusterIP).
     * When false, discovery by name uses DNS round-robin over the tasks' addresses (Swarm
     * `endpoint_mode: dnsrr`, Kubernetes headless Service).
     */
    readonly serviceVirtualIp: boolean;
    /**
     * A port can be published on every node and routed to the service wherever its tasks run
     * (Swarm routing mesh, Kubernetes NodePort).
     */
    readonly routingMesh: boolean;
    /** An external load balancer can be provisioned for a service (Kubernetes `LoadBalancer`). */
    readonly loadBalancer: boolean;
}

/** Everything supported: what a renderer assumes when told nothing. */
export const FULL_CAPABILITIES: ClusterCapabilities = { serviceVirtualIp: true, routingMesh: true, loadBalancer: false };

/** Which orchestrator a cluster runs. */
export type Orchestrator = "swarm" | "kubernetes";

/** What every cluster offers. */
export interface ICluster {
    /** Which orchestrator. */
    readonly orchestrator: Orchestrator;
    /** What the cluster supports, probed on its nodes. */
    readonly capabilities: pulumi.Output<ClusterCapabilities>;
    /** Ports the members reach on each other. */
    readonly ports: readonly ClusterPort[];
}

/** A Docker Swarm, as a workload deployer consumes it. */
export interface ISwarmCluster extends ICluster {
    readonly orchestrator: "swarm";
    /** The managers, `ready` when in the swarm and labelled; a deploy runs on any that answers. */
    readonly managers: RuntimeHost[];
    /** The workers, `ready` when in the swarm and labelled. */
    readonly workers: RuntimeHost[];
}

/** A Kubernetes cluster, as a workload deployer consumes it. */
export interface IKubernetesCluster extends ICluster {
    readonly orchestrator: "kubernetes";
    /** The control-plane nodes, `ready` when Ready. */
    readonly controlPlane: RuntimeHost[];
    /** The workers, `ready` when Ready. */
    readonly workers: RuntimeHost[];
    /** Admin kubeconfig, its server reachable from the machine running Pulumi. Secret. */
    readonly kubeconfig: pulumi.Output<string>;
}

/** True for an object that offers the {@link ISwarmCluster} interface. */
export function isSwarmCluster(value: unknown): value is ISwarmCluster {
    const c = value as Partial<ISwarmCluster> | null;
    return typeof c === "object" && c !== null && c.orchestrator === "swarm" && Array.isArray(c.managers) && Array.isArray(c.workers);
}

/** True for an object that offers the {@link IKubernetesCluster} interface. */
export function isKubernetesCluster(value: unknown): value is IKubernetesCluster {
    const c = value as Partial<IKubernetesCluster> | null;
    return typeof c === "object" && c !== null && c.orchestrator === "kubernetes" && Array.isArray(c.controlPlane);
}
