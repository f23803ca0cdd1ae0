/**
 * Credentials out: the `known_hosts` lines and an `ssh_config` snippet for a list of hosts, so
 * plain `ssh`, `DOCKER_HOST=ssh://...` and `docker context` work with strict host-key checking
 * straight from a stack's outputs (no jq recipe over host keys). Pure helpers over the `Host`
 * contract: nothing here creates a resource.
 */
import * as pulumi from "@pulumi/pulumi";
import { Host, SshConnection } from "./host";

/** Where a user keeps what the outputs hold, as the ssh_config snippet names it. */
export interface SshConfigFiles {
    /** The file holding the pool's private key (from its `sshPrivateKey` output), e.g. `~/.ssh/flotilla-lab`. */
    readonly identityFile: string;
    /** The file holding the `knownHosts` output, e.g. `~/.ssh/flotilla-lab.known_hosts`. */
    readonly knownHostsFile: string;
}

/** The default files of a pool's snippet: `~/.ssh/flotilla-<pool>` and `~/.ssh/flotilla-<pool>.known_hosts`. */
export function defaultSshConfigFiles(poolName: string): SshConfigFiles {
    return { identityFile: `~/.ssh/flotilla-${poolName}`, knownHostsFile: `~/.ssh/flotilla-${poolName}.known_hosts` };
}

/** One known_hosts line: `<host> <type> <key>` (`[host]:port` when the port is not 22); the key's comment dropped. */
export function knownHostsLine(host: string, port: number, hostKey: string): string {
    const [type, blob] = hostKey.trim().split(/\s+/);
    return `${port === 22 ? host : `[${host}]:${port}`} ${type} ${blob}`;
}

interface ResolvedConnection {
    host: string;
    port: number;
    user: string;
    hostKey?: string;
}

function resolved(c: Omit<SshConnection, "bastion">): pulumi.Output<ResolvedConnection> {
    return pulumi.all([c.host, c.port, c.user, c.hostKey]).apply(([host, port, user, hostKey]) => ({ host, port, user, hostKey }));
}

/**
 * The known_hosts text of `hosts` (and of their bastions), one line per address, sorted, without
 * duplicates. A host whose key its source cannot know in advance (an existing machine given no
 * `hostKey`) has no line: `RemoteScript` trusts its first key, and so must the user.
 */
export function knownHostsText(hosts: readonly Host[]): pulumi.Output<string> {
    const connections = hosts.flatMap((h) => [h.connection, ...(h.connection.bastion ? [h.connection.bastion] : [])]);
    return pulumi.all(connections.map(resolved)).apply((list) => {
        const lines = new Set(list.filter((c) => c.hostKey).map((c) => knownHostsLine(c.host, c.port, c.hostKey as string)));
        return [...lines].sort().map((l) => `${l}\n`).join("");
    });
}

/**
 * An ssh_config snippet with one `Host <name> <address>` entry per host (its address, port, user, the pool's
 * key, strict host-key checking against `files.knownHostsFile`, and `ProxyJump` through its bastion
 * when it has one), so `ssh <name>` and `DOCKER_HOST=ssh://<name>` work as they are.
 */
export function sshConfigText(hosts: readonly Host[], files: SshConfigFiles): pulumi.Output<string> {
    return pulumi
        .all(hosts.map((h) => pulumi.all([resolved(h.connection), h.connection.bastion ? resolved(h.connection.bastion) : undefined])))
        .apply((list) => {
            // Matched by name (`ssh <name>`) and by address (`ssh://user@<address>` as a Docker host).
            const entry = (alias: string, c: ResolvedConnection, jump?: string) =>
                [
                    `Host ${alias === c.host ? alias : `${alias} ${c.host}`}`,
                    `    HostName ${c.host}`,
                    `    Port ${c.port}`,
                    `    User ${c.user}`,
                    `    IdentityFile ${files.identityFile}`,
                    "    IdentitiesOnly yes",
                    `    UserKnownHostsFile ${files.knownHostsFile}`,
                    "    StrictHostKeyChecking yes",
                    ...(jump ? [`    ProxyJump ${jump}`] : []),
                    "",
                ].join("\n");
            const out: string[] = [];
            const bastions = new Set<string>();
            list.forEach(([c, bastion], i) => {
                let jump: string | undefined;
                if (bastion) {
                    jump = `bastion-${bastion.host}`;
                    if (!bastions.has(jump)) out.push(entry(jump, bastion));
                    bastions.add(jump);
                }
                out.push(entry(hosts[i].name, c, jump));
            });
            return out.join("\n");
        });
}
