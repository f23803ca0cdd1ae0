/**
 * A dedicated one-machine lab pool and a LabRegistry on it that pushes the images listed in config
 * (comma-separated local references); the password is generated unless `test:password` is set.
 */
import * as pulumi from "@pulumi/pulumi";
import { LabHostPool, LabRegistry } from "flotilla";

const config = new pulumi.Config("test");
const pool = new LabHostPool("registry-pool", {
    size: 1,
    poolName: config.require("poolName"),
    subnet: config.require("subnet"),
});
const images = (config.get("images") ?? "").split(",").filter((i) => i.length > 0);
const registry = new LabRegistry("registry", { host: pool.hosts[0], images, password: config.getSecret("password") });

export const address = registry.address;
export const username = registry.username;
export const password = registry.password;
export const imageRefs = registry.imageRefs;
export const hostAddress = pool.hosts[0].privateAddress;
export const hostKey = pool.hosts[0].connection.hostKey;
export const privateKey = pool.sshPrivateKey;
export const sshUser = pool.sshUser;
