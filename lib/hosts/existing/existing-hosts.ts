import * as pulumi from "@pulumi/pulumi";
import { HOST_ARCHITECTURES, Host, HostArchitecture, HostLabels, HostPlatform, PackageAccess, SshConnection } from "../../core/host";
import { parseIpv4 } from "../../core/ipv4";
import { IHostPool } from "../../core/host-pool";
import { Reason, Validator, hasOwn, isPlainObject } from "../../core/validate";
import { RemoteScript, bareKey } from "../../shared/remote-script";
import { bundledScript } from "../../shared/scripts";
import { checkSuppliedKey } from "../common/cloud-common";
import { HostPoolArgs } from "../common/host-pool-args";
import { checkPrivateKey } from "../common/private-key";
import { poolOutputs } from "../common/pool-outputs";

/** Type token of {@link ExistingHosts}. */
export const EXISTING_HOSTS_TYPE = "flotilla:hosts:ExistingHosts";

/** Package access choices of {@link ExistingHostsArgs.packageAccess}. */
export const PACKAGE_ACCESS_CHOICES: readonly PackageAccess[] = ["upstream", "distribution"];

/** A jump host in front of an existing machine. */
export interface ExistingBastion {
    /** Address (IPv4 or DNS name) the jump host is reached at. Plain. */
    readonly host: string;
    /**
     * SSH port.
     * @default 22.
     */
    readonly port?: number;
    /** Login user on the jump host. Plain. */
    readonly user: string;
    /** OpenSSH private key of `user` on the jump host. Kept secret. */
    readonly privateKey: pulumi.Input<string>;
    /**
     * The jump host's public host key (`ssh-ed25519 AAAA...`), pinned.
     * @default none: the key it
     * presents on the first connection is recorded and enforced from then on (trust on first use).
     */
    readonly hostKey?: pulumi.Input<string>;
}

/** One machine that already exists. */
export interface ExistingMachine {
    /** Name of the machine in the pool (DNS label, at most 63 characters), unique in the pool. Plain. */
    readonly name: string;
    /**
     * Address (IPv4 or DNS name) flotilla connects to over SSH, and the machine's private address:
     * the one the other members of a cluster reach it at on its network. Unique in the pool. Plain.
     */
    readonly address: string;
    /**
     * SSH port.
     * @default 22.
     */
    readonly port?: number;
    /**
     * Login user, root or one with password-less sudo (`sudo -n`). Plain.
     * @default the pool's
     * `sshUser` (one of the two is required); give it here for a machine that logs in as another user.
     */
    readonly user?: string;
    /**
     * OpenSSH (or PEM) private key of `user`. Kept secret (wrapped in `pulumi.secret`).
     * @default the
     * pool's `sshKey.privateKey` (one of the two is required); give it here for a machine with a key
     * of its own.
     */
    readonly privateKey?: pulumi.Input<string>;
    /**
     * The machine's SSH host key (`ssh-ed25519 AAAA...`, a comment is dropped), pinned: another key
     * is refused, naming both fingerprints.
     * @default none: the key the machine presents on the first
     * connection is recorded and enforced from then on (trust on first use).
     */
    readonly hostKey?: pulumi.Input<string>;
    /**
     * A jump host to reach the machine through.
     * @default none (reached directly).
     */
    readonly bastion?: ExistingBastion;
    /**
     * Address clients outside the machine's network (and cluster members on another network) use.
     * Plain.
     * @default none: a machine with only a private address.
     */
    readonly publicAddress?: string;
    /**
     * Labels of this machine, beside the pool's and `provider: existing`, `pool`.
     * @default none.
     */
    readonly labels?: Record<string, string>;
}

