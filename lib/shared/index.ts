export * from "./cloud-init";
export * from "./ipv4";
export * from "./local-script";
export * from "./remote-script";
export * from "./script-output";
export * from "./scripts";
export * from "./ssh-key-pair";
export * from "./ssh-keys";

