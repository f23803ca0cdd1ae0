export * from "./lab";
export * from "./lab-registry";
