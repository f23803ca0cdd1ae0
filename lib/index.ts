export * as hosts from "./hosts";
export * as shared from "./shared";
export * from "./hosts";
export { InvalidArgumentError } from "./shared/validate";
export * as cluster from "./cluster";
export * from "./cluster";
export * as workload from "./workload";
export * from "./workload";
