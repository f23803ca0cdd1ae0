/**
 * Run by azure-host-pool.test.ts in a process of its own (node -r ts-node/register): an
 * AzureHostPool whose user data parts are valid but whose whole document does not fit Azure's
 * custom data once compressed, which is known only when the host keys resolve. A failed
 * registration leaves rejected promises nobody awaits (in Jest they would fail whichever test runs
 * next); here they are collected. Prints one JSON line: the message the VM's output rejects with,
 * what reached the mocks, and the stray rejections' types.
 */
import { randomBytes } from "crypto";
import { recordResources } from "../mocks";
import { azureOutputs } from "../hosts/azure-mocks";
import { InvalidArgumentError } from "../../../lib/core/validate";
import { AzureHostPool } from "../../../lib/hosts/azure";

const registered = recordResources(azureOutputs);
const stray: unknown[] = [];
process.on("unhandledRejection", (err) => stray.push(err));
const contractMessage = (err: unknown) => String((err as Error)?.message ?? err).replace(/^(error serializing property "[^"]*": )+/, "");

void (async () => {
    // Random text: gzip cannot shrink it below 65,535 bytes.
    const part = `#!/bin/sh\n# ${randomBytes(75000).toString("base64")}\n`;
    const pool = new AzureHostPool("az", { size: 1, location: "westeurope", adminCidrs: ["198.51.100.0/24"], userData: [part] });
    let message: string | null = null;
    let isContractError = false;
    try {
        await (pool.hosts[0].instanceId as unknown as { promise(): Promise<unknown> }).promise();
    } catch (err) {
        isContractError = err instanceof InvalidArgumentError;
        message = contractMessage(err);
    }
    await new Promise((r) => setTimeout(r, 200));
    const strayTypes = [...new Set(stray.map((e) => (e instanceof InvalidArgumentError ? "InvalidArgumentError" : String((e as Error)?.name))))];
    const leaked = stray.some((e) => contractMessage(e).includes(part.slice(12, 40)));
    process.stdout.write(`${JSON.stringify({ message, isContractError, registered: registered.map((r) => `${r.type} ${r.name}`), strayTypes, leaked })}\n`);
})();