/** Arguments of {@link ExistingHosts}. */
export interface ExistingHostsArgs extends HostPoolArgs {
    /**
     * The machines, at least one. Plain list (not an Output): each becomes a `Host` with a check of
     * its own, named after it, so adding or removing one touches only that machine.
     */
    readonly machines: ExistingMachine[];
    /**
     * Name of the pool (label `pool` of every host). DNS-safe, at most 40 characters.
     * @default the resource name.
     */
    readonly poolName?: string;
    /**
     * The private network the machines' addresses belong to, named as other pools name theirs
     * (e.g. `site:berlin`, or `lab:<network>` for machines on a lab pool's network). Cluster members
     * on another network reach these machines at their `publicAddress`.
     * @default none: a flat
     * network, every member of a cluster reaches the machines' addresses.
     */
    readonly network?: string;
    /**
     * Which package repositories the machines reach: `upstream` (vendors' repositories such as
     * download.docker.com) or `distribution` (only their distribution's mirror); later layers
     * choose their default install source from it.
     * @default `upstream`.
     */
    readonly packageAccess?: PackageAccess;
    /**
     * Labels added to every host, beside `provider: existing` and `pool`.
     * @default none.
     */
    readonly labels?: Record<string, string>;
    /**
     * The login user of every machine that names none (`machines[i].user`): root or one with
     * password-less sudo. Plain.
     * @default none: each machine names its own.
     */
    readonly sshUser?: string;
    /**
     * The login key of every machine that has none of its own (`machines[i].privateKey`), as every
     * pool takes one: `{ privateKey, publicKey? }`, the private key kept secret; a `publicKey`, when
     * given, is checked to be its public half.
     * @default none: each machine has its own.
     */
    readonly sshKey?: {
        /** OpenSSH (or PEM) private key, unencrypted. Kept secret. */
        readonly privateKey: pulumi.Input<string>;
        /** Its public key line, checked to be the private key's public half. Default: not checked. */
        readonly publicKey?: pulumi.Input<string>;
    };
}

/** What the probe prints on its last line. */
interface ProbeResult {
    os: string;
    osVersion: string;
    arch: HostArchitecture;
    machineId: string;
}

/**
 * Machines that already exist (bare metal, VMs made by other tools), adopted as `Host`s. On `up`
 * each machine is checked over SSH by a bundled probe (`hosts/existing-probe.sh`): reachable, the
 * key accepted, password-less sudo, a supported operating system (Debian 12, Ubuntu 22.04 or
 * 24.04) and architecture (amd64, arm64); its `platform` and its identity (`/etc/machine-id`, the
 * `instanceId`: a re-imaged machine gets what depends on it again) come from that probe. Each
 * host's `connection.hostKey` is the pinned key or, without a pin, the one the machine presented
 * on the first connection, so every later script checks it strictly. Destroying the pool never
 * touches the machines.
 */
export class ExistingHosts extends pulumi.ComponentResource implements IHostPool {
    /** The machines, in the order given. */
    public readonly hosts: Host[];
    /**
     * known_hosts lines of the machines (and their bastion), one per address: save it as the file
     * {@link sshConfig} names (`~/.ssh/flotilla-<pool>.known_hosts`) for strict host-key checking.
     * Not kept in the state (derived from the hosts).
     */
    public readonly knownHosts: pulumi.Output<string>;
    /**
     * An ssh_config snippet: one `Host <machine name>` entry per machine with its address, user,
     * `IdentityFile ~/.ssh/flotilla-<pool>` (save `sshPrivateKey` there, mode 600) and
     * `UserKnownHostsFile ~/.ssh/flotilla-<pool>.known_hosts` with `StrictHostKeyChecking yes`, so
     * `ssh <name>` and `DOCKER_HOST=ssh://<name>` work as they are. Not kept in the state.
     */
    public readonly sshConfig: pulumi.Output<string>;
    /** Name of the pool. */
    public readonly poolName: string;
    /** The machines' private network; undefined for a flat network. */
    public readonly network: string | undefined;
    /** Which package repositories the machines reach. */
    public readonly packageAccess: PackageAccess;
    /**
     * Addresses of the machines, in order.
     * @deprecated Use {@link privateAddresses} (the same addresses, as every pool gives them).
     */
    public readonly addresses: string[];
    /** The machines' addresses (each machine's `address`), in order, known once each passed its probe. */
    public readonly privateAddresses: pulumi.Output<string[]>;
    /** The `publicAddress` of each machine that has one, in order (empty when none has). */
    public readonly publicAddresses: pulumi.Output<string[]>;
    /** Host keys, in order: the pinned one, or the one first seen. */
    public readonly hostKeys: pulumi.Output<string[]>;
    /**
     * The login user: the pool's `sshUser`, else the user every machine names; undefined when the
     * machines log in as different users (each host's `connection.user` says).
     */
    public readonly sshUser: string | undefined;
    /** The labels every machine carries: `provider: existing`, `pool` and the pool's (a machine may add its own). */
    public readonly labels: Readonly<Record<string, string>>;
    /** Operating system and architecture of each machine, by name, as probed. */
    public readonly platforms: pulumi.Output<Record<string, HostPlatform>>;

