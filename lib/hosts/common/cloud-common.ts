/**
 * What every cloud-like host pool (AWS, Azure, Proxmox) shares, so each renders the same access
 * rules and the same first-boot document: the admin/app CIDR checks (world-open SSH only with an
 * explicit opt-in), the cluster ports to open inside the pool, the pool's SSH keys (client key and
 * host-key seed, or a supplied client key) and each machine's user data. Helpers, not constructs.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterPort, KUBERNETES_PORTS, SWARM_PORTS } from "../../core/cluster";
import { parseCidr } from "../../core/ipv4";
import { Described, Reason, Validator, looksLikePrivateKey } from "../../core/validate";
import { multipartUserData } from "../../shared/cloud-init";
import { keyPairMismatch, publicKeyLine } from "../../shared/ssh-key-check";
import { SshKeyPair } from "../../shared/ssh-key-pair";
import { checkPrivateKey } from "./private-key";
import { DerivedHostKey, derivedHostKey, hostUserData } from "./user-data";

// The cluster ports moved to their own module; still reachable from here.
export { CLUSTER_KINDS, checkClusterKinds, checkClusterPorts, clusterPorts } from "./cluster-ports";
export type { ClusterKind } from "./cluster-ports";

/** True for a block that is the whole IPv4 or IPv6 internet. */
export function isWorld(cidr: string): boolean {
    return cidr === "0.0.0.0/0" || cidr === "::/0";
}

/** An IPv6 block, loosely checked: hex groups, `::`, and a prefix 0..128. */
function isIpv6Cidr(text: string): boolean {
    const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(text);
    return !!m && Number(m[2]) <= 128 && m[1].includes(":") && m[1].split("::").length <= 2;
}

export interface CidrCheck {
    /** At least one block (e.g. SSH must be reachable from somewhere). */
    required?: boolean;
    /** World-open blocks (`0.0.0.0/0`, `::/0`) are accepted only when this is true; its name for the message. */
    worldOptIn?: { allowed: boolean; property: string };
    /** World-open blocks are never accepted; why, for the message (e.g. "cluster ports are never open to the world"). */
    neverWorld?: string;
    /**
     * Names the provider itself accepts for the whole internet (Azure's `*` and `Internet`): kept
     * as they are and treated as world-open blocks (so they, too, need the opt-in).
     */
    worldAliases?: readonly string[];
}

/**
 * Checks a plain list of CIDR blocks (IPv4 with no host bits set, or IPv6). World-open blocks only
 * with the opt-in when one is named. Returns the normalised blocks.
 */
export function checkCidrs(v: Validator, property: string, value: unknown, opts: CidrCheck = {}): string[] {
    if (value === undefined && !opts.required) return [];
    const example = '["203.0.113.0/24"]';
    if (value === undefined) v.fail(property, value, `a list of at least one CIDR block, e.g. ${example}`);
    const list = v.list(property, value, `a list of CIDR blocks, e.g. ${example}`);
    if (opts.required && list.length === 0) v.fail(property, value, `at least one CIDR block, e.g. ${example}`);
    return list.map((item, i) => {
        const at = `${property}[${i}]`;
        if (typeof item !== "string") v.fail(at, item, "a CIDR block (string) such as \"203.0.113.0/24\"");
        let cidr = item;
        const alias = opts.worldAliases?.includes(item) ?? false;
        if (!alias && !isIpv6Cidr(item)) {
            const parsed = parseCidr(item);
            if (typeof parsed === "string") v.fail(at, item, `an IPv4 CIDR block such as "203.0.113.0/24" or an IPv6 one (${parsed})`);
            cidr = parsed.cidr;
        }
        if (opts.neverWorld !== undefined && (alias || isWorld(cidr))) {
            v.fail(at, item, `a block narrower than the whole internet (${opts.neverWorld})`);
        }
        if (opts.worldOptIn && (alias || isWorld(cidr)) && !opts.worldOptIn.allowed) {
            v.fail(at, item, `a block narrower than the whole internet (world-open needs ${opts.worldOptIn.property}: true)`);
        }
        return cidr;
    });
}

