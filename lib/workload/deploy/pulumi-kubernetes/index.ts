// `flotilla/kubernetes`: the @pulumi/kubernetes path (an optional peer dependency). Never imported
// by the root `flotilla` module. The stable API of this entry, named one by one.
export { ClusterProvider } from "./cluster-provider";
export type { ClusterProviderArgs } from "./cluster-provider";
export { PulumiKubernetesApp } from "./pulumi-kubernetes-app";
export type { PulumiKubernetesAppArgs } from "./pulumi-kubernetes-app";
