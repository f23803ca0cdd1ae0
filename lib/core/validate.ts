/**
 * The one validation contract of every flotilla construct (DESIGN convention 14), before any child
 * resource is created.
 *
 * Every message has the same shape, so users and tests can rely on it:
 *
 *   <type token> "<resource name>": invalid <property>: received <value>; expected <what is accepted>.
 *
 * - Unknown properties are errors, naming the closest known one and listing them all
 *   ({@link Validator.known}).
 * - A plain value required but an `Output` given says exactly that ({@link Validator.plain}); so does
 *   a host pool or runtime given where its `hosts` are expected ({@link Validator.hostList}).
 * - A value that may be an `Output` is validated when it resolves ({@link Validator.later}); a
 *   secret's value is never printed, only its length.
 * - No message ever shows a secret: the value of a property whose name says it grants access
 *   ({@link isSecretName}: passwords, tokens, keys, credentials, kubeconfigs) is shown by its length
 *   only, wherever it appears (as the property at fault or inside an object shown); a private key is
 *   never shown under any name; an unknown property's value is shown by its type only.
 */
import * as pulumi from "@pulumi/pulumi";

/** Thrown for bad input; carries the parts of its message for programs that want them. */
export class InvalidArgumentError extends Error {
    constructor(
        /** Type token of the construct, e.g. `flotilla:hosts:LabHostPool`. */
        readonly construct: string,
        /** Pulumi name of the resource being constructed. */
        readonly resourceName: string,
        /** The Args property at fault, e.g. `size` or `subnet`. */
        readonly property: string,
        /** The value received (as shown in the message: a secret is never kept here). */
        readonly received: unknown,
        /** What would have been accepted. */
        readonly expected: string,
    ) {
        super(`${construct} "${resourceName}": invalid ${property}: received ${show(received)}; expected ${expected}.`);
        this.name = "InvalidArgumentError";
    }
}

/** Stands for a value in a message without showing it (a secret, an Output, a resource). */
export class Described {
    constructor(readonly text: string) {}
    toJSON(): string {
        return this.text;
    }
}

/** A secret value as shown in messages: its length only. */
export function secretShown(value: unknown): Described {
    return new Described(typeof value === "string" ? `a secret of ${value.length} characters` : `a secret ${typeof value}`);
}

/**
 * True for a property name whose value grants access (convention 9): a password, passphrase, token,
 * secret, private or SSH key, credentials, registry auth or kubeconfig. Such a value is never shown in
 * a message. `property` may be a path (`registryCredentials[0].password`): its last name decides.
 */
export function isSecretName(property: string): boolean {
    const names = property.split(".");
    const last = names[names.length - 1].replace(/\[\d+\]$/, "");
    // A member of an app's `secrets` map (`secrets.<name>`) holds a secret's value; a service's
    // `secrets` list (`secrets[0]`) only names them.
    if (names.length >= 2 && names[names.length - 2] === "secrets" && !/\[\d+\]$/.test(names[names.length - 1])) return true;
    return SECRET_NAME.test(last);
}

/** Names that hold a value granting access (matched at the end: `clusterToken`, not `joinTokenRotation`; `secret`, not `secrets`). */
const SECRET_NAME = /(password|passwd|passphrase|secret|token|credentials?|privatekey|sshkey|apikey|accesskey|^key|auth|kubeconfig)$/i;

/** True for text holding a PEM or OpenSSH private key (shown under no name). */
export function looksLikePrivateKey(text: string): boolean {
    return /PRIVATE KEY-----/.test(text) || /^ed25519:[A-Za-z0-9+/]{43}=$/.test(text.trim());
}

/** How a value is shown when it must not be: its length (a string) or its kind, never its content. */
export function hidden(value: unknown): Described {
    if (typeof value === "string") return secretShown(value);
    if (value === undefined || value === null) return new Described(String(value));
    if (pulumi.Output.isInstance(value)) return new Described("an Output");
    return new Described(`a secret ${Array.isArray(value) ? "list" : typeof value}`);
}

/**
 * A value for a message that need not show its content (the value of a property that does not
 * exist, which may be a misspelt secret): a number, boolean or null as it is, a string by its
 * length, a list by its length, an object by its keys.
 */
export function kindOf(value: unknown): unknown {
    if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean") return value;
    if (typeof value === "string") return new Described(`a string of ${value.length} character${value.length === 1 ? "" : "s"}`);
    if (pulumi.Output.isInstance(value)) return new Described("an Output");
    if (Array.isArray(value)) return new Described(`a list of ${value.length}`);
    if (isPlainObject(value)) {
        const keys = Object.keys(value);
        return new Described(keys.length === 0 ? "an empty object" : `an object with ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", ..." : ""}`);
    }
    return new Described(`a ${typeof value}`);
}

