export * from "./host";
export * from "./lab";
export * from "./lab-registry";
