/**
 * What LocalScript and RemoteScript say about a script run. Self-contained (no imports): these
 * functions are captured by value into the dynamic providers.
 */

/** Lines of output kept in an error message. */
export const TAIL_LINES = 40;

/** Exit code of a script's `read` phase meaning "what this resource made is gone". */
export const ABSENT_EXIT_CODE = 3;

/** Replaces every line (4+ characters) of every secret value in `text` with `[secret]`. */
export function maskSecrets(text: string, secrets: Record<string, string>): string {
    let out = text;
    for (const value of Object.values(secrets)) {
        for (const part of String(value).split("\n")) {
            if (part.trim().length >= 4) {
                out = out.split(part).join("[secret]");
            }
        }
    }
    return out;
}

/**
 * The error of a failed run: `<target>: <phase> <why>. Last lines of its output:` and the last
 * {@link TAIL_LINES} lines, secrets masked.
 */
export function scriptFailure(
    target: string,
    phase: string,
    why: string,
    output: string,
    secrets: Record<string, string>,
): Error {
    const tail = maskSecrets(output, secrets).trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
    return new Error(`${target}: ${phase} ${why}. Last lines of its output:\n${tail}`);
}

/** The last line a script printed on stdout (its result), or "". */
export function lastLine(stdout: string): string {
    const lines = stdout.trimEnd().split("\n");
    return lines[lines.length - 1] ?? "";
}

/** Keeps the end of a growing output buffer bounded. */
export function keepTail(text: string, max = 256 * 1024): string {
    return text.length > max ? text.slice(-max) : text;
}

/** JSON with object keys sorted at every level: equal values give equal text, whatever the key order. */
export function canonicalJson(value: unknown): string {
    const sort = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(sort);
        if (v && typeof v === "object") {
            return Object.fromEntries(
                Object.keys(v as object)
                    .sort()
                    .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
            );
        }
        return v ?? null;
    };
    return JSON.stringify(sort(value));
}

/** Single-quotes a value for bash (`it's` → `'it'\''s'`). */
export function shellQuote(value: string): string {
    return `'${value.split("'").join(`'\\''`)}'`;
}

/**
 * `record` without the properties whose value equals their default (state is a cost: a default
 * need not be stored; the providers fill it in again when they read the state).
 */
export function dropDefaults<T extends Record<string, unknown>>(record: T, defaults: Record<string, unknown>): Partial<T> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
        if (k in defaults && canonicalJson(v) === canonicalJson(defaults[k])) continue;
        out[k] = v;
    }
    return out as Partial<T>;
}
