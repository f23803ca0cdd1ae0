/**
 * The very user data a cloud pool renders, proven in the lab: every source in SOURCES yields one
 * machine's first-boot document (uncompressed, possibly MIME multipart) with its login; each
 * document is
 *  (a) split with Python's `email` module (cloud-init's own MIME parser) and every `#cloud-config`
 *      part checked by cloud-init's own schema check (`cloud-init schema`, 22.4 from the lab image,
 *      nothing booted; bash parts get `bash -n`), and
 *  (b) booted on a fresh lab machine through NoCloud by lab-network.sh and lab-machine.sh (the
 *      LabHostPool's own scripts, run with bash, no Pulumi), then: cloud-init done without error,
 *      the login user logs in with the authorized key, OpenSSH (`ssh`, known_hosts with only the
 *      pre-set key, StrictHostKeyChecking yes) accepts the host key and refuses any other,
 *      password login is refused, Docker runs a locally built image.
 * Sources: the shared renderer, then ProxmoxHostPool, AwsHostPool and AzureHostPool constructed under
 * mocks (their `userData[0]`). Network 10.213.150.0/28: source i boots at 10.213.150.(i + 2).
 *
 * Adding a source is one entry: a pool constructed under the mocks below exposes its per-machine
 * documents as `userData: Output<string>[]`; e.g.
 *   async () => { const pool = new AwsHostPool("aws", {...});
 *                 return { label: "AwsHostPool", document: await valueOf(pool.userData[0]),
 *                          user: pool.sshUser, privateKey: await valueOf(pool.sshPrivateKey),
 *                          hostKey: await valueOf(pool.hosts[0].connection.hostKey!) }; }
 */
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { machineUserData } from "../../lib/hosts/common/cloud-common";
import { AwsHostPool } from "../../lib/hosts/aws";
import { AzureHostPool } from "../../lib/hosts/azure";
import { ProxmoxHostPool } from "../../lib/hosts/proxmox";
import { derivedHostKey } from "../../lib/hosts/common/user-data";
import { dockerEngineUserData } from "../../lib/runtime/docker-engine";
import { multipartUserData } from "../../lib/shared/cloud-init";
import { generateEd25519 } from "../../lib/shared/ssh-keys";
import { recordResources, valueOf } from "../unit/mocks";
import { azureOutputs } from "../unit/hosts/azure-mocks";
import { BootDocument, BootDocumentSource, BootedMachine, LabPlace, bootDocument, createLabNetwork, deleteBooted, deleteLabNetwork, schemaCheck } from "./boot-document";
import { poolLeftovers, removeStaleTestPools, TEST_POOL_PREFIX } from "./harness";
import { opensshRun, OpenSshTarget } from "./openssh";
import { onMachine, runImageWithDocker, testImageTarball } from "./runtime-lab";

jest.setTimeout(15 * 60 * 1000);

// Pools constructed by a source register their resources with these mocks (no engine); the AMI
// lookup answers with an id.
recordResources(azureOutputs, (token) => (token === "aws:ec2/getAmi:getAmi" ? { id: "ami-0123456789abcdef0" } : undefined));

/** The shared renderer every cloud pool calls, with real keys: the pool's part, then Docker from Debian. */
const sharedRenderer: BootDocumentSource = async () => {
    const client = generateEd25519("flotilla@cloud-user-data");
    const seed = generateEd25519("host-keys@cloud-user-data");
    const hostKey = derivedHostKey(seed.privateKey, "cloud-0", "cloud-user-data test");
    // source "distro": the lab reaches only Debian's mirror (a cloud pool's default is docker-ce).
    const extra = pulumi.all([dockerEngineUserData({ source: "distro" })]);
    return {
        label: "machineUserData (lib/hosts/common/cloud-common.ts) + dockerEngineUserData({ source: distro })",
        document: await valueOf(machineUserData("admin", client.publicKey, hostKey, extra)),
        user: "admin",
        privateKey: client.privateKey,
        hostKey: await valueOf(hostKey.publicKey),
    };
};

/** What ProxmoxHostPool hands its first VM (static address), with Docker from Debian as its extra part. */
const proxmoxPool: BootDocumentSource = async () => {
    const pool = new ProxmoxHostPool("pve", {
        size: 1,
        nodes: ["pve1"],
        subnet: "192.0.2.0/24",
        gateway: "192.0.2.1",
        firstAddress: "192.0.2.10",
        userData: [dockerEngineUserData({ source: "distro" })],
    });
    return {
        label: "ProxmoxHostPool (lib/hosts/proxmox/) userData[0]",
        document: await valueOf(pool.userData[0]),
        user: pool.sshUser,
        privateKey: await valueOf(pool.sshPrivateKey),
        hostKey: await valueOf(pool.hosts[0].connection.hostKey as pulumi.Output<string>),
    };
};

