/**
 * The checks and small helpers of {@link AzureHostPool}: its Args' property lists, the name, region,
 * VM size, image, user and tag checks, a VM size's architecture, custom data within Azure's limit.
 */
import type * as azureInputs from "@pulumi/azure-native/types/input";
import { HostArchitecture } from "../../core/host";
import { isPrivate, parseCidr } from "../../core/ipv4";
import { Described, Validator, isPlainObject } from "../../core/validate";
import { gzipBase64 } from "../common/user-data";
import {
    AZURE_CUSTOM_DATA_MAX_BYTES,
    AZURE_IMAGES,
    AZURE_MAX_TAGS,
    AZURE_RESERVED_USER_NAMES,
    AzureImageName,
    AzureImageReference,
    DEFAULT_AZURE_BASTION_VM_SIZE,
    MAX_AZURE_POOL_NAME,
} from "./azure-host-pool-args";

/** The labels the pool sets on every host. */
export const POOL_LABELS = ["provider", "pool", "region", "zone"];

/**
 * A resource group name as Azure takes it (Microsoft.Resources/resourcegroups): 1 to 90 letters
 * (Unicode letters too), digits, '_', '-', '.', '(' and ')', not ending in '.'.
 */
export const RESOURCE_GROUP = /^[-\p{L}\p{Nd}_.()]{1,90}$/u;
export const RESOURCE_GROUP_EXPECTED = "an Azure resource group name (1 to 90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.')";

/**
 * A VM size as Azure names them: `Standard_` or `Basic_`, the family (upper-case letters) and vCPU
 * count, a constrained vCPU count (`-2`), feature letters, then `_`-separated parts (accelerator,
 * version, `Promo`): `Standard_B2s`, `Standard_D4s_v5`, `Standard_E4-2ds_v5`, `Standard_NC24ads_A100_v4`.
 * The case matters to flotilla: lower-case feature letters after the vCPU count say the
 * architecture ({@link azureVmArchitecture}).
 */
const VM_SIZE = /^(Standard|Basic)_[A-Z]+\d+(-\d+)?[a-z]*(_[A-Za-z0-9]+)*$/;
const VM_SIZE_EXPECTED =
    "an Azure VM size as `az vm list-sizes` names it: Standard_ or Basic_, the family's upper-case letters and the vCPU count, " +
    'then lower-case feature letters and _-separated parts, such as "Standard_B2s", "Standard_D4s_v5" or "Standard_D2ps_v5"';

/** Service tags and wildcards Azure accepts for "any source": world-open, like `0.0.0.0/0`. */
export const AZURE_WORLD_ALIASES = ["*", "Internet"];

/** Properties of {@link AzureHostPoolArgs}. */
export const AZURE_HOST_POOL_KEYS = [
    "size", "poolName", "location", "zones", "resourceGroupName", "subnetId", "vnetCidr", "adminCidrs", "allowWorldSsh",
    "clusterPorts", "clusterPeerCidrs", "appPorts", "appCidrs", "publicIp", "bastion", "vmSize", "image", "diskGiB", "osDiskGiB", "osDiskType",
    "encryptionAtHost", "trustedLaunch", "sshUser", "sshKey", "userData", "tags", "labels",
];
/** Properties that must be plain (they decide which resources exist, or are checked first). */
export const AZURE_PLAIN_KEYS = [
    "size", "poolName", "location", "zones", "vnetCidr", "adminCidrs", "allowWorldSsh", "clusterPorts", "clusterPeerCidrs", "appPorts",
    "appCidrs", "publicIp", "bastion", "vmSize", "image", "diskGiB", "osDiskGiB", "osDiskType", "encryptionAtHost",
    "trustedLaunch", "sshUser", "sshKey", "tags", "labels",
] as const;

export const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;

