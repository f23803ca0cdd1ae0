export * from "./app-spec";
export * from "./compose";
export * from "./swarm-app";
