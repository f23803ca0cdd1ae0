// The workload layer: the AppSpec, its renderers, its deployers. `deploy/pulumi-kubernetes/` (the
// subpath `flotilla/kubernetes`) is never imported from here: the root must not load @pulumi/kubernetes.
export * from "./app-spec";
export * from "./render";
export * from "./deploy";
