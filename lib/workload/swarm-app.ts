import * as pulumi from "@pulumi/pulumi";
import { SwarmCluster } from "../cluster/swarm";
import { RemoteScript } from "../shared/remote-script";
import { readScript } from "../shared/scripts";
import { REGISTRY_EXPECTED, parseRegistryAddress } from "../core/image-ref";
import { Validator, isPlainObject } from "../core/validate";
import { AppSpec, normalizeAppSpec, resolveAppSpec } from "./app-spec";
import { composeText, renderCompose, swarmSecrets, validateStackName } from "./compose";

/** Type token of {@link SwarmApp}. */
export const SWARM_APP_TYPE = "flotilla:workload:SwarmApp";

/** Credentials for a private registry the nodes pull from. */
export interface RegistryAuth {
    /** Registry address as in image references, e.g. `10.213.0.5:5000` or `registry.example.com`. */
    readonly server: string;
    /** User name. */
    readonly username: pulumi.Input<string>;
    /** Password or token. Kept secret. */
    readonly password: pulumi.Input<string>;
}

/** Arguments of {@link SwarmApp}: the app (an {@link AppSpec}, flat) and where it goes. */
export interface SwarmAppArgs extends AppSpec {
    /** The swarm to deploy to (its managers run the deploy, any one that answers). */
    readonly cluster: SwarmCluster;
    /**
     * Stack name: prefix of the services (`<stack>_<service>`), network and secrets. DNS-safe.
     * Default: the resource name.
     */
    readonly stackName?: string;
    /** Private registry credentials, passed to the nodes with the deploy. Default none. */
    readonly registryAuth?: RegistryAuth;
    /**
     * Seconds to wait after a deploy for every service to converge (update finished, running tasks
     * = desired) before `up` fails with the task errors. Default 300.
     */
    readonly convergeTimeoutSeconds?: number;
    /**
     * Whether the deploy asks the registry for the image digest (`docker stack deploy
     * --resolve-image`): `always` (pin the digest, so every node runs the same bytes), `changed`,
     * or `never` (images present on the nodes only). Default `always`.
     */
    readonly resolveImage?: "always" | "changed" | "never";
}

/** Replicas of one service after a deploy. */
export interface ServiceReplicas {
    readonly running: number;
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
        const { cluster, stackName: stackArg, registryAuth, convergeTimeoutSeconds, resolveImage, ...spec } = args ?? {};
        if (!(cluster instanceof SwarmCluster)) {
            v.fail("cluster", cluster === undefined ? undefined : typeof cluster, "a SwarmCluster");
        }
        const app = normalizeAppSpec(SWARM_APP_TYPE, name, spec);
        const stackName = validateStackName(SWARM_APP_TYPE, name, stackArg === undefined ? "name" : "stackName", stackArg ?? name, app);
        const timeout = v.integer("convergeTimeoutSeconds", convergeTimeoutSeconds ?? 300, 10, 7200);
        const resolve = v.oneOf("resolveImage", resolveImage ?? "always", ["always", "changed", "never"] as const);
        if (registryAuth !== undefined) {
            if (!isPlainObject(registryAuth)) {
                v.fail("registryAuth", registryAuth, "an object with server, username and password");
            }
            v.known("registryAuth", registryAuth, ["password", "server", "username"]);
            // The one image-reference grammar: the server is what image references start with.
            const server = parseRegistryAddress(v.plain("registryAuth.server", registryAuth.server));
            if (typeof server === "string") {
                v.fail("registryAuth.server", registryAuth.server, `${REGISTRY_EXPECTED} (${server})`);
            }
        }

        super(SWARM_APP_TYPE, name, {}, opts);
        this.stackName = stackName;

        const resolved = resolveAppSpec(app);
        const compose = resolved.apply((r) => composeText(renderCompose(stackName, r)));
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
                script: readScript(__dirname, "stack-deploy.sh"),
                environment: {
                    STACK: stackName,
                    COMPOSE: compose,
                    CONVERGE_TIMEOUT: String(timeout),
                    RESOLVE_IMAGE: resolve,
                    SECRET_COUNT: String(secretCount),
                    ...names,
                    ...(registryAuth
                        ? { REGISTRY_SERVER: registryAuth.server, REGISTRY_USERNAME: registryAuth.username }
                        : {}),
                },
                secretEnvironment: {
                    ...values,
                    ...(registryAuth ? { REGISTRY_PASSWORD: registryAuth.password } : {}),
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
