export * from "./cluster";
export * from "./host";
export * from "./image-ref";
export * from "./validate";
export * from "./ipv4";
export * from "./registry-credential";
export * from "./host-pool";
