// Layers, left to right: hosts → runtime → cluster → workload (and small shared helpers).
export * as hosts from "./hosts";
export * as runtime from "./runtime";
export * as cluster from "./cluster";
export * as workload from "./workload";
export * as shared from "./shared";
export * from "./hosts";
export * from "./runtime";
export * from "./cluster";
export * from "./workload";
export { InvalidArgumentError } from "./shared/validate";