/** Renders a received value for an error message (short, unambiguous, never huge, never an Output's insides, never a secret). */
export function show(value: unknown): string {
    if (value instanceof Described) {
        return value.text;
    }
    if (typeof value === "string" && looksLikePrivateKey(value)) {
        return "a private key (not shown)";
    }
    if (value === undefined) {
        return "undefined";
    }
    if (pulumi.Output.isInstance(value)) {
        return "an Output";
    }
    if (pulumi.Resource.isInstance(value)) {
        return `a ${value.constructor?.name ?? "resource"}`;
    }
    if (typeof value === "function") {
        return "a function";
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
        return String(value);
    }
    if (typeof value === "bigint") {
        return `${value}n`;
    }
    let text: string;
    try {
        text = JSON.stringify(shallowCopy(value, 6)) ?? String(value);
    } catch {
        text = String(value);
    }
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A copy of a value for a message: Outputs and resources replaced by `<Output>` / `<Class>` before
 * JSON.stringify sees them (an Output's own toJSON prints a warning text), bounded in depth.
 */
function shallowCopy(value: unknown, depth: number): unknown {
    if (pulumi.Output.isInstance(value)) return "<Output>";
    if (pulumi.Resource.isInstance(value)) return `<${value.constructor?.name ?? "resource"}>`;
    if (value instanceof Described) return value.text;
    if (typeof value === "string" && looksLikePrivateKey(value)) return "<private key>";
    if (typeof value !== "object" || value === null) return value;
    if (depth <= 0) return Array.isArray(value) ? "[...]" : "{...}";
    if (Array.isArray(value)) return value.slice(0, 20).map((v) => shallowCopy(v, depth - 1));
    return Object.fromEntries(
        Object.entries(value)
            .slice(0, 30)
            .map(([k, v]) => [k, isSecretName(k) && v !== undefined ? `<${hidden(v).text}>` : shallowCopy(v, depth - 1)]),
    );
}

/** Levenshtein distance (small strings: property names). */
export function editDistance(a: string, b: string): number {
    const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = prev[0];
        prev[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = prev[j];
            prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
            diag = up;
        }
    }
    return prev[b.length];
}

/**
 * The known name closest to `name` (case-insensitive edit distance at most a third of its length,
 * and at least 2), or undefined when none is close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const d = editDistance(name.toLowerCase(), k.toLowerCase());
        if (d < bestDistance) {
            best = k;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** True for `{...}` objects (not arrays, not Outputs, not resources, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    if (pulumi.Output.isInstance(value) || pulumi.Resource.isInstance(value)) return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

/** Own enumerable key lookup that never finds `constructor`, `toString` and other prototype names. */
export function hasOwn(record: object, key: string): boolean {
    return Object.prototype.hasOwnProperty.call(record, key);
}

/** A validator bound to one construct instance, so call sites stay short. */
export class Validator {
    constructor(
        readonly construct: string,
        readonly resourceName: string,
    ) {}

    /**
     * Throws an {@link InvalidArgumentError} for `property`. The value of a secret-named property
     * ({@link isSecretName}) is shown by its length only.
     */
    fail(property: string, received: unknown, expected: string): never {
        const shown = isSecretName(property) && !(received instanceof Described) ? hidden(received) : received;
        throw new InvalidArgumentError(this.construct, this.resourceName, property, shown, expected);
    }

    /**
     * The Args object itself: an object whose every key is one of `known` (the first argument at
     * fault is named with the closest known property and the complete list). Returns it.
     */
    args<T extends object>(value: T | undefined, known: readonly string[], what = "an Args object"): T {
        if (!isPlainObject(value)) {
            this.fail("args", value, `${what} with the properties ${known.join(", ")}`);
        }
        this.known("", value, known);
        return value;
    }

    /**
     * Fails on a property of `obj` that is not in `known` (a typo would otherwise be ignored
     * silently). `at` is the path of `obj` ("" for the Args themselves).
     */
    known(at: string, obj: object, known: readonly string[]): void {
        for (const key of Object.keys(obj)) {
            if (!known.includes(key)) {
                const path = at === "" ? key : `${at}.${key}`;
                const near = closestName(key, known);
                this.fail(
                    path,
                    kindOf((obj as Record<string, unknown>)[key]),
                    `no such property${near ? ` (did you mean "${near}"?)` : ""}; known: ${known.join(", ")}`,
                );
            }
        }
    }

    /**
     * A value that must be plain (not an Output): it decides which resources exist, or is checked
     * before any is created. Returns it.
     */
    plain<T>(property: string, value: T, why = "it is needed before any resource is created"): T {
        if (pulumi.Output.isInstance(value)) {
            this.fail(property, value, `a plain value, not an Output (${why})`);
        }
        return value;
    }

    /**
     * A value that may be an Output: `check` runs now for a plain value and when it resolves for an
     * Output (unknown during a preview: skipped). `check` returns the value (possibly normalized)
     * or a reason it is not acceptable, which is reported against `expected`. With `secret`, the
     * value is never shown, only its length.
     */
    later<T, R = T>(
        property: string,
        value: pulumi.Input<T>,
        expected: string,
        check: (resolved: T) => R | Reason,
        opts: { secret?: boolean } = {},
    ): pulumi.Output<R> {
        const apply = (resolved: T, secret: boolean): R => {
            const result = check(resolved);
            if (result instanceof Reason) {
                this.fail(property, secret ? secretShown(resolved) : resolved, result.text ? `${expected} (${result.text})` : expected);
            }
            return result;
        };
        if (!pulumi.Output.isInstance(value) && !isPromiseLike(value)) {
            const checked = apply(value as T, opts.secret ?? false);
            return (opts.secret ? pulumi.secret(checked) : pulumi.output(checked)) as unknown as pulumi.Output<R>;
        }
        // Mark the source secret before checking (a failing check then rejects one Output, not a
        // secret wrapper whose own promises nobody awaits). An Output the caller marked secret is
        // never shown either, whatever its property's name.
        const source = opts.secret ? pulumi.secret(value) : pulumi.output(value);
        return pulumi
            .all([source, pulumi.isSecret(source)])
            .apply(([v, secret]) => apply(v as T, (opts.secret ?? false) || secret)) as unknown as pulumi.Output<R>;
    }

    /** An integer in [min, max]. */
    integer(property: string, value: unknown, min: number, max: number): number {
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.fail(property, value, `an integer from ${min} to ${max}`);
        }
        return value;
    }

    /** true or false (undefined: the fallback). */
    boolean(property: string, value: unknown, fallback: boolean): boolean {
        if (value === undefined) return fallback;
        if (typeof value !== "boolean") {
            this.fail(property, value, "true or false");
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

    /** A list (undefined: empty). Outputs are refused: the list decides which resources exist. */
    list(property: string, value: unknown, what = "a list"): unknown[] {
        if (value === undefined) return [];
        this.plain(property, value, "its length decides which resources exist");
        if (!Array.isArray(value)) {
            this.fail(property, value, what);
        }
        return value;
    }

    /** A map of label keys to values, both DNS-ish tokens (`a-z0-9._/-`). */
    labels(property: string, value: unknown): Record<string, string> {
        if (value === undefined) {
            return {};
        }
        this.plain(property, value);
        if (!isPlainObject(value)) {
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

    /**
     * A list of hosts (a pool's or a runtime's `hosts`). A pool, a runtime or a cluster given
     * instead is named as such; an Output is refused (the list decides which resources exist).
     */
    hostList<H>(property: string, value: unknown, opts: { min?: number; expected?: string } = {}): H[] {
        const expected = opts.expected ?? "a list of Hosts (e.g. a host pool's `hosts`)";
        if (value !== undefined && value !== null && typeof value === "object" && !Array.isArray(value)) {
            const hosts = (value as { hosts?: unknown }).hosts;
            if (Array.isArray(hosts) || pulumi.Resource.isInstance(value)) {
                this.fail(property, value, `${expected}: pass its \`hosts\`${Array.isArray(hosts) ? "" : " (or a list of Hosts)"}`);
            }
        }
        this.plain(property, value, "the list decides which resources exist");
        if (!Array.isArray(value) || value.length < (opts.min ?? 1)) {
            this.fail(property, Array.isArray(value) ? `${value.length} hosts` : value, expected);
        }
        return value as H[];
    }
}

/** What a `later` check returns for a value it does not accept (the text says why, may be empty). */
export class Reason {
    constructor(readonly text: string = "") {}
}

function isPromiseLike(value: unknown): boolean {
    return typeof (value as { then?: unknown } | null)?.then === "function";
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^[A-Za-z0-9]([-A-Za-z0-9._/]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[-A-Za-z0-9._:/]{0,253}$/;
