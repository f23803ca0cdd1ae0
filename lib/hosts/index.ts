export * from "./host";
export * from "./lab";