/** What AwsHostPool hands its first instance (own public VPC), with Docker from Debian as its extra part. */
const awsPool: BootDocumentSource = async () => {
    const pool = new AwsHostPool("aws", {
        size: 1,
        region: "eu-west-1",
        adminCidrs: ["203.0.113.0/24"],
        userData: [dockerEngineUserData({ source: "distro" })],
    });
    return {
        label: "AwsHostPool (lib/hosts/aws/) userData[0]",
        document: await valueOf(pool.userData[0]),
        user: pool.sshUser,
        privateKey: await valueOf(pool.sshPrivateKey),
        hostKey: await valueOf(pool.hosts[0].connection.hostKey as pulumi.Output<string>),
    };
};

/** What AzureHostPool hands its first VM (own resource group and network), with Docker from Debian as its extra part. */
const azurePool: BootDocumentSource = async () => {
    const pool = new AzureHostPool("az", {
        size: 1,
        location: "westeurope",
        adminCidrs: ["203.0.113.0/24"],
        userData: [dockerEngineUserData({ source: "distro" })],
    });
    return {
        label: "AzureHostPool (lib/hosts/azure/) userData[0]",
        document: await valueOf(pool.userData[0]),
        user: pool.sshUser,
        privateKey: await valueOf(pool.sshPrivateKey),
        hostKey: await valueOf(pool.hosts[0].connection.hostKey as pulumi.Output<string>),
    };
};

/** Every renderer of a cloud machine's user data. */
const SOURCES: BootDocumentSource[] = [sharedRenderer, proxmoxPool, awsPool, azurePool];

const pool = `${TEST_POOL_PREFIX}cud${process.pid}`;
const SUBNET = "10.213.150.0/28";
const timings: string[] = [];
let image: Buffer;

beforeAll(async () => {
    removeStaleTestPools();
    image = testImageTarball();
    await createLabNetwork(pool, SUBNET);
});

afterAll(async () => {
    // Whatever a failed test left: every machine of the pool, then the network.
    for (let index = 0; index < SOURCES.length; index++) await deleteBooted({ pool, subnet: SUBNET, index }).catch(() => undefined);
    await deleteLabNetwork(pool, SUBNET).catch(() => undefined);
    console.log(`timings:\n  ${timings.join("\n  ")}`);
});

test("the schema check can fail: an invalid cloud-config part is rejected with cloud-init's message", () => {
    const bad = multipartUserData(["#cloud-config\nssh_pwauth: false\n", "#cloud-config\nusers: 5\n", "#!/bin/bash\nif then\n"]);
    const report = schemaCheck(bad);
    expect(report).toMatchObject({ multipart: true, defects: [] });
    expect(report.parts.map((p) => [p.type, p.filename, p.checker, p.valid])).toEqual([
        ["text/cloud-config", "part-01", "cloud-init schema", true],
        ["text/cloud-config", "part-02", "cloud-init schema", false],
        ["text/x-shellscript", "part-03", "bash -n", false],
    ]);
    expect(report.parts[1].message).toContain("Cloud config schema errors: users: 5 is not of type 'string', 'array', 'object'");
    expect(report.parts[2].message).toContain("syntax error");
});

