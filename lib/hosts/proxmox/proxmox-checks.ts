/**
 * The checks and small helpers of {@link ProxmoxHostPool}: its Args' property list, node, datastore,
 * checksum, tag and static-address checks, the guest agent's user data and the address it reports.
 */
import { formatIpv4, parseCidr, parseIpv4 } from "../../core/ipv4";
import { Validator, isPlainObject } from "../../core/validate";
import { ProxmoxHostPoolArgs } from "./proxmox-host-pool-args";

/** Properties of {@link ProxmoxHostPoolArgs}. */
export const PROXMOX_HOST_POOL_KEYS = [
    "size", "nodes", "poolName", "templateVmId", "templateNode", "imageUrl", "imageChecksum", "imageDatastore",
    "diskDatastore", "snippetsDatastore", "diskInterface", "cores", "cpuType", "memoryMiB", "memoryMb", "diskGiB", "diskSizeGb", "bridge",
    "vlan", "subnet", "gateway", "firstAddress", "dnsServers", "firstVmId", "sshUser", "sshKey", "labels", "tags",
    "network", "os", "osVersion", "installGuestAgent", "bootTimeoutSeconds", "userData",
] as const;

export const MAX_VM_ID = 999999999;
export const NODE = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
export const DATASTORE = /^[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]$/;
export const BRIDGE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
export const TAG = /^[a-z0-9_][a-z0-9_+.-]{0,63}$/;

export function checkNodeName(v: Validator, property: string, value: unknown): string {
    if (typeof value !== "string" || !NODE.test(value)) {
        v.fail(property, value, "a Proxmox node name (its host name: letters, digits and '-', at most 63 characters)");
    }
    return value;
}

export function checkDatastore(v: Validator, property: string, value: unknown): string {
    if (typeof value !== "string" || value.length > 100 || !DATASTORE.test(value)) {
        v.fail(property, value, 'a Proxmox storage id such as "local" or "local-lvm"');
    }
    return value;
}

export function checkChecksum(v: Validator, value: unknown): { value: string; algorithm: "sha256" | "sha512" } {
    if (typeof value === "string" && /^[0-9a-f]{64}$/i.test(value)) return { value: value.toLowerCase(), algorithm: "sha256" };
    if (typeof value === "string" && /^[0-9a-f]{128}$/i.test(value)) return { value: value.toLowerCase(), algorithm: "sha512" };
    return v.fail("imageChecksum", value, "a sha256 (64 hex digits) or sha512 (128 hex digits) checksum");
}

/** Static addressing after validation. */
export interface Addressing {
    readonly prefix: number;
    readonly gateway: string;
    readonly first: string;
    readonly addresses: string[];
}

/**
 * `subnet`, `gateway`, `firstAddress`: all three (static addresses `firstAddress + i`) or none
 * (DHCP). Returns the addresses, or undefined for DHCP.
 */
export function checkAddressing(v: Validator, size: number, args: ProxmoxHostPoolArgs): Addressing | undefined {
    const { subnet: subnetText, gateway, firstAddress } = args;
    if (subnetText === undefined && gateway === undefined && firstAddress === undefined) return undefined;
    const all = "static addresses need subnet, gateway and firstAddress; leave all three out for DHCP";
    if (subnetText === undefined) {
        v.fail("subnet", subnetText, `the IPv4 block of the VMs' network, e.g. "192.168.10.0/24" (${all})`);
    }
    const subnet = parseCidr(subnetText);
    if (typeof subnet === "string") {
        v.fail("subnet", subnetText, `an IPv4 CIDR block such as "192.168.10.0/24" (${subnet})`);
    }
    if (subnet.prefix < 8 || subnet.prefix > 30) {
        v.fail("subnet", subnetText, "an IPv4 block of prefix /8 to /30");
    }
    const broadcast = subnet.network + subnet.size - 1;
    const inside = (property: string, text: unknown, what: string): number => {
        if (text === undefined) v.fail(property, text, `${what} in ${subnet.cidr} (${all})`);
        const n = typeof text === "string" ? parseIpv4(text) : undefined;
        if (n === undefined) v.fail(property, text, `${what} in ${subnet.cidr}: an IPv4 address such as "${formatIpv4(subnet.network + 1)}"`);
        if (n <= subnet.network || n >= broadcast) {
            v.fail(
                property,
                text,
                `${what} in ${subnet.cidr}: from ${formatIpv4(subnet.network + 1)} to ${formatIpv4(broadcast - 1)} (not its network or broadcast address)`,
            );
        }
        return n;
    };
    const gw = inside("gateway", gateway, "the gateway");
    const first = inside("firstAddress", firstAddress, "the address of the first VM");
    const room = broadcast - first;
    if (room < size) {
        v.fail(
            "size",
            size,
            `at most ${room} machines: the addresses from firstAddress ${firstAddress} to ${formatIpv4(broadcast - 1)} (before the broadcast address of ${subnet.cidr})`,
        );
    }
    const last = first + size - 1;
    if (gw >= first && gw <= last) {
        v.fail(
            "firstAddress",
            firstAddress,
            `a first address whose ${size} consecutive addresses (${firstAddress} to ${formatIpv4(last)}) leave out the gateway ${gateway}`,
        );
    }
    return {
        prefix: subnet.prefix,
        gateway: gateway as string,
        first: firstAddress as string,
        addresses: Array.from({ length: size }, (_, i) => formatIpv4(first + i)),
    };
}

