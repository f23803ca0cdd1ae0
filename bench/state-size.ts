/**
 * State bytes per machine (DESIGN convention 15), measured where users are: a program that installs
 * flotilla from its packed npm package (test/lab/packed.ts), with 3 and then 5 lab machines
 * (registry + Swarm of the rest + the demo app). Prints the stored state's size, bytes per machine
 * (average, and the marginal cost of a machine between the two sizes), and where the bytes go
 * (by kind of resource and by field). Run: `npm run build`, then
 * `source scripts/lib.sh && pulumi_env && ts-node --transpile-only bench/state-size.ts`.
 *
 * Before lean state (commit 9a4e5d7, serialized providers and whole scripts in every resource):
 * the root program's 6 machines stored 1,477,777 bytes = 246,296 bytes per machine.
 */
import { programStack, removeStack, removeStaleTestPools, storedState, TEST_POOL_PREFIX } from "../test/lab/harness";
import { packedProgram } from "../test/lab/packed";
import { fieldBytes, resourceBytes, role, sumBy } from "./lib/state-bytes";

const BEFORE_BYTES_PER_MACHINE = 246_296;

async function measure(machines: number): Promise<number> {
    const program = packedProgram();
    const pool = `${TEST_POOL_PREFIX}st${machines}x${process.pid}`;
    const stack = await programStack(program.dir, `state-${machines}-${process.pid}`, {
        "test:poolName": pool,
        "test:subnet": `10.213.${110 + machines}.0/28`,
        "test:machines": String(machines),
    });
    try {
        await stack.up();
        const state = storedState(stack);
        const resources = resourceBytes(state);
        console.log(`\n${machines} machines: ${state.length} bytes stored, ${resources.length} resources, ${Math.round(state.length / machines)} bytes per machine`);
        const kinds = sumBy(resources, (r) => `${r.type.split(":").pop()} ${role(r.name)}`);
        for (const [kind, { count, bytes }] of Object.entries(kinds).sort((a, b) => b[1].bytes - a[1].bytes)) {
            console.log(`  ${kind.padEnd(28)} ${String(count).padStart(3)} × ${String(Math.round(bytes / count)).padStart(6)} = ${String(bytes).padStart(7)}`);
        }
        console.log("  by field:", JSON.stringify(fieldBytes(resources)));
        return state.length;
    } finally {
        await stack.destroy();
        await removeStack(stack);
        program.remove();
    }
}

async function main(): Promise<void> {
    removeStaleTestPools();
    const small = await measure(3);
    const large = await measure(5);
    const marginal = (large - small) / 2;
    console.log(`\nmarginal bytes per machine (5 vs 3 machines): ${Math.round(marginal)}`);
    console.log(`average bytes per machine at 5 machines: ${Math.round(large / 5)}`);
    console.log(`before lean state: ${BEFORE_BYTES_PER_MACHINE} bytes per machine (root program, 6 machines)`);
    console.log(`reduction: ${(BEFORE_BYTES_PER_MACHINE / (large / 5)).toFixed(1)}x (average), ${(BEFORE_BYTES_PER_MACHINE / marginal).toFixed(1)}x (marginal)`);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
