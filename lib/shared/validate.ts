/**
 * Validation of a construct's plain inputs, before any child resource is created.
 *
 * Every message has the same shape, so users and tests can rely on it:
 *
 *   <type token> "<resource name>": invalid <property>: received <value>; expected <what is accepted>.
 */

/** Thrown for bad input; carries the parts of its message for programs that want them. */
export class InvalidArgumentError extends Error {
    constructor(
        /** Type token of the construct, e.g. `flotilla:hosts:LabHostPool`. */
        readonly construct: string,
        /** Pulumi name of the resource being constructed. */
        readonly resourceName: string,
        /** The Args property at fault, e.g. `size` or `subnet`. */
        readonly property: string,
        /** The value received. */
        readonly received: unknown,
        /** What would have been accepted. */
        readonly expected: string,
    ) {
        super(`${construct} "${resourceName}": invalid ${property}: received ${show(received)}; expected ${expected}.`);
        this.name = "InvalidArgumentError";
    }
}

/** Renders a received value for an error message (short, unambiguous, never huge). */
export function show(value: unknown): string {
    if (value === undefined) {
        return "undefined";
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
        return String(value);
    }
    let text: string;
    try {
        text = JSON.stringify(value) ?? String(value);
    } catch {
        text = String(value);
    }
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A validator bound to one construct instance, so call sites stay short. */
export class Validator {
    constructor(
        readonly construct: string,
        readonly resourceName: string,
    ) {}

    /** Throws an {@link InvalidArgumentError} for `property`. */
    fail(property: string, received: unknown, expected: string): never {
        throw new InvalidArgumentError(this.construct, this.resourceName, property, received, expected);
    }

    /** An integer in [min, max]. */
    integer(property: string, value: unknown, min: number, max: number): number {
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.fail(property, value, `an integer from ${min} to ${max}`);
        }
        return value;
    }

    /** A DNS label (RFC 1123): lower-case letters, digits and '-', starting and ending alphanumeric. */
    dnsLabel(property: string, value: unknown, maxLength = 63): string {
        if (typeof value !== "string" || value.length > maxLength || !DNS_LABEL.test(value)) {
            this.fail(
                property,
                value,
                `a DNS-safe name of 1 to ${maxLength} characters: lower-case letters, digits and '-', ` +
                    "starting and ending with a letter or digit",
            );
        }
        return value;
    }

    /** A non-empty string without white space or control characters. */
    token(property: string, value: unknown, what: string): string {
        if (typeof value !== "string" || value.length === 0 || [...value].some((c) => c <= " ")) {
            this.fail(property, value, what);
        }
        return value;
    }

    /** One of a closed set of string literals. */
    oneOf<T extends string>(property: string, value: unknown, accepted: readonly T[]): T {
        if (typeof value !== "string" || !(accepted as readonly string[]).includes(value)) {
            this.fail(property, value, `one of ${accepted.map((a) => JSON.stringify(a)).join(", ")}`);
        }
        return value as T;
    }

    /** A map of label keys to values, both DNS-ish tokens (`a-z0-9._/-`). */
    labels(property: string, value: unknown): Record<string, string> {
        if (value === undefined) {
            return {};
        }
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            this.fail(property, value, "an object mapping label names to string values");
        }
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
            if (!LABEL_KEY.test(k)) {
                this.fail(`${property}.${k}`, k, "a label name of letters, digits, '.', '_', '/' and '-' (at most 63)");
            }
            if (typeof v !== "string" || !LABEL_VALUE.test(v)) {
                this.fail(`${property}.${k}`, v, "a string of letters, digits, '.', '_', ':', '/' and '-' (at most 253)");
            }
            out[k] = v;
        }
        return out;
    }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^[A-Za-z0-9]([-A-Za-z0-9._/]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[-A-Za-z0-9._:/]{0,253}$/;
