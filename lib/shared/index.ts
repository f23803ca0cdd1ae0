// The public part of lib/shared: constructs and helpers users compose with. The rest of the folder
// (script output, bundled scripts, dynamic-resource plumbing, key encoding) is internal.
export { CLOUD_CONFIG_MERGE, multipartUserData, partType } from "./cloud-init";
export { LocalScript } from "./local-script";
export type { LocalScriptArgs } from "./local-script";
export { RemoteScript } from "./remote-script";
export type { RemoteScriptArgs } from "./remote-script";
export type { BundledScript } from "./scripts";
export { SshKeyPair } from "./ssh-key-pair";
export type { SshKeyPairArgs } from "./ssh-key-pair";
