/** The compose file {@link renderCompose} renders (format 3.8, plain JSON-able types), and its options. */
import { ClusterCapabilities } from "../../core/cluster";

/** Options of {@link renderComposeText} (and of the internal `renderCompose`). */
export interface ComposeOptions {
    /**
     * Labels added to every service, container, the network and the volumes, beside
     * `flotilla.app` and `flotilla.service` (which win).
     * @default none.
     */
    readonly labels?: Readonly<Record<string, string>>;
    /**
     * What the target cluster supports. Without a service virtual IP every service gets
     * `endpoint_mode: dnsrr`; a port that needs the routing mesh on a cluster without one is an
     * error.
     * @default `{ serviceVirtualIp: true, routingMesh: true, loadBalancer: false }`: `vip`
     * endpoints, nothing refused.
     */
    readonly capabilities?: ClusterCapabilities;
}

/** A compose file (the subset rendered). */
export interface ComposeFile {
    readonly version: string;
    readonly services: Record<string, ComposeService>;
    readonly networks: Record<string, ComposeNetwork>;
    readonly volumes?: Record<string, ComposeVolume>;
    readonly secrets?: Record<string, ComposeSecret>;
}

/** A service of a compose file (the subset rendered). */
export interface ComposeService {
    readonly image: string;
    readonly command?: string[];
    readonly entrypoint?: string[];
    readonly environment?: Record<string, string>;
    readonly ports?: ComposePort[];
    readonly volumes?: ComposeVolumeMount[];
    readonly secrets?: ComposeSecretMount[];
    readonly healthcheck?: ComposeHealthcheck;
    readonly networks: string[];
    readonly labels: Record<string, string>;
    readonly deploy: ComposeDeploy;
}

/** A port in long syntax. */
export interface ComposePort {
    readonly target: number;
    readonly published: number;
    readonly protocol: string;
    readonly mode: string;
}

/** A named volume's mount in long syntax. */
export interface ComposeVolumeMount {
    readonly type: "volume";
    readonly source: string;
    readonly target: string;
    readonly read_only: boolean;
}

/** A secret mounted as `/run/secrets/<target>`. */
export interface ComposeSecretMount {
    readonly source: string;
    readonly target: string;
}

/** A health check. */
export interface ComposeHealthcheck {
    readonly test: string[];
    readonly interval: string;
    readonly timeout: string;
    readonly retries: number;
    readonly start_period: string;
}

/** CPU and memory, as the 3.8 schema wants them (strings). */
export interface ComposeResources {
    readonly cpus?: string;
    readonly memory?: string;
}

/** An update or rollback policy. */
export interface ComposeUpdateConfig {
    readonly parallelism: number;
    readonly delay: string;
    readonly order: string;
    readonly failure_action: string;
    readonly monitor: string;
}

/** The `deploy` section (honoured by Swarm only). */
export interface ComposeDeploy {
    readonly mode: "replicated" | "global";
    readonly replicas?: number;
    /** `dnsrr` on a cluster without service virtual IPs; absent: Swarm's default, `vip`. */
    readonly endpoint_mode?: "dnsrr";
    readonly labels: Record<string, string>;
    readonly resources?: { readonly limits?: ComposeResources; readonly reservations?: ComposeResources };
    readonly restart_policy: { readonly condition: "any"; readonly delay: string };
    readonly placement?: { readonly constraints: string[] };
    readonly update_config: ComposeUpdateConfig;
    readonly rollback_config: ComposeUpdateConfig;
}

/** The app's network. */
export interface ComposeNetwork {
    readonly driver: "overlay";
    readonly attachable: true;
    readonly labels: Record<string, string>;
}

/** A named volume. */
export interface ComposeVolume {
    /** Volume driver (the volume's `class`); absent: Docker's `local`. */
    readonly driver?: string;
    readonly labels: Record<string, string>;
}

/** A secret the deployer created beforehand. */
export interface ComposeSecret {
    readonly external: true;
    readonly name: string;
}

/** A Swarm secret the deployer creates before the deploy. */
export interface SwarmSecret {
    /** Name of the secret in the app (and of its file, `/run/secrets/<secret>`). */
    readonly secret: string;
    /** Swarm secret name, `<stack>_<secret>_<hash>`. */
    readonly name: string;
    /** The value. Secret: never log it. */
    readonly value: string;
    /** Labels to give it: `flotilla.app` and `flotilla.secret`. */
    readonly labels: Record<string, string>;
}
