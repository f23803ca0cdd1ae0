/**
 * A user's program that installs flotilla from its packed npm package (`npm pack`), in a
 * temporary folder outside the repository: what a user gets from npm, not what the repository
 * has. Used by test/lab/packed-package.test.ts and bench/state-size.ts.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./harness";

/** A program folder with flotilla installed from its tarball; `remove()` deletes it all. */
export interface PackedProgram {
    dir: string;
    tarball: string;
    /** The @pulumi/pulumi version the program asked for. */
    pulumiVersion: string;
    /** Seconds `npm install` took. */
    installSeconds: number;
    remove(): void;
}

/** Versions the program's own dependencies take: the repository's, so npm finds them in its cache. */
function version(pkg: string): string {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
}

/** The newest @pulumi/pulumi on the npm registry (what a new user's program gets). */
export function newestPulumiSdk(): string {
    return childProcess.execFileSync("npm", ["view", "@pulumi/pulumi", "version"], { encoding: "utf8", timeout: 120_000 }).trim();
}

/** Every copy of a package in a program's installed tree (their folders). */
export function installedCopies(programDir: string, pkg: string): string[] {
    const r = childProcess.spawnSync("npm", ["ls", pkg, "--all", "--parseable"], { cwd: programDir, encoding: "utf8", timeout: 120_000 });
    return r.stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.endsWith(path.join("node_modules", ...pkg.split("/"))));
}

/**
 * Packs the repository (its built dist/: `npm run build` first) and installs the tarball into a
 * new program folder made from test/lab/programs/packed, with @pulumi/pulumi at `pulumiVersion`
 * (default: the repository's own, which npm finds in its cache).
 */
export function packedProgram(pulumiVersion = version("@pulumi/pulumi")): PackedProgram {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-packed-"));
    const remove = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
        const out = childProcess.execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" });
        const tarball = path.join(dir, out.trim().split("\n").pop() as string);
        const program = path.join(dir, "program");
        fs.mkdirSync(program);
        for (const file of ["index.ts", "Pulumi.yaml"]) {
            fs.copyFileSync(path.join(__dirname, "programs", "packed", file), path.join(program, file));
        }
        fs.writeFileSync(
            path.join(program, "package.json"),
            JSON.stringify(
                {
                    name: "flotilla-user-program",
                    private: true,
                    dependencies: { flotilla: `file:${tarball}`, "@pulumi/pulumi": pulumiVersion },
                    devDependencies: {
                        typescript: version("typescript"),
                        "ts-node": version("ts-node"),
                        "@types/node": version("@types/node"),
                    },
                },
                null,
                2,
            ),
        );
        fs.writeFileSync(
            path.join(program, "tsconfig.json"),
            JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs", esModuleInterop: true, skipLibCheck: true } }),
        );
        const started = Date.now();
        childProcess.execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
            cwd: program,
            stdio: "pipe",
            timeout: 600_000,
        });
        return { dir: program, tarball, pulumiVersion, installSeconds: (Date.now() - started) / 1000, remove };
    } catch (err) {
        remove();
        throw err;
    }
}