/** Checks a plain list of TCP/UDP port numbers (1..65535), deduplicated. */
export function checkPorts(v: Validator, property: string, value: unknown): number[] {
    if (value === undefined) return [];
    const list = v.list(property, value, "a list of port numbers 1..65535");
    return [...new Set(list.map((p, i) => v.integer(`${property}[${i}]`, p, 1, 65535)))];
}

/**
 * TCP ports that give control of a machine or a cluster: SSH, the Docker API and every TCP port an
 * orchestrator uses between its nodes (Swarm's, Kubernetes' API server, etcd, kubelet, ...). They are
 * opened only from `adminCidrs` (SSH, the Kubernetes API) or inside the pool, never as app ports.
 */
export const ADMIN_TCP_PORTS: readonly ClusterPort[] = [
    { port: 22, protocol: "tcp", purpose: "SSH" },
    { port: 2375, toPort: 2376, protocol: "tcp", purpose: "the Docker API" },
    ...[...SWARM_PORTS, ...KUBERNETES_PORTS].filter((p) => p.protocol === "tcp"),
];

/**
 * Checks `appPorts` (a plain list of TCP ports, deduplicated): an admin or cluster port
 * ({@link ADMIN_TCP_PORTS}) is refused, whatever `appCidrs` say, so that a world-open app rule can
 * never open SSH or a cluster's control ports (SSH to the world takes `allowWorldSsh`); nor is a TCP
 * port of the pool's own `poolClusterPorts`.
 */
export function checkAppPorts(v: Validator, property: string, value: unknown, poolClusterPorts: readonly ClusterPort[] = []): number[] {
    const ports = checkPorts(v, property, value);
    ports.forEach((port) => {
        const admin = ADMIN_TCP_PORTS.find((p) => port >= p.port && port <= (p.toPort ?? p.port));
        // A cluster port of the pool's own list (given as `clusterPorts`) is no app port either.
        const own = poolClusterPorts.find((p) => p.protocol === "tcp" && port >= p.port && port <= (p.toPort ?? p.port));
        if (!admin && own) {
            v.fail(
                `${property}[${(value as unknown[]).indexOf(port)}]`,
                port,
                `a port an app publishes, not ${own.purpose} (${port}): the pool's clusterPorts are opened only between its machines, never as app ports`,
            );
        }
        if (admin) {
            const at = (value as unknown[]).indexOf(port);
            v.fail(
                `${property}[${at}]`,
                port,
                `a port an app publishes, not ${admin.purpose} (${port}): admin and cluster ports (` +
                    `${ADMIN_TCP_PORTS.map((p) => (p.toPort ? `${p.port}-${p.toPort}` : p.port)).join(", ")}) are never app ports; ` +
                    "SSH and the Kubernetes API are opened from adminCidrs, cluster ports only between the pool's machines",
            );
        }
    });
    return ports;
}

/** The SSH keys of a pool: the client key its user logs in with, and the seed of the machines' host keys. */
export interface PoolKeys {
    /** Private key of the login user (secret): generated, or the one supplied. */
    readonly privateKey: pulumi.Output<string>;
    /** Public key authorized on every machine. */
    readonly publicKey: pulumi.Output<string>;
    /** The host key of machine `machineName` (derived from the pool's seed). */
    hostKey(machineName: string): DerivedHostKey;
}

/**
 * Creates a pool's keys as children of `parent`: `<name>-ssh-key` (unless a key pair is supplied)
 * and `<name>-host-key-seed`, one secret for all machines' host keys (convention 15: state is a cost).
 */
export function poolKeys(
    name: string,
    poolName: string,
    owner: string,
    parent: pulumi.Resource,
    supplied?: { privateKey: pulumi.Input<string>; publicKey: pulumi.Input<string> },
): PoolKeys {
    let privateKey: pulumi.Output<string>;
    let publicKey: pulumi.Output<string>;
    if (supplied) {
        privateKey = pulumi.secret(supplied.privateKey);
        publicKey = pulumi.output(supplied.publicKey);
    } else {
        const client = new SshKeyPair(`${name}-ssh-key`, { comment: `flotilla@${poolName}` }, { parent });
        privateKey = pulumi.secret(client.privateKey);
        publicKey = client.publicKey;
    }
    const seed = new SshKeyPair(`${name}-host-key-seed`, { comment: `host-keys@${poolName}` }, { parent });
    return { privateKey, publicKey, hostKey: (machineName) => derivedHostKey(seed.privateKey, machineName, owner) };
}

