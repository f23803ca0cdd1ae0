import * as fs from "fs";
import * as path from "path";

/**
 * Reads a shell script shipped next to the code (`<dir>/scripts/<name>`). The build copies the
 * `.sh` files into `dist/` beside the compiled JavaScript, so this works from source and from the
 * published package alike. The text is what gets executed: scripts are never templated.
 */
export function readScript(dir: string, name: string): string {
    const file = path.join(dir, "scripts", name);
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new Error(`flotilla: cannot read its script ${file}: ${(err as Error).message}`);
    }
}
