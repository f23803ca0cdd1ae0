/**
 * What the optional cloud dependencies cost a user's program at type-check time: `tsc --noEmit`
 * wall time and peak memory of a one-file program importing (a) `flotilla` only, (b) + `flotilla/aws`,
 * (c) + `flotilla/azure` (azure-native by submodule, as flotilla does), (d) + `flotilla/proxmox`,
 * (e) + `flotilla/kubernetes` (@pulumi/kubernetes by resource module, as flotilla does), (f) the
 * @pulumi/kubernetes root, as a user's own program may import it, and (g) the azure-native ROOT
 * module, which flotilla never imports (the reason it is imported by submodule only). Then what
 * `require` loads at run time: the modules of @pulumi/kubernetes that `flotilla` and
 * `flotilla/kubernetes` load (the root: none). Each program is compiled in a temporary folder beside the repository's
 * node_modules (`flotilla` resolves to this checkout's dist/: run `npm run build` first).
 * Run: `ts-node --transpile-only bench/typecheck-cost.ts [runs]` (default 2 runs, the best kept).
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

const PROGRAMS: Record<string, string> = {
    "flotilla only": `import { LabHostPool } from "flotilla";\nexport const t = LabHostPool;\n`,
    "+ flotilla/aws": `import { LabHostPool } from "flotilla";\nimport { AwsHostPool } from "flotilla/aws";\nexport const t = [LabHostPool, AwsHostPool];\n`,
    "+ flotilla/azure": `import { LabHostPool } from "flotilla";\nimport { AzureHostPool } from "flotilla/azure";\nexport const t = [LabHostPool, AzureHostPool];\n`,
    "+ flotilla/proxmox": `import { LabHostPool } from "flotilla";\nimport { ProxmoxHostPool } from "flotilla/proxmox";\nexport const t = [LabHostPool, ProxmoxHostPool];\n`,
    "+ flotilla/kubernetes": `import { LabHostPool } from "flotilla";\nimport { ClusterProvider, PulumiKubernetesApp } from "flotilla/kubernetes";\nexport const t = [LabHostPool, ClusterProvider, PulumiKubernetesApp];\n`,
    "@pulumi/kubernetes root": `import * as k8s from "@pulumi/kubernetes";\nexport const t = k8s.apps.v1.Deployment;\n`,
    "azure-native root (never done)": `import * as azure from "@pulumi/azure-native";\nexport const t = azure.compute.VirtualMachine;\n`,
};

function measure(source: string): { seconds: number; mib: number; error?: string } {
    // Inside the repository so that node_modules (and `flotilla` -> ..) resolve as for a user.
    const dir = fs.mkdtempSync(path.join(ROOT, "bench", ".tc-"));
    try {
        fs.writeFileSync(path.join(dir, "index.ts"), source);
        const tsconfig = {
            compilerOptions: { target: "ES2022", module: "commonjs", moduleResolution: "node", strict: true, noEmit: true, types: ["node"] },
            files: ["index.ts"],
        };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
        const r = childProcess.spawnSync("/usr/bin/time", ["-f", "%e %M", process.execPath, TSC, "-p", "tsconfig.json"], {
            cwd: dir,
            encoding: "utf8",
        });
        const last = r.stderr.trim().split("\n").pop() ?? "";
        const [seconds, kb] = last.split(" ").map(Number);
        return { seconds, mib: kb / 1024, error: r.status === 0 ? undefined : (r.stdout + r.stderr).slice(0, 400) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const runs = Number(process.argv[2] ?? 2);
console.log(`tsc --noEmit of a one-file program, best of ${runs}:`);
for (const [label, source] of Object.entries(PROGRAMS)) {
    let best: ReturnType<typeof measure> | undefined;
    for (let i = 0; i < runs; i++) {
        const m = measure(source);
        if (m.error) {
            console.log(`  ${label.padEnd(32)} FAILED: ${m.error}`);
            best = undefined;
            break;
        }
        if (!best || m.seconds < best.seconds) best = m;
    }
    if (best) console.log(`  ${label.padEnd(32)} ${best.seconds.toFixed(2)} s  ${best.mib.toFixed(0)} MiB`);
}

// What requiring each entry point loads at run time, in a fresh process: its time and the number of
// @pulumi/kubernetes modules (the root must load none).
console.log("require() in a fresh node process:");
for (const [label, entry] of [
    ["flotilla", "./dist/lib"],
    ["flotilla/kubernetes", "./dist/lib/workload/deploy/pulumi-kubernetes"],
] as const) {
    const script =
        `const t=process.hrtime.bigint();require('${entry}');const ms=Number(process.hrtime.bigint()-t)/1e6;` +
        "const m=Object.keys(require.cache);console.log(JSON.stringify({ms,all:m.length,k8s:m.filter(k=>k.includes('@pulumi/kubernetes')).length}))";
    const r = childProcess.spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) {
        console.log(`  ${label.padEnd(32)} FAILED: ${r.stderr.slice(0, 400)}`);
        continue;
    }
    const o = JSON.parse(r.stdout.trim()) as { ms: number; all: number; k8s: number };
    console.log(`  ${label.padEnd(32)} ${(o.ms / 1000).toFixed(2)} s  ${o.all} modules, ${o.k8s} of @pulumi/kubernetes`);
}
