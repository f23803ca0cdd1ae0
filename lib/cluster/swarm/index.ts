export * from "./swarm-cluster";
