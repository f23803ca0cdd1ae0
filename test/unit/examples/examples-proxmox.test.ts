/**
 * examples/proxmox-swarm evaluated under mocks, as `pulumi up` would run it with three Proxmox
 * nodes configured: its whole resource graph (pool → Docker → Swarm → app), and what joins the
 * layers (VMs round-robin over the nodes, Docker in every VM's first-boot document, the Swarm on
 * the pool's hosts, the image deployed). Also: the library's root never loads the Proxmox provider.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { keyPairOutputs, valueOf } from "../mocks";
import type { Registered } from "../mocks";
import { evaluateExample } from "../example-program";
import { bareKey } from "../../../lib/shared/remote-script";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
let registered: Registered[] = [];

/** What real creates return: key pairs their keys, VMs their guest agent's view, Swarm scripts their results. */
function outputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
    if (type === VM) {
        const i = Number(/-vm-(\d+)$/.exec(name)?.[1]);
        const mac = `bc:24:11:00:00:0${i}`;
        return {
            vmId: 100 + i,
            networkDevices: inputs.networkDevices.map((d: object) => ({ ...d, macAddress: mac })),
            networkInterfaceNames: ["lo", "eth0"],
            macAddresses: ["00:00:00:00:00:00", mac],
            ipv4Addresses: [["127.0.0.1"], [`192.168.1.${20 + i}`]],
        };
    }
    if (name === "swarm-init") return { result: JSON.stringify({ clusterId: "c1", nodeId: "n-pve-0", workerToken: "WT", managerToken: "MT" }) };
    const join = /^swarm-join-(.+)$/.exec(name);
    if (join) return { result: JSON.stringify({ nodeId: `n-${join[1]}` }) };
    if (name === "web-deploy") return { result: JSON.stringify({ web: { running: 3, desired: 3 } }) };
    return keyPairOutputs(type, name);
}

