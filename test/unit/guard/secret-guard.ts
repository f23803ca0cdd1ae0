/**
 * The secret guard of the unit suite (jest `setupFilesAfterEnv` of the unit project): every refusal
 * message any unit test produces is scanned for any value that was marked secret in that test file.
 *
 * - Secrets: every plain string given to `pulumi.secret(...)`, every string under a secret-named
 *   property ({@link isSecretName}) of an Args object a construct validated, and every private key
 *   anywhere in such Args.
 * - Messages: every {@link InvalidArgumentError} a construct throws (through `Validator.fail`,
 *   including checks that run when an Output resolves).
 *
 * Secrets marked while a file loads (or in `beforeAll`) count for every test of the file; those marked
 * in a test count for that test (a test may show a value as a plain Output that another marks
 * secret). After each test, a message that contains a secret (or, for a long secret, any
 * 16-character run of it) fails it, naming the message's property and which secret it showed (by
 * its length and origin, never its value).
 */
import * as pulumi from "@pulumi/pulumi";
import { InvalidArgumentError, Validator, isPlainObject, isSecretName, looksLikePrivateKey } from "../../../lib/core/validate";
import { SecretLeak, findLeaks } from "./secret-scan";
import { publicKeyLine } from "../../../lib/shared/ssh-key-check";

/** Secrets of the whole file (marked outside any test), and of the running test. */
const fileSecrets = new Map<string, string>();
const testSecrets = new Map<string, string>();
let inTest = false;
let messages: { property: string; message: string }[] = [];

function remember(value: unknown, where: string): void {
    // A public key line given where a secret belongs (e.g. halves swapped) is no secret.
    if (typeof value === "string" && value.length >= 6 && !publicKeyLine(value)) (inTest ? testSecrets : fileSecrets).set(value, where);
}

/** Fails when a message seen so far shows a secret in force; forgets the messages. */
function check(): void {
    const leaks: SecretLeak[] = findLeaks(messages, new Map([...fileSecrets, ...testSecrets]));
    messages = [];
    if (leaks.length > 0) {
        throw new Error(
            `${leaks.length} refusal message(s) show a secret:\n` +
                leaks.map((l) => `  invalid ${l.property}: shows the secret of ${l.secretLength} characters from ${l.secretFrom}`).join("\n"),
        );
    }
}

/**
 * Walks an Args object (bounded), remembering private keys anywhere and the strings of secret-named
 * properties (a list under such a name holds secrets too; an object under it, e.g. registry
 * credentials, is walked by its own members' names: a username is not secret, its password is).
 */
function collect(value: unknown, path: string, depth: number, secretName: boolean): void {
    if (depth > 6 || value === null || value === undefined) return;
    if (typeof value === "string") {
        if (secretName || looksLikePrivateKey(value)) remember(value, path);
        return;
    }
    if (Array.isArray(value)) {
        value.slice(0, 200).forEach((v, i) => collect(v, `${path}[${i}]`, depth + 1, secretName));
        return;
    }
    if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) collect(v, path ? `${path}.${k}` : k, depth + 1, isSecretName(k));
    }
}

const originalSecret = pulumi.secret;
(pulumi as { secret: typeof pulumi.secret }).secret = function secret<T>(value: pulumi.Input<T>): pulumi.Output<pulumi.Unwrap<T>> {
    if (typeof value === "string") remember(value, "pulumi.secret(...)");
    return originalSecret(value);
} as typeof pulumi.secret;

const originalArgs = Validator.prototype.args;
Validator.prototype.args = function args<T extends object>(this: Validator, value: T | undefined, known: readonly string[], what?: string): T {
    collect(value, "", 0, false);
    return originalArgs.call(this, value, known, what) as T;
};

const originalFail = Validator.prototype.fail;
Validator.prototype.fail = function fail(this: Validator, property: string, received: unknown, expected: string): never {
    try {
        return originalFail.call(this, property, received, expected);
    } catch (e) {
        if (e instanceof InvalidArgumentError) messages.push({ property, message: e.message });
        throw e;
    }
};

beforeEach(() => {
    // Messages produced between tests (beforeAll, a late rejection) are checked against the file's secrets.
    check();
    inTest = true;
});

afterEach(() => {
    inTest = false;
    try {
        check();
    } finally {
        testSecrets.clear();
    }
});

afterAll(() => check());
