/**
 * The bastion path in the lab: a pool of three machines; machine 0 is the bastion, machines 1-2
 * accept SSH only from it (nftables), and Docker is installed on them THROUGH the bastion
 * (`connection.bastion`, host keys pinned on both hops).
 *
 * The firewall comes with the first-boot user data (package nftables from Debian's mirror, the
 * ruleset and a unit, on every machine of the pool), but is switched on only afterwards by a
 * RemoteScript that already goes through the bastion: the pool's create waits until sshd answers
 * from this host (lab-machine.sh connects to <address>:22 from here), so a firewall active at
 * first boot would fail every create. The step runs on machines 1-2 only (the bastion stays open);
 * its delete switches the firewall off again, through the bastion too.
 *
 * Config (namespace `test`): poolName, subnet.
 */
import * as pulumi from "@pulumi/pulumi";
import { DockerEngine, Host, LabHostPool, RemoteScript } from "flotilla";

const config = new pulumi.Config("test");
const subnet = config.require("subnet");

/** Machine 0's address: the pool gives machine i the (i + 2)-th address of its subnet. */
function bastionAddressIn(cidr: string): string {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m || Number(m[5]) > 30 || m.slice(1, 5).some((o) => Number(o) > 255)) throw new Error(`test:subnet: ${cidr} is not an IPv4 block`);
    const ip = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(m[5]));
    const address = ip - (ip % size) + 2;
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}
const bastionAddress = bastionAddressIn(subnet);

/** SSH (22/tcp) only from the bastion, on IPv4 and IPv6; everything else untouched. */
const RULESET = [
    "table inet flotilla_ssh",
    "delete table inet flotilla_ssh",
    "table inet flotilla_ssh {",
    "    chain input {",
    "        type filter hook input priority filter; policy accept;",
    '        iif "lo" accept',
    `        ip saddr ${bastionAddress} tcp dport 22 accept`,
    "        tcp dport 22 drop",
    "    }",
    "}",
    "",
].join("\n");
const UNIT = [
    "[Unit]",
    "Description=flotilla: SSH only from the bastion",
    "Before=ssh.service",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    "ExecStart=/usr/sbin/nft -f /etc/flotilla/ssh-firewall.nft",
    "ExecStop=/usr/sbin/nft delete table inet flotilla_ssh",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
].join("\n");
const firewallUserData =
    "#cloud-config\n" +
    JSON.stringify({
        packages: ["nftables"],
        write_files: [
            { path: "/etc/flotilla/ssh-firewall.nft", permissions: "0644", content: RULESET },
            { path: "/etc/systemd/system/flotilla-ssh-firewall.service", permissions: "0644", content: UNIT },
        ],
    }) +
    "\n";

const lab = new LabHostPool("lab", {
    size: 3,
    poolName: config.require("poolName"),
    subnet,
    userData: [firewallUserData],
});
const [bastion, ...inner] = lab.hosts;
/** How to reach the bastion (its host key pinned, as on every hop). */
const bastionConnection = {
    host: bastion.connection.host,
    port: bastion.connection.port,
    user: bastion.connection.user,
    privateKey: bastion.connection.privateKey,
    hostKey: bastion.connection.hostKey,
};

/** Switches the first-boot firewall on (through the bastion) and off again on delete. */
const SEAL = `set -euo pipefail
unit=flotilla-ssh-firewall.service
case "$FLOTILLA_PHASE" in
    create | update)
        systemctl daemon-reload
        systemctl enable --now "$unit"
        nft list table inet flotilla_ssh >/dev/null
        echo "sealed: SSH only from $BASTION"
        ;;
    read) nft list table inet flotilla_ssh >/dev/null 2>&1 || exit 3 ;;
    delete) systemctl disable --now "$unit" || true ;;
esac
`;

const hidden: Host[] = inner.map((h) => {
    const connection = { ...h.connection, bastion: bastionConnection };
    const seal = new RemoteScript(
        `seal-${h.name}`,
        {
            connection,
            script: SEAL,
            environment: { BASTION: bastionAddress },
            target: `firewall on ${h.name} (${h.connection.host} through ${bastionAddress})`,
            triggers: [h.instanceId],
            timeoutSeconds: 120,
        },
        // The bastion must be up to reach the machine, and stays until this is gone.
        { dependsOn: [...h.ready, ...bastion.ready] },
    );
    return { ...h, publicAddress: undefined, connection, ready: [seal] };
});

const docker = new DockerEngine("docker", { hosts: hidden });

export const addresses = lab.privateAddresses;
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
export const bastionHost = bastionAddress;
export const dockerVersions = docker.versions;
export const sources = docker.sources;