    constructor(name: string, args: ExistingHostsArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(EXISTING_HOSTS_TYPE, name);
        v.args(args, EXISTING_HOSTS_KEYS, "ExistingHostsArgs");
        for (const key of ["poolName", "network", "packageAccess", "labels", "sshUser"] as const) {
            v.plain(key, args[key], "it is checked before any resource is created");
        }
        const poolName = args.poolName === undefined ? v.dnsLabel("name", name, 40) : v.dnsLabel("poolName", args.poolName, 40);
        const network = args.network === undefined ? undefined : v.token("network", args.network, 'a network name without spaces, such as "site:berlin"');
        const packageAccess = v.oneOf("packageAccess", args.packageAccess ?? "upstream", PACKAGE_ACCESS_CHOICES);
        const poolLabels = checkLabels(v, "labels", args.labels);
        const pool = {
            user: args.sshUser === undefined ? undefined : checkUser(v, "sshUser", args.sshUser),
            privateKey: checkPoolKey(v, args.sshKey),
        };
        const list = v.list("machines", v.plain("machines", args.machines, "the list decides which resources exist"));
        if (args.machines === undefined || list.length === 0) {
            v.fail("machines", args.machines === undefined ? undefined : "0 machines", "a list of at least one machine { name, address, user, privateKey, ... }");
        }
        const names = new Map<string, number>();
        const addresses = new Map<string, { index: number; address: string }>();
        const machines = list.map((m, i) => {
            const checked = checkMachine(v, `machines[${i}]`, m, pool);
            const sameName = names.get(checked.name);
            if (sameName !== undefined) {
                v.fail(`machines[${i}].name`, checked.name, `a name no other machine of the pool has (machines[${sameName}] has it)`);
            }
            names.set(checked.name, i);
            // DNS names are case-insensitive: DB1.example.com is db1.example.com, the same machine.
            const same = addresses.get(checked.address.toLowerCase());
            if (same !== undefined) {
                const how = same.address === checked.address ? "has it" : `has ${JSON.stringify(same.address)}, the same name: DNS names ignore case`;
                v.fail(`machines[${i}].address`, checked.address, `an address no other machine of the pool has (machines[${same.index}] ${how})`);
            }
            addresses.set(checked.address.toLowerCase(), { index: i, address: checked.address });
            return checked;
        });

        super(EXISTING_HOSTS_TYPE, name, {}, opts);

        this.poolName = poolName;
        this.network = network;
        this.packageAccess = packageAccess;
        this.addresses = machines.map((m) => m.address);
        this.labels = { ...poolLabels, provider: "existing", pool: poolName };
        const users = [...new Set(machines.map((m) => m.user))];
        this.sshUser = pool.user ?? (users.length === 1 ? users[0] : undefined);

        const script = bundledScript("hosts", "existing-probe.sh");
        const platforms: pulumi.Output<[string, HostPlatform]>[] = [];
        this.hosts = machines.map((m): Host => {
            const target = `existing machine ${m.name} (${m.user}@${m.address}:${m.port})`;
            const probe = new RemoteScript(
                `${name}-probe-${m.name}`,
                {
                    connection: { host: m.address, port: m.port, user: m.user, privateKey: m.privateKey, hostKey: m.hostKey, bastion: m.bastion },
                    script,
                    environment: { MACHINE_NAME: m.name },
                    target,
                    timeoutSeconds: 120,
                    connectTimeoutSeconds: 60,
                },
                { parent: this },
            );
            const result = probe.result.apply((line) => parseProbe(line, target));
            const platform = result.apply(
                (r): HostPlatform => ({ os: r?.os ?? "", osVersion: r?.osVersion ?? "", arch: r?.arch ?? "amd64" }),
            );
            platforms.push(platform.apply((p): [string, HostPlatform] => [m.name, p]));
            // The key the layers above check strictly: the pin, or the one this probe saw first.
            const hostKey: pulumi.Output<string> = m.hostKey ?? probe.seenHostKey.apply((k) => k ?? "");
            const labels: HostLabels = { ...poolLabels, ...m.labels, provider: "existing", pool: poolName };
            return {
                name: m.name,
                instanceId: probe.machineId,
                privateAddress: probe.machineId.apply(() => m.address),
                ...(m.publicAddress !== undefined ? { publicAddress: probe.machineId.apply(() => m.publicAddress as string) } : {}),
                ...(network !== undefined ? { network } : {}),
                platform,
                packageAccess,
                connection: {
                    host: m.address,
                    port: m.port,
                    user: m.user,
                    privateKey: m.privateKey,
                    hostKey,
                    ...(m.bastion ? { bastion: m.bastion } : {}),
                },
                labels,
                ready: [probe],
            };
        });
        ({ privateAddresses: this.privateAddresses, publicAddresses: this.publicAddresses, hostKeys: this.hostKeys, knownHosts: this.knownHosts, sshConfig: this.sshConfig } =
            poolOutputs(this.hosts, poolName));
        this.platforms = pulumi.all(platforms).apply((pairs) => Object.fromEntries(pairs));

        this.registerOutputs({
            poolName: this.poolName,
            network: this.network,
            packageAccess: this.packageAccess,
            addresses: this.addresses,
            hostKeys: this.hostKeys,
            platforms: this.platforms,
        });
    }
}

