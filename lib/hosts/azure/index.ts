// flotilla/azure: the Azure host pool (needs @pulumi/azure-native, an optional peer dependency; only
// its resources, network and compute submodules are loaded). The stable API of this entry, named
// one by one; the rest of the folder is internal.
export { AzureHostPool } from "./azure-host-pool";
export type { AzureHostPoolArgs, AzureImageName, AzureImageReference, AzureOsDiskType, AzureZone } from "./azure-host-pool-args";
