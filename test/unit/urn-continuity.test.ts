/**
 * Every example evaluated under mocks keeps the URNs a user's stack recorded with flotilla 0.1.0
 * (test/unit/golden/urns/, recorded at 34ffa25), directly or through aliases, and the inputs that
 * would replace a machine (first-boot documents, images, a lab machine's script): moving or
 * renaming a construct must never make the engine replace what users run. Examples cover what the lab cannot
 * create: AWS, Azure and Proxmox pools, existing servers, k3s, the @pulumi/kubernetes deployer.
 */
import { generateEd25519 } from "../../lib/shared/ssh-keys";
import { azureOutputs } from "./hosts/azure-mocks";
import { EvaluateOptions, ec2Outputs, evaluateExample } from "./example-program";
import { replacedInUpgrade } from "./urn-continuity";

const ops = () => generateEd25519("ops@example").privateKey;
const servers = (prefix: string, withPublic: boolean) =>
    JSON.stringify([1, 2, 3].map((i) => ({ name: `s${i}`, address: `${prefix}.${10 + i}`, user: "ops", ...(withPublic ? { publicAddress: `198.51.100.${10 + i}` } : {}) })));

/** What Proxmox returns for a VM: its id and the guest agent's addresses. */
function proxmoxOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
    if (type !== "proxmoxve:index/vmLegacy:VmLegacy") return undefined;
    const i = Number(/-vm-(\d+)$/.exec(name)?.[1]);
    const mac = `bc:24:11:00:00:0${i}`;
    return {
        vmId: 100 + i,
        networkDevices: inputs.networkDevices.map((d: object) => ({ ...d, macAddress: mac })),
        networkInterfaceNames: ["lo", "eth0"],
        macAddresses: ["00:00:00:00:00:00", mac],
        ipv4Addresses: [["127.0.0.1"], [`192.168.1.${20 + i}`]],
    };
}

/** What k3s' init and joins return (undefined for anything else). */
const k3s = (name: string) => {
    if (name === "k3s-init") return { result: JSON.stringify({ token: "K10TOKEN::server:abc", kubeconfig: "apiVersion: v1\n", cgroupDriver: "systemd" }) };
    const join = /^k3s-join-(.+)$/.exec(name);
    return join ? { result: JSON.stringify({ nodeName: join[1], cgroupDriver: "systemd" }) } : undefined;
};

const EXAMPLES: [string, () => Record<string, string>, () => EvaluateOptions][] = [
    ["aws-swarm", () => ({ "aws:region": "eu-west-1", "aws-swarm:adminCidr": "198.51.100.7/32", "aws-swarm:appCidr": "0.0.0.0/0" }), () => ({ project: "aws-swarm", stack: "dev", outputs: ec2Outputs(10) })],
    ["azure-swarm", () => ({ "azure-native:location": "northeurope", adminCidr: "203.0.113.7/32" }), () => ({ outputs: azureOutputs })],
    ["proxmox-swarm", () => ({ nodes: JSON.stringify(["pve1", "pve2", "pve3"]) }), () => ({ project: "proxmox-swarm", stack: "dev", outputs: proxmoxOutputs, calls: (_t, inputs) => inputs })],
    ["existing-servers", () => ({ servers: servers("192.0.2", false), sshPrivateKey: ops() }), () => ({ secret: ["sshPrivateKey"] })],
    ["hybrid", () => ({ servers: servers("10.0.0", true), sshPrivateKey: ops(), adminCidr: "203.0.113.7/32", "aws:region": "eu-west-1" }), () => ({ secret: ["sshPrivateKey"], outputs: ec2Outputs() })],
    ["kubernetes-provider", () => ({ "aws:region": "eu-west-1", adminCidr: "198.51.100.7/32", dbPassword: "pg-pass-123" }), () => {
        const ec2 = ec2Outputs();
        return { secret: ["dbPassword"], outputs: (t, n, i) => k3s(n) ?? ec2(t, n, i) };
    }],
];

test.each(EXAMPLES)("examples/%s: every resource flotilla 0.1.0 recorded is still there (or aliased), its replacing inputs unchanged", async (example, config, opts) => {
    const { urns } = await evaluateExample(example, config(), opts());
    expect(urns.length).toBeGreaterThan(10);
    expect(await replacedInUpgrade(example, urns)).toEqual([]);
});