describe.each(SOURCES.map((source, index) => [index, source] as const))("user data source #%i", (index, source) => {
    const place: LabPlace = { pool, subnet: SUBNET, index };
    let doc: BootDocument;
    let machine: BootedMachine;
    let target: OpenSshTarget;

    beforeAll(async () => {
        doc = await source();
        console.log(`source #${index}: ${doc.label} (${doc.document.length} bytes)`);
    });

    test("gzip-compressed, as the lab hands it over, it fits EC2's 16 KB user data limit", () => {
        const gzipped = zlib.gzipSync(Buffer.from(doc.document, "utf8"), { level: 9 }).length;
        timings.push(`${doc.label}: ${doc.document.length} bytes, ${gzipped} gzip-compressed`);
        expect(gzipped).toBeLessThanOrEqual(16 * 1024);
    });

    test("cloud-init's own schema check accepts every cloud-config part (bash parts pass bash -n)", () => {
        const started = Date.now();
        const report = schemaCheck(doc.document);
        timings.push(`${doc.label}: schema check ${((Date.now() - started) / 1000).toFixed(1)}s`);
        expect(report.defects).toEqual([]);
        expect(report.parts.filter((p) => p.type === "text/cloud-config").length).toBeGreaterThan(0);
        // On failure this shows cloud-init's message for the failing part.
        expect(report.parts.filter((p) => !p.valid)).toEqual([]);
        for (const p of report.parts.filter((x) => x.type === "text/cloud-config")) expect(p.message).toBe("Valid cloud-config: <part>");
    });

    test("it boots on a fresh lab machine through NoCloud; cloud-init reports success", async () => {
        machine = await bootDocument(doc, place);
        timings.push(`${doc.label}: boot (create, seed, systemd, cloud-init incl. Docker install, sshd) ${machine.seconds.toFixed(1)}s`);
        target = { host: machine.address, user: doc.user, hostKey: doc.hostKey };
        const status = await onMachine(machine.login, "cloud-init status --long; echo exit=$?");
        expect(status.split("\n")[0]).toBe("status: done");
        expect(status).toContain("exit=0");
        const result = JSON.parse(await onMachine(machine.login, "cat /run/cloud-init/result.json")) as { v1: { datasource: string; errors: unknown[] } };
        expect(result.v1.errors).toEqual([]);
        expect(result.v1.datasource).toMatch(/^DataSourceNoCloud/);
        // The user data cloud-init got, merged, passes its own schema check on the machine too.
        expect(await onMachine(machine.login, "cloud-init schema --system 2>&1")).toContain("Valid cloud-config: system userdata");
    });

    test("OpenSSH logs in as the user with the authorized key, checking the pre-set host key strictly", () => {
        const r = opensshRun(target, doc.privateKey, "id -un; sudo -n id -u; sudo -n sh -c 'cat /etc/ssh/ssh_host_*_key.pub'");
        expect(r).toMatchObject({ status: 0, stderr: "" });
        const [user, uid, ...hostKeys] = r.stdout.trim().split("\n");
        expect([user, uid]).toEqual([doc.user, "0"]);
        // The machine has the pre-set key and no other.
        expect(hostKeys.map((k) => k.split(" ").slice(0, 2).join(" "))).toEqual([doc.hostKey.split(" ").slice(0, 2).join(" ")]);
    });

    test("OpenSSH refuses the machine when known_hosts holds another key", () => {
        const impostor = { ...target, hostKey: generateEd25519("root@impostor").publicKey };
        const r = opensshRun(target, doc.privateKey, "true", {}, [impostor]);
        expect(r.status).toBe(255);
        expect(r.stderr).toContain("Host key verification failed.");
    });

    test("password login is refused: the server offers public-key authentication only; the password is locked", async () => {
        const r = opensshRun(target, doc.privateKey, "true", { options: ["PubkeyAuthentication=no", "PreferredAuthentications=password,keyboard-interactive"] });
        expect(r.status).toBe(255);
        expect(r.stderr).toContain(`${doc.user}@${machine.address}: Permission denied (publickey).`);
        const sshd = await onMachine(machine.login, "sshd -T | grep -E '^(passwordauthentication|kbdinteractiveauthentication|permitemptypasswords) '");
        expect(sshd.trim().split("\n").sort()).toEqual(["kbdinteractiveauthentication no", "passwordauthentication no", "permitemptypasswords no"]);
        expect((await onMachine(machine.login, `passwd -S ${doc.user}`)).split(" ")[1]).toBe("L");
        // A wrong key is refused as well.
        const other = opensshRun(target, generateEd25519("intruder").privateKey, "true");
        expect(other.stderr).toContain("Permission denied (publickey).");
    });

    test("the runtime is installed: docker info answers and a locally built image runs", async () => {
        expect((await onMachine(machine.login, "docker info --format '{{.ServerVersion}} {{.Driver}}'")).trim()).toMatch(/^\d+\.\d+\.\d+\S* \S+$/);
        expect(await runImageWithDocker(machine.login, image, "hello from the cloud user data")).toBe("hello from the cloud user data\n");
    });

    test("delete of both scripts leaves nothing behind", async () => {
        await deleteBooted(place);
        if (index === SOURCES.length - 1) {
            await deleteLabNetwork(pool, SUBNET);
            expect(poolLeftovers(pool)).toEqual([]);
        } else {
            expect(poolLeftovers(pool).filter((l) => !l.startsWith("network "))).toEqual([]);
        }
    });
});
