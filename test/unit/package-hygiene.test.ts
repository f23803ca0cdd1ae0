/**
 * What a user installs: @pulumi/pulumi as a range (one copy in a program on a newer SDK; the lock
 * file pins development's, which the engine build must match), the metadata a registry shows
 * (keywords `pulumi` and `kind/component`), a licence and a changelog, and source maps that carry
 * their sources (the TypeScript files are not shipped). The packed-package lab test installs the
 * tarball into a program on the newest SDK and finds one copy.
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const pkg = JSON.parse(read("package.json")) as {
    dependencies: Record<string, string>;
    keywords: string[];
    files: string[];
    license: string;
};
const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { version?: string; dependencies?: Record<string, string> }> };

describe("the package's metadata", () => {
    test("@pulumi/pulumi is a caret range that the locked development version satisfies", () => {
        const range = pkg.dependencies["@pulumi/pulumi"];
        expect(range).toMatch(/^\^3\.\d+\.\d+$/);
        const locked = lock.packages["node_modules/@pulumi/pulumi"].version as string;
        expect(locked).toBe(range.slice(1));
        expect(lock.packages[""].dependencies?.["@pulumi/pulumi"]).toBe(range);
        // The engine the project builds is the locked SDK's version.
        expect(read("tools/engine/cli/go.mod")).toContain(`require github.com/pulumi/pulumi/pkg/v3 v${locked}\n`);
    });

    test("keywords, licence and changelog", () => {
        expect(pkg.keywords).toEqual(expect.arrayContaining(["pulumi", "kind/component"]));
        expect(pkg.license).toBe("Apache-2.0");
        expect(read("LICENSE")).toContain("Apache License\n                           Version 2.0, January 2004");
        expect(pkg.files).toContain("CHANGELOG.md");
        expect(read("CHANGELOG.md")).toMatch(/^# /);
    });

    test("source maps carry their sources (the .ts files are not in the package)", () => {
        const build = JSON.parse(read("tsconfig.build.json")) as { compilerOptions: Record<string, unknown> };
        expect(pkg.files.some((f) => f.startsWith("lib"))).toBe(false);
        expect(build.compilerOptions.inlineSources).toBe(true);
    });
});
