/**
 * One lab machine and a RemoteScript on it whose script and environment come from config, so the
 * test can change them between ups.
 */
import * as pulumi from "@pulumi/pulumi";
import { LabHostPool, RemoteScript } from "flotilla";

const config = new pulumi.Config("test");
const lab = new LabHostPool("lab", { size: 1, poolName: config.require("poolName"), subnet: config.require("subnet") });
const host = lab.hosts[0];

const script = config.getBoolean("withScript") === false ? undefined : new RemoteScript(
    "script",
    {
        connection: host.connection,
        script: config.require("script"),
        environment: { GREETING: config.require("greeting") },
        secretEnvironment: { TOKEN: config.requireSecret("token") },
        target: `test script on ${host.name}`,
        triggers: [host.instanceId],
        timeoutSeconds: 60,
    },
    { dependsOn: host.ready },
);

export const result = script?.result;
export const machineId = script?.machineId;
export const address = host.privateAddress;
export const hostKey = host.connection.hostKey;
export const privateKey = lab.sshPrivateKey;
export const user = lab.sshUser;
