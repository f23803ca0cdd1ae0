/**
 * Quantities of an {@link AppSpec}: memory (and volume sizes), CPUs and durations. Each parser
 * returns the value in base units, or a reason the value is not one (for the caller's
 * `Validator`). Pure. Units are looked up as own keys only, so a "unit" such as `constructor`
 * is an unknown unit, not a property of the object prototype.
 */
import { hasOwn } from "../../core/validate";

const MEMORY_UNITS: Readonly<Record<string, bigint>> = {
    "": 1n,
    k: 1000n,
    M: 1000n ** 2n,
    G: 1000n ** 3n,
    T: 1000n ** 4n,
    Ki: 1024n,
    Mi: 1024n ** 2n,
    Gi: 1024n ** 3n,
    Ti: 1024n ** 4n,
};

/**
 * Parses a memory quantity to bytes: a whole number of bytes, or a string `<decimal><unit>` with
 * unit `k`, `M`, `G`, `T` (powers of 1000) or `Ki`, `Mi`, `Gi`, `Ti` (powers of 1024), or none
 * (bytes). `"256Mi"` → 268435456, `"1G"` → 1000000000. Returns the bytes or why the value is not
 * a memory quantity.
 */
export function parseMemory(value: unknown): number | string {
    if (typeof value === "number") {
        return Number.isSafeInteger(value) && value >= 0 ? value : "not a whole, non-negative number of bytes";
    }
    if (typeof value !== "string") {
        return "not a number or a string";
    }
    const m = /^(\d+)(?:\.(\d+))?([A-Za-z]*)$/.exec(value);
    if (!m) {
        return "not a decimal number with an optional unit";
    }
    const [, whole, fraction = "", unit] = m;
    if (!hasOwn(MEMORY_UNITS, unit)) {
        const hint = /^[mg]i?b?$|^[kmgt]b$|^[KMGT]B$|^K$/.test(unit) ? ` (use "Ki", "Mi", "Gi" for powers of 1024)` : "";
        return `unknown unit "${unit}"${hint}`;
    }
    const multiplier = MEMORY_UNITS[unit];
    const scale = 10n ** BigInt(fraction.length);
    const scaled = BigInt(whole + fraction) * multiplier;
    if (scaled % scale !== 0n) {
        return "not a whole number of bytes";
    }
    const bytes = scaled / scale;
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "too large";
    }
    return Number(bytes);
}

/**
 * Parses a CPU quantity to nano-CPUs (billionths of a CPU): a number of CPUs (`0.5`, `2`), the same
 * as a string (`"0.5"`), or millicpus (`"500m"`). Precision: at most 0.001 CPU, which both Swarm
 * and Kubernetes represent exactly. `"0.5"` → 500000000. Returns the nano-CPUs or why the value is
 * not a CPU quantity.
 */
export function parseCpus(value: unknown): number | string {
    let text: string;
    if (typeof value === "number") {
        if (!Number.isFinite(value) || value < 0) {
            return "not a finite, non-negative number";
        }
        text = String(value);
    } else if (typeof value === "string") {
        text = value;
    } else {
        return "not a number or a string";
    }
    let nano: bigint;
    const milli = /^(\d+)m$/.exec(text);
    const decimal = /^(\d+)(?:\.(\d+))?$/.exec(text);
    if (milli) {
        nano = BigInt(milli[1]) * 1_000_000n;
    } else if (decimal) {
        const fraction = decimal[2] ?? "";
        if (fraction.length > 3 && !/^0*$/.test(fraction.slice(3))) {
            return "finer than 0.001 CPU";
        }
        nano = BigInt(decimal[1]) * 1_000_000_000n + BigInt((fraction + "000").slice(0, 3)) * 1_000_000n;
    } else {
        return "not a decimal number of CPUs or a whole number of millicpus (\"500m\")";
    }
    if (nano > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "too large";
    }
    return Number(nano);
}

const DURATION_UNITS: Readonly<Record<string, bigint>> = { h: 3_600_000n, m: 60_000n, s: 1_000n, ms: 1n };

/**
 * Parses a duration to milliseconds: `"0"`, or one or more `<decimal><unit>` with unit `h`, `m`,
 * `s` or `ms` (a subset of Go's `time.ParseDuration`): `"10s"` → 10000, `"1m30s"` → 90000,
 * `"500ms"` → 500, `"1.5s"` → 1500. Returns the milliseconds or why the value is not a duration.
 */
export function parseDuration(value: unknown): number | string {
    if (typeof value === "number") {
        return "a number without a unit";
    }
    if (typeof value !== "string") {
        return "not a string";
    }
    if (value === "0") {
        return 0;
    }
    const part = /(\d+)(?:\.(\d+))?([a-zµ]+)/y;
    let total = 0n;
    let at = 0;
    while (at < value.length) {
        part.lastIndex = at;
        const m = part.exec(value);
        if (!m) {
            return "not a sequence of <number><unit> such as \"1m30s\"";
        }
        const [, whole, fraction = "", unit] = m;
        if (!hasOwn(DURATION_UNITS, unit)) {
            return `unknown unit "${unit}"`;
        }
        const perUnit = DURATION_UNITS[unit];
        const scale = 10n ** BigInt(fraction.length);
        const scaled = BigInt(whole + fraction) * perUnit;
        if (scaled % scale !== 0n) {
            return "finer than a millisecond";
        }
        total += scaled / scale;
        at = part.lastIndex;
    }
    if (at === 0) {
        return "empty";
    }
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
        return "too large";
    }
    return Number(total);
}

/** Formats milliseconds as a Go duration string (`90000` → `"1m30s"`, `1500` → `"1s500ms"`, `0` → `"0s"`). */
export function formatDuration(ms: number): string {
    if (!Number.isSafeInteger(ms) || ms < 0) {
        throw new Error(`not a whole, non-negative number of milliseconds: ${ms}`);
    }
    if (ms === 0) {
        return "0s";
    }
    let rest = ms;
    let text = "";
    for (const [unit, size] of [
        ["h", 3_600_000],
        ["m", 60_000],
        ["s", 1_000],
        ["ms", 1],
    ] as const) {
        const n = Math.floor(rest / size);
        if (n > 0) {
            text += `${n}${unit}`;
            rest -= n * size;
        }
    }
    return text;
}
