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

/**
 * Shapes of credentials scripts generate (Swarm join tokens, k3s tokens, kubeadm bootstrap tokens,
 * certificate keys, private keys): masked in progress lines besides the secret values a provider
 * knows, since a generated secret is known to no one before the script prints it.
 */
const CREDENTIAL_SHAPES = [
    /SWMTKN-1-[0-9A-Za-z-]+/g,
    /SWMKEY-1-[0-9A-Za-z+/=-]+/g,
    /\bK10[0-9a-f]{16,}\S*/g,
    /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g,
    /\b[0-9a-f]{64}\b/g,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*/g,
];

/** A progress line as the engine may show it: known secrets and credential shapes masked, bounded. */
export function progressLine(line: string, secrets: Record<string, string>): string {
    let out = maskSecrets(line, secrets);
    for (const shape of CREDENTIAL_SHAPES) out = out.replace(shape, "[secret]");
    return out.length > 400 ? `${out.slice(0, 397)}...` : out;
}

/** Lines of a stream, handed on as each one completes. */
export interface LineSplitter {
    push(chunk: string): void;
    flush(): void;
}

/**
 * Splits a stream into lines as they arrive: `emit` gets each complete line (without its newline,
 * blank lines skipped); `flush` emits what is left of a last unterminated line.
 */
export function lineSplitter(emit: (line: string) => void): LineSplitter {
    let pending = "";
    return {
        push(chunk: string) {
            pending += chunk;
            let at: number;
            while ((at = pending.indexOf("\n")) >= 0) {
                const line = pending.slice(0, at).replace(/\r$/, "");
                pending = pending.slice(at + 1);
                if (line.trim() !== "") emit(line);
            }
            if (pending.length > 64 * 1024) pending = pending.slice(-64 * 1024);
        },
        flush() {
            if (pending.trim() !== "") emit(pending);
            pending = "";
        },
    };
}

/**
 * Where a script's progress goes: the provider process's stdout, which the engine shows as it
 * comes (a dynamic provider has no other channel to the engine's output). Only inside the engine's
 * dynamic-provider process (or with FLOTILLA_PROGRESS=1): elsewhere (unit tests) nothing is printed.
 */
export function progressSink(target: string, secrets: Record<string, string>): ((line: string) => void) | undefined {
    const main = require.main?.filename ?? "";
    const inProvider = /cmd[\\/]dynamic-provider[\\/]index\.js$/.test(main);
    if (!inProvider && process.env.FLOTILLA_PROGRESS !== "1") return undefined;
    return (line) => {
        process.stdout.write(`flotilla: ${target}: ${progressLine(line, secrets)}\n`);
    };
}

/**
 * The lines of a script's log (its stderr) on their way to the engine's output, for a phase that
 * shows progress (not a refresh's `read`: every preview runs one); undefined when nothing is shown.
 */
export function progressLines(target: string, phase: string, secrets: Record<string, string>): LineSplitter | undefined {
    const sink = phase === "read" ? undefined : progressSink(target, secrets);
    return sink ? lineSplitter(sink) : undefined;
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
