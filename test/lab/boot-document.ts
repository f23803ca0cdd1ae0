/**
 * A cloud machine's first-boot document, proven in the lab: cloud-init's own schema check of its
 * parts, and a boot of it on a fresh lab machine through NoCloud by the very scripts a LabHostPool
 * runs (lib/hosts/scripts/lab-network.sh, lab-machine.sh: bundled with their includes, run with
 * bash as LocalScript runs them), outside any Pulumi program.
 */
import * as childProcess from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_LAB_IMAGE, labMetaData } from "../../lib/hosts/lab";
import { gzipBase64 } from "../../lib/hosts/common/user-data";
import { LIB_DIR, bundledScriptText } from "../../lib/shared/scripts";
import { Login } from "./ssh";

/** The user data one pool hands one machine, and what logging in to that machine takes. */
export interface BootDocument {
    /** What the document comes from, for the test's log and messages. */
    label: string;
    /** The user data, uncompressed: one `#cloud-config` or a MIME multipart document. */
    document: string;
    /** The login user the document creates. */
    user: string;
    /** The private key authorized for `user` (OpenSSH format). */
    privateKey: string;
    /** The SSH host key the document pre-sets (public line). */
    hostKey: string;
}

/** Makes one {@link BootDocument} (e.g. constructs a pool under mocks and takes its `userData[0]`). */
export type BootDocumentSource = () => Promise<BootDocument>;

/** cloud-init's verdict on one part of a document. */
export interface PartVerdict {
    index: number;
    /** MIME type (`text/cloud-config`, `text/x-shellscript`, ...). */
    type: string;
    /** The part's file name in the multipart document ("" for a single-part document). */
    filename: string;
    /** What checked it: `cloud-init schema` (cloud-config), `bash -n` (bash scripts), or "" (not checked). */
    checker: string;
    /** True when the checker accepted the part (for cloud-config: valid and no deprecation). */
    valid: boolean;
    /** The checker's own words. */
    message: string;
}

/** What Python's `email` module (cloud-init's own MIME parser) finds in a document, and each part's verdict. */
export interface SchemaReport {
    multipart: boolean;
    /** MIME defects the parser reported (none for a well-formed document). */
    defects: string[];
    parts: PartVerdict[];
}

/**
 * Runs inside the lab image (no boot): splits the document on stdin with the `email` module, runs
 * `cloud-init schema --config-file` on every cloud-config part and `bash -n` on every bash script
 * part, prints one JSON report.
 */
const SCHEMA_CHECK = String.raw`
import email, json, subprocess, sys, tempfile
data = sys.stdin.read()
multipart = False
defects = []
if data.split("\n", 1)[0].lower().startswith(("content-type:", "mime-version:")):
    msg = email.message_from_string(data)
    multipart = msg.is_multipart()
    defects = [type(d).__name__ for d in msg.defects]
    items = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        defects += [type(d).__name__ for d in p.defects]
        items.append((p.get_content_type(), p.get_filename() or "", p.get_payload(decode=True).decode("utf-8")))
else:
    first = data.split("\n", 1)[0].strip()
    kind = "text/cloud-config" if first == "#cloud-config" else "text/x-shellscript" if first.startswith("#!") else "text/plain"
    items = [(kind, "", data)]
parts = []
for i, (kind, name, body) in enumerate(items):
    with tempfile.NamedTemporaryFile("w", suffix=".part", delete=False) as f:
        f.write(body)
    if kind == "text/cloud-config":
        checker, cmd = "cloud-init schema", ["cloud-init", "schema", "--config-file", f.name]
    elif kind == "text/x-shellscript" and body.split("\n", 1)[0].strip() in ("#!/bin/bash", "#!/usr/bin/env bash"):
        checker, cmd = "bash -n", ["bash", "-n", f.name]
    else:
        checker, cmd = "", None
    if cmd is None:
        parts.append(dict(index=i, type=kind, filename=name, checker="", valid=True, message=""))
        continue
    r = subprocess.run(cmd, capture_output=True, text=True)
    message = (r.stdout + r.stderr).strip().replace(f.name, "<part>")
    valid = r.returncode == 0 and "deprecat" not in message.lower()
    parts.append(dict(index=i, type=kind, filename=name, checker=checker, valid=valid, message=message))
print(json.dumps(dict(multipart=multipart, defects=defects, parts=parts)))
`;

/** cloud-init's (22.4, the lab image's) schema check of every part of `document`, without booting anything. */
export function schemaCheck(document: string, image = DEFAULT_LAB_IMAGE): SchemaReport {
    const out = childProcess.execFileSync("docker", ["run", "--rm", "-i", "--network", "none", "--entrypoint", "python3", image, "-c", SCHEMA_CHECK], {
        input: document,
        encoding: "utf8",
        timeout: 120_000,
    });
    return JSON.parse(out.trim().split("\n").pop() ?? "") as SchemaReport;
}