/** The architecture of an Azure VM size: Arm64 when its feature letters (after the vCPU count) hold a `p`. */
export function azureVmArchitecture(vmSize: string): HostArchitecture {
    const m = /^(?:Standard|Basic)_[A-Z]+\d+(?:-\d+)?([a-z]*)/.exec(vmSize);
    return m && m[1].includes("p") ? "arm64" : "amd64";
}

/**
 * Custom data of a VM: the first-boot document gzip-compressed (cloud-init decompresses user data
 * from any datasource) and base64-encoded, as Azure takes it. Fails naming `userData` when it does
 * not fit Azure's 65,535 bytes (never showing the document: it holds the host's private key).
 */
export function azureCustomData(v: Validator, document: string): string {
    const encoded = gzipBase64(document);
    const bytes = Buffer.from(encoded, "base64").length;
    if (bytes > AZURE_CUSTOM_DATA_MAX_BYTES) {
        v.fail(
            "userData",
            new Described(`parts making a first-boot document of ${Buffer.byteLength(document)} bytes, ${bytes} compressed`),
            `parts whose whole document fits Azure's custom data once gzip-compressed (at most ${AZURE_CUSTOM_DATA_MAX_BYTES} bytes)`,
        );
    }
    return encoded;
}

/** The marketplace reference of an image for an architecture. */
export function imageReference(image: ResolvedImage, arch: HostArchitecture): azureInputs.compute.ImageReferenceArgs {
    return { publisher: image.publisher, offer: image.offer, sku: arch === "arm64" ? image.armSku : image.sku, version: image.version };
}

export interface ResolvedImage {
    publisher: string;
    offer: string;
    sku: string;
    armSku: string;
    version: string;
    os: string;
    osVersion: string;
}

const KNOWN_IMAGES: Record<AzureImageName, ResolvedImage> = {
    "debian-12": { publisher: "Debian", offer: "debian-12", sku: "12-gen2", armSku: "12-arm64", version: "latest", os: "debian", osVersion: "12" },
    "ubuntu-24.04": {
        publisher: "Canonical",
        offer: "ubuntu-24_04-lts",
        sku: "server",
        armSku: "server-arm64",
        version: "latest",
        os: "ubuntu",
        osVersion: "24.04",
    },
};

export function checkImage(v: Validator, value: unknown): ResolvedImage {
    if (typeof value === "string") {
        return KNOWN_IMAGES[v.oneOf("image", value, AZURE_IMAGES)];
    }
    if (!isPlainObject(value)) {
        v.fail("image", value, `one of ${AZURE_IMAGES.map((i) => `"${i}"`).join(", ")} or { publisher, offer, sku, version?, os, osVersion }`);
    }
    v.known("image", value, ["publisher", "offer", "sku", "version", "os", "osVersion"]);
    const ref = value as Partial<AzureImageReference>;
    for (const key of ["publisher", "offer", "sku"] as const) {
        v.token(`image.${key}`, ref[key], "a non-empty name without spaces, as `az vm image list` prints it");
    }
    const version = ref.version === undefined ? "latest" : v.token("image.version", ref.version, 'a version such as "latest"');
    const os = v.oneOf("image.os", ref.os, ["debian", "ubuntu"] as const);
    const osVersion = v.token("image.osVersion", ref.osVersion, 'an os-release VERSION_ID such as "12" or "24.04"');
    // A reference names one architecture: the same SKU whatever the VM size.
    return { publisher: ref.publisher as string, offer: ref.offer as string, sku: ref.sku as string, armSku: ref.sku as string, version, os, osVersion };
}

/** The pool name (`poolName`, else the resource name), which every Azure name of the pool derives from. */
export function checkPoolName(v: Validator, name: string, poolName: unknown): string {
    if (poolName !== undefined) return v.dnsLabel("poolName", poolName, MAX_AZURE_POOL_NAME);
    if (typeof name !== "string" || name.length > MAX_AZURE_POOL_NAME || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
        v.fail(
            "name",
            name,
            `a DNS-safe name of 1 to ${MAX_AZURE_POOL_NAME} characters: lower-case letters, digits and '-', starting and ending with ` +
                "a letter or digit (the Azure names derive from it); or give poolName",
        );
    }
    return name;
}

