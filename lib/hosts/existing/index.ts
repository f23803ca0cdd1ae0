// Machines that already exist, adopted over SSH.
export * from "./existing-hosts";
export { PRIVATE_KEY_EXPECTED, checkPrivateKey } from "../common/private-key";
