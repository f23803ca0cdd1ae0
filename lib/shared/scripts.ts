import * as fs from "fs";
import * as path from "path";

/** A line `# flotilla:include <file>` is replaced by that file (from the same folder). */
const INCLUDE = /^# flotilla:include ([A-Za-z0-9._-]+\.sh)$/gm;

/**
 * Reads a shell script shipped next to the code (`<dir>/scripts/<name>`). The build copies the
 * `.sh` files into `dist/` beside the compiled JavaScript, so this works from source and from the
 * published package alike. Lines `# flotilla:include other.sh` are replaced by that file, so a
 * script that runs remotely is one self-contained program; nothing else is ever templated.
 */
export function readScript(dir: string, name: string): string {
    const read = (file: string) => {
        try {
            return fs.readFileSync(path.join(dir, "scripts", file), "utf8");
        } catch (err) {
            throw new Error(`flotilla: cannot read its script ${path.join(dir, "scripts", file)}: ${(err as Error).message}`);
        }
    };
    return read(name).replace(INCLUDE, (_line, included: string) => {
        const text = read(included);
        if (new RegExp(INCLUDE.source, "m").test(text)) {
            throw new Error(`flotilla: ${included} includes another script; includes do not nest`);
        }
        return text.trimEnd();
    });
}
