/**
 * The {@link IHostPool} fields every pool derives the same way from its hosts, so the five pools
 * compute them once, alike. Nothing here creates a resource or adds to the state.
 */
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../core/host";
import { IHostPool } from "../../core/host-pool";
import { defaultSshConfigFiles, knownHostsText, sshConfigText } from "../../core/known-hosts";

/** The contract's address, host-key and SSH fields of a pool's hosts. */
export type PoolOutputs = Pick<IHostPool, "privateAddresses" | "publicAddresses" | "hostKeys" | "knownHosts" | "sshConfig">;

/** Addresses, host keys, known_hosts and ssh_config of `hosts`, a pool named `poolName`. */
export function poolOutputs(hosts: readonly Host[], poolName: string): PoolOutputs {
    return {
        privateAddresses: pulumi.all(hosts.map((h) => h.privateAddress)),
        publicAddresses: pulumi.all(hosts.flatMap((h) => (h.publicAddress ? [h.publicAddress] : []))),
        hostKeys: pulumi.all(hosts.map((h) => pulumi.output(h.connection.hostKey ?? ""))),
        knownHosts: knownHostsText(hosts),
        sshConfig: sshConfigText(hosts, defaultSshConfigFiles(poolName)),
    };
}
