import { keyPairOutputs } from "../mocks";

/** What Azure returns on create beside the inputs: names, addresses, VM ids. */
export function azureOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
    const index = Number(/-(\d+)-nic$/.exec(inputs.networkInterfaceName ?? "")?.[1] ?? 200);
    switch (type) {
        case "azure-native:resources:ResourceGroup":
            return { name: inputs.resourceGroupName };
        case "azure-native:network:VirtualNetwork":
            return { name: inputs.virtualNetworkName };
        case "azure-native:network:NetworkInterface":
            return { ipConfigurations: [{ ...inputs.ipConfigurations[0], privateIPAddress: `10.61.0.${index + 4}` }] };
        case "azure-native:network:PublicIPAddress":
            return { ipAddress: `203.0.113.${name.endsWith("-bastion-ip") ? 99 : name.endsWith("-nat-ip") ? 98 : 10 + Number(/vm-(\d+)/.exec(name)?.[1])}` };
        case "azure-native:compute:VirtualMachine":
            return { vmId: `vmid-${inputs.vmName}` };
        default:
            return keyPairOutputs(type, name);
    }
}
