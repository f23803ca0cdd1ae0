export * from "./cluster";
export * from "./host";
export * from "./image-ref";
export * from "./validate";
export * from "./claims";
export * from "./ipv4";
