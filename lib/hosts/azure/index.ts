// flotilla/azure: the Azure host pool (needs @pulumi/azure-native, an optional peer dependency; only
// its resources, network and compute submodules are loaded).
export * from "./azure-host-pool-args";
export * from "./azure-host-pool";
export { azureCustomData, azureVmArchitecture, isAzureVmSize } from "./azure-checks";
