export * from "./swarm";
export * from "./kubernetes";
