/**
 * Every project file the repository tracks (`git ls-files '*Pulumi.yaml'`: the root program, the
 * examples, the lab test programs) loads with the engine's own project loader: `pulumi stack ls`
 * in its folder, which reads and validates Pulumi.yaml (its `config:` declarations, its
 * `template:`) before listing anything, exits 0. On a private file backend and PULUMI_HOME, both
 * removed afterwards; a failure names the folder and carries the engine's error.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { engineBin, ROOT } from "./harness";

jest.setTimeout(5 * 60 * 1000);

const projectFiles = childProcess
    .execFileSync("git", ["ls-files", "*Pulumi.yaml"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "");

let home: string;

beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-projects-"));
    fs.mkdirSync(path.join(home, "backend"));
});

afterAll(() => {
    if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe("every tracked Pulumi.yaml loads with the engine", () => {
    test("git lists the root program's, the examples' and the lab programs' project files", () => {
        expect(projectFiles).toEqual(
            expect.arrayContaining(["Pulumi.yaml", "examples/existing-servers/Pulumi.yaml", "test/lab/programs/swarm/Pulumi.yaml"]),
        );
    });

    test.each(projectFiles)("%s", (file) => {
        const bin = engineBin();
        const folder = path.dirname(file);
        const run = childProcess.spawnSync(path.join(bin, "pulumi"), ["stack", "ls", "--non-interactive"], {
            cwd: path.join(ROOT, folder),
            encoding: "utf8",
            timeout: 120_000,
            env: {
                ...process.env,
                PATH: [bin, process.env.PATH ?? ""].join(path.delimiter),
                PULUMI_BACKEND_URL: `file://${path.join(home, "backend")}`,
                PULUMI_HOME: path.join(home, "pulumi-home"),
                PULUMI_SKIP_UPDATE_CHECK: "true",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            },
        });
        const failure =
            run.status === 0 ? "" : `${folder}: pulumi stack ls exited ${run.status ?? run.signal ?? run.error?.message}\n${run.stderr}${run.stdout}`;
        expect(failure).toBe("");
    });
});
