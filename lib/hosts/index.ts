export * from "./lab";
export * from "./lab-registry";
export * from "./existing";
export * from "./user-data";
