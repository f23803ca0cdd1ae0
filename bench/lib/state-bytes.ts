/**
 * What a stack's state costs: bytes of the stored state file, per resource and per kind of
 * resource (the resource type plus the role in its name, e.g. `RemoteScript install`). Pure.
 */

/** A resource of a stack's stored state (deployment v3). */
interface StoredResource {
    urn: string;
    type: string;
    inputs?: unknown;
    outputs?: unknown;
}

/** Bytes of one resource as the state file stores it (its JSON, without indentation). */
export interface ResourceBytes {
    urn: string;
    name: string;
    type: string;
    bytes: number;
    /** Bytes of the `__provider` input and output. */
    providerBytes: number;
    /** Bytes of each top-level field of the stored resource (inputs, outputs, propertyDependencies, ...). */
    fields: Record<string, number>;
}

/** The resources of a stored state file's text, with their sizes. */
export function resourceBytes(stateText: string): ResourceBytes[] {
    const state = JSON.parse(stateText) as { checkpoint?: { latest?: { resources?: StoredResource[] } } };
    const resources = state.checkpoint?.latest?.resources ?? [];
    return resources.map((r) => {
        const provider = (x: unknown) => JSON.stringify((x as Record<string, unknown> | undefined)?.__provider ?? "").length;
        return {
            urn: r.urn,
            name: r.urn.split("::").pop() ?? r.urn,
            type: r.type,
            bytes: JSON.stringify(r).length,
            providerBytes: provider(r.inputs) + provider(r.outputs),
            fields: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, JSON.stringify(v).length])),
        };
    });
}

/** Sums bytes by a key. */
export function sumBy(items: ResourceBytes[], key: (r: ResourceBytes) => string): Record<string, { count: number; bytes: number }> {
    const out: Record<string, { count: number; bytes: number }> = {};
    for (const r of items) {
        const k = key(r);
        out[k] ??= { count: 0, bytes: 0 };
        out[k].count++;
        out[k].bytes += r.bytes;
    }
    return out;
}

/** The role of a resource from its name: `lab-machine-3` → `machine`, `swarm-join-x` → `join`. */
export function role(name: string): string {
    const parts = name.split("-");
    return parts.length > 1 ? parts[1] : parts[0];
}

/** Sums the bytes of each top-level field over resources. */
export function fieldBytes(items: ResourceBytes[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of items) for (const [k, n] of Object.entries(r.fields)) out[k] = (out[k] ?? 0) + n;
    return out;
}
