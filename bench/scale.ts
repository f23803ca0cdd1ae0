/**
 * Evaluation at scale (DESIGN convention 17): how long a program of N machines takes to evaluate,
 * and how much memory, before the engine does anything. The program, under Pulumi's mocks, as a
 * platform team would write it: 2 AWS pools + 2 Azure pools + ExistingHosts (a fifth of the
 * machines each) → DockerEngine on all → one Swarm of 5 managers → one global service. Each size
 * runs in a fresh process (its peak RSS is its own); wall time is from the first construct to the
 * last registration, once the app's status resolved.
 *
 * Run: npm run build && node_modules/.bin/ts-node --transpile-only bench/scale.ts [50 200 500]
 * Prints a row per size and the 500/50 ratios (time and memory; linear would be 10×).
 */
import * as childProcess from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { generateEd25519 } from "../lib/shared/ssh-keys";
import { cloudLookups, scriptResults } from "../test/unit/example-program";

const SIZES = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);

interface Row {
    machines: number;
    resources: number;
    seconds: number;
    baseRssMiB: number;
    peakRssMiB: number;
}

/** A unique private address for the i-th address handed out. */
const address = (i: number) => `10.${60 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 2}`;
/** A unique public address (198.18.0.0/15, the benchmarking block) for the i-th one handed out. */
const publicAddress = (i: number) => `198.${18 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 2}`;

async function child(machines: number): Promise<void> {
    const baseRss = process.memoryUsage().rss;
    let registered = 0;
    let last = Date.now();
    let handed = 0;
    let published = 0;
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                registered++;
                last = Date.now();
                const state: Record<string, unknown> = { ...args.inputs };
                if (args.type === "aws:ec2/instance:Instance") Object.assign(state, { privateIp: address(handed++), publicIp: publicAddress(published++), availabilityZone: "eu-west-1a" });
                if (args.type === "azure-native:network:NetworkInterface") {
                    state.ipConfigurations = [{ ...args.inputs.ipConfigurations[0], privateIPAddress: address(handed++) }];
                }
                if (args.type === "azure-native:network:PublicIPAddress") state.ipAddress = publicAddress(published++);
                if (args.type === "azure-native:compute:VirtualMachine") state.vmId = `vmid-${args.inputs.vmName}`;
                // What flotilla's scripts and key pairs return on a real create (the unit tests' stand-ins).
                Object.assign(state, scriptResults(args.type, args.name, args.inputs));
                return { id: `${args.name}-id`, state };
            },
            call: (args) => ({ ...args.inputs, ...cloudLookups(args.token, args.inputs) }),
        },
        "scale",
        "bench",
    );
    pulumi.runtime.setAllConfig({ "aws:region": "eu-west-1", "azure-native:location": "northeurope" });
    const started = Date.now();
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { DockerEngine, ExistingHosts, SwarmApp, SwarmCluster } = require("flotilla") as typeof import("flotilla");
    const { AwsHostPool } = require("flotilla/aws") as typeof import("flotilla/aws");
    const { AzureHostPool } = require("flotilla/azure") as typeof import("flotilla/azure");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const part = machines / 5;
    const key = generateEd25519("ops@site").privateKey;
    const site = new ExistingHosts("site", {
        machines: Array.from({ length: part }, (_, i) => ({ name: `s${i}`, address: `192.168.${Math.floor(i / 250)}.${(i % 250) + 2}`, publicAddress: `203.0.${Math.floor(i / 250)}.${(i % 250) + 2}`, user: "ops", privateKey: pulumi.secret(key) })),
    });
    const aws = [0, 1].map((p) => new AwsHostPool(`aws${p}`, { size: part, adminCidrs: ["203.0.113.7/32"], clusterPorts: ["swarm"] }));
    const azure = [0, 1].map((p) => new AzureHostPool(`az${p}`, { size: part, zones: ["1", "2", "3"], vmSize: "Standard_B2s", adminCidrs: ["203.0.113.7/32"], clusterPorts: ["swarm"] }));
    const hosts = [...site.hosts, ...aws.flatMap((a) => a.hosts), ...azure.flatMap((a) => a.hosts)];
    const docker = new DockerEngine("docker", { hosts, joinsSwarm: true });
    const swarm = new SwarmCluster("swarm", { managers: docker.hosts.slice(0, 5), workers: docker.hosts.slice(5) });
    const app = new SwarmApp("web", { cluster: swarm, services: { web: { image: "nginx:1.27-alpine", mode: "global", ports: [{ target: 80, published: 80 }] } } });
    await new Promise<void>((resolve) => app.services.apply(() => resolve()));
    // Whatever registers after the status resolved still counts: wait until nothing has for 200 ms.
    while (Date.now() - last < 200) await new Promise((r) => setTimeout(r, 50));
    const row: Row = {
        machines,
        resources: registered,
        seconds: (last - started) / 1000,
        baseRssMiB: baseRss / 2 ** 20,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
    process.stdout.write(JSON.stringify(row) + "\n");
    process.exit(0);
}

function main(): void {
    const sizes = SIZES.length > 0 ? SIZES : [50, 200, 500];
    const rows: Row[] = [];
    console.log("machines  resources   seconds   peak RSS (MiB)   ms/machine   MiB/machine");
    for (const n of sizes) {
        if (n % 5 !== 0) throw new Error(`sizes must be multiples of 5 (a fifth per source): ${n}`);
        const out = childProcess.execFileSync(process.execPath, [...process.execArgv, __filename, "child", String(n)], {
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            stdio: ["ignore", "pipe", "inherit"],
        });
        const row = JSON.parse(out.trim().split("\n").pop() as string) as Row;
        rows.push(row);
        const perMachineMiB = (row.peakRssMiB - row.baseRssMiB) / n;
        console.log(
            `${String(n).padStart(8)}  ${String(row.resources).padStart(9)}  ${row.seconds.toFixed(1).padStart(8)}  ${row.peakRssMiB.toFixed(0).padStart(15)}  ${((row.seconds * 1000) / n).toFixed(1).padStart(11)}  ${perMachineMiB.toFixed(2).padStart(12)}`,
        );
    }
    const small = rows.find((r) => r.machines === 50);
    const big = rows.find((r) => r.machines === 500);
    if (small && big) {
        console.log(`500/50: time ${(big.seconds / small.seconds).toFixed(1)}×, peak RSS ${(big.peakRssMiB / small.peakRssMiB).toFixed(1)}× (machines 10×)`);
    }
}

if (process.argv[2] === "child") {
    child(Number(process.argv[3])).catch((err) => {
        console.error(err);
        process.exit(1);
    });
} else {
    main();
}
