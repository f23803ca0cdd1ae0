/**
 * The deployers of an {@link AppSpec}: `SwarmApp` (a stack on a Docker Swarm) and `KubernetesApp`
 * (kubectl on a control-plane node), on one Args base ({@link AppDeployerArgs}; the Kubernetes ones
 * on {@link KubernetesDeployerArgs}). Re-exports only (the shared checks stay internal).
 * `PulumiKubernetesApp` and `ClusterProvider` (`./pulumi-kubernetes/`) need the optional peer
 * `@pulumi/kubernetes`: they are behind the subpath `flotilla/kubernetes`, never re-exported here.
 */
export type { AppDeployerArgs } from "./app-deployer-args";
export { DEFAULT_ROLLOUT_TIMEOUT_SECONDS } from "./app-deployer-args";
export type { KubernetesDeployerArgs } from "./kubernetes-deployer-args";
export { DEFAULT_DRAIN_SECONDS, DEFAULT_NODE_LOSS_TOLERATION_SECONDS } from "./kubernetes-deployer-args";
export * from "./registry-auth";
export * from "./swarm-app";
export * from "./kubernetes-app";