export function checkLocation(v: Validator, value: unknown): string {
    if (typeof value !== "string" || !/^[a-z][a-z0-9]{1,39}$/.test(value)) {
        v.fail(
            "location",
            value,
            'an Azure region name of lower-case letters and digits such as "westeurope" (or the azure-native:location config value)',
        );
    }
    return value;
}

export function checkVnetCidr(v: Validator, text: unknown) {
    const block = parseCidr(text);
    if (typeof block === "string") v.fail("vnetCidr", text, `a private IPv4 CIDR block such as "10.61.0.0/16" (${block})`);
    if (!isPrivate(block) || block.prefix < 8 || block.prefix > 24) {
        v.fail("vnetCidr", text, "a private (RFC 1918) IPv4 block of prefix /8 to /24 (the VMs' subnet is its first /24)");
    }
    return block;
}

/** True for a VM size as Azure names them (see {@link VM_SIZE}), e.g. `Standard_D4s_v5`. */
export function isAzureVmSize(value: unknown): value is string {
    return typeof value === "string" && VM_SIZE.test(value);
}

export function checkVmSize(v: Validator, property: string, value: unknown): string {
    if (!isAzureVmSize(value)) {
        v.fail(property, value, VM_SIZE_EXPECTED);
    }
    return value;
}

export function checkBastion(v: Validator, value: unknown): string | undefined {
    if (value === undefined || value === false) return undefined;
    if (value === true) return DEFAULT_AZURE_BASTION_VM_SIZE;
    if (!isPlainObject(value)) v.fail("bastion", value, "true, false or { vmSize }");
    v.known("bastion", value, ["vmSize"]);
    return checkVmSize(v, "bastion.vmSize", (value as { vmSize?: unknown }).vmSize ?? DEFAULT_AZURE_BASTION_VM_SIZE);
}

export function checkUser(v: Validator, value: unknown): string {
    if (typeof value !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(value) || AZURE_RESERVED_USER_NAMES.includes(value)) {
        v.fail(
            "sshUser",
            value,
            `a Linux user name ([a-z_][a-z0-9_-], at most 32) that Azure does not reserve (${AZURE_RESERVED_USER_NAMES.join(", ")})`,
        );
    }
    return value;
}

export function checkTags(v: Validator, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (!isPlainObject(value)) v.fail("tags", value, "an object mapping tag names to string values");
    const count = Object.keys(value).length;
    if (count > AZURE_MAX_TAGS - 1) {
        v.fail("tags", new Described(`${count} tags`), `at most ${AZURE_MAX_TAGS - 1} tags (Azure takes ${AZURE_MAX_TAGS} on a resource, and the pool adds flotilla-pool)`);
    }
    const out: Record<string, string> = {};
    for (const [k, t] of Object.entries(value)) {
        if (k.length === 0 || k.length > 512 || /[<>%&\\?/]/.test(k)) {
            v.fail(`tags.${k}`, k, "a tag name of 1 to 512 characters without <, >, %, &, \\, ? or /");
        }
        // Azure compares tag names ignoring case.
        if (k.toLowerCase() === "flotilla-pool") v.fail(`tags.${k}`, t, 'a tag name other than "flotilla-pool" (the pool sets that tag): rename this one');
        if (typeof t !== "string" || t.length > 256) {
            v.fail(`tags.${k}`, typeof t === "string" ? new Described(`a string of ${t.length} characters`) : t, "a string of at most 256 characters");
        }
        out[k] = t;
    }
    return out;
}

/** A Standard, static, IPv4 public IP (zone set by the caller). */
export function publicIpArgs(publicIpAddressName: string) {
    return {
        publicIpAddressName,
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
    };
}