/** Properties of {@link ExistingHostsArgs}. */
const EXISTING_HOSTS_KEYS = ["machines", "poolName", "network", "packageAccess", "labels", "sshUser", "sshKey"];
/** Properties of {@link ExistingMachine}. */
const MACHINE_KEYS = ["name", "address", "port", "user", "privateKey", "hostKey", "bastion", "publicAddress", "labels"];
/** Properties of {@link ExistingBastion}. */
const BASTION_KEYS = ["host", "port", "user", "privateKey", "hostKey"];

/** What a machine (or bastion) is after validation. */
interface CheckedMachine {
    name: string;
    address: string;
    port: number;
    user: string;
    privateKey: pulumi.Output<string>;
    hostKey?: pulumi.Output<string>;
    bastion?: Omit<SshConnection, "bastion">;
    publicAddress?: string;
    labels: Record<string, string>;
}

const ADDRESS = /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/;
const ADDRESS_EXPECTED =
    'an IPv4 address with four numbers from 0 to 255, or a DNS name (its last label not all digits), such as "10.0.0.5" or "db1.example.com"';
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}( .*)?$/;
/** Expected text of a host key. */
export const HOST_KEY_EXPECTED = 'an SSH public host key line such as "ssh-ed25519 AAAA..." (ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521)';

function checkLabels(v: Validator, property: string, value: unknown): Record<string, string> {
    const labels = v.labels(property, value);
    for (const reserved of ["provider", "pool"]) {
        if (hasOwn(labels, reserved)) {
            v.fail(`${property}.${reserved}`, labels[reserved], `no "${reserved}" label: the pool sets it`);
        }
    }
    return labels;
}

/**
 * An address: a dotted IPv4 address, or a DNS name. A name whose last label is all digits is no DNS
 * name (RFC 3696: a top-level domain is never all-numeric) but an attempt at an address, and the
 * resolver would read a malformed one as an address anyway (`inet_aton` takes `1.2.3` for 1.2.0.3,
 * `10.1` for 10.0.0.1), so it must be a valid one: four numbers from 0 to 255 (no leading zeros,
 * which `inet_aton` reads as octal).
 */
function checkAddress(v: Validator, property: string, value: unknown): string {
    v.plain(property, value, "it is checked (and compared with the other machines') before any resource is created");
    if (typeof value !== "string" || !ADDRESS.test(value)) v.fail(property, value, ADDRESS_EXPECTED);
    const labels = value.split(".");
    if (/^\d+$/.test(labels[labels.length - 1]) && parseIpv4(value) === undefined) v.fail(property, value, ADDRESS_EXPECTED);
    return value;
}

function checkPort(v: Validator, property: string, value: unknown): number {
    v.plain(property, value);
    return v.integer(property, value ?? 22, 1, 65535);
}

function checkUser(v: Validator, property: string, value: unknown): string {
    v.plain(property, value);
    if (typeof value !== "string" || !USER.test(value)) {
        v.fail(property, value, "a Linux user name ([a-z_][a-z0-9_-], at most 32): root or one with password-less sudo");
    }
    return value;
}

