/**
 * IPv4 subnet arithmetic for pools that hand out fixed addresses.
 * Pure functions, no dependencies; errors are returned as text for the caller's Validator.
 */

/** A parsed IPv4 CIDR block. */
export interface Ipv4Subnet {
    /** The block as given, normalised (`10.213.0.0/24`). */
    readonly cidr: string;
    /** Network address as an unsigned 32-bit integer. */
    readonly network: number;
    /** Prefix length, 0..32. */
    readonly prefix: number;
    /** Number of addresses in the block (2^(32-prefix)). */
    readonly size: number;
}

/** RFC 1918 private blocks. */
const PRIVATE_BLOCKS: Array<[number, number]> = [
    [ipToInt("10.0.0.0"), 8],
    [ipToInt("172.16.0.0"), 12],
    [ipToInt("192.168.0.0"), 16],
];

/** Parses dotted-quad text; returns undefined if it is not exactly four decimal octets 0..255. */
export function parseIpv4(text: string): number | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (!m) {
        return undefined;
    }
    const octets = m.slice(1).map((o) => Number(o));
    if (octets.some((o, i) => o > 255 || (m[i + 1].length > 1 && m[i + 1].startsWith("0")))) {
        return undefined;
    }
    return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

function ipToInt(text: string): number {
    const n = parseIpv4(text);
    if (n === undefined) {
        throw new Error(`not an IPv4 address: ${text}`);
    }
    return n;
}

/** Formats an unsigned 32-bit integer as dotted-quad text. */
export function formatIpv4(n: number): string {
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/**
 * Parses `a.b.c.d/p`. The address must be the network address of the block (no host bits set),
 * so that a typo is caught instead of silently rounded.
 * Returns the subnet or a reason it is not one.
 */
export function parseCidr(text: unknown): Ipv4Subnet | string {
    if (typeof text !== "string") {
        return "not a string";
    }
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
    if (!m) {
        return "not in a.b.c.d/prefix form";
    }
    const address = parseIpv4(m[1]);
    const prefix = Number(m[2]);
    if (address === undefined) {
        return "not a valid IPv4 address";
    }
    if (prefix > 32) {
        return "prefix longer than 32";
    }
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    if ((address & mask) >>> 0 !== address) {
        return `host bits set (did you mean ${formatIpv4((address & mask) >>> 0)}/${prefix}?)`;
    }
    return { cidr: `${formatIpv4(address)}/${prefix}`, network: address, prefix, size: 2 ** (32 - prefix) };
}

/** True when the whole block lies inside one RFC 1918 private block. */
export function isPrivate(subnet: Ipv4Subnet): boolean {
    return PRIVATE_BLOCKS.some(([net, prefix]) => {
        if (subnet.prefix < prefix) {
            return false;
        }
        const mask = (~0 << (32 - prefix)) >>> 0;
        return (subnet.network & mask) >>> 0 === net;
    });
}

/**
 * Addresses a bridge-style pool can give to machines: all but the network address, the gateway
 * (first host address) and the broadcast address.
 */
export function usableHostCount(subnet: Ipv4Subnet): number {
    return Math.max(0, subnet.size - 3);
}

/** The gateway of a bridge-style pool: the first host address. */
export function gatewayAddress(subnet: Ipv4Subnet): string {
    return formatIpv4(subnet.network + 1);
}

/** The address of the i-th machine (0-based): after the gateway. */
export function hostAddress(subnet: Ipv4Subnet, index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= usableHostCount(subnet)) {
        throw new RangeError(`machine index ${index} does not fit in ${subnet.cidr}`);
    }
    return formatIpv4(subnet.network + 2 + index);
}

/** True when two blocks share at least one address. */
export function overlaps(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
    const size = (s: Ipv4Subnet) => 2 ** (32 - s.prefix);
    return a.network < b.network + size(b) && b.network < a.network + size(a);
}
