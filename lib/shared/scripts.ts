/**
 * The shell scripts shipped with the library: read them (with their includes) and refer to them
 * by name and hash, so a script's body never has to sit in every resource's state (DESIGN
 * convention 15). Only `fs`, `path` and `crypto`: the dynamic providers use this module too.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** A line `# flotilla:include <file>` is replaced by that file. */
const INCLUDE = /^# flotilla:include ([A-Za-z0-9._-]+\.sh)$/;

/** The library's root folder (`lib/` in a checkout, `dist/lib/` in the package). */
export const LIB_DIR = path.resolve(__dirname, "..");

/** Folder of the scripts every other script may include (`log`, `die`, retries, waits, apt). */
export const SHARED_SCRIPTS_DIR = path.join(LIB_DIR, "shared", "scripts");

/** The file `name` in the first of `where` that has it; throws naming the first place looked. */
function locate(name: string, where: string[], includedBy?: string): string {
    for (const d of where) {
        const p = path.join(d, name);
        if (fs.existsSync(p)) return p;
    }
    const by = includedBy ? ` (included by ${path.basename(includedBy)})` : "";
    throw new Error(`flotilla: cannot read its script ${path.join(where[0], name)}${by}: no such file`);
}

/**
 * `file`'s text with its include lines replaced, depth first: each included file is looked up
 * beside the file that includes it, then in {@link SHARED_SCRIPTS_DIR}; it is itself resolved the
 * same way. A file already included (anywhere before, in `done`) is not included again: its line
 * is dropped. A file that includes itself, directly or through others (`stack`), is refused.
 */
function resolveIncludes(file: string, stack: string[], done: Set<string>): string {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const out: string[] = [];
    for (const line of lines) {
        const m = INCLUDE.exec(line);
        if (!m) {
            out.push(line);
            continue;
        }
        const included = locate(m[1], [path.dirname(file), SHARED_SCRIPTS_DIR], file);
        if (stack.includes(included)) {
            const cycle = [...stack.slice(stack.indexOf(included)), included].map((p) => path.basename(p)).join(" -> ");
            throw new Error(`flotilla: its scripts include each other in a cycle (${cycle}): an include must not lead back to its includer`);
        }
        if (done.has(included)) continue;
        done.add(included);
        out.push(resolveIncludes(included, [...stack, included], done).trimEnd());
    }
    return out.join("\n");
}

/**
 * Reads a shell script shipped next to the code (`<dir>/scripts/<name>`). The build copies the
 * `.sh` files into `dist/` beside the compiled JavaScript, so this works from source and from the
 * published package alike. Lines `# flotilla:include other.sh` are replaced by that file, looked
 * up beside the including file first, then in `lib/shared/scripts/` (the common helpers), so a
 * script that runs remotely is one self-contained program; nothing else is ever templated.
 * Includes nest: an included file may include others. Each file is included once, where it is
 * first included (a later include of it is dropped), so a helper library can include what it
 * needs without the includer caring; includes that lead back to their includer are refused.
 */
export function readScript(dir: string, name: string): string {
    const file = locate(name, [path.join(dir, "scripts")]);
    return resolveIncludes(file, [file], new Set([file]));
}

/**
 * A script shipped with the library, named instead of copied: what a script resource keeps in
 * its state. `bundled` is `<layer>/<file>` or `<layer>/<folder>/<file>` (e.g. `runtime/runtime.sh` for
 * `lib/runtime/scripts/runtime.sh`, `cluster/k3s-init.sh` for
 * `lib/cluster/kubernetes/scripts/k3s-init.sh`: a layer's script keeps its name when it moves into a
 * subfolder); `hash` the sha256 of its text with includes, so a changed
 * script still runs again on the next `up`.
 */
export interface BundledScript {
    readonly bundled: string;
    readonly hash: string;
}

/** sha256 of a text, hex. */
export function sha256(text: string): string {
    return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

const cache = new Map<string, string>();

/**
 * The folder whose `scripts/` holds a layer's script `file`: the layer's own (`lib/runtime`), or
 * one of its subfolders (`lib/cluster/kubernetes`). A script keeps its name `<layer>/<file>` when
 * it moves into a subfolder of its layer: recorded states name it so.
 */
function scriptHome(layer: string, file: string): string {
    const dir = path.join(LIB_DIR, layer);
    if (fs.existsSync(path.join(dir, "scripts", file)) || !fs.existsSync(dir)) return dir;
    const sub = fs
        .readdirSync(dir, { withFileTypes: true })
        .find((e) => e.isDirectory() && e.name !== "scripts" && fs.existsSync(path.join(dir, e.name, "scripts", file)));
    return sub ? path.join(dir, sub.name) : dir;
}

/** The text of a bundled script (`runtime/runtime.sh`), includes resolved. */
export function bundledScriptText(bundled: string): string {
    // `<layer>/<file>.sh`, or `<layer>/<folder>/<file>.sh` for lib/<layer>/<folder>/scripts/<file>.sh.
    const m = /^([a-z0-9-]+(?:\/[a-z0-9-]+)*)\/([A-Za-z0-9._-]+\.sh)$/.exec(bundled);
    if (!m) throw new Error(`flotilla: ${JSON.stringify(bundled)} is not a bundled script name (<layer>[/<folder>]/<file>.sh)`);
    let text = cache.get(bundled);
    if (text === undefined) {
        text = readScript(scriptHome(m[1], m[2]), m[2]);
        cache.set(bundled, text);
    }
    return text;
}

/** Refers to a bundled script: `bundledScript("runtime", "runtime.sh")`. */
export function bundledScript(layer: string, file: string): BundledScript {
    const bundled = `${layer}/${file}`;
    return { bundled, hash: sha256(bundledScriptText(bundled)) };
}

/** True for a {@link BundledScript}. */
export function isBundledScript(value: unknown): value is BundledScript {
    const b = value as Partial<BundledScript> | null;
    return typeof b === "object" && b !== null && typeof b.bundled === "string" && typeof b.hash === "string";
}