function checkHostKey(v: Validator, property: string, value: unknown): pulumi.Output<string> | undefined {
    if (value === undefined) return undefined;
    return v.later(property, value as pulumi.Input<string>, HOST_KEY_EXPECTED, (k: unknown) =>
        typeof k === "string" && HOST_KEY.test(k.trim()) ? bareKey(k) : new Reason(),
    );
}

/** The pool's `sshKey` (its private key, checked; and its public half when given, checked to match). */
function checkPoolKey(v: Validator, value: unknown): pulumi.Output<string> | undefined {
    if (value === undefined) return undefined;
    v.plain("sshKey", value, "it decides which key each machine's probe uses");
    if (!isPlainObject(value)) v.fail("sshKey", value, "a key { privateKey, publicKey? }");
    v.known("sshKey", value, ["privateKey", "publicKey"]);
    const key = value as { privateKey?: unknown; publicKey?: unknown };
    return key.publicKey === undefined ? checkPrivateKey(v, "sshKey.privateKey", key.privateKey) : pulumi.output(checkSuppliedKey(v, "sshKey", value)!.privateKey);
}

/** What a machine takes from the pool when it names none of its own. */
interface PoolLogin {
    readonly user?: string;
    readonly privateKey?: pulumi.Output<string>;
}

function checkMachine(v: Validator, at: string, value: unknown, pool: PoolLogin): CheckedMachine {
    v.plain(at, value, "the list decides which resources exist");
    if (!isPlainObject(value)) v.fail(at, value, "a machine { name, address, user, privateKey, ... }");
    v.known(at, value, MACHINE_KEYS);
    const m = value as Partial<ExistingMachine>;
    v.plain(`${at}.name`, m.name, "it names the machine's resources");
    const name = v.dnsLabel(`${at}.name`, m.name);
    const address = checkAddress(v, `${at}.address`, m.address);
    const port = checkPort(v, `${at}.port`, m.port);
    const user = m.user === undefined && pool.user !== undefined ? pool.user : checkUser(v, `${at}.user`, m.user);
    const privateKey = m.privateKey === undefined && pool.privateKey !== undefined ? pool.privateKey : checkPrivateKey(v, `${at}.privateKey`, m.privateKey);
    const hostKey = checkHostKey(v, `${at}.hostKey`, m.hostKey);
    let publicAddress: string | undefined;
    if (m.publicAddress !== undefined) publicAddress = checkAddress(v, `${at}.publicAddress`, m.publicAddress);
    const labels = checkLabels(v, `${at}.labels`, m.labels);
    let bastion: Omit<SshConnection, "bastion"> | undefined;
    if (m.bastion !== undefined) {
        const b = m.bastion as unknown;
        v.plain(`${at}.bastion`, b);
        if (!isPlainObject(b)) v.fail(`${at}.bastion`, b, "a jump host { host, user, privateKey, port?, hostKey? }");
        v.known(`${at}.bastion`, b, BASTION_KEYS);
        const jb = b as Partial<ExistingBastion>;
        bastion = {
            host: checkAddress(v, `${at}.bastion.host`, jb.host),
            port: checkPort(v, `${at}.bastion.port`, jb.port),
            user: checkUser(v, `${at}.bastion.user`, jb.user),
            privateKey: checkPrivateKey(v, `${at}.bastion.privateKey`, jb.privateKey),
            ...(jb.hostKey !== undefined ? { hostKey: checkHostKey(v, `${at}.bastion.hostKey`, jb.hostKey) } : {}),
        };
    }
    return { name, address, port, user, privateKey, hostKey, bastion, publicAddress, labels };
}

/** Parses the probe's result line; undefined while unknown (preview, mocks). */
export function parseProbe(line: string | undefined, target: string): ProbeResult | undefined {
    if (!line) return undefined;
    let r: Partial<ProbeResult>;
    try {
        r = JSON.parse(line) as Partial<ProbeResult>;
    } catch {
        throw new Error(`${target}: the probe's last line is not its result: ${JSON.stringify(line.slice(0, 200))}`);
    }
    if (typeof r.os !== "string" || typeof r.osVersion !== "string" || !(HOST_ARCHITECTURES as readonly string[]).includes(String(r.arch))) {
        throw new Error(`${target}: the probe's result is incomplete: ${JSON.stringify(line.slice(0, 200))}`);
    }
    return r as ProbeResult;
}
