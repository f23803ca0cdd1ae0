/**
 * Credentials out: known_hosts lines and an ssh_config snippet from the hosts' own connections, for
 * every pool and cluster (the Swarm's in swarm-cluster.test.ts; the root-program lab test runs `docker -H ssh://...` and `ssh` with only
 * these outputs and strict host-key checking).
 */
import * as pulumi from "@pulumi/pulumi";
import { keyPairOutputs, recordResources, testHost, valueOf } from "../mocks";
import { resetClaims } from "../../../lib/core/claims";
import { defaultSshConfigFiles, knownHostsLine, knownHostsText, sshConfigText } from "../../../lib/core/known-hosts";
import { Host } from "../../../lib/core/host";
import { LabHostPool } from "../../../lib/hosts/lab";

recordResources(keyPairOutputs);
beforeEach(() => resetClaims());

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaa root@a";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbb";
const KEY_J = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjjjj";

describe("known_hosts and ssh_config from hosts", () => {
    test("one line per address, comment dropped, [host]:port off port 22, a bastion's line too, sorted and unique", async () => {
        expect(knownHostsLine("10.0.0.2", 22, KEY_A)).toBe("10.0.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaa");
        expect(knownHostsLine("db1.example.com", 2222, KEY_B)).toBe("[db1.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbb");
        const jump = { host: "203.0.113.9", port: 22, user: "admin", privateKey: pulumi.secret("K"), hostKey: KEY_J };
        const b: Host = { ...testHost("b", "10.0.0.3", { hostKey: KEY_B }), connection: { ...testHost("b", "10.0.0.3").connection, port: 2222, hostKey: KEY_B, bastion: jump } };
        const noKey: Host = { ...testHost("c", "10.0.0.4"), connection: { ...testHost("c", "10.0.0.4").connection, hostKey: pulumi.output("") } };
        const text = await valueOf(knownHostsText([testHost("a", "10.0.0.2", { hostKey: KEY_A }), b, noKey, testHost("a2", "10.0.0.2", { hostKey: KEY_A })]));
        expect(text).toBe(
            [
                "10.0.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaa",
                "203.0.113.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjjjj",
                "[10.0.0.3]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbb",
                "",
            ].join("\n"),
        );
        const config = await valueOf(sshConfigText([testHost("a", "10.0.0.2", { hostKey: KEY_A }), b], defaultSshConfigFiles("lab")));
        expect(config).toBe(
            [
                "Host a 10.0.0.2",
                "    HostName 10.0.0.2",
                "    Port 22",
                "    User admin",
                "    IdentityFile ~/.ssh/flotilla-lab",
                "    IdentitiesOnly yes",
                "    UserKnownHostsFile ~/.ssh/flotilla-lab.known_hosts",
                "    StrictHostKeyChecking yes",
                "",
                "Host bastion-203.0.113.9 203.0.113.9",
                "    HostName 203.0.113.9",
                "    Port 22",
                "    User admin",
                "    IdentityFile ~/.ssh/flotilla-lab",
                "    IdentitiesOnly yes",
                "    UserKnownHostsFile ~/.ssh/flotilla-lab.known_hosts",
                "    StrictHostKeyChecking yes",
                "",
                "Host b 10.0.0.3",
                "    HostName 10.0.0.3",
                "    Port 2222",
                "    User admin",
                "    IdentityFile ~/.ssh/flotilla-lab",
                "    IdentitiesOnly yes",
                "    UserKnownHostsFile ~/.ssh/flotilla-lab.known_hosts",
                "    StrictHostKeyChecking yes",
                "    ProxyJump bastion-203.0.113.9",
                "",
            ].join("\n"),
        );
    });

    test("a lab pool's knownHosts holds each machine's pre-set host key; its sshConfig names the pool's files", async () => {
        const pool = new LabHostPool("lab", { size: 2, poolName: "site" });
        const keys = await Promise.all(pool.hosts.map((h) => valueOf(h.connection.hostKey as pulumi.Output<string>)));
        const addresses = await Promise.all(pool.hosts.map((h) => valueOf(pulumi.output(h.connection.host))));
        const known = await valueOf(pool.knownHosts);
        expect(known.trim().split("\n").sort()).toEqual(addresses.map((a, i) => knownHostsLine(a, 22, keys[i])).sort());
        const config = await valueOf(pool.sshConfig);
        expect(config).toContain(`Host site-0 ${addresses[0]}\n`);
        expect(config).toContain("IdentityFile ~/.ssh/flotilla-site\n");
        expect(config).toContain("UserKnownHostsFile ~/.ssh/flotilla-site.known_hosts\n");
        expect(config).not.toContain("PRIVATE KEY");
    });
});
