/**
 * The contract every source of machines offers beside its `Host`s: a pool's addresses, host keys,
 * SSH login and labels, so a program (an example, a golden stack) uses any pool the same way and
 * never rebuilds a known_hosts file by hand. Types and a check only: nothing here creates a resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { Host, isHost } from "./host";

/**
 * A pool of machines, whatever made them: `AwsHostPool`, `AzureHostPool`, `ProxmoxHostPool`,
 * `ExistingHosts` and `LabHostPool` all implement it. Every field is derived from the pool's hosts
 * (nothing more is kept in the state).
 */
export interface IHostPool {
    /** Name of the pool: label `pool` of every host, prefix of the names of machines the pool makes. */
    readonly poolName: string;
    /** The machines, in the pool's order (index order, or the order given for existing machines). */
    readonly hosts: Host[];
    /** Private address of each machine, in the order of {@link hosts}. */
    readonly privateAddresses: pulumi.Output<string[]>;
    /**
     * Public addresses of the machines that have one, in the order of {@link hosts}: empty for a pool
     * whose machines have only private addresses (behind a bastion, a Proxmox pool, existing machines
     * given no `publicAddress`). A lab machine's public address is its (only) address.
     */
    readonly publicAddresses: pulumi.Output<string[]>;
    /**
     * The SSH host key of each machine (`ssh-ed25519 AAAA...`), in the order of {@link hosts}: the
     * key the pool set at first boot, or for an existing machine the pinned one or the one it
     * presented first (trust on first use).
     */
    readonly hostKeys: pulumi.Output<string[]>;
    /**
     * known_hosts lines of the machines (and their bastions), one per address: save them as the file
     * {@link sshConfig} names (`~/.ssh/flotilla-<pool>.known_hosts`) for strict host-key checking.
     */
    readonly knownHosts: pulumi.Output<string>;
    /**
     * An ssh_config snippet: one `Host <machine name>` entry per machine (address, port, user,
     * `IdentityFile ~/.ssh/flotilla-<pool>`, strict host-key checking against the known_hosts file,
     * `ProxyJump` through a bastion), so `ssh <name>` and `DOCKER_HOST=ssh://<name>` work as they are.
     */
    readonly sshConfig: pulumi.Output<string>;
    /**
     * The login user of the pool's machines. Undefined only for `ExistingHosts` whose machines log in
     * as different users and that were given no pool-wide `sshUser` (each host's `connection.user`
     * still says).
     */
    readonly sshUser: string | undefined;
    /**
     * The labels every host of the pool carries: `provider`, `pool`, `region` where the pool has one,
     * and the user's. A host may carry more of its own (`zone`, an existing machine's labels).
     */
    readonly labels: Readonly<Record<string, string>>;
}

/** True for an object that offers the {@link IHostPool} contract (what a construct checks before using one). */
export function isHostPool(value: unknown): value is IHostPool {
    const p = value as Partial<IHostPool> | null;
    return (
        typeof p === "object" &&
        p !== null &&
        typeof p.poolName === "string" &&
        Array.isArray(p.hosts) &&
        p.hosts.every(isHost) &&
        pulumi.Output.isInstance(p.privateAddresses) &&
        pulumi.Output.isInstance(p.publicAddresses) &&
        pulumi.Output.isInstance(p.hostKeys) &&
        pulumi.Output.isInstance(p.knownHosts) &&
        pulumi.Output.isInstance(p.sshConfig) &&
        (p.sshUser === undefined || typeof p.sshUser === "string") &&
        typeof p.labels === "object" &&
        p.labels !== null
    );
}
