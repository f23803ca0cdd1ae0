import * as pulumi from "@pulumi/pulumi";
import { InvalidArgumentError } from "../../lib/core/validate";

/** A resource the program registered under mocks. */
export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

/**
 * Installs Pulumi mocks that record every registered resource (custom and component) and echo the
 * inputs back as state, plus what `outputs` adds for a resource (what a real create would return).
 * Returns the live list.
 */
export function recordResources(
    outputs?: (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined,
): Registered[] {
    const registered: Registered[] = [];
    void pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs });
                return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs?.(args.type, args.name, args.inputs) } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return args.inputs;
            },
        },
        "flotilla",
        "test",
        false,
    );
    return registered;
}

/** The value of an Output (unknowns resolve to undefined under mocks). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** The message of the InvalidArgumentError `f` throws (fails the test if it throws anything else). */
export function messageOf(f: () => unknown): string {
    try {
        f();
    } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
    }
    throw new Error("expected an InvalidArgumentError");
}

/** Pulumi's wire marker of a secret value: a secret input reaches the mocks as `{[SECRET_SIG]: SECRET_MARK, value}`. */
export { specialSigKey as SECRET_SIG, specialSecretSig as SECRET_MARK } from "@pulumi/pulumi/runtime/rpc";
