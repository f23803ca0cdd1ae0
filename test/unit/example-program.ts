/**
 * Evaluates one of `examples/<name>/` as `pulumi up` would run its program, under Pulumi mocks:
 * the given config (secret keys marked secret), every resource recorded, the program's exports
 * resolved. The example imports `flotilla` as a user does (the unit project maps it to this checkout's source).
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { resetClaims } from "../../lib/core/claims";
import { Registered, keyPairOutputs, recordResources } from "./mocks";
import { UrnRecord, captureUrns } from "./urn-continuity";

/** The project name the mocks run programs under by default (the config namespace of `new pulumi.Config()`). */
export const MOCK_PROJECT = "flotilla";

export interface EvaluatedExample {
    /** Every resource the program registered (components included), in order. */
    registered: Registered[];
    /** The program module's exports. */
    program: Record<string, unknown>;
    /** Every registration's URN and the older URNs it answers to (test/unit/urn-continuity.ts). */
    urns: UrnRecord[];
}

/** How {@link evaluateExample} runs a program. */
export interface EvaluateOptions {
    /** Config keys to mark secret (as given, or without the project's namespace). Default none. */
    secret?: string[];
    /** What real creates would return for some resources (before {@link scriptResults}). Default none. */
    outputs?: (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined;
    /** What invokes return. Default {@link cloudLookups}. */
    calls?: (token: string, inputs: Record<string, any>) => Record<string, unknown> | undefined;
    /** Project name (config namespace, URNs). Default {@link MOCK_PROJECT}. */
    project?: string;
    /** Stack name. Default `test`. */
    stack?: string;
}

/**
 * Runs `examples/<name>/index.ts` under mocks with `config` (keys without namespace go to the
 * project's) and returns what it registered once every registration settled. Each call loads the
 * program afresh (its own module registry, the per-program claims reset), so one test file may
 * evaluate it several times; a program that throws (e.g. a missing required config) rejects with
 * its error, carrying `registered` (what it registered before).
 */
export async function evaluateExample(name: string, config: Record<string, string>, opts: EvaluateOptions = {}): Promise<EvaluatedExample> {
    const project = opts.project ?? MOCK_PROJECT;
    const outputs = opts.outputs;
    const registered = recordResources(
        (type, n, inputs) => outputs?.(type, n, inputs) ?? scriptResults(type, n, inputs),
        opts.calls ?? cloudLookups,
        { project, stack: opts.stack ?? "test" },
    );
    const full = (k: string) => (k.includes(":") ? k : `${project}:${k}`);
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [full(k), v])),
        (opts.secret ?? []).map(full),
    );
    resetClaims();
    const urns = captureUrns();
    let program: Record<string, unknown> = {};
    const settle = async () => {
        // Let every apply and registration reach the mocks.
        for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    };
    try {
        jest.isolateModules(() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            program = require(path.join(__dirname, "..", "..", "examples", name, "index.ts")) as Record<string, unknown>;
        });
    } catch (err) {
        await settle();
        // What the program registered before it threw, for the caller to assert on.
        throw Object.assign(err as Error, { registered });
    }
    await settle();
    return { registered, program, urns };
}

/**
 * What flotilla's scripts print as their last line in a real `up`, by the resource's name (the
 * mocks never run them): a machine probe, a runtime install, a swarm init or join, a stack deploy.
 * Plus the keys of key pairs. Undefined for anything else.
 */
export function scriptResults(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
    if (!type.endsWith(":RemoteScript")) return keyPairOutputs(type, name);
    const machineId = "0123456789abcdef0123456789abcdef";
    if (/-probe-/.test(name)) {
        return { result: JSON.stringify({ os: "debian", osVersion: "12", arch: "amd64", machineId }), machineId, ...(inputs.connection?.hostKey ? {} : { seenHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfirstseenfirstseenfirstseenfirstseenfirsts" }) };
    }
    if (/-install-/.test(name)) {
        return { result: JSON.stringify({ version: "27.5.1", packageVersion: "27.5.1-1", source: "docker", cgroupDriver: "systemd" }), machineId };
    }
    if (name.endsWith("-init")) {
        return { result: JSON.stringify({ clusterId: "c1", nodeId: "node-0", workerToken: "WT", managerToken: "MT", ipvs: true }), machineId };
    }
    const join = /-join-(.+)$/.exec(name);
    if (join) return { result: JSON.stringify({ nodeId: `node-${join[1]}` }), machineId };
    if (name.endsWith("-deploy")) return { result: "{}", machineId };
    return undefined;
}

/** What the clouds' lookups answer under the mocks: an AMI id. */
export function cloudLookups(token: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
    return token === "aws:ec2/getAmi:getAmi" ? { ...inputs, id: "ami-0debian12" } : undefined;
}

/** What EC2 returns for the i-th instance created (from 0): its addresses (`.<first + i>`) and zone. */
export function ec2Outputs(first = 11): (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined {
    let n = first - 11;
    return (type, _name, inputs) => {
        if (type !== "aws:ec2/instance:Instance") return undefined;
        n++;
        return { privateIp: `10.60.0.${10 + n}`, ...(inputs.associatePublicIpAddress === false ? {} : { publicIp: `203.0.113.${10 + n}` }), availabilityZone: "eu-west-1a" };
    };
}

/** `type name` of every registered resource, sorted: the resource graph to assert. */
export function graph(registered: Registered[]): string[] {
    return registered.map((r) => `${r.type} ${r.name}`).sort();
}
