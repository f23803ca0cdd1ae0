export * as hosts from "./hosts";
export * as shared from "./shared";
export * from "./hosts";
export { InvalidArgumentError } from "./shared/validate";
