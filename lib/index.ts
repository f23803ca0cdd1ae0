// The stable API. Layers, left to right: core contracts → hosts → runtime → cluster → workload, and
// the public shared constructs (RemoteScript, LocalScript, SshKeyPair, cloud-init parts).
export * as core from "./core";
export * as hosts from "./hosts";
export * as runtime from "./runtime";
export * as cluster from "./cluster";
export * as workload from "./workload";
export * from "./core";
export * from "./hosts";
export * from "./runtime";
export * from "./cluster";
export * from "./workload";
export * from "./shared";
