export * from "./app-spec";
export * from "./compose";
export * from "./kubernetes";
export * from "./swarm-app";
