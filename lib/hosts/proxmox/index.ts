// flotilla/proxmox: the Proxmox VE host pool (needs @muhlba91/pulumi-proxmoxve, an optional peer
// dependency). The stable API of this entry, named one by one; the rest of the folder is internal.
export { ProxmoxHostPool } from "./proxmox-host-pool";
export type { ProxmoxHostPoolArgs } from "./proxmox-host-pool-args";
