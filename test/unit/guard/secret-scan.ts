/**
 * Finds secrets in messages: a short secret (under 16 characters) when the message holds all of it,
 * a longer one when the message holds any 16-character run of it (a message may show a truncated
 * value). The PEM armour lines of a key are not secret and are left out of the runs.
 */

/** A message that shows a secret (described by its length and origin, never its value). */
export interface SecretLeak {
    readonly property: string;
    readonly secretLength: number;
    readonly secretFrom: string;
}

const RUN = 16;

/** The parts of a secret that must not appear in a message. */
export function secretRuns(secret: string): string[] {
    const body = secret
        .split("\n")
        .filter((line) => !/^-----(BEGIN|END) /.test(line.trim()))
        .join("\n")
        .trim();
    if (body.length < RUN) return body.length >= 6 ? [body] : [];
    const runs: string[] = [];
    for (let i = 0; i + RUN <= body.length; i++) {
        const run = body.slice(i, i + RUN);
        if (!run.includes("\n")) runs.push(run);
    }
    return runs;
}

/** Every message that shows one of `secrets` (a map of secret value to where it came from). */
export function findLeaks(messages: readonly { property: string; message: string }[], secrets: ReadonlyMap<string, string>): SecretLeak[] {
    const leaks: SecretLeak[] = [];
    for (const [secret, from] of secrets) {
        const runs = secretRuns(secret);
        for (const m of messages) {
            if (runs.some((run) => m.message.includes(run))) {
                leaks.push({ property: m.property, secretLength: secret.length, secretFrom: from });
            }
        }
    }
    return leaks;
}
