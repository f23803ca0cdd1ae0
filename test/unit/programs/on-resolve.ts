/**
 * Run by validation-on-resolve.test.ts in a process of its own (node -r ts-node/register): each
 * scenario declares a construct whose Output input fails its check when it resolves, under mocks.
 * A failed registration leaves promises rejected that nobody awaits (in Jest they would fail
 * whichever test runs next); here they are collected. Prints one JSON line per scenario: the
 * message the construct's output rejects with, what reached the mocks, and every stray rejection.
 */
import * as pulumi from "@pulumi/pulumi";
import { keyPairOutputs, recordResources, testRuntimeHost } from "../mocks";
import { resetClaims } from "../../../lib/core/claims";
import { FULL_CAPABILITIES, ISwarmCluster, SWARM_PORTS } from "../../../lib/core/cluster";
import { InvalidArgumentError } from "../../../lib/core/validate";
import { LabHostPool } from "../../../lib/hosts/lab";
import { AwsHostPool } from "../../../lib/hosts/aws";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";
import { SwarmApp, SwarmAppArgs } from "../../../lib/workload/deploy/swarm-app";
import { PulumiKubernetesApp } from "../../../lib/workload/deploy/pulumi-kubernetes";
import { ClusterCapabilities, IKubernetesCluster, KUBERNETES_PORTS } from "../../../lib/core/cluster";

const registered = recordResources(keyPairOutputs);
const stray: unknown[] = [];
process.on("unhandledRejection", (err) => stray.push(err));
const settle = () => new Promise((r) => setTimeout(r, 100));
const KEY_A = generateEd25519("a");
const KEY_B = generateEd25519("b");

/** Pulumi prefixes an error's message with the path of each property it was serializing. */
const contractMessage = (err: unknown) => String((err as Error)?.message ?? err).replace(/^(error serializing property "[^"]*": )+/, "");

const cluster: ISwarmCluster = {
    orchestrator: "swarm",
    capabilities: pulumi.output(FULL_CAPABILITIES),
    ports: SWARM_PORTS,
    managers: [testRuntimeHost("m0", "10.0.0.2")],
    workers: [],
};
const app = (registryAuth: unknown): SwarmAppArgs => ({ cluster, services: { web: { image: "nginx:1.27" } }, registryAuth }) as SwarmAppArgs;

/** A Kubernetes cluster reporting `capabilities` (what a KubernetesCluster reports once its nodes are probed). */
const k8s = (capabilities: ClusterCapabilities): IKubernetesCluster => ({
    orchestrator: "kubernetes",
    capabilities: pulumi.output(capabilities),
    ports: KUBERNETES_PORTS,
    controlPlane: [testRuntimeHost("cp0", "10.0.0.2")],
    workers: [],
    kubeconfig: pulumi.secret("apiVersion: v1\n"),
});

const scenarios: Record<string, () => pulumi.Output<unknown>> = {
    "kubernetes capabilities other than planned": () =>
        new PulumiKubernetesApp("lb", {
            cluster: k8s({ ...FULL_CAPABILITIES, loadBalancer: true }),
            services: { web: { image: "web:1", ports: [{ target: 80, published: 30443, mode: "loadBalancer" }] } },
        }).objectNames,
    "kubernetes no routing mesh reported": () =>
        new PulumiKubernetesApp("mesh", {
            cluster: k8s({ serviceVirtualIp: false, routingMesh: false, loadBalancer: false }),
            services: { web: { image: "web:1", ports: [{ target: 80, published: 30080 }] } },
        }).objectNames,
    "kubernetes image Output not a reference": () =>
        new PulumiKubernetesApp("img", { cluster: k8s(FULL_CAPABILITIES), services: { web: { image: pulumi.output("Not An Image") } } }).objectNames,
    "userData part": () =>
        new LabHostPool("lab", { size: 2, userData: [pulumi.secret("#cloud-config\n{}"), pulumi.secret("echo hi")] }).privateAddresses,
    "userData list": () => new LabHostPool("lab", { size: 1, userData: pulumi.output(["#!/bin/sh\ntrue", "nope"]) }).privateAddresses,
    "userData not a list": () => new LabHostPool("lab", { size: 1, userData: pulumi.output("#!/bin/sh") as never }).privateAddresses,
    "userData good": () => new LabHostPool("lab", { size: 1, userData: [pulumi.secret("#!/bin/sh\ntrue")] }).privateAddresses,
    "registryAuth empty password": () =>
        new SwarmApp("web", app({ server: "r.example.com", username: "u", password: pulumi.secret("") })).services,
    "registryAuth bad server": () =>
        new SwarmApp("web", app({ server: pulumi.output("https://r.example.com"), username: "u", password: pulumi.secret("pw") })).services,
    // The halves of two key pairs, known only when they resolve: the EC2 key pair (whose publicKey
    // input is stored in plain state) is never registered.
    "aws sshKey halves of two pairs": () =>
        new AwsHostPool("p", {
            size: 1,
            region: "eu-west-1",
            adminCidrs: ["198.51.100.0/24"],
            sshKey: { privateKey: pulumi.secret(KEY_A.privateKey), publicKey: pulumi.output(KEY_B.publicKey) },
        }).sshPublicKey,
    "registryAuth empty username": () =>
        new SwarmApp("web", app({ server: "r.example.com", username: pulumi.output(""), password: pulumi.secret("pw") })).services,
};

async function run(name: string): Promise<void> {
    registered.splice(0);
    stray.splice(0);
    resetClaims();
    let message: string | null = null;
    let isContractError = false;
    const out = scenarios[name]() as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> };
    out.isKnown.catch(() => undefined);
    out.isSecret.catch(() => undefined);
    try {
        await out.promise();
    } catch (err) {
        isContractError = err instanceof InvalidArgumentError;
        message = contractMessage(err);
    }
    await settle();
    const strayMessages = [...new Set(stray.map(contractMessage))];
    const strayTypes = [...new Set(stray.map((e) => (e instanceof InvalidArgumentError ? "InvalidArgumentError" : String((e as Error)?.name))))];
    process.stdout.write(
        `${JSON.stringify({ name, message, isContractError, registered: registered.map((r) => `${r.type} ${r.name}`), strayMessages, strayTypes })}\n`,
    );
}

void (async () => {
    for (const name of process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios)) await run(name);
})();