/**
 * Installs and starts the QEMU guest agent (cloud images seldom have it; the VM's create waits for
 * it to report an address). Started only where its virtio port exists, so the same document also
 * boots on a machine without one (e.g. a lab machine).
 */
export function guestAgentUserData(): string {
    const config = {
        package_update: true,
        packages: ["qemu-guest-agent"],
        runcmd: ["if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then systemctl start qemu-guest-agent; fi"],
    };
    return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The address the guest agent reports for the VM's network device: the first IPv4 address of the
 * interface with the device's MAC address, else of the first interface that is not loopback or a
 * container bridge; never a loopback or link-local address. Undefined when there is none.
 */
export function agentAddress(names: string[], macs: string[], addresses: string[][], nicMac?: string): string | undefined {
    const usable = (list: string[] | undefined) => (list ?? []).find((a) => parseIpv4(a) !== undefined && !a.startsWith("127.") && !a.startsWith("169.254."));
    if (nicMac) {
        const i = macs.findIndex((m) => m.toLowerCase() === nicMac.toLowerCase());
        const found = i >= 0 ? usable(addresses[i]) : undefined;
        if (found) return found;
    }
    for (let i = 0; i < addresses.length; i++) {
        const name = names[i] ?? "";
        if (name === "lo" || /^(docker|br-|veth|cni|flannel|cali|vxlan|kube|tunl|virbr)/.test(name)) continue;
        const found = usable(addresses[i]);
        if (found) return found;
    }
    return undefined;
}

/**
 * Checks `tags` (a record, or the deprecated list of Proxmox tags) and returns the VMs' Proxmox
 * tags: `flotilla`, the pool's name and the user's, deduplicated and sorted (Proxmox keeps them
 * sorted: given unsorted, every refresh shows a difference).
 */
export function checkProxmoxTags(v: Validator, value: unknown, poolName: string): string[] {
    const expected = "a Proxmox tag: lower-case letters, digits, '_', '-', '+' and '.', starting with a letter, digit or '_', at most 64";
    let userTags: string[];
    if (value === undefined || Array.isArray(value)) {
        userTags = v.list("tags", value, 'a list of Proxmox tags, e.g. ["web"]').map((t, i) => {
            if (typeof t !== "string" || !TAG.test(t)) v.fail(`tags[${i}]`, t, expected);
            return t;
        });
    } else {
        if (!isPlainObject(value)) v.fail("tags", value, 'a record of tags such as { tier: "web" } (each the Proxmox tag "<key>-<value>")');
        userTags = Object.entries(value).map(([k, val]) => {
            if (typeof val !== "string") v.fail(`tags.${k}`, val, "a string (\"\" for a tag without a value)");
            const tag = val === "" ? k : `${k}-${val}`;
            if (!TAG.test(tag)) v.fail(`tags.${k}`, tag, `${expected} (the tag "<key>-<value>", or "<key>" for an empty value)`);
            return tag;
        });
    }
    return [...new Set(["flotilla", poolName, ...userTags])].sort();
}

