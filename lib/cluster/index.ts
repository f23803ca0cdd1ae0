export * from "./swarm";
