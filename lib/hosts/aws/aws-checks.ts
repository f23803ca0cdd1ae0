/**
 * The checks and small helpers of {@link AwsHostPool}: its Args' property lists, region, instance
 * type and tag checks, an instance type's architecture, a rule's name and EC2's user data limit.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterPort } from "../../core/cluster";
import { HostArchitecture } from "../../core/host";
import { Described, Validator, isPlainObject } from "../../core/validate";
import { gzipBase64 } from "../common/user-data";
import { EC2_USER_DATA_LIMIT } from "./aws-host-pool-args";

/** Properties of {@link AwsHostPoolArgs}. */
export const AWS_HOST_POOL_KEYS = [
    "size",
    "poolName",
    "region",
    "zones",
    "vpcId",
    "subnetIds",
    "vpcCidr",
    "subnetMode",
    "publicIp",
    "image",
    "amiId",
    "instanceType",
    "diskGiB",
    "rootVolumeGiB",
    "spot",
    "tags",
    "labels",
    "sshUser",
    "sshKey",
    "adminCidrs",
    "allowWorldSsh",
    "clusterPorts",
    "clusterPeerCidrs",
    "appPorts",
    "appCidrs",
    "bastion",
    "bastionSubnetId",
    "userData",
];

/** Properties that must be plain values. */
export const AWS_PLAIN_KEYS = [
    "size",
    "poolName",
    "region",
    "zones",
    "vpcCidr",
    "subnetMode",
    "publicIp",
    "image",
    "instanceType",
    "diskGiB",
    "rootVolumeGiB",
    "spot",
    "tags",
    "labels",
    "sshUser",
    "adminCidrs",
    "allowWorldSsh",
    "clusterPorts",
    "clusterPeerCidrs",
    "appPorts",
    "appCidrs",
    "bastion",
] as const;

export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The region the default AWS provider uses, when the program does not say. */
export function configuredRegion(): string | undefined {
    return new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/** Checks an EC2 instance type (`t3.small`, `m7i-flex.large`). */
export function checkInstanceType(v: Validator, property: string, value: unknown): string {
    if (typeof value !== "string" || !/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/.test(value)) {
        v.fail(property, value, 'an EC2 instance type such as "t3.small" (family.size)');
    }
    return value;
}

/** The architecture of an instance type: Graviton families have a `g` after the generation digit (`t4g`, `c7gn`, `is4gen`). */
export function instanceArchitecture(instanceType: string): HostArchitecture {
    const family = instanceType.split(".")[0];
    const m = /^[a-z]+\d+([a-z-]*)$/.exec(family);
    return m && m[1].includes("g") ? "arm64" : "amd64";
}

/** Checks user tags: no `aws:` prefix, no `Name` / `flotilla:pool` (the pool sets them). */
export function checkTags(v: Validator, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (!isPlainObject(value)) v.fail("tags", value, "an object mapping tag keys to string values");
    for (const [k, val] of Object.entries(value)) {
        if (k.length === 0 || k.length > 128 || k.toLowerCase().startsWith("aws:")) v.fail(`tags.${k}`, k, "a tag key of 1 to 128 characters not starting with aws:");
        if (k === "Name" || k === "flotilla:pool") v.fail(`tags.${k}`, val, `no "${k}" tag: the pool sets it`);
        if (typeof val !== "string" || val.length > 256) v.fail(`tags.${k}`, val, "a string of at most 256 characters");
    }
    return value as Record<string, string>;
}

/** The name of a cluster port's rule: protocol and port (range), e.g. `cluster-tcp-2379-2380`. */
export function clusterRuleRole(p: ClusterPort): string {
    return `cluster-${p.protocol}-${p.port}${p.toPort !== undefined ? `-${p.toPort}` : ""}`;
}

/**
 * A machine's user data as EC2 takes it: gzip'd, base64. Fails naming `userData` when even gzip'd
 * it exceeds EC2's 16384 bytes (never showing the document: it holds the host key).
 */
export function ec2UserData(v: Validator, document: string): string {
    const encoded = gzipBase64(document);
    const bytes = Buffer.from(encoded, "base64").length;
    if (bytes > EC2_USER_DATA_LIMIT) {
        v.fail(
            "userData",
            new Described(`a document of ${Buffer.byteLength(document, "utf8")} bytes, ${bytes} gzip'd`),
            `user data that fits EC2's ${EC2_USER_DATA_LIMIT} bytes once gzip'd (the pool's part and every userData part together)`,
        );
    }
    return encoded;
}