const byName = (name: string) => {
    const r = registered.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${registered.map((x) => x.name).join(", ")}`);
    return r;
};

describe("examples/proxmox-swarm", () => {
    let program: typeof import("../../../examples/proxmox-swarm/index");
    beforeAll(async () => {
        const evaluated = await evaluateExample(
            "proxmox-swarm",
            { nodes: JSON.stringify(["pve1", "pve2", "pve3"]) },
            { project: "proxmox-swarm", stack: "dev", outputs, calls: (_token, inputs) => inputs },
        );
        registered = evaluated.registered;
        program = evaluated.program as unknown as typeof program;
        await valueOf(program.services);
        await valueOf(program.swarmNodes);
        await new Promise((r) => setTimeout(r, 100));
    });

    test("the resource graph: three VMs with their snippets and image downloads, Docker, a Swarm of three managers, the app", () => {
        const graph = registered.map((r) => `${r.type} ${r.name}`).sort();
        const perMachine = [0, 1, 2].flatMap((i) => [
            `proxmoxve:index/fileLegacy:FileLegacy pve-user-data-${i}`,
            `${VM} pve-vm-${i}`,
            `pulumi-nodejs:dynamic/flotilla:RemoteScript docker-install-pve-${i}`,
            `pulumi-nodejs:dynamic/flotilla:RemoteScript swarm-node-pve-${i}`,
        ]);
        expect(graph).toEqual(
            [
                "flotilla:hosts:ProxmoxHostPool pve",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair pve-ssh-key",
                "pulumi-nodejs:dynamic/flotilla:SshKeyPair pve-host-key-seed",
                "proxmoxve:download/file:File pve-image-pve1",
                "proxmoxve:download/file:File pve-image-pve2",
                "proxmoxve:download/file:File pve-image-pve3",
                "flotilla:runtime:DockerEngine docker",
                "flotilla:cluster:SwarmCluster swarm",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript swarm-init",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript swarm-teardown",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript swarm-join-pve-0",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript swarm-join-pve-1",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript swarm-join-pve-2",
                "flotilla:workload:SwarmApp web",
                "pulumi-nodejs:dynamic/flotilla:RemoteScript web-deploy",
                ...perMachine,
            ].sort(),
        );
    });

    test("the VMs: one per configured node, DHCP, Docker installed by their first-boot document", async () => {
        expect([0, 1, 2].map((i) => byName(`pve-vm-${i}`).inputs.nodeName)).toEqual(["pve1", "pve2", "pve3"]);
        expect([0, 1, 2].map((i) => byName(`pve-vm-${i}`).inputs.tags)).toEqual([0, 1, 2].map(() => ["flotilla", "pve", "swarm"]));
        const vm = byName("pve-vm-0").inputs as Record<string, any>;
        expect(vm.initialization.ipConfigs).toEqual([{ ipv4: { address: "dhcp" } }]);
        expect([vm.cpu.cores, vm.memory.dedicated, vm.disks[0].size]).toEqual([2, 2048, 20]);
        const snippet = byName("pve-user-data-0").inputs.sourceRaw as Record<string, any>;
        const document: string = snippet.value.data;
        expect(document).toContain("Content-Type: multipart/mixed");
        expect(document).toContain('"qemu-guest-agent"');
        // The Docker Engine part: the runtime script with its settings (Swarm: live-restore off).
        expect(document).toMatch(/RUNTIME_LIVE_RESTORE=.?false/);
        expect(await valueOf(program.addresses)).toEqual(["192.168.1.20", "192.168.1.21", "192.168.1.22"]);
        expect(await valueOf(program.urls)).toEqual(["http://192.168.1.20:8080/", "http://192.168.1.21:8080/", "http://192.168.1.22:8080/"]);
        expect(await valueOf(program.vmIds)).toEqual([100, 101, 102]);
    });

    test("Docker, Swarm and the app run on the pool's machines, over SSH with their pinned host keys", async () => {
        const install = byName("docker-install-pve-1").inputs as Record<string, any>;
        expect(install.connection.host).toBe("192.168.1.21");
        const hostKeys = await valueOf(program.hostKeys);
        expect(hostKeys).toHaveLength(3);
        // Strict checking against the key the VM was given (its comment dropped).
        expect(install.connection.hostKey).toBe(bareKey(hostKeys[1]));
        expect(byName("swarm-init").inputs.environment).toEqual({ ADVERTISE_ADDR: "192.168.1.20", AUTOLOCK: "false" });
        expect((byName("swarm-join-pve-2").inputs.environment as Record<string, string>).ROLE).toBe("manager");
        const deploy = byName("web-deploy").inputs as Record<string, any>;
        const compose = zlib.gunzipSync(Buffer.from(deploy.environment.COMPOSE_GZ, "base64")).toString("utf8");
        expect(JSON.parse(compose).services.web.image).toBe("traefik/whoami:v1.10.3");
        expect(deploy.connection.host).toBe("192.168.1.20");
        expect(await valueOf(program.services)).toEqual({ web: { running: 3, desired: 3 } });
        expect(await valueOf(program.sshUser)).toBe("admin");
        expect(await pulumi.isSecret(program.sshPrivateKey)).toBe(true);
    });
});

test("the library's root never imports the Proxmox pool or its provider (an optional peer dependency)", () => {
    const lib = path.join(__dirname, "../../../lib");
    const files = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
    const importers = files(lib)
        .filter((f) => /from "(@muhlba91\/pulumi-proxmoxve(\/[^"]*)?|(\.\.?\/)+(hosts\/)?proxmox(\/[^"]*)?)"/.test(fs.readFileSync(f, "utf8")))
        .map((f) => path.relative(lib, f));
    // Only the pool's own folder: its construct loads the provider, nothing else loads the folder.
    expect(importers).toEqual(["hosts/proxmox/proxmox-host-pool.ts"]);
});
