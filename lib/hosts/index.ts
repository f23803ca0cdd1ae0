export * from "./lab";
export * from "./existing";
export * from "./common/user-data";
export * from "./common/host-pool-args";
