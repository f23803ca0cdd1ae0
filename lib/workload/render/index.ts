/**
 * Renderers of a normalized {@link AppSpec}: a compose file for a Docker Swarm stack, Kubernetes
 * objects (and their checks). Pure: nothing here creates a resource. Re-exports only.
 */
export * from "./compose-file";
export * from "./compose";
export * from "./kubernetes-objects";
export * from "./kubernetes-names";
export * from "./check-kubernetes-app";
export * from "./render-kubernetes";
export * from "./render-app";
