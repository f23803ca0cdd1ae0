// flotilla/proxmox: the Proxmox VE host pool (needs @muhlba91/pulumi-proxmoxve, an optional peer dependency).
export * from "./proxmox-host-pool-args";
export * from "./proxmox-host-pool";
export { agentAddress, guestAgentUserData } from "./proxmox-checks";
