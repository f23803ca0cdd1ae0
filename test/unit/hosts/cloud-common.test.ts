/**
 * What every cloud-like pool shares (lib/hosts/common/cloud-common.ts): CIDR lists with the world-open
 * opt-in, port lists, the cluster ports per orchestrator, and the first-boot document each machine
 * gets (the pool's part first, its host key the derived one).
 */
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { keyPairOutputs, messageOf, recordResources, valueOf } from "../mocks";
import { KUBERNETES_PORTS, SWARM_PORTS } from "../../../lib/core/cluster";
import { Validator } from "../../../lib/core/validate";
import { checkCidrs, checkClusterKinds, checkPorts, clusterPorts, machineUserData, poolKeys } from "../../../lib/hosts/common/cloud-common";
import { gzipBase64 } from "../../../lib/hosts/common/user-data";

const registered = recordResources(keyPairOutputs);
const v = new Validator("flotilla:hosts:TestPool", "p");
const T = 'flotilla:hosts:TestPool "p": invalid';

describe("checkCidrs", () => {
    const ssh = (value: unknown, allowed = false) =>
        checkCidrs(v, "adminCidrs", value, { required: true, worldOptIn: { allowed, property: "allowWorldSsh" } });

    test("IPv4 and IPv6 blocks are accepted and returned", () => {
        expect(ssh(["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"])).toEqual(["203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32"]);
    });
    test.each([
        [undefined, `${T} adminCidrs: received undefined; expected a list of at least one CIDR block, e.g. ["203.0.113.0/24"].`],
        [[], `${T} adminCidrs: received []; expected at least one CIDR block, e.g. ["203.0.113.0/24"].`],
        [["203.0.113.1/24"], `${T} adminCidrs[0]: received "203.0.113.1/24"; expected an IPv4 CIDR block such as "203.0.113.0/24" or an IPv6 one (host bits set (did you mean 203.0.113.0/24?)).`],
        [["10.0.0.0"], `${T} adminCidrs[0]: received "10.0.0.0"; expected an IPv4 CIDR block such as "203.0.113.0/24" or an IPv6 one (not in a.b.c.d/prefix form).`],
        [[7], `${T} adminCidrs[0]: received 7; expected a CIDR block (string) such as "203.0.113.0/24".`],
        [["0.0.0.0/0"], `${T} adminCidrs[0]: received "0.0.0.0/0"; expected a block narrower than the whole internet (world-open needs allowWorldSsh: true).`],
        [["::/0"], `${T} adminCidrs[0]: received "::/0"; expected a block narrower than the whole internet (world-open needs allowWorldSsh: true).`],
    ])("%j is refused", (value, message) => {
        expect(messageOf(() => ssh(value))).toBe(message);
    });
    test("the world only with the opt-in", () => {
        expect(ssh(["0.0.0.0/0", "::/0"], true)).toEqual(["0.0.0.0/0", "::/0"]);
    });
    test("optional lists default to none", () => {
        expect(checkCidrs(v, "appCidrs", undefined)).toEqual([]);
        expect(checkCidrs(v, "appCidrs", ["0.0.0.0/0"])).toEqual(["0.0.0.0/0"]);
    });
});

describe("ports", () => {
    test("port lists: integers 1..65535, deduplicated", () => {
        expect(checkPorts(v, "appPorts", [80, 443, 80])).toEqual([80, 443]);
        expect(checkPorts(v, "appPorts", undefined)).toEqual([]);
        expect(messageOf(() => checkPorts(v, "appPorts", [0]))).toMatch(/^flotilla:hosts:TestPool "p": invalid appPorts\[0\]: received 0; expected/);
        expect(messageOf(() => checkPorts(v, "appPorts", [70000]))).toMatch(/appPorts\[0\]: received 70000/);
    });
    test("cluster ports: each orchestrator's list, both by default, no duplicates", () => {
        expect(clusterPorts(["swarm"])).toEqual([...SWARM_PORTS]);
        expect(clusterPorts(["kubernetes"])).toEqual([...KUBERNETES_PORTS]);
        expect(clusterPorts(checkClusterKinds(v, "clusterPorts", undefined))).toEqual([...SWARM_PORTS, ...KUBERNETES_PORTS]);
        expect(clusterPorts(["swarm", "swarm"])).toEqual([...SWARM_PORTS]);
        expect(messageOf(() => checkClusterKinds(v, "clusterPorts", ["nomad"]))).toMatch(/clusterPorts\[0\]: received "nomad"; expected one of "swarm", "kubernetes"/);
    });
});

describe("pool keys and the machine document", () => {
    test("two key pairs per pool (client, host-key seed); each machine's document has the user, the key and its own host key", async () => {
        registered.splice(0);
        const parent = new pulumi.ComponentResource("test:Parent", "p-parent");
        const keys = poolKeys("p", "pool", "TestPool p", parent);
        const a = keys.hostKey("pool-0");
        const b = keys.hostKey("pool-1");
        const doc = await valueOf(machineUserData("admin", keys.publicKey, a, ["#!/bin/sh\necho hi\n"]));
        const [pubA, pubB, authorized] = await Promise.all([valueOf(a.publicKey), valueOf(b.publicKey), valueOf(keys.publicKey)]);
        expect(pubA).toMatch(/^ssh-ed25519 /);
        expect(pubA).not.toBe(pubB);
        expect(doc).toMatch(/^Content-Type: multipart\/mixed/);
        expect(doc).toContain(`"ed25519_public": "${pubA}"`);
        expect(doc).toContain(`"ssh_authorized_keys": [\n        "${authorized}"`);
        expect(doc).toContain('"ssh_pwauth": false');
        expect(doc.indexOf("#cloud-config")).toBeLessThan(doc.indexOf("echo hi"));
        expect(registered.filter((r) => r.type.endsWith(":SshKeyPair")).map((r) => r.name)).toEqual(["p-ssh-key", "p-host-key-seed"]);
        // gzip+base64 round trip, as clouds with a size limit get it.
        expect(zlib.gunzipSync(Buffer.from(gzipBase64(doc), "base64")).toString()).toBe(doc);
    });
    test("a supplied key pair: no client key resource", async () => {
        registered.splice(0);
        const parent = new pulumi.ComponentResource("test:Parent", "q-parent");
        const keys = poolKeys("q", "pool-q", "TestPool q", parent, { privateKey: "PRIV", publicKey: "ssh-ed25519 AAAAsupplied" });
        expect(await valueOf(keys.publicKey)).toBe("ssh-ed25519 AAAAsupplied");
        await new Promise((r) => setTimeout(r, 30));
        expect(registered.filter((r) => r.type.endsWith(":SshKeyPair")).map((r) => r.name)).toEqual(["q-host-key-seed"]);
    });
});
