/**
 * Args renamed for the one pool vocabulary (`rootVolumeGiB` → `diskGiB`, ...): the old name still
 * reads, as a deprecated alias, and giving both is refused.
 */
import { Validator } from "../../core/validate";

/** A setting read under its current name or its deprecated one: the name it was given under, and its value. */
export interface Renamed<T> {
    /** The property the value came from (the one to name in a message about it). */
    readonly property: string;
    /** The value; undefined when neither name was given. */
    readonly value: T | undefined;
}

/**
 * Reads `name`, or its deprecated alias `old`; both given is refused (which one wins would be a
 * guess). Returns the value and the property it came from, so a message names what the user wrote.
 */
export function renamed<T>(v: Validator, args: object, name: string, old: string): Renamed<T> {
    const a = args as Record<string, unknown>;
    if (a[name] !== undefined && a[old] !== undefined) {
        v.fail(old, a[old], `no ${old} beside ${name}: ${old} is the deprecated name of ${name}, give ${name} only`);
    }
    return a[old] !== undefined ? { property: old, value: a[old] as T } : { property: name, value: a[name] as T | undefined };
}
