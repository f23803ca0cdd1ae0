import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { ISwarmCluster, isSwarmCluster } from "../../core/cluster";
import { RemoteScript } from "../../shared/remote-script";
import { bundledScript } from "../../shared/scripts";
import { Validator } from "../../core/validate";
import { APP_KEYS, normalizeAppSpec, resolveAppSpec } from "../app-spec";
import { checkSwarmCapabilities, composeText, renderCompose, swarmSecrets, validateStackName } from "../render";
import { APP_DEPLOYER_KEYS, AppDeployerArgs, appSpecOf, checkRegistryAuthArg, checkRolloutTimeout } from "./app-deployer-args";

/** Type token of {@link SwarmApp}. */
export const SWARM_APP_TYPE = "flotilla:workload:SwarmApp";

/**
 * Arguments of {@link SwarmApp}: the app (an {@link AppSpec}, flat), the swarm, and the settings
 * every deployer shares ({@link AppDeployerArgs}: `registryAuth`, passed to the nodes with the
 * deploy; `rolloutTimeoutSeconds`).
 */
export interface SwarmAppArgs extends AppDeployerArgs<ISwarmCluster> {
    /** The swarm to deploy to (its managers run the deploy, any one that answers), e.g. a `SwarmCluster`. */
    readonly cluster: ISwarmCluster;
    /**
     * Stack name: prefix of the services (`<stack>_<service>`), network and secrets. DNS-safe.
     * @default the resource name
     */
    readonly stackName?: string;
    /**
     * Seconds to wait after a deploy for every service to converge (update finished, running tasks
     * = desired) before `up` fails with the task errors, 10 to 7200.
     * @default 300
     */
    readonly rolloutTimeoutSeconds?: number;
    /**
     * The former name of {@link rolloutTimeoutSeconds} (give one of the two).
     * @deprecated Use `rolloutTimeoutSeconds`, the name every deployer shares.
     */
    readonly convergeTimeoutSeconds?: number;
    /**
     * Whether the deploy asks the registry for the image digest (`docker stack deploy
     * --resolve-image`): `always` (pin the digest, so every node runs the same bytes), `changed`,
     * or `never` (images present on the nodes only).
     * @default "always"
     */
    readonly resolveImage?: "always" | "changed" | "never";
}

/** Replicas of one service after a deploy. */
export interface ServiceReplicas {
    /** Tasks running. */
    readonly running: number;
    /** Tasks desired (the replicas, or one per eligible node for a global service). */
    readonly desired: number;
}

/**
 * An app deployed on a Docker Swarm as a stack, declaratively: each `up` renders the app to a
 * compose file and runs `docker stack deploy --prune` on a manager, then waits until every service
 * converged. Rolling updates follow each service's update policy; a failed rollout (rolled back,
 * paused, or not converged in time) makes `up` fail with the tasks' errors. Secrets become Swarm
 * secrets named after a hash of their value, so changing one rolls the services using it.
 */
export class SwarmApp extends pulumi.ComponentResource {
    /** The stack name. */
    public readonly stackName: string;
    /** Running and desired tasks per service after the last deploy. */
    public readonly services: pulumi.Output<Record<string, ServiceReplicas>>;

    constructor(name: string, args: SwarmAppArgs, opts?: pulumi.ComponentResourceOptions) {
        const v: Validator = new Validator(SWARM_APP_TYPE, name);
        v.args(args, [...SWARM_APP_KEYS, ...APP_KEYS], "SwarmAppArgs");
        const { cluster, stackName: stackArg, registryAuth, resolveImage } = args;
        if (!isSwarmCluster(cluster)) {
            v.fail(
                "cluster",
                cluster,
                "a Swarm cluster (a SwarmCluster, or anything offering ISwarmCluster: orchestrator \"swarm\", managers, workers)",
            );
        }
        for (const key of ["stackName", "resolveImage"] as const) {
            v.plain(key, args[key]);
        }
        const timeout = checkRolloutTimeout(v, args, undefined, "convergeTimeoutSeconds");
        const app = normalizeAppSpec(SWARM_APP_TYPE, name, appSpecOf(args));
        const stackName = validateStackName(SWARM_APP_TYPE, name, stackArg === undefined ? "name" : "stackName", stackArg ?? name, app);
        const resolve = v.oneOf("resolveImage", resolveImage ?? "always", ["always", "changed", "never"] as const);
        const auth = checkRegistryAuthArg(v, registryAuth);

        super(SWARM_APP_TYPE, name, {}, opts);
        this.stackName = stackName;

        const resolved = resolveAppSpec(app);
        // The cluster says what it supports (e.g. no IPVS: DNS round-robin discovery, host-mode
        // ports only); the compose file is rendered for that, or the deploy fails naming the port.
        const compose = pulumi
            .all([resolved, cluster.capabilities])
            .apply(([r, capabilities]) => {
                checkSwarmCapabilities(SWARM_APP_TYPE, name, r, capabilities);
                return composeText(renderCompose(stackName, r, { capabilities }));
            });
        const secrets = resolved.apply((r) => swarmSecrets(stackName, r));
        const secretCount = Object.keys(app.secrets).length;
        const names: Record<string, pulumi.Input<string>> = {};
        const values: Record<string, pulumi.Input<string>> = {};
        for (let i = 0; i < secretCount; i++) {
            names[`SECRET_NAME_${i}`] = pulumi.unsecret(secrets.apply((s) => s[i].name));
            values[`SECRET_VALUE_${i}`] = secrets.apply((s) => s[i].value);
        }
        const managers = cluster.managers;
        const deploy = new RemoteScript(
            `${name}-deploy`,
            {
                connection: managers[0].connection,
                alternates: managers.slice(1).map((m) => m.connection),
                script: bundledScript("workload", "stack-deploy.sh"),
                environment: {
                    STACK: stackName,
                    // Compressed: the compose file is kept in the state (twice), and compresses ~4x.
                    COMPOSE_GZ: compose.apply((text) => zlib.gzipSync(Buffer.from(text, "utf8"), { level: 9 }).toString("base64")),
                    CONVERGE_TIMEOUT: String(timeout),
                    RESOLVE_IMAGE: resolve,
                    SECRET_COUNT: String(secretCount),
                    ...names,
                    ...(auth ? { REGISTRY_SERVER: auth.registry, REGISTRY_USERNAME: auth.username } : {}),
                },
                secretEnvironment: {
                    ...values,
                    ...(auth ? { REGISTRY_PASSWORD: auth.password } : {}),
                },
                target: `stack ${stackName}`,
                timeoutSeconds: timeout + 300,
            },
            { parent: this, dependsOn: [...cluster.managers, ...cluster.workers].flatMap((h) => h.ready) },
        );
        this.services = deploy.result.apply((r) => JSON.parse(r) as Record<string, ServiceReplicas>);

        this.registerOutputs({ stackName: this.stackName, services: this.services });
    }
}

/** Properties of {@link SwarmAppArgs} besides the {@link AppSpec}'s. */
const SWARM_APP_KEYS = ["cluster", "stackName", ...APP_DEPLOYER_KEYS, "resolveImage", "convergeTimeoutSeconds"];
