/**
 * URN continuity under mocks: which URNs a program's resources have, and by which older URNs
 * (aliases) the engine would still find them. Recorded once per example with the flotilla of a
 * release (test/unit/golden/urns/<example>.json) and checked against every later flotilla: a
 * resource whose URN changed without an alias would be replaced (created anew, the old one
 * deleted) in every user's stack. The lab proves the same with a real engine on a recorded state
 * (test/lab/state-upgrade.test.ts); this covers what the lab cannot create (clouds, k3s).
 *
 * Record again (only when a release is cut, with that release checked out):
 *   FLOTILLA_RECORD_URNS=1 npx jest --ci --selectProjects=unit --runTestsByPath test/unit/examples-*.test.ts
 */
import * as fs from "fs";
import * as path from "path";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

/** One registration: its URN and every URN it may be found under (itself, its aliases, its parents' aliases). */
export interface UrnRecord {
    urn: string;
    names: string[];
}

let current: UrnRecord[] | undefined;
const byUrn = new Map<string, UrnRecord>();

// The mock monitor drops the aliases it is sent: read them off each request before it does.
 
const proto = MockMonitor.prototype as any;
if (!proto.__flotillaUrns) {
    const register = proto.registerResource;
    proto.registerResource = function (this: any, req: any, callback: unknown) {
        if (current) {
            const parent: string = req.getParent();
            const type: string = req.getType();
            const name: string = req.getName();
            const urn: string = this.newUrn(parent, type, name);
            const parents = parent ? (byUrn.get(parent)?.names ?? [parent]) : [""];
            const names = new Set<string>(parents.map((p) => this.newUrn(p, type, name)));
            for (const alias of req.getAliasesList() as any[]) {
                if (alias.hasUrn?.() && alias.getUrn()) {
                    names.add(alias.getUrn());
                    continue;
                }
                const spec = alias.getSpec();
                const aliasType = spec.getType() || type;
                const aliasName = spec.getName() || name;
                const aliasParents = spec.getNoparent() ? [""] : spec.getParenturn() ? [spec.getParenturn()] : parents;
                for (const p of aliasParents) names.add(this.newUrn(p, aliasType, aliasName));
            }
            const record = { urn, names: [...names] };
            current.push(record);
            byUrn.set(urn, record);
        }
        return register.call(this, req, callback);
    };
    proto.__flotillaUrns = true;
}
 

/** Starts recording the URNs of what registers from now on; returns the live list. */
export function captureUrns(): UrnRecord[] {
    current = [];
    byUrn.clear();
    return current;
}

const GOLDEN = path.join(__dirname, "golden", "urns");

/**
 * The URNs recorded for `example` by the release that recorded them that no resource of `records`
 * has, under its own URN or an alias: each would be replaced in a user's stack. With
 * FLOTILLA_RECORD_URNS=1, records `records` as the new golden list first.
 */
export function lostUrns(example: string, records: UrnRecord[]): string[] {
    const file = path.join(GOLDEN, `${example}.json`);
    if (process.env.FLOTILLA_RECORD_URNS === "1") {
        fs.mkdirSync(GOLDEN, { recursive: true });
        fs.writeFileSync(file, JSON.stringify([...new Set(records.map((r) => r.urn))].sort(), null, 1) + "\n");
    }
    if (!fs.existsSync(file)) throw new Error(`no recorded URNs for ${example} (${file}): see test/unit/urn-continuity.ts`);
    const recorded = JSON.parse(fs.readFileSync(file, "utf8")) as string[];
    const found = new Set(records.flatMap((r) => r.names));
    return recorded.filter((urn) => !found.has(urn));
}
