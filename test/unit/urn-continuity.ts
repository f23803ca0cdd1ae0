/**
 * URN continuity under mocks: which URNs a program's resources have, and by which older URNs
 * (aliases) the engine would still find them. Recorded once per example with the flotilla of a
 * release (test/unit/golden/urns/<example>.json) and checked against every later flotilla: a
 * resource whose URN changed without an alias would be replaced (created anew, the old one
 * deleted) in every user's stack. The lab proves the same with a real engine on a recorded state
 * (test/lab/state-upgrade.test.ts); this covers what the lab cannot create (clouds, k3s).
 *
 * Also recorded: a digest of the inputs that replace a resource when they change (a cloud
 * machine's first-boot document, a lab machine's script): an upgrade must not change them either.
 *
 * Record again (only when a release is cut, with that release checked out):
 *   FLOTILLA_RECORD_URNS=1 npx jest --ci --selectProjects=unit --runTestsByPath test/unit/examples/urn-continuity.test.ts
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";

/** One registration: its URN and every URN it may be found under (itself, its aliases, its parents' aliases). */
export interface UrnRecord {
    urn: string;
    names: string[];
    /** The alias specs it was registered with, as sent (name and type; "" where the spec leaves it as is). */
    aliases: { name: string; type: string }[];
    /** A digest of its inputs that replace it when they change (see {@link REPLACING}), where its type has any. */
    replacing?: Promise<string>;
}

/**
 * Per resource type, the inputs whose change replaces the resource (a machine deleted and made
 * anew): the clouds' first-boot documents and images, the user-data snippet a Proxmox VM names,
 * and a LocalScript's script and environments (its provider replaces on them: a lab machine).
 * `*` stands for every input but those listed after `!`.
 */
const REPLACING: Record<string, string[]> = {
    "aws:ec2/instance:Instance": ["userData", "userDataBase64", "ami", "subnetId", "keyName", "availabilityZone"],
    "azure-native:compute:VirtualMachine": ["osProfile", "storageProfile", "zones"],
    "proxmoxve:index/fileLegacy:FileLegacy": ["sourceRaw", "nodeName", "datastoreId"],
    "proxmoxve:index/vmLegacy:VmLegacy": ["initialization"],
    "pulumi-nodejs:dynamic/flotilla:LocalScript": ["*", "!target", "!timeoutSeconds", "!__provider"],
};

/** JSON with sorted keys (secrets as their values: the digest is what is compared). */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270") return canonical(o.value);
        return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? "null";
}

async function replacingDigest(type: string, object: unknown): Promise<string> {
    const keys = REPLACING[type];
    const inputs = (await deserializeProperties(object as never, true)) as Record<string, unknown>;
    const picked = keys.includes("*")
        ? Object.keys(inputs).filter((k) => !keys.includes(`!${k}`))
        : keys.filter((k) => inputs[k] !== undefined);
    const text = canonical(Object.fromEntries(picked.sort().map((k) => [k, inputs[k]])));
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
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
            const aliases: UrnRecord["aliases"] = [];
            for (const alias of req.getAliasesList() as any[]) {
                if (alias.hasUrn?.() && alias.getUrn()) {
                    names.add(alias.getUrn());
                    continue;
                }
                const spec = alias.getSpec();
                aliases.push({ name: spec.getName(), type: spec.getType() });
                const aliasType = spec.getType() || type;
                const aliasName = spec.getName() || name;
                const aliasParents = spec.getNoparent() ? [""] : spec.getParenturn() ? [spec.getParenturn()] : parents;
                for (const p of aliasParents) names.add(this.newUrn(p, aliasType, aliasName));
            }
            const record: UrnRecord = { urn, names: [...names], aliases };
            if (REPLACING[type]) record.replacing = replacingDigest(type, req.getObject());
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

/** What a release recorded of an example: its URNs, and the digest of each one's replacing inputs. */
interface Golden {
    urns: string[];
    replacing: Record<string, string>;
}

/**
 * What a user's stack recorded by the release of the golden file would see replaced if it ran
 * `records`: each recorded URN no resource has (under its own URN or an alias), and each resource
 * whose replacing inputs changed (`<urn>: <old digest> -> <new digest>`). With
 * FLOTILLA_RECORD_URNS=1, records `records` as the new golden file first.
 */
export async function replacedInUpgrade(example: string, records: UrnRecord[]): Promise<string[]> {
    const file = path.join(GOLDEN, `${example}.json`);
    const digests = Object.fromEntries(await Promise.all(records.filter((r) => r.replacing).map(async (r) => [r.urn, await r.replacing!] as const)));
    if (process.env.FLOTILLA_RECORD_URNS === "1") {
        fs.mkdirSync(GOLDEN, { recursive: true });
        const golden: Golden = { urns: [...new Set(records.map((r) => r.urn))].sort(), replacing: Object.fromEntries(Object.entries(digests).sort()) };
        fs.writeFileSync(file, JSON.stringify(golden, null, 1) + "\n");
    }
    if (!fs.existsSync(file)) throw new Error(`no recorded URNs for ${example} (${file}): see test/unit/urn-continuity.ts`);
    const golden = JSON.parse(fs.readFileSync(file, "utf8")) as Golden;
    const found = new Set(records.flatMap((r) => r.names));
    const lost = golden.urns.filter((urn) => !found.has(urn));
    const changed: string[] = [];
    for (const [urn, old] of Object.entries(golden.replacing)) {
        const now = records.find((r) => r.names.includes(urn));
        if (now && digests[now.urn] !== old) changed.push(`${urn}: ${old} -> ${digests[now.urn]}`);
    }
    return [...lost, ...changed];
}
