// `flotilla/kubernetes`: the @pulumi/kubernetes path (an optional peer dependency). Never imported
// by the root `flotilla` module.
export * from "./cluster-provider";
export * from "./pulumi-kubernetes-app";
