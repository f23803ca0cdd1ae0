/**
 * What one Pulumi program may use only once (a lab pool's name, its address block): each construct
 * claims its own at construction, so two pools of one program that would collide fail before
 * anything is created. Scoped to the running program (Pulumi's per-program store, so an
 * Automation API inline program run twice in one process starts afresh), never to the process.
 */
import { Ipv4Subnet, overlaps } from "./ipv4";

interface Claims {
    names: Map<string, string>;
    blocks: { block: Ipv4Subnet; owner: string }[];
}

const byProgram = new WeakMap<object, Claims>();
let fallback: object = {};

/** The current program's store (Pulumi's internal per-program state), or a process-wide one. */
function programKey(): object {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const state = require("@pulumi/pulumi/runtime/state") as { getStore?: () => object | undefined };
        return state.getStore?.() ?? fallback;
    } catch {
        return fallback;
    }
}

function claims(): Claims {
    const key = programKey();
    let c = byProgram.get(key);
    if (!c) {
        c = { names: new Map(), blocks: [] };
        byProgram.set(key, c);
    }
    return c;
}

/**
 * Claims `name` of `kind` (e.g. `lab pool`) for `owner` (e.g. `LabHostPool "lab"`). Returns the
 * owner that already holds it, or undefined when it was free (and is now `owner`'s).
 */
export function claimName(kind: string, name: string, owner: string): string | undefined {
    const key = `${kind}\0${name}`;
    const held = claims().names.get(key);
    if (held !== undefined) return held;
    claims().names.set(key, owner);
    return undefined;
}

/** Claims an address block; returns the owner and block it overlaps, or undefined. */
export function claimBlock(block: Ipv4Subnet, owner: string): { owner: string; block: Ipv4Subnet } | undefined {
    const hit = claims().blocks.find((b) => overlaps(b.block, block));
    if (hit) return hit;
    claims().blocks.push({ block, owner });
    return undefined;
}

/** Forgets every claim (for unit tests, which construct many programs' worth of resources in one). */
export function resetClaims(): void {
    fallback = {};
    const key = programKey();
    byProgram.delete(key);
}
