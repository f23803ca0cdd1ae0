export * from "./docker-engine";
export * from "./containerd";
export { DEFAULT_DOCKER_APT_URL, DEFAULT_TIMEOUT_SECONDS, DEFAULT_WAIT_TIMEOUT_SECONDS } from "./common";
export type { RuntimeResult } from "./common";
