/**
 * Evaluates one of `examples/<name>/` as `pulumi up` would run its program, under Pulumi mocks:
 * the given config (secret keys marked secret), every resource recorded, the program's exports
 * resolved. The example imports `flotilla` as a user does (the unit project maps it to this checkout's source).
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Registered, keyPairOutputs, recordResources } from "./mocks";

/** The project name the mocks run programs under (the config namespace of `new pulumi.Config()`). */
export const MOCK_PROJECT = "flotilla";

export interface EvaluatedExample {
    /** Every resource the program registered (components included), in order. */
    registered: Registered[];
    /** The program module's exports. */
    program: Record<string, unknown>;
}

/**
 * Runs `examples/<name>/index.ts` under mocks with `config` (keys without namespace go to the
 * project's; `secret` names those to mark secret) and returns what it registered once every
 * registration settled. `outputs` adds what real creates would return for some resources.
 */
export async function evaluateExample(
    name: string,
    config: Record<string, string>,
    secret: string[] = [],
    outputs?: (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined,
    calls: (token: string, inputs: Record<string, any>) => Record<string, unknown> | undefined = cloudLookups,
): Promise<EvaluatedExample> {
    const registered = recordResources((type, n, inputs) => outputs?.(type, n, inputs) ?? scriptResults(type, n, inputs), calls);
    const full = (k: string) => (k.includes(":") ? k : `${MOCK_PROJECT}:${k}`);
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [full(k), v])),
        secret.map(full),
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(path.join(__dirname, "..", "..", "examples", name, "index.ts")) as Record<string, unknown>;
    // Let every apply and registration reach the mocks.
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    return { registered, program };
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

/** What EC2 returns for the i-th instance created: its addresses and zone. */
export function ec2Outputs(): (type: string, name: string, inputs: Record<string, any>) => Record<string, unknown> | undefined {
    let n = 0;
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