/** A lab machine booted from a document, and how to remove it. */
export interface BootedMachine {
    name: string;
    pool: string;
    network: string;
    address: string;
    /** Login as the document says (strict host key: the one it pre-set). */
    login: Login;
    /** Seconds the create took (container, seed, boot, cloud-init, sshd). */
    seconds: number;
}

/** Where to boot: the pool's network (made once for all machines) and the machine's place in it. */
export interface LabPlace {
    pool: string;
    /** The pool network's block, e.g. `10.213.150.0/28`: gateway `.1`, machine `index` at `.(index + 2)`. */
    subnet: string;
    index: number;
}

/** Runs one bundled hosts script (`lab-network.sh`, `lab-machine.sh`, ...) with bash, as LocalScript does. */
export function runHostsScript(file: string, environment: Record<string, string>, timeoutSeconds = 600): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-hosts-script-"));
    const script = path.join(dir, file);
    fs.writeFileSync(script, bundledScriptText(`hosts/${file}`), { mode: 0o700 });
    return new Promise<string>((resolve, reject) => {
        const child = childProcess.spawn("bash", [script], {
            env: { ...process.env, FLOTILLA_LIB_DIR: LIB_DIR, ...environment },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGTERM"), timeoutSeconds * 1000);
        child.on("close", (code) => {
            clearTimeout(timer);
            fs.rmSync(dir, { recursive: true, force: true });
            if (code === 0) resolve(stdout);
            else reject(new Error(`${file} ${environment.FLOTILLA_PHASE}: exit ${code}\n${stderr.slice(-4000)}`));
        });
    });
}

/** The pool network's environment for lab-network.sh. */
function networkEnv(pool: string, subnet: string): Record<string, string> {
    const base = subnet.split("/")[0].split(".").slice(0, 3).join(".");
    return { NETWORK_NAME: `${pool}-net`, NETWORK_SUBNET: subnet, NETWORK_GATEWAY: `${base}.1`, NETWORK_POOL: pool };
}

/** Makes the pool network (lab-network.sh create) and makes sure the lab image is there (lab-image-ensure.sh). */
export async function createLabNetwork(pool: string, subnet: string): Promise<void> {
    await runHostsScript("lab-image-ensure.sh", { FLOTILLA_PHASE: "create", MACHINE_IMAGE: DEFAULT_LAB_IMAGE, LAB_IMAGE_DEFAULT: "1" }, 1800);
    await runHostsScript("lab-network.sh", { FLOTILLA_PHASE: "create", ...networkEnv(pool, subnet) }, 120);
}

/** Removes the pool network (lab-network.sh delete). */
export async function deleteLabNetwork(pool: string, subnet: string): Promise<void> {
    await runHostsScript("lab-network.sh", { FLOTILLA_PHASE: "delete", ...networkEnv(pool, subnet) }, 120);
}

function machineEnv(place: LabPlace): Record<string, string> {
    const base = place.subnet.split("/")[0].split(".").slice(0, 3).join(".");
    const name = `${place.pool}-${place.index}`;
    return {
        MACHINE_NAME: name,
        MACHINE_POOL: place.pool,
        MACHINE_NETWORK: `${place.pool}-net`,
        MACHINE_ADDRESS: `${base}.${place.index + 2}`,
        MACHINE_IMAGE: DEFAULT_LAB_IMAGE,
        MACHINE_BOOT_TIMEOUT: "420",
        MACHINE_META_DATA: labMetaData(name),
    };
}

/**
 * Boots `doc` on a fresh lab machine: lab-machine.sh create with the document gzip-compressed and
 * base64-encoded (MACHINE_USER_DATA_GZ, as LabHostPool hands it), which waits until systemd
 * booted, cloud-init finished without error and sshd answers at the address from this host.
 */
export async function bootDocument(doc: BootDocument, place: LabPlace): Promise<BootedMachine> {
    const env = machineEnv(place);
    const started = Date.now();
    await runHostsScript("lab-machine.sh", { FLOTILLA_PHASE: "create", ...env, MACHINE_USER_DATA_GZ: gzipBase64(doc.document) }, 600);
    return {
        name: env.MACHINE_NAME,
        pool: place.pool,
        network: env.MACHINE_NETWORK,
        address: env.MACHINE_ADDRESS,
        login: { host: env.MACHINE_ADDRESS, user: doc.user, privateKey: doc.privateKey, hostKey: doc.hostKey },
        seconds: (Date.now() - started) / 1000,
    };
}

/** Removes a machine booted by {@link bootDocument} with its volumes (lab-machine.sh delete). */
export async function deleteBooted(place: LabPlace): Promise<void> {
    await runHostsScript("lab-machine.sh", { FLOTILLA_PHASE: "delete", ...machineEnv(place) }, 120);
}
