/**
 * examples/existing-servers under mocks: the resource graph `pulumi up` would make (a probe per
 * server, Docker per server, a swarm of 3 managers + 1 worker, the stack), each server reached with
 * its own pinned key or by trust on first use, the key a secret, and nothing ever created on a
 * machine the example does not list.
 */
import { SECRET_SIG, valueOf } from "../mocks";
import { evaluateExample, graph } from "../example-program";
import { generateEd25519 } from "../../../lib/shared/ssh-keys";

const SERVERS = [
    { name: "s1", address: "192.0.2.11", user: "ops", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" },
    { name: "s2", address: "192.0.2.12", user: "ops" },
    { name: "s3", address: "192.0.2.13", user: "root" },
    { name: "s4", address: "192.0.2.14", user: "ops" },
];

test("four servers: probes, Docker, a swarm of 3 managers and 1 worker, the stack", async () => {
    const { registered, program } = await evaluateExample(
        "existing-servers",
        { servers: JSON.stringify(SERVERS), sshPrivateKey: generateEd25519("ops@example").privateKey },
        { secret: ["sshPrivateKey"] },
    );
    const R = "pulumi-nodejs:dynamic/flotilla:RemoteScript";
    const names = SERVERS.map((s) => s.name);
    expect(graph(registered)).toEqual(
        [
            "flotilla:hosts:ExistingHosts site",
            "flotilla:runtime:DockerEngine docker",
            "flotilla:cluster:SwarmCluster swarm",
            "flotilla:workload:SwarmApp web",
            ...names.map((n) => `${R} site-probe-${n}`),
            ...names.map((n) => `${R} docker-install-${n}`),
            `${R} swarm-init`,
            ...names.map((n) => `${R} swarm-join-${n}`),
            ...names.map((n) => `${R} swarm-node-${n}`),
            `${R} swarm-teardown`,
            `${R} web-deploy`,
        ].sort(),
    );
    // The first three join as managers, the fourth as a worker.
    const role = (n: string) => (registered.find((r) => r.name === `swarm-join-${n}`)!.inputs.environment as Record<string, string>).ROLE;
    expect(names.map(role)).toEqual(["manager", "manager", "manager", "worker"]);
    const probes = registered.filter((r) => / site-probe-/.test(`${r.type} ${r.name}`));
    // Every probe connects to its own server; the pinned key is passed, the private key is secret.
    for (const [i, p] of probes.entries()) {
        const conn = p.inputs.connection as Record<string, unknown>;
        expect(conn.host).toBe(SERVERS[i].address);
        expect(conn.user).toBe(SERVERS[i].user);
        expect(conn.hostKey ?? "").toBe(SERVERS[i].hostKey ?? "");
        expect((p.inputs.privateKey as Record<string, unknown>)[SECRET_SIG]).toBeDefined();
    }
    expect(await valueOf(program.urls as string[])).toEqual(SERVERS.map((s) => `http://${s.address}/`));
});
