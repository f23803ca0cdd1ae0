// The local lab: machines and an image registry on the local Docker engine.
export * from "./lab-host-pool";
export * from "./lab-registry";
export * from "./kubernetes-archives";
