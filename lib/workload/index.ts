export * from "./app-spec";
export * from "./compose";
export * from "./kubernetes";
export * from "./kubernetes-app";
export * from "./registry-auth";
export * from "./swarm-app";
