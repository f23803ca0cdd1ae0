export * from "./lab";
export * from "./lab-registry";
export * from "./existing";
