/**
 * Lab test program for LabHostPool (test/lab/lab-host-pool.test.ts): just a pool.
 *
 * Config (all optional):
 *   flotilla:machines  number of lab machines, default 3
 *   flotilla:poolName  name of the pool on the Docker engine, default `flotilla-<stack>`
 *   flotilla:subnet    private block of the lab network, default 10.213.0.0/24
 */
import * as pulumi from "@pulumi/pulumi";
import { LabHostPool } from "flotilla";

const config = new pulumi.Config("flotilla");

const lab = new LabHostPool("lab", {
    size: config.getNumber("machines") ?? 3,
    poolName: config.get("poolName") ?? `flotilla-${pulumi.getStack()}`,
    subnet: config.get("subnet"),
});

/** Machine names, in index order. */
export const machines = lab.hosts.map((h) => h.name);
/** Private addresses of the machines (also their SSH addresses). */
export const addresses = lab.privateAddresses;
/** SSH login user on every machine. */
export const sshUser = lab.sshUser;
/** Private key of that user. Secret: `pulumi stack output --show-secrets sshPrivateKey`. */
export const sshPrivateKey = lab.sshPrivateKey;
/** SSH host keys of the machines, in index order, for known_hosts. */
export const hostKeys = pulumi.all(lab.hosts.map((h) => pulumi.output(h.connection.hostKey ?? "")));
