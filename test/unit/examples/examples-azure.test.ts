/**
 * examples/azure-swarm evaluated under mocks, as `pulumi up` would evaluate it, with the library's
 * sources standing in for the installed `flotilla` and `flotilla/azure` (the build type-checks the
 * example against the installed package). Asserts its resource graph.
 */
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { valueOf } from "../mocks";
import { evaluateExample } from "../example-program";
import { azureOutputs } from "../hosts/azure-mocks";

test("examples/azure-swarm: three zoned VMs, Docker over SSH, a three-manager swarm, the web app on port 80", async () => {
    const evaluated = await evaluateExample(
        "azure-swarm",
        { "azure-native:location": "northeurope", adminCidr: "203.0.113.7/32" },
        {
            // What Azure returns, and what the stack deploy reports, on a real create.
            outputs: (type, name, inputs) =>
                name.endsWith("-deploy") ? { result: JSON.stringify({ web: { running: 3, desired: 3 } }) } : azureOutputs(type, name, inputs),
        },
    );
    const registered = evaluated.registered;
    const program = evaluated.program as { urls: pulumi.Output<string[]>; services: pulumi.Output<unknown> };
    expect(await valueOf(program.urls)).toEqual(["http://203.0.113.10/", "http://203.0.113.11/", "http://203.0.113.12/"]);
    await new Promise((r) => setTimeout(r, 500));
    const count = (type: string) => registered.filter((r) => r.type === type).length;
    const components = registered.filter((r) => r.type.startsWith("flotilla:")).map((r) => `${r.type} ${r.name}`).sort();
    expect(components).toEqual(
        ["flotilla:hosts:AzureHostPool swarm", "flotilla:runtime:DockerEngine docker", "flotilla:cluster:SwarmCluster swarm", "flotilla:workload:SwarmApp web"].sort(),
    );
    expect(
        ["resources:ResourceGroup", "network:VirtualNetwork", "network:Subnet", "network:NetworkSecurityGroup", "network:ApplicationSecurityGroup", "network:PublicIPAddress", "network:NetworkInterface", "compute:VirtualMachine", "network:NatGateway"].map(
            (t) => count(`azure-native:${t}`),
        ),
    ).toEqual([1, 1, 1, 1, 1, 3, 3, 3, 0]);
    const byName = (name: string) => registered.find((r) => r.name === name)!.inputs as Record<string, any>;
    // One VM per zone, in the configured region, tagged.
    expect([0, 1, 2].map((i) => byName(`swarm-vm-${i}`).zones)).toEqual([["1"], ["2"], ["3"]]);
    expect(byName("swarm-vm-0")).toMatchObject({ location: "northeurope", tags: { example: "azure-swarm", "flotilla-pool": "swarm" } });
    // SSH only from the admin's address; swarm ports only inside the pool; port 80 from anywhere.
    const rules = byName("swarm-nsg").securityRules as Record<string, any>[];
    expect(rules.map((r) => [r.name, r.sourceAddressPrefix ?? "asg", r.destinationPortRange ?? r.destinationPortRanges])).toEqual([
        ["ssh-from-admins", "203.0.113.7/32", "22"],
        ["cluster-tcp", "asg", ["2377", "7946"]],
        ["cluster-udp", "asg", ["7946", "4789"]],
        ["app-ports", "0.0.0.0/0", ["80"]],
        ["deny-all-inbound", "*", "*"],
    ]);
    // Docker on every VM over SSH (at its public address), then one manager initialising and two joining.
    const scripts = registered.filter((r) => r.type === "pulumi-nodejs:dynamic/flotilla:RemoteScript").map((r) => r.name);
    expect(scripts.filter((n) => n.startsWith("docker-"))).toHaveLength(3);
    expect(scripts.filter((n) => n.startsWith("swarm-"))).toEqual(expect.arrayContaining(["swarm-init"]));
    expect(scripts.filter((n) => n.startsWith("web"))).toEqual(["web-deploy"]);
    const compose = JSON.parse(zlib.gunzipSync(Buffer.from(byName("web-deploy").environment.COMPOSE_GZ, "base64")).toString("utf8"));
    expect(compose.services.web).toMatchObject({ image: "traefik/whoami:v1.10.3", deploy: { replicas: 3 }, ports: [{ target: 80, published: 80 }] });
    // Every script reaches its VM at the VM's public address, checking the host key the pool pre-set.
    const docker0 = byName(scripts.find((n) => n.startsWith("docker-"))!);
    expect(docker0.connection).toEqual({ host: "203.0.113.10", port: 22, user: "flotilla", hostKey: expect.stringMatching(/^ssh-ed25519 /) });
    expect(await valueOf(program.services)).toEqual({ web: { running: 3, desired: 3 } });
});