/**
 * The whole first-boot document of one machine, as the lab boots it through NoCloud and a cloud VM
 * gets it as user data: the pool's part (login user, authorized key, pre-set host key) then the
 * extra parts in order. A secret Output (it holds the host's private key).
 */
export function machineUserData(
    user: string,
    authorizedKey: pulumi.Input<string>,
    hostKey: DerivedHostKey,
    extraParts: pulumi.Input<string[]>,
): pulumi.Output<string> {
    return pulumi.secret(
        pulumi
            .all([authorizedKey, hostKey.privateKey, hostKey.publicKey, extraParts])
            .apply(([authorized, hostPrivate, hostPublic, extra]) =>
                multipartUserData([hostUserData({ user, authorizedKey: authorized, hostPrivate, hostPublic }), ...extra]),
            ),
    );
}

/** A client key pair a pool is given instead of generating one. */
export interface SuppliedSshKey {
    /** OpenSSH (or PEM) private key, unencrypted. Kept secret. */
    readonly privateKey: pulumi.Input<string>;
    /** Its public key line (`ssh-ed25519 AAAA... comment`), authorized for the pool's login user. */
    readonly publicKey: pulumi.Input<string>;
}

/** Expected text of a public key line. */
export const PUBLIC_KEY_EXPECTED =
    'an SSH public key line such as "ssh-ed25519 AAAA... comment" (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521)';

/**
 * Checks a pool's `sshKey` (undefined: the pool generates one): a plain `{ privateKey, publicKey }`
 * whose values may be Outputs, checked when they resolve, the private key never printed. Both halves
 * are checked for their shape (a file path, a public line given as the private key, a private key
 * given as the public line, a passphrase-protected key are refused) and for being one pair: the
 * returned `publicKey` resolves only after that check, so a private key can never reach a resource's
 * plain `publicKey` input (e.g. an EC2 key pair's, stored unencrypted in the state).
 */
export function checkSuppliedKey(v: Validator, property: string, value: unknown): SuppliedSshKey | undefined {
    if (value === undefined) return undefined;
    v.plain(property, value, "it decides whether a key is generated");
    if (typeof value !== "object" || value === null || Array.isArray(value) || pulumi.Resource.isInstance(value)) {
        v.fail(property, value, "a key pair { privateKey, publicKey }");
    }
    v.known(property, value, ["privateKey", "publicKey"]);
    const pair = value as Partial<SuppliedSshKey>;
    if (pair.publicKey === undefined || pair.publicKey === "") v.fail(`${property}.publicKey`, pair.publicKey, PUBLIC_KEY_EXPECTED);
    const privateKey = checkPrivateKey(v, `${property}.privateKey`, pair.privateKey);
    const publicLine = v.later(`${property}.publicKey`, pair.publicKey, PUBLIC_KEY_EXPECTED, (k: unknown) => {
        if (typeof k === "string" && looksLikePrivateKey(k)) return new Reason("this is a private key: are privateKey and publicKey swapped?");
        return typeof k === "string" && publicKeyLine(k) ? k.trim() : new Reason();
    });
    const matched = (priv: string, pub: string): string => {
        const why = keyPairMismatch(priv, pub);
        if (why !== undefined) v.fail(`${property}.publicKey`, new Described("a public key line"), `the public half of ${property}.privateKey (${why})`);
        return pub;
    };
    if (typeof pair.privateKey === "string" && typeof pair.publicKey === "string") {
        // Both plain: refused now, before any resource exists (and checked once).
        return { privateKey, publicKey: pulumi.output(matched(pair.privateKey, pair.publicKey.trim())) };
    }
    return {
        privateKey,
        // The match reads the secret private key; the public half it returns is not secret.
        publicKey: pulumi.unsecret(pulumi.all([privateKey, publicLine]).apply(([priv, pub]) => matched(priv, pub))),
    };
}
