/**
 * The shell scripts shipped with the library: read them (with their includes) and refer to them
 * by name and hash, so a script's body never has to sit in every resource's state (DESIGN
 * convention 15). Only `fs`, `path` and `crypto`: the dynamic providers use this module too.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** A line `# flotilla:include <file>` is replaced by that file. */
const INCLUDE = /^# flotilla:include ([A-Za-z0-9._-]+\.sh)$/gm;

/** The library's root folder (`lib/` in a checkout, `dist/lib/` in the package). */
export const LIB_DIR = path.resolve(__dirname, "..");

/** Folder of the scripts every other script may include (`log`, `die`, retries, waits). */
export const SHARED_SCRIPTS_DIR = path.join(LIB_DIR, "shared", "scripts");

/**
 * Reads a shell script shipped next to the code (`<dir>/scripts/<name>`). The build copies the
 * `.sh` files into `dist/` beside the compiled JavaScript, so this works from source and from the
 * published package alike. Lines `# flotilla:include other.sh` are replaced by that file, looked
 * up beside the script first, then in `lib/shared/scripts/` (the common helpers), so a script
 * that runs remotely is one self-contained program; nothing else is ever templated.
 */
export function readScript(dir: string, name: string): string {
    const read = (file: string, where: string[]) => {
        for (const d of where) {
            const p = path.join(d, file);
            if (fs.existsSync(p)) return fs.readFileSync(p, "utf8");
        }
        throw new Error(`flotilla: cannot read its script ${path.join(where[0], file)}: no such file`);
    };
    const own = path.join(dir, "scripts");
    return read(name, [own]).replace(INCLUDE, (_line, included: string) => {
        const text = read(included, [own, SHARED_SCRIPTS_DIR]);
        if (new RegExp(INCLUDE.source, "m").test(text)) {
            throw new Error(`flotilla: ${included} includes another script; includes do not nest`);
        }
        return text.trimEnd();
    });
}

/**
 * A script shipped with the library, named instead of copied: what a script resource keeps in
 * its state. `bundled` is `<layer>/<file>` (e.g. `runtime/runtime.sh` for
 * `lib/runtime/scripts/runtime.sh`, `cluster/k3s-init.sh` for
 * `lib/cluster/kubernetes/scripts/k3s-init.sh`); `hash` the sha256 of its text with includes, so a changed
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
    const m = /^([a-z0-9-]+)\/([A-Za-z0-9._-]+\.sh)$/.exec(bundled);
    if (!m) throw new Error(`flotilla: ${JSON.stringify(bundled)} is not a bundled script name (<layer>/<file>.sh)`);
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
